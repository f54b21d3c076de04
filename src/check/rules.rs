//! Does an `environment` entry hold a plaintext secret? Pure: a name and a
//! value in, a rule (or none) out.
//!
//! Known credential formats are recognised wherever they are. Then a value
//! that could not be a credential (a reference, a placeholder, a boolean, a
//! number, a duration, a path, a URL without a password, public material) is
//! no finding whatever its name. What is left is a finding when the name
//! says secret, or when the value is long, random-looking and of no known
//! public format. Precision matters as much as recall: a linter that cries
//! wolf gets switched off.

use crate::error::is_valid_name;
use crate::reference;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    AwsAccessKeyId,
    AwsSecretAccessKey,
    SlackToken,
    WebhookUrl,
    GoogleApiKey,
    GithubToken,
    StripeSecretKey,
    PrivateKey,
    Jwt,
    PasswordInUrl,
    SecretName,
    HighEntropy,
    EnvironmentFile,
}

pub const ALL: [Rule; 13] = [
    Rule::AwsAccessKeyId,
    Rule::AwsSecretAccessKey,
    Rule::SlackToken,
    Rule::WebhookUrl,
    Rule::GoogleApiKey,
    Rule::GithubToken,
    Rule::StripeSecretKey,
    Rule::PrivateKey,
    Rule::Jwt,
    Rule::PasswordInUrl,
    Rule::SecretName,
    Rule::HighEntropy,
    Rule::EnvironmentFile,
];

impl Rule {
    pub fn id(self) -> &'static str {
        match self {
            Rule::AwsAccessKeyId => "aws-access-key-id",
            Rule::AwsSecretAccessKey => "aws-secret-access-key",
            Rule::SlackToken => "slack-token",
            Rule::WebhookUrl => "webhook-url",
            Rule::GoogleApiKey => "google-api-key",
            Rule::GithubToken => "github-token",
            Rule::StripeSecretKey => "stripe-secret-key",
            Rule::PrivateKey => "private-key",
            Rule::Jwt => "jwt",
            Rule::PasswordInUrl => "password-in-url",
            Rule::SecretName => "secret-name",
            Rule::HighEntropy => "high-entropy-value",
            Rule::EnvironmentFile => "s3-environment-file",
        }
    }

    /// The rule's name in SARIF: distinct from its id.
    pub fn name(self) -> &'static str {
        match self {
            Rule::AwsAccessKeyId => "PlaintextAwsAccessKeyId",
            Rule::AwsSecretAccessKey => "PlaintextAwsSecretAccessKey",
            Rule::SlackToken => "PlaintextSlackToken",
            Rule::WebhookUrl => "PlaintextWebhookUrl",
            Rule::GoogleApiKey => "PlaintextGoogleApiKey",
            Rule::GithubToken => "PlaintextGithubToken",
            Rule::StripeSecretKey => "PlaintextStripeSecretKey",
            Rule::PrivateKey => "PlaintextPrivateKey",
            Rule::Jwt => "PlaintextJsonWebToken",
            Rule::PasswordInUrl => "PasswordInUrl",
            Rule::SecretName => "PlaintextValueUnderSecretName",
            Rule::HighEntropy => "HighEntropyValue",
            Rule::EnvironmentFile => "PlaintextEnvironmentFile",
        }
    }

    /// One line: what the rule found.
    pub fn short(self) -> &'static str {
        match self {
            Rule::AwsAccessKeyId => "AWS access key id in plaintext",
            Rule::AwsSecretAccessKey => "AWS secret access key in plaintext",
            Rule::SlackToken => "Slack token in plaintext",
            Rule::WebhookUrl => "chat webhook URL (Slack, Discord, Teams) in plaintext",
            Rule::GoogleApiKey => "Google API key in plaintext",
            Rule::GithubToken => "GitHub token in plaintext",
            Rule::StripeSecretKey => "Stripe secret key in plaintext",
            Rule::PrivateKey => "private key in plaintext",
            Rule::Jwt => "JSON Web Token in plaintext",
            Rule::PasswordInUrl => "password in a URL or connection string",
            Rule::SecretName => "plaintext value under a secret's name",
            Rule::HighEntropy => "random-looking value that may be a credential",
            Rule::EnvironmentFile => "environment file stored as plaintext on S3",
        }
    }

    /// Why it matters.
    pub fn full(self) -> &'static str {
        match self {
            Rule::EnvironmentFile => {
                "An environmentFiles entry loads variables from an S3 object: plaintext at rest, readable by anyone who may read the bucket, and invisible to secret rotation."
            }
            Rule::HighEntropy => {
                "The value is long and random-looking, and is not a known public format (UUID, digest, git SHA, public key). Such values are usually keys or tokens; a plaintext value in a task definition is visible to anyone who may describe task definitions."
            }
            Rule::SecretName => {
                "The variable's name says it holds a secret (password, token, key, credential, DSN) and its value could be one. A plaintext value in a task definition is visible to anyone who may describe task definitions, and changing it needs a new revision."
            }
            _ => {
                "The value has the format of a credential. A plaintext credential in a task definition or compose file is visible to anyone who may read it, ends up in version control and CI logs, and cannot be rotated without a new revision."
            }
        }
    }
}

fn ascii_lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

fn all(s: &str, f: impl Fn(u8) -> bool) -> bool {
    !s.is_empty() && s.bytes().all(f)
}

fn is_hex(s: &str) -> bool {
    all(s, |b| b.is_ascii_hexdigit())
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts.iter().all(|p| is_hex(p))
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// A value that looks machine-generated: long, no spaces, mixed character
/// classes, high entropy.
fn is_random_looking(v: &str, min_len: usize) -> bool {
    let b = v.as_bytes();
    v.len() >= min_len
        && all(v, |c| c.is_ascii_alphanumeric() || b"+/=_-".contains(&c))
        && b.iter().any(u8::is_ascii_digit)
        && b.iter().any(u8::is_ascii_lowercase)
        && b.iter().any(u8::is_ascii_uppercase)
        && entropy(v) >= 3.5
}

fn known_format(name: &str, v: &str) -> Option<Rule> {
    let upper_alnum = |s: &str| all(s, |b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let alnum = |s: &str| all(s, |b| b.is_ascii_alphanumeric());
    for prefix in [
        "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA",
    ] {
        if v.len() == 20 && v.starts_with(prefix) && upper_alnum(&v[4..]) {
            return Some(Rule::AwsAccessKeyId);
        }
    }
    let lname = ascii_lower(name);
    if lname.contains("aws")
        && lname.contains("secret")
        && v.len() == 40
        && all(v, |b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
    {
        return Some(Rule::AwsSecretAccessKey);
    }
    if v.len() > 15
        && [
            "xoxb-", "xoxp-", "xoxa-", "xoxo-", "xoxr-", "xoxs-", "xapp-",
        ]
        .iter()
        .any(|p| v.starts_with(p))
    {
        return Some(Rule::SlackToken);
    }
    const WEBHOOKS: [&str; 5] = [
        "https://hooks.slack.com/services/",
        "https://discord.com/api/webhooks/",
        "https://discordapp.com/api/webhooks/",
        ".webhook.office.com/",
        "https://outlook.office.com/webhook/",
    ];
    if WEBHOOKS.iter().any(|w| v.contains(w)) {
        return Some(Rule::WebhookUrl);
    }
    if v.len() == 39
        && v.starts_with("AIza")
        && all(&v[4..], |b| {
            b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
        })
    {
        return Some(Rule::GoogleApiKey);
    }
    if ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
        .iter()
        .any(|p| v.starts_with(p))
        && v.len() >= 40
        && alnum(&v[4..])
    {
        return Some(Rule::GithubToken);
    }
    if v.starts_with("github_pat_")
        && v.len() >= 40
        && all(&v[11..], |b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Some(Rule::GithubToken);
    }
    if ["sk_live_", "rk_live_", "sk_test_", "rk_test_"]
        .iter()
        .any(|p| v.starts_with(p))
        && v.len() >= 20
        && alnum(&v[8..])
    {
        return Some(Rule::StripeSecretKey);
    }
    if v.contains("-----BEGIN") && v.contains("PRIVATE KEY") {
        return Some(Rule::PrivateKey);
    }
    let parts: Vec<&str> = v.split('.').collect();
    if parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts
            .iter()
            .all(|p| all(p, |b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
        && (parts[1].starts_with("eyJ") || jwt_claims(v).is_some_and(|c| c.is_object()))
    {
        return Some(Rule::Jwt);
    }
    if has_plaintext_password(v) {
        return Some(Rule::PasswordInUrl);
    }
    None
}

/// `scheme://user:password@host`, `user:password@tcp(host)/db`, a key as a
/// URL's user (Sentry), or `password=`, `sig=`, `_authToken=` anywhere
/// (connection strings, JDBC and SAS query strings, JAAS, .npmrc), with a
/// value that is not a placeholder.
fn has_plaintext_password(v: &str) -> bool {
    let userinfo = match v.split_once("://") {
        Some((scheme, rest))
            if all(scheme, |b| b.is_ascii_alphanumeric() || b"+.-".contains(&b)) =>
        {
            rest.split(['/', '?', '#'])
                .next()
                .and_then(|auth| auth.rsplit_once('@'))
                .map(|(u, _)| u)
        }
        Some(_) => None,
        // Go's MySQL DSN: user:password@tcp(host:3306)/db
        None => v
            .split_once("@tcp(")
            .or_else(|| v.split_once("@unix("))
            .map(|(u, _)| u),
    };
    if let Some(userinfo) = userinfo {
        let found = match userinfo.split_once(':') {
            Some((_, password)) => !password.is_empty() && !is_placeholder(password),
            // A key as the user part (a Sentry DSN): generated, not a name.
            None => looks_generated(userinfo) && !is_placeholder(userinfo),
        };
        if found {
            return true;
        }
    }
    const KEYS: [&str; 8] = [
        "password=",
        "passwd=",
        "pwd=",
        "accountkey=",
        "sharedaccesskey=",
        "sharedaccesssignature=",
        "sig=",
        "_authtoken=",
    ];
    let lower = ascii_lower(v);
    KEYS.iter().any(|k| {
        lower.match_indices(k).any(|(at, _)| {
            // A whole key: at the start, or after a separator.
            let boundary = at == 0
                || lower.as_bytes()[at - 1].is_ascii_punctuation()
                || lower.as_bytes()[at - 1] == b' ';
            let rest = v[at + k.len()..].trim_start_matches(['"', '\'']);
            let value: String = rest
                .chars()
                .take_while(|c| !";&\"', ".contains(*c))
                .collect();
            boundary && !value.is_empty() && !is_placeholder(&value)
        })
    })
}

/// A reference to another value: `${VAR}`, `$VAR`, `{{ template }}`, a
/// secret reference. Not a value at all.
fn is_reference_like(v: &str) -> bool {
    let t = unquote(v);
    t.contains("${")
        || t.contains("{{")
        || reference::parse(t).is_some()
        || t.strip_prefix('$').is_some_and(is_valid_name)
}

/// A value in a compose list item keeps its quotes: `'${PASSWORD}'`.
fn unquote(v: &str) -> &str {
    let t = v.trim();
    for q in ['"', '\''] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return &t[1..t.len() - 1];
        }
    }
    t
}

/// Text that says it is not the real value: `changeme` in any dress
/// (`!ChangeMe!`, `CHANGE_THIS`), `your-...`, `example...`, `dummy`,
/// `fake_...`, `xxxx`, `<set-me>`, `..._should_be_updated`, "your secret
/// here" in Spanish. A weak value that works (`password`, `test`, `1234`)
/// is not one of these: it is a credential.
pub fn says_placeholder(v: &str) -> bool {
    let t = unquote(v);
    let l = ascii_lower(t);
    if (l.starts_with('<') && l.ends_with('>')) || (l.starts_with('[') && l.ends_with(']')) {
        return true;
    }
    // xxx, ***, ...: one character repeated.
    if l.len() >= 3 && l.bytes().all(|b| b == l.as_bytes()[0]) {
        return true;
    }
    let squashed: String = l.chars().filter(char::is_ascii_alphanumeric).collect();
    const EXACT: [&str; 10] = [
        "none",
        "null",
        "nil",
        "undefined",
        "unset",
        "todo",
        "tbd",
        "redacted",
        "na",
        "empty",
    ];
    const INSIDE: [&str; 18] = [
        "changeme",
        "changethis",
        "changeit",
        "replaceme",
        "replacewith",
        "replacethis",
        "placeholder",
        "dummy",
        "example",
        "fake",
        "xxxx",
        "setme",
        "fillme",
        "fillin",
        "shouldbe",
        "insertyour",
        "aqui",
        "redacted",
    ];
    EXACT.contains(&squashed.as_str())
        || INSIDE.iter().any(|w| squashed.contains(w))
        || squashed.starts_with("your")
        || squashed.starts_with("my") && squashed.ends_with("here")
        || squashed.ends_with("here") && squashed.len() < 40 && t.contains(['_', '-', ' '])
}

/// Placeholders, interpolations and references: not a value at all.
fn is_placeholder(v: &str) -> bool {
    unquote(v).is_empty() || is_reference_like(v) || says_placeholder(v)
}

fn is_boolean(l: &str) -> bool {
    [
        "true", "false", "yes", "no", "on", "off", "enabled", "disabled",
    ]
    .contains(&l)
}

fn is_number(v: &str) -> bool {
    let v = v.strip_prefix('-').unwrap_or(v);
    !v.is_empty() && v.split('.').count() <= 2 && all(&v.replace('.', ""), |b| b.is_ascii_digit())
}

fn is_duration(v: &str) -> bool {
    let mut rest = v;
    let mut any = false;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "s", "m", "h", "d", "w"]
            .iter()
            .find(|u| rest.starts_with(*u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
        any = true;
    }
    any
}

fn is_path(v: &str) -> bool {
    (v.starts_with('/') || v.starts_with("./") || v.starts_with("../") || v.starts_with("~/"))
        && all(v, |b| b.is_ascii_alphanumeric() || b"/._-~".contains(&b))
        && v.split('/').all(|seg| seg.len() < 40)
        && v.matches('/').count() >= 1
}

fn is_url_without_password(v: &str) -> bool {
    v.contains("://") && !has_plaintext_password(v)
}

fn is_id_like(lname: &str) -> bool {
    lname.ends_with("_id") || lname == "id" || lname.ends_with("uuid") || lname.ends_with("_ids")
}

fn is_revision_like(lname: &str) -> bool {
    [
        "sha", "commit", "revision", "git", "hash", "digest", "version", "build", "checksum",
        "etag",
    ]
    .iter()
    .any(|w| lname.contains(w))
}

/// Public material: public keys, certificates, digests, publishable keys.
fn is_public(v: &str) -> bool {
    v.starts_with("ssh-rsa ")
        || v.starts_with("ssh-ed25519 ")
        || v.starts_with("ecdsa-sha2-")
        || v.contains("-----BEGIN PUBLIC KEY")
        || v.contains("-----BEGIN CERTIFICATE")
        || v.contains("-----BEGIN RSA PUBLIC KEY")
        || v.starts_with("pk_live_")
        || v.starts_with("pk_test_")
        || ["sha256-", "sha384-", "sha512-"]
            .iter()
            .any(|p| v.starts_with(p))
        || v.split_once("sha256:")
            .is_some_and(|(_, d)| d.len() == 64 && is_hex(d))
}

/// Could this value be a credential at all?
fn could_be_credential(lname: &str, v: &str) -> bool {
    let l = ascii_lower(v.trim());
    !(is_placeholder(v)
        || v.starts_with("arn:")
        || is_boolean(&l)
        || is_number(v)
        || is_duration(v)
        || is_path(v)
        || is_url_without_password(v)
        || is_public(v)
        || (is_uuid(v) && is_id_like(lname))
        || (is_hex(v) && [7, 8, 12, 40, 64].contains(&v.len()) && is_revision_like(lname)))
}

/// Secret words, matched inside a name's words too, so that glued names
/// (`PGPASSWORD`, `clientSecret`, `AUTHTOKEN`) and plurals count.
const SECRET_WORDS: [&str; 8] = [
    "secret",
    "password",
    "passwd",
    "passphrase",
    "token",
    "credential",
    "apikey",
    "dsn",
];

/// Short secret words, matched as whole words only: `SMTP_PASS`, `DB_PW`.
const SHORT_SECRET_WORDS: [&str; 3] = ["pass", "pwd", "pw"];

/// Words that contain a secret word without being one.
const NOT_SECRET_WORDS: [&str; 6] = [
    "secretary",
    "secretariat",
    "tokenizer",
    "tokenize",
    "tokenized",
    "passport",
];

/// Words that make `KEY` after them a secret: `API_KEY`, `PRIVATE_KEY`.
const KEY_QUALIFIERS: [&str; 16] = [
    "api",
    "private",
    "access",
    "secret",
    "consumer",
    "license",
    "signing",
    "encryption",
    "auth",
    "master",
    "client",
    "hmac",
    "jwt",
    "session",
    "webhook",
    "app",
];

/// Words that, after the secret word, make the name describe the secret
/// rather than hold it: `API_KEY_HEADER`, `TOKEN_TTL_SECONDS`,
/// `PASSWORD_RESET_EMAIL_SUBJECT`. Any other word (`_PROD`, `_V2`, `_1`)
/// still names the secret itself.
const DESCRIPTORS: [&str; 62] = [
    "header",
    "audience",
    "issuer",
    "algorithm",
    "alg",
    "hash",
    "hashers",
    "hasher",
    "type",
    "types",
    "backend",
    "provider",
    "mode",
    "name",
    "format",
    "field",
    "prefix",
    "suffix",
    "enabled",
    "disabled",
    "required",
    "host",
    "port",
    "endpoint",
    "user",
    "username",
    "ttl",
    "length",
    "expiry",
    "expires",
    "expiration",
    "timeout",
    "lifetime",
    "seconds",
    "minutes",
    "days",
    "rotation",
    "region",
    "reset",
    "policy",
    "complexity",
    "cookie",
    "method",
    "model",
    "store",
    "location",
    "path",
    "dir",
    "file",
    "id",
    "ids",
    "arn",
    "capacity",
    "bucket",
    "subject",
    "email",
    "auth",
    "count",
    "limit",
    "min",
    "max",
    "manager",
];

/// Words that, right before `KEY` or `TOKEN`, make the value public:
/// `STRIPE_PUBLISHABLE_KEY`, `RECAPTCHA_SITE_KEY`, `MAPBOX_PUBLIC_TOKEN`.
const PUBLIC_WORDS: [&str; 3] = ["public", "publishable", "site"];

/// How strongly a name says its value is a secret.
#[derive(PartialEq, Eq)]
enum Says {
    Nothing,
    /// Ends in `_KEY`: a cache key or an S3 key as often as an API key.
    Weakly,
    Strongly,
    /// The name says the value is public.
    Public,
}

/// Splits a name into lowercase words at `_`, `-`, `.` and camelCase.
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c == '_' || c == '-' || c == '.' {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn says_secret(name: &str) -> Says {
    let words = name_words(name);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    // `PWD` alone is the shell's working directory.
    if w == ["pwd"] {
        return Says::Nothing;
    }
    for i in 1..w.len() {
        if PUBLIC_WORDS.contains(&w[i - 1]) && (w[i] == "key" || w[i] == "token") {
            return Says::Public;
        }
    }
    let is_secret_word = |i: usize| {
        let word = w[i];
        (SECRET_WORDS.iter().any(|s| word.contains(s))
            && !NOT_SECRET_WORDS.iter().any(|n| word.starts_with(n)))
            || SHORT_SECRET_WORDS.contains(&word)
            || (word == "key" && i > 0 && KEY_QUALIFIERS.contains(&w[i - 1]))
            || ["secretkey", "privatekey", "accesskey", "apikeys"]
                .iter()
                .any(|s| word.contains(s))
    };
    let strong = (0..w.len())
        .any(|i| is_secret_word(i) && !w[i + 1..].iter().any(|x| DESCRIPTORS.contains(x)));
    if strong {
        Says::Strongly
    } else if w.last() == Some(&"key") {
        Says::Weakly
    } else {
        Says::Nothing
    }
}

/// Generated rather than written by a person: long, no spaces, varied.
fn looks_generated(v: &str) -> bool {
    v.len() >= 16 && !v.contains(char::is_whitespace) && entropy(v) >= 3.0
}

/// Secret words that name something an operator chooses (a password, a
/// signing secret), as opposed to a key a provider issues: any value that
/// is not a placeholder works as one, a number (a PIN) and `test` included.
const CHOSEN_WORDS: [&str; 7] = [
    "password",
    "passwd",
    "passphrase",
    "pass",
    "pwd",
    "pw",
    "secret",
];

/// Words that make a `SECRET` one a provider issues (`AWS_SECRET_ACCESS_KEY`,
/// `CLIENT_SECRET`, `CONSUMER_SECRET`): it has the provider's format, so a
/// short plain word under it is no key.
const ISSUED_WORDS: [&str; 5] = ["access", "client", "consumer", "api", "aws"];

fn operator_chosen(name: &str) -> bool {
    let words = name_words(name);
    let issued = words.iter().any(|w| ISSUED_WORDS.contains(&w.as_str()));
    words.iter().enumerate().any(|(i, w)| {
        CHOSEN_WORDS.iter().any(|c| {
            let matched = if c.len() <= 4 { w == c } else { w.contains(c) };
            matched && !(*c == "secret" && issued)
        }) && !NOT_SECRET_WORDS.iter().any(|n| w.starts_with(n))
            && !words[i + 1..]
                .iter()
                .any(|x| DESCRIPTORS.contains(&x.as_str()))
    })
}

/// A value that only repeats its own name (`ACCESS_TOKEN=access_token`):
/// the template convention for "put the access token here".
fn echoes_name(name: &str, v: &str) -> bool {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let v = squash(v);
    !v.is_empty() && v == squash(name)
}

/// A key a provider issues cannot be a short plain word: `test` under
/// `SUPABASE_API_KEY` is a placeholder in effect.
fn cannot_be_issued_key(v: &str) -> bool {
    v.len() < 8 && all(v, |b| b.is_ascii_alphabetic())
}

/// `ACCESS_KEY_ID` names half of a key pair: a generated value under it is
/// a finding, as an AWS access key id is.
fn is_access_key_id(lname: &str, v: &str) -> bool {
    (lname.ends_with("access_key_id") || lname.ends_with("accesskeyid"))
        && v.len() >= 16
        && all(v, |b| b.is_ascii_alphanumeric())
}

/// A JWT's claims, decoded (nothing is verified).
fn jwt_claims(v: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let payload = v.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Public by design: a Supabase `anon` key is meant for the browser.
fn is_public_jwt(v: &str) -> bool {
    jwt_claims(v).is_some_and(|c| c["role"] == "anon")
}

/// Signing keys that frameworks publish as placeholders in their
/// documentation and starter files (each one a placeholder by
/// `says_placeholder`): a token signed with one works only where the key
/// was never replaced, like a token signed with a placeholder of its file.
pub const PUBLISHED_SIGNING_KEYS: [&str; 4] = [
    // Symfony Docker's Mercure hub.
    "!ChangeThisMercureHubJWTSecretKey!",
    // Mercure's and API Platform's earlier default.
    "!UnsecureChangeMe!",
    // jwt.io's debugger.
    "your-256-bit-secret",
    // Supabase's self-hosting .env.example.
    "your-super-secret-jwt-token-with-at-least-32-characters-long",
];

/// Whether an HS256 JWT is signed with one of `keys` (placeholders of the
/// same file): a token derived from a placeholder works only where the
/// placeholder was never replaced, and then the placeholder is the problem.
pub fn signed_with(jwt: &str, keys: &[&str]) -> bool {
    use base64::Engine;
    let Some((signed, signature)) = jwt.rsplit_once('.') else {
        return false;
    };
    let Ok(signature) =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature.trim_end_matches('='))
    else {
        return false;
    };
    keys.iter().any(|k| {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, k.as_bytes());
        ring::hmac::verify(&key, signed.as_bytes(), &signature).is_ok()
    })
}

/// The rule an entry breaks, if any.
pub fn classify(name: &str, value: &str) -> Option<Rule> {
    let lname = ascii_lower(name);
    // An ARN name holds a reference by convention; never a finding.
    if lname.ends_with("_arn") {
        return None;
    }
    let v = value.trim();
    // Known formats first: a URL with a literal password is a finding even
    // when another part of it is `${...}`. A known prefix followed by a
    // placeholder (`whsec_dummy`, `sk-proj-xxxxxxxx`) is no key.
    if let Some(rule) = known_format(name, v) {
        if rule == Rule::Jwt && is_public_jwt(v) {
            return None;
        }
        return (rule == Rule::PasswordInUrl || !says_placeholder(v)).then_some(rule);
    }
    if is_placeholder(v) || echoes_name(name, v) {
        return None;
    }
    if is_access_key_id(&lname, v) {
        return Some(Rule::SecretName);
    }
    let chosen = operator_chosen(name);
    // A number under a password's name is a PIN; elsewhere a count or TTL.
    if !(could_be_credential(&lname, v) || chosen && is_number(v)) {
        return None;
    }
    match says_secret(name) {
        Says::Public => None,
        Says::Strongly if chosen && !v.is_empty() => Some(Rule::SecretName),
        Says::Strongly if v.len() >= 4 && !cannot_be_issued_key(v) => Some(Rule::SecretName),
        Says::Weakly if is_random_looking(v, 16) || (looks_generated(v) && !v.contains('/')) => {
            Some(Rule::SecretName)
        }
        _ if is_random_looking(v, 24) && !is_hex(v) => Some(Rule::HighEntropy),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positives() {
        let cases = [
            ("ANYTHING", "AKIAZ7Q2M4K9RT3XW5BN", Rule::AwsAccessKeyId),
            (
                "AWS_SECRET_ACCESS_KEY",
                "q8Zt4Kx0Yb7Pn2Lm9Wv5Rc1Sd6Fg3Hj8Kl0Zx4Cv",
                Rule::AwsSecretAccessKey,
            ),
            (
                "SIMS_PORTAL_SLACK_BOT",
                "xoxb-2837461923-3948572039485-Qw3rTy7UiOp9AsDfGh2JkL4z",
                Rule::SlackToken,
            ),
            (
                "MAPS",
                "AIzaSyD3k9Lm2Qw8Er5Ty7Ui1Op4As6Df0Gh2Jk",
                Rule::GoogleApiKey,
            ),
            (
                "GH",
                "ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R",
                Rule::GithubToken,
            ),
            (
                "PAY",
                "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
                Rule::StripeSecretKey,
            ),
            (
                "KEY_PEM",
                "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----",
                Rule::PrivateKey,
            ),
            (
                "SESSION",
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
                Rule::Jwt,
            ),
            (
                "SQLALCHEMY_DATABASE_URI",
                "postgresql://app:s3cr3tPass@db:5432/sims",
                Rule::PasswordInUrl,
            ),
            (
                "REDIS_URL",
                "redis://:Zk29fj3KqP@cache:6379/0",
                Rule::PasswordInUrl,
            ),
            (
                "MYSQL_DSN",
                "app:Zk29fj3KqP@tcp(db:3306)/sims",
                Rule::PasswordInUrl,
            ),
            (
                "CONN",
                "Server=db;User Id=app;Password=Zk29fj3KqP;",
                Rule::PasswordInUrl,
            ),
            ("SECRET_KEY", "b6f1c8e0a7d54c3e9b2a", Rule::SecretName),
            ("DB_PASSWORD", "postgres", Rule::SecretName),
            ("CONSUMER_KEY", "xvz1evFS4wEEPTGEFPHBog", Rule::SecretName),
            (
                "API_TOKEN",
                "0123456789abcdef0123456789abcdef01234567",
                Rule::SecretName,
            ),
            (
                "APP_BLOB",
                "Zq8xW3vB7nM2kL9pR4tY6uI1oP5aS0dF",
                Rule::HighEntropy,
            ),
        ];
        for (name, value, rule) in cases {
            assert_eq!(classify(name, value), Some(rule), "{name}");
        }
    }

    #[test]
    fn negatives() {
        let cases = [
            (
                "SECRET_KEY",
                "arn:aws:secretsmanager:us-east-2:111122223333:secret:app-AbCdEf:SECRET_KEY::",
            ),
            ("DB_PASSWORD", "ssm:/sims/db/password"),
            (
                "DB_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-2:111122223333:secret:rds-AbCdEf",
            ),
            ("DB_PASSWORD", "changeme"),
            ("API_KEY", "<set-me>"),
            ("TOKEN", "REPLACE_ME"),
            ("PASSWORD", "xxx"),
            ("PASSWORD", "${DB_PASSWORD}"),
            ("PASSWORD", ""),
            ("TOKEN_TTL_SECONDS", "3600"),
            ("PASSWORD_MIN_LENGTH", "12"),
            ("SESSION_TOKEN_LIFETIME", "30m"),
            ("SECRET_KEY_FILE", "/run/secrets/key"),
            ("AUTH_ENABLED", "true"),
            ("API_URL", "https://api.example.com/v1"),
            (
                "DATABASE_URL",
                "postgresql://app:${DB_PASSWORD}@db:5432/sims",
            ),
            (
                "DATABASE_URL",
                "postgresql://app:${secretsmanager:rds/sims:password}@db/sims",
            ),
            ("REDIS_URL", "redis://cache:6379/0"),
            (
                "IMAGE",
                "repo/app@sha256:0f2a5b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a",
            ),
            ("GIT_SHA", "0f2a5b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a"),
            ("TENANT_ID", "9b2f6d3e-1a4c-4e8b-9f0d-2c7a5e1b3d6f"),
            (
                "DEPLOY_KEY_PUB",
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx1Yk9tY2Vyd2Vy user@host",
            ),
            (
                "STRIPE_PUBLISHABLE_KEY",
                "pk_live_51HxYz2EfGhIjKlMnOpQrStUv",
            ),
            ("FLASK_ENV", "production"),
            ("AWS_REGION", "us-east-2"),
            ("PWD", "/app"),
            ("CACHE_KEY_PREFIX", "simsportal"),
            (
                "BUILD_HASH",
                "0f2a5b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a",
            ),
            ("GREETING", "Hello there, welcome to the Sims Portal"),
            ("SORT_KEY", "created_at"),
        ];
        for (name, value) in cases {
            assert_eq!(classify(name, value), None, "{name}={value}");
        }
    }
}

#[cfg(test)]
mod corpus {
    use super::classify;

    /// tests/check/corpus/values.tsv: LABEL<TAB>NAME<TAB>VALUE, LABEL being
    /// `secret` or `clean`; `\n` in a value stands for a newline.
    #[test]
    fn labelled_values_precision_and_recall_are_one() {
        let text = include_str!("../../tests/check/corpus/values.tsv");
        let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
        let mut wrong = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let mut f = line.splitn(3, '\t');
            let (label, name, value) = (
                f.next().unwrap_or(""),
                f.next().unwrap_or(""),
                f.next().unwrap_or(""),
            );
            let value = value.replace("\\n", "\n");
            let found = classify(name, &value);
            match (label, found) {
                ("secret", Some(_)) => tp += 1,
                ("secret", None) => {
                    fn_ += 1;
                    wrong.push(format!("missed {name}"));
                }
                (_, Some(rule)) => {
                    fp += 1;
                    wrong.push(format!("flagged {name} ({})", rule.id()));
                }
                (_, None) => tn += 1,
            }
        }
        let precision = tp as f64 / (tp + fp).max(1) as f64;
        let recall = tp as f64 / (tp + fn_).max(1) as f64;
        eprintln!("values.tsv: {tp} true positives, {fp} false positives, {fn_} missed, {tn} true negatives; precision {precision:.3}, recall {recall:.3}");
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}

/// Cases a review found on realistic settings (all values fake).
#[cfg(test)]
mod review {
    use super::{classify, Rule};

    #[test]
    fn ordinary_settings_that_name_secrets_are_not_findings() {
        let cases = [
            ("SECRETARY_EMAIL", "jane.doe@example.com"),
            ("TOKENIZER_MODEL", "bert-base-uncased"),
            ("TOKEN_BUCKET_CAPACITY", "100/minute"),
            (
                "PASSWORD_RESET_EMAIL_SUBJECT",
                "Reset your Sims Portal password",
            ),
            ("PASSWORD_POLICY", "min_length=12,require_digit=true"),
            ("PASSWORD_COMPLEXITY", "high"),
            (
                "PASSWORD_HASHERS",
                "django.contrib.auth.hashers.Argon2PasswordHasher",
            ),
            ("DB_PASSWORD_AUTH", "scram-sha-256"),
            ("CSRF_TOKEN_COOKIE", "csrftoken"),
            ("TOKEN_ENDPOINT_AUTH_METHOD", "client_secret_post"),
            ("TOKEN_STORE", "redis"),
            ("SSO_TOKEN_TYPES", "id_token,access_token"),
            ("API_KEY_LOCATION", "header"),
            ("CREDENTIALS_PATH", "config/credentials.json"),
            ("SECRET_KEY_BASE_PATH", "config/secrets"),
            ("SIGNING_KEY_ID", "kid-2024-11"),
            ("SECRETS_MANAGER_SECRET_ID", "simsportal/prod"),
            (
                "KMS_KEY",
                "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            ),
            ("S3_KEY", "uploads/2024/report.csv"),
            ("OBJECT_KEY", "reports/monthly/2024-11/summary.pdf"),
            (
                "RECAPTCHA_SITE_KEY",
                "6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI",
            ),
            (
                "MAPBOX_PUBLIC_TOKEN",
                "pk.eyJ1Ijoic2ltcyIsImEiOiJjbGZ4In0.Zk29fj3KqPxxQ",
            ),
            (
                "PUBLIC_KEY",
                "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEq8Zt4Kx0Yb7Pn2Lm9Wv5Rc1Sd6Fg3Hj8",
            ),
            (
                "JQUERY_SRI",
                "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC",
            ),
            ("AWS_ACCESS_KEY_ID", "local"),
            ("AWS_SECRET_ACCESS_KEY", "local"),
        ];
        for (name, value) in cases {
            assert_eq!(classify(name, value), None, "{name}={value}");
        }
    }

    /// The judgment calls written down in the README ("What counts as a
    /// finding"): a value that works as a credential is one, however weak;
    /// a value that says it is a placeholder is not.
    #[test]
    fn weak_values_that_work_are_findings_and_placeholders_in_any_dress_are_not() {
        for (name, value) in [
            ("POSTGRES_PASSWORD", "password"),
            ("POSTGRES_PASSWORD", "123456"),
            ("MYSQL_ROOT_PASSWORD", "root"),
            ("SECRET_KEY", "test"),
            ("JWT_SECRET", "secret"),
            ("DB_PASSWORD", "postgres"),
            ("MINIO_ROOT_PASSWORD", "minioadmin"),
            (
                "S3_PROTOCOL_ACCESS_KEY_ID",
                "625729a08b95bf1b7ff351a663f3a23c",
            ),
        ] {
            assert_eq!(
                classify(name, value),
                Some(Rule::SecretName),
                "{name}={value}"
            );
        }
        for (name, value) in [
            ("APP_SECRET", "!ChangeMe!"),
            ("HUB_KEY", "!ChangeThisMercureHubJWTSecretKey!"),
            ("JWT_SECRET", "tu_jwt_secret_aqui"),
            ("EMAIL_HOST_PASSWORD", "yourpassword"),
            ("SECRET_KEY", "examplesecretkey"),
            ("SMTP_PASS", "fake_mail_password"),
            (
                "DASHBOARD_PASSWORD",
                "this_password_is_insecure_and_should_be_updated",
            ),
            ("OPENAI_API_KEY", "sk-proj-xxxxxxxx"),
            ("WEBHOOK_SECRET", "whsec_dummy"),
            ("MYSQL_PASSWORD", "$MYSQL_PASSWORD"),
            ("SMTP_PASSWORD", "'${SMTP_PASSWORD}'"),
            ("ACCESS_TOKEN", "access_token"),
            // A key a provider issues has its format; a short word is none.
            ("SUPABASE_API_KEY", "test"),
            ("AWS_SECRET_ACCESS_KEY", "local"),
            // A count under a name that contains TOKEN is no PIN.
            ("MODEL_MAX_TOKENS", "64000"),
            ("DATABASE_URL", "postgres://api-platform:!ChangeMe!@db/api"),
        ] {
            assert_eq!(classify(name, value), None, "{name}={value}");
        }
    }

    #[test]
    fn an_anon_jwt_is_public_and_one_signed_with_a_placeholder_is_derived() {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let sign = |claims: &str, key: &str| {
            let signed = format!("{}.{}", b64(r#"{"alg":"HS256","typ":"JWT"}"#), b64(claims));
            let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
            let tag = ring::hmac::sign(&k, signed.as_bytes());
            format!("{signed}.{}", b64_bytes(tag.as_ref()))
        };
        fn b64_bytes(b: &[u8]) -> String {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
        }
        // Claims with white space, as Supabase's demo tokens have them.
        let anon = sign(
            "{\n  \"role\": \"anon\"\n}",
            "k3y-not-shown-anywhere-else-1234",
        );
        assert_eq!(classify("SUPABASE_ANON_KEY", &anon), None);
        let service = sign(r#"{"role":"service_role"}"#, "your-super-secret-jwt-token");
        assert_eq!(classify("SERVICE_ROLE_KEY", &service), Some(Rule::Jwt));
        assert!(crate::check::rules::signed_with(
            &service,
            &["changeme-please", "your-super-secret-jwt-token"]
        ));
        assert!(!crate::check::rules::signed_with(
            &service,
            &["another-placeholder"]
        ));
        // The published keys are placeholders by the same rule as a file's.
        for key in crate::check::rules::PUBLISHED_SIGNING_KEYS {
            assert!(crate::check::rules::says_placeholder(key), "{key}");
        }
    }

    #[test]
    fn secrets_in_less_usual_shapes_are_findings() {
        let cases = [
            ("SMTP_PASS", "Zk29fj3KqP!", Rule::SecretName),
            ("MAIL_PASS", "hunter22", Rule::SecretName),
            ("SMTP_PW", "Zk29fj3KqP", Rule::SecretName),
            ("SECRET_KEY_BASE", "9f8e7d6c5b4a39281706f5e4d3c2b1a0", Rule::SecretName),
            ("DATABASE_URL", "postgresql://app:RealPass123@${DB_HOST}:5432/sims", Rule::PasswordInUrl),
            ("JDBC_URL", "jdbc:postgresql://db/sims?user=app&password=Zk29fj3KqP", Rule::PasswordInUrl),
            ("AZURE_BLOB_URL", "https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=Zk29fj3KqPxxQ%3D", Rule::PasswordInUrl),
            ("DISCORD_WEBHOOK", "https://discord.com/api/webhooks/123456789/Zk29fj3KqPxxQ", Rule::WebhookUrl),
            ("NPMRC", "//registry.npmjs.org/:_authToken=npm_Zk29fj3KqPxxQ7Lm2Wv5", Rule::PasswordInUrl),
            (
                "KAFKA_SASL_JAAS_CONFIG",
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"app\" password=\"Zk29fj3KqP\";",
                Rule::PasswordInUrl,
            ),
        ];
        for (name, value, rule) in cases {
            assert_eq!(classify(name, value), Some(rule), "{name}");
        }
    }
}

/// Names a second review found missed by whole-word matching.
#[cfg(test)]
mod review_names {
    use super::{classify, Rule};

    #[test]
    fn glued_plural_and_suffixed_names_are_findings() {
        for name in [
            "PGPASSWORD",
            "MYSQLPASSWORD",
            "dbPassword",
            "clientSecret",
            "SECRETKEY",
            "AUTHTOKEN",
            "ACCESSTOKEN",
            "PASSWORD1",
            "SECRETS",
            "PASSWORDS",
            "TOKENS",
            "DB_PASSWORD_PROD",
            "DB_PASSWORD_RO",
            "PASSWORD_1",
            "SMTP_PASSWORD_2",
            "REDIS_PASSWORD_PRIMARY",
            "JWT_SECRET_PROD",
            "API_SECRET_V2",
            "ACCESS_TOKEN_V2",
            "SLACK_BOT_TOKEN_PROD",
            "AUTH_TOKEN_CURRENT",
            "STRIPE_API_KEY_LIVE",
            "SITE_PASSWORD",
            "SITE_SECRET_KEY",
            "PUBLIC_API_SECRET",
        ] {
            assert_eq!(
                classify(name, "Hunter2Pass"),
                Some(Rule::SecretName),
                "{name}"
            );
        }
    }
}
