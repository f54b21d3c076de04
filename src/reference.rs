//! Secret references: `&str` -> [`Reference`], and back to the printable form.
//!
//! This module owns the reference grammar of SPEC section 2: the ECS
//! `valueFrom` ARN forms and the short `secretsmanager:` / `ssm:` forms. It is
//! pure: no environment, no I/O. A reference never contains a secret value,
//! so printing one (as written) is always safe.
//!
//! A value that *starts like* a reference but does not parse is an error, not
//! an ordinary value: a typo must not hand the application an ARN instead of
//! its secret.

use std::fmt;

/// The AWS partitions whose ARNs secrun accepts.
const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

/// Where an ARN points: the request goes to `region`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArnScope {
    pub partition: String,
    pub region: String,
    pub account: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reference {
    /// A Secrets Manager secret, optionally one JSON key of it.
    SecretsManager {
        /// Set for the ARN form; `None` for the short form (default region).
        arn: Option<ArnScope>,
        /// The secret name as written (with or without the random suffix).
        name: String,
        json_key: Option<String>,
        version_stage: Option<String>,
        version_id: Option<String>,
    },
    /// An SSM parameter, optionally pinned to a version or label.
    Ssm {
        arn: Option<ArnScope>,
        /// The parameter name as AWS reads it (`/sims/db` for `parameter/sims/db`).
        name: String,
        selector: Option<String>,
    },
}

/// What is wrong with a value that starts like a reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(msg.into()))
}

/// `None`: an ordinary value. `Some(Ok)`: a reference. `Some(Err)`: a value
/// that starts like a reference but is malformed.
pub fn parse(value: &str) -> Option<Result<Reference, ParseError>> {
    if let Some(rest) = value.strip_prefix("secretsmanager:") {
        return Some(parse_sm_fields(None, rest));
    }
    if let Some(rest) = value.strip_prefix("ssm:") {
        return Some(parse_ssm_tail(None, rest));
    }
    if let Some(rest) = value.strip_prefix("arn:") {
        if let Some(parsed) = parse_arn(rest) {
            return Some(parsed);
        }
    }
    near_miss(value).map(Err)
}

/// A value that is no reference as written but would be one with white
/// space trimmed or in lower case: a pasted or mistyped reference, which
/// must not reach the application as its own value.
fn near_miss(value: &str) -> Option<ParseError> {
    let trimmed = value.trim();
    if trimmed.len() != value.len() {
        return parse(trimmed)
            .is_some()
            .then(|| ParseError("white space before or after a reference; remove it".into()));
    }
    // Lower-case the short prefix, or an ARN's `arn:PARTITION:SERVICE`, only:
    // names are case-sensitive and stay as written.
    let lower = value.to_ascii_lowercase();
    let head_len = if lower.starts_with("arn:") {
        lower
            .match_indices(':')
            .nth(2)
            .map_or(lower.len(), |(i, _)| i)
    } else {
        ["secretsmanager:", "ssm:"]
            .iter()
            .find(|p| lower.starts_with(**p))?
            .len()
    };
    let candidate = format!("{}{}", &lower[..head_len], &value[head_len..]);
    (candidate != value && parse(&candidate).is_some()).then(|| {
        ParseError(format!(
            "{:?} must be written in lower case ({:?})",
            &value[..head_len],
            &lower[..head_len]
        ))
    })
}

/// The part after `arn:`. `None`: an ARN of another kind (an SNS topic, an
/// SSM document), an ordinary value.
fn parse_arn(rest: &str) -> Option<Result<Reference, ParseError>> {
    let fields: Vec<&str> = rest.split(':').collect();
    let (partition, service) = (fields[0], fields.get(1).copied().unwrap_or_default());
    let mut parts = rest.splitn(5, ':').skip(2);
    let (region, account, resource) = (parts.next(), parts.next(), parts.next());
    match service {
        "secretsmanager" => return Some(parse_sm_arn(partition, region, account, resource)),
        "ssm" => {
            // Any field that begins `parameter`, wherever a missing or extra
            // field has shifted it, makes this a parameter ARN or an error;
            // other SSM ARNs (documents) are ordinary values.
            let at = fields
                .iter()
                .skip(2)
                .position(|f| looks_like_parameter(f))?
                + 2;
            if at != 4 {
                return Some(err(shifted_ssm(&fields[2..at])));
            }
            let (region, account, resource) = (region?, account?, resource?);
            return Some(parse_ssm_arn(partition, region, account, resource));
        }
        // Upper case where lower case belongs: `near_miss` says so.
        _ if service.eq_ignore_ascii_case("secretsmanager")
            || service.eq_ignore_ascii_case("ssm") =>
        {
            return None
        }
        _ => {}
    }
    // The service is not where it belongs: a Secrets Manager or SSM ARN with
    // a field missing (`arn:secretsmanager:...`, `arn:aws:us-east-2:...`) or a
    // misspelled service.
    let sm_shape = fields.contains(&"secretsmanager")
        || (!is_service_name(service)
            && fields
                .windows(2)
                .any(|w| w[0] == "secret" && !w[1].is_empty()));
    if sm_shape || is_misspelled(service, "secretsmanager") {
        return Some(err(format!(
            "{service:?} where the service belongs; a Secrets Manager ARN reads {SM_ARN}"
        )));
    }
    let ssm_shape = fields.iter().skip(1).any(|f| looks_like_parameter(f))
        && (fields.contains(&"ssm") || !is_service_name(service));
    if ssm_shape {
        return Some(err(format!(
            "{service:?} where the service belongs; an SSM parameter ARN reads {SSM_ARN}"
        )));
    }
    None
}

const SM_ARN: &str =
    "arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME[:JSON_KEY[:VERSION_STAGE[:VERSION_ID]]]";
const SSM_ARN: &str = "arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME";

/// `parameter/...`, or a near spelling of it (`parametre/`, `parameters/`).
fn looks_like_parameter(field: &str) -> bool {
    let kind = field.split('/').next().unwrap_or_default();
    field.to_ascii_lowercase().starts_with("parameter")
        || (field.contains('/') && is_misspelled(kind, "parameter"))
}

/// What is wrong with an SSM ARN whose `parameter` field is not the fifth:
/// `between` holds the fields between the service and it.
fn shifted_ssm(between: &[&str]) -> String {
    let is_account = |f: &str| f.len() == 12 && f.bytes().all(|b| b.is_ascii_digit());
    let what = match between {
        [] => "the region and the account id are missing".to_owned(),
        [one] if is_account(one) => "the region is missing".to_owned(),
        [_] => "the account id is missing".to_owned(),
        _ => format!(
            "{} fields stand between ssm and parameter; expected 2 (REGION:ACCOUNT)",
            between.len()
        ),
    };
    format!("{what}; an SSM parameter ARN reads {SSM_ARN}")
}

/// An AWS service name as ARNs write it (`sns`, `s3`, `execute-api`): lower
/// case letters and digits, starting with a letter. A region or an account
/// id in its place means a field is missing.
fn is_service_name(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !is_region(s)
}

fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A different word within a few edits of `word` (`secretmanager`,
/// `SecretsManager`, `secrets-manager`): a typo, not another service.
fn is_misspelled(found: &str, word: &str) -> bool {
    let found = found.to_ascii_lowercase();
    found != word
        && (strsim::damerau_levenshtein(&found, word) <= 3
            || found.replace(['-', '_', ' '], "") == word)
}

fn scope(partition: &str, region: &str, account: &str) -> Result<ArnScope, ParseError> {
    if !PARTITIONS.contains(&partition) {
        return err(format!(
            "unknown partition {partition:?} (expected one of aws, aws-cn, aws-us-gov)"
        ));
    }
    if region.is_empty() {
        return err("the region is missing");
    }
    if !region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return err(format!("{region:?} is not a region name"));
    }
    if account.is_empty() {
        return err("the account id is missing");
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return err(format!("the account id {account:?} is not 12 digits"));
    }
    Ok(ArnScope {
        partition: partition.to_owned(),
        region: region.to_owned(),
        account: account.to_owned(),
    })
}

fn parse_sm_arn(
    partition: &str,
    region: Option<&str>,
    account: Option<&str>,
    resource: Option<&str>,
) -> Result<Reference, ParseError> {
    let (Some(region), Some(account), Some(resource)) = (region, account, resource) else {
        return err("a Secrets Manager ARN reads arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME[:JSON_KEY[:VERSION_STAGE[:VERSION_ID]]]");
    };
    let scope = scope(partition, region, account)?;
    let Some(fields) = resource.strip_prefix("secret:") else {
        return err(format!(
            "expected \"secret:\" after the account id, found {:?}",
            resource.split(':').next().unwrap_or_default()
        ));
    };
    parse_sm_fields(Some(scope), fields)
}

/// `NAME[:JSON_KEY[:VERSION_STAGE[:VERSION_ID]]]`, empty fields meaning unset.
fn parse_sm_fields(arn: Option<ArnScope>, fields: &str) -> Result<Reference, ParseError> {
    let parts: Vec<&str> = fields.split(':').collect();
    if parts.len() > 4 {
        return err(format!(
            "{} fields after the secret name; at most 3 (JSON_KEY:VERSION_STAGE:VERSION_ID) are allowed",
            parts.len() - 1
        ));
    }
    let name = parts[0];
    if name.is_empty() {
        return err("the secret name is empty");
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "/_+=.@-!".contains(*c)))
    {
        return err(format!(
            "the secret name contains {bad:?}, which Secrets Manager does not allow"
        ));
    }
    let field = |i: usize| {
        parts
            .get(i)
            .filter(|s| !s.is_empty())
            .map(|s| (*s).to_owned())
    };
    let (version_stage, version_id) = (field(2), field(3));
    if version_stage.is_some() && version_id.is_some() {
        return err("give a version stage or a version id, not both");
    }
    Ok(Reference::SecretsManager {
        arn,
        name: name.to_owned(),
        json_key: field(1),
        version_stage,
        version_id,
    })
}

fn parse_ssm_arn(
    partition: &str,
    region: &str,
    account: &str,
    resource: &str,
) -> Result<Reference, ParseError> {
    let scope = scope(partition, region, account)?;
    // The name is the part after `parameter`: `parameter/sims/db` names
    // `/sims/db`. Requests to AWS send the ARN itself, which AWS resolves
    // (across accounts too); the name is what the local file is keyed by.
    let Some(tail) = resource.strip_prefix("parameter/") else {
        return err("an SSM parameter ARN reads arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME");
    };
    parse_ssm_tail(Some(scope), &format!("/{tail}"))
}

/// `NAME[:VERSION|:LABEL]`.
fn parse_ssm_tail(arn: Option<ArnScope>, tail: &str) -> Result<Reference, ParseError> {
    let mut parts = tail.split(':');
    let name = parts.next().unwrap_or_default();
    let selector = parts.next();
    if parts.next().is_some() {
        return err("an SSM reference takes at most one field after the name (:VERSION or :LABEL)");
    }
    if name.is_empty() || name == "/" {
        return err("the parameter name is empty");
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "/_.-".contains(*c)))
    {
        return err(format!(
            "the parameter name contains {bad:?}, which SSM does not allow"
        ));
    }
    if selector == Some("") {
        return err("the version or label after the parameter name is empty");
    }
    Ok(Reference::Ssm {
        arn,
        name: name.to_owned(),
        selector: selector.map(str::to_owned),
    })
}

impl Reference {
    /// The region the request goes to; `None` means the default region chain.
    pub fn region(&self) -> Option<&str> {
        match self {
            Reference::SecretsManager { arn, .. } | Reference::Ssm { arn, .. } => {
                arn.as_ref().map(|a| a.region.as_str())
            }
        }
    }

    pub fn json_key(&self) -> Option<&str> {
        match self {
            Reference::SecretsManager { json_key, .. } => json_key.as_deref(),
            Reference::Ssm { .. } => None,
        }
    }

    /// The id sent to AWS: a secret's ARN (without key, stage, version) or
    /// name as written; a parameter's ARN or name, with its selector.
    pub fn aws_id(&self) -> String {
        match self {
            Reference::SecretsManager {
                arn: Some(a), name, ..
            } => format!(
                "arn:{}:secretsmanager:{}:{}:secret:{}",
                a.partition, a.region, a.account, name
            ),
            Reference::SecretsManager {
                arn: None, name, ..
            } => name.clone(),
            Reference::Ssm { selector, .. } => {
                let base = self.ssm_base_id();
                match selector {
                    Some(s) => format!("{base}:{s}"),
                    None => base,
                }
            }
        }
    }

    /// A parameter's ARN when the reference gives one, else its name.
    fn ssm_base_id(&self) -> String {
        match self {
            Reference::Ssm { name, .. } => self.arn().unwrap_or_else(|| name.clone()),
            Reference::SecretsManager { .. } => self.aws_id(),
        }
    }

    /// The ARN of the secret or parameter, when the reference gives one.
    pub fn arn(&self) -> Option<String> {
        match self {
            Reference::SecretsManager { arn: Some(_), .. } => Some(self.aws_id()),
            Reference::Ssm {
                arn: Some(a), name, ..
            } => Some(format!(
                "arn:{}:ssm:{}:{}:parameter/{}",
                a.partition,
                a.region,
                a.account,
                name.trim_start_matches('/')
            )),
            _ => None,
        }
    }

    /// Pinned to a version id, stage or label: `--watch` never checks it.
    pub fn is_pinned(&self) -> bool {
        matches!(
            self,
            Reference::SecretsManager {
                version_stage: Some(_),
                ..
            } | Reference::SecretsManager {
                version_id: Some(_),
                ..
            } | Reference::Ssm {
                selector: Some(_),
                ..
            }
        )
    }

    /// The same secret or parameter, minus the JSON key: what is fetched.
    pub fn without_key(&self) -> Reference {
        let mut r = self.clone();
        if let Reference::SecretsManager { json_key, .. } = &mut r {
            *json_key = None;
        }
        r
    }
}

/// A secret name without its `-` + 6-character random suffix, if it has one
/// (`prod-AbCdEf` -> `prod`). Used where a partial name must match a full one.
pub fn strip_random_suffix(name: &str) -> Option<&str> {
    let (base, suffix) = name.rsplit_once('-')?;
    (!base.is_empty() && suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(base)
}

/// The printable, value-free form: the reference in the short or ARN syntax.
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::SecretsManager {
                json_key,
                version_stage,
                version_id,
                arn,
                ..
            } => {
                if arn.is_none() {
                    f.write_str("secretsmanager:")?;
                }
                f.write_str(&self.aws_id())?;
                let fields = [json_key, version_stage, version_id];
                let used = fields
                    .iter()
                    .rposition(|x| x.is_some())
                    .map_or(0, |i| i + 1);
                for field in &fields[..used] {
                    write!(f, ":{}", field.as_deref().unwrap_or_default())?;
                }
                Ok(())
            }
            Reference::Ssm {
                arn: Some(_),
                selector,
                ..
            } => {
                f.write_str(&self.arn().unwrap_or_default())?;
                if let Some(s) = selector {
                    write!(f, ":{s}")?;
                }
                Ok(())
            }
            Reference::Ssm { arn: None, .. } => write!(f, "ssm:{}", self.aws_id()),
        }
    }
}

/// For tests elsewhere: a reference that must parse.
#[cfg(test)]
pub fn must(v: &str) -> Reference {
    match parse(v) {
        Some(Ok(r)) => r,
        other => panic!("{v}: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(v: &str) -> Reference {
        must(v)
    }

    fn bad(v: &str) -> String {
        match parse(v) {
            Some(Err(e)) => e.0,
            other => panic!("{v}: expected an error, got {other:?}"),
        }
    }

    #[test]
    fn ecs_value_from_with_empty_trailing_fields() {
        let r = ok("arn:aws:secretsmanager:us-east-2:111122223333:secret:simsportal/prod-AbCdEf:SLACK_BOT_TOKEN::");
        assert_eq!(r.region(), Some("us-east-2"));
        assert_eq!(r.json_key(), Some("SLACK_BOT_TOKEN"));
        assert_eq!(
            r.aws_id(),
            "arn:aws:secretsmanager:us-east-2:111122223333:secret:simsportal/prod-AbCdEf"
        );
        assert!(!r.is_pinned());
    }

    #[test]
    fn every_partition_is_accepted() {
        for p in PARTITIONS {
            let r = ok(&format!(
                "arn:{p}:secretsmanager:us-west-1:111122223333:secret:x"
            ));
            assert_eq!(
                r.aws_id(),
                format!("arn:{p}:secretsmanager:us-west-1:111122223333:secret:x")
            );
        }
        assert!(
            bad("arn:aws-xx:secretsmanager:us-west-1:111122223333:secret:x").contains("partition")
        );
    }

    #[test]
    fn stage_and_version_fields() {
        let r = ok("secretsmanager:db::AWSPREVIOUS");
        assert!(r.is_pinned());
        assert_eq!(r.json_key(), None);
        let r = ok("secretsmanager:db:password::0f2a");
        match &r {
            Reference::SecretsManager { version_id, .. } => {
                assert_eq!(version_id.as_deref(), Some("0f2a"))
            }
            _ => unreachable!(),
        }
        assert_eq!(r.to_string(), "secretsmanager:db:password::0f2a");
    }

    #[test]
    fn short_forms() {
        assert_eq!(ok("secretsmanager:rds/sims:password").aws_id(), "rds/sims");
        assert_eq!(ok("secretsmanager:rds/sims:password").region(), None);
        assert_eq!(ok("ssm:/sims/prod/db-url").aws_id(), "/sims/prod/db-url");
        assert_eq!(
            ok("ssm:/sims/prod/db-url:3").aws_id(),
            "/sims/prod/db-url:3"
        );
        assert_eq!(ok("ssm:plain").aws_id(), "plain");
    }

    #[test]
    fn ssm_arn_names_the_part_after_parameter() {
        let arn = "arn:aws:ssm:us-east-2:111122223333:parameter/sims/prod/db-url";
        let r = ok(arn);
        assert!(matches!(&r, Reference::Ssm { name, .. } if name == "/sims/prod/db-url"));
        assert_eq!(r.aws_id(), arn, "AWS is asked by ARN");
        assert_eq!(r.region(), Some("us-east-2"));
        assert_eq!(r.arn().as_deref(), Some(arn));
        assert_eq!(r.to_string(), arn);
        let flat = ok("arn:aws:ssm:us-east-2:111122223333:parameter/flat");
        assert!(matches!(&flat, Reference::Ssm { name, .. } if name == "/flat"));
        assert_eq!(
            flat.arn().as_deref(),
            Some("arn:aws:ssm:us-east-2:111122223333:parameter/flat")
        );
        assert_eq!(ok(&format!("{arn}:3")).aws_id(), format!("{arn}:3"));
    }

    #[test]
    fn ordinary_values_and_other_arns_pass() {
        for v in [
            "hello",
            "",
            "postgres://x",
            "arn:aws:sns:us-east-1:111122223333:topic",
            "arn:aws:ssm:us-east-1:111122223333:document/run",
            "arn:aws:ssm",
            "arn:aws:ssm:us-east-1:111122223333:automation-definition/x:1",
            "arn:aws:sns:us-east-1:111122223333:secret:0f2a",
            "arn:aws:iam::111122223333:role/secret-reader",
            "arn:aws:s3:::secret/parameter/x",
            "ARN: none",
            "Ssm agent",
        ] {
            assert_eq!(parse(v), None, "{v}");
        }
    }

    // Regression: each of these used to pass through as an ordinary value,
    // handing the application an ARN instead of its secret.
    #[test]
    fn shifted_missing_or_misspelled_fields_are_errors() {
        let cases = [
            (
                "arn:aws:ssm:us-east-2:parameter/sims/db",
                "account id is missing",
            ),
            (
                "arn:aws:ssm:111122223333:parameter/sims/db",
                "region is missing",
            ),
            ("arn:aws:ssm:parameter/sims/db", "region and the account id"),
            (
                "arn:aws:ssm:us-east-2:111122223333:x:parameter/db",
                "3 fields",
            ),
            (
                "arn:aws:ssm:us-east-2:111122223333:parametre/db",
                "parameter/NAME",
            ),
            (
                "arn:aws:ssm:us-east-2:111122223333:parameters/db",
                "parameter/NAME",
            ),
            (
                "arn:ssm:us-east-2:111122223333:parameter/db",
                "SSM parameter ARN",
            ),
            (
                "arn:aws:us-east-2:111122223333:parameter/db",
                "SSM parameter ARN",
            ),
            (
                "arn:secretsmanager:us-east-2:111122223333:secret:db",
                "Secrets Manager ARN",
            ),
            (
                "arn:aws:us-east-2:111122223333:secret:db",
                "Secrets Manager ARN",
            ),
            ("arn:aws::111122223333:secret:db", "Secrets Manager ARN"),
            (
                "arn:aws:secretmanager:us-east-2:111122223333:secret:db",
                "secretmanager",
            ),
            (
                "arn:aws:secrets-manager:us-east-2:111122223333:secret:db",
                "secrets-manager",
            ),
            (
                "arn:aws:secretsmanger:us-east-2:111122223333:secret:db",
                "secretsmanger",
            ),
            ("arn:aws:secretsmanager:us-east-2:secret:db", "12 digits"),
            (
                "ARN:AWS:SECRETSMANAGER:us-east-2:111122223333:secret:db",
                "lower case",
            ),
            (
                "arn:aws:SecretsManager:us-east-2:111122223333:secret:db",
                "lower case",
            ),
            (
                "arn:aws:SSM:us-east-2:111122223333:parameter/db",
                "lower case",
            ),
            ("SSM:/sims/db", "lower case"),
            ("SecretsManager:db", "lower case"),
            (" ssm:/sims/db", "white space"),
            (
                "arn:aws:secretsmanager:us-east-2:111122223333:secret:db\n",
                "'\\n'",
            ),
            ("secretsmanager:db ", "' '"),
            (
                "\tarn:aws:ssm:us-east-2:111122223333:parameter/db",
                "white space",
            ),
        ];
        for (value, says) in cases {
            let e = bad(value);
            assert!(e.contains(says), "{value}: {e}");
        }
    }

    #[test]
    fn malformed_references_are_errors() {
        assert!(bad("arn:aws:secretsmanager:us-east-2::secret:x").contains("account"));
        assert!(bad("arn:aws:secretsmanager:us-east-2:1234:secret:x").contains("12 digits"));
        assert!(bad("arn:aws:secretsmanager::111122223333:secret:x").contains("region"));
        assert!(bad("arn:aws:secretsmanager:us-east-2:111122223333:secret:").contains("empty"));
        assert!(bad("arn:aws:secretsmanager:us-east-2:111122223333:secrets:x").contains("secret:"));
        assert!(
            bad("arn:aws:secretsmanager:us-east-2:111122223333:secret:x:a:b:c:d")
                .contains("at most 3")
        );
        assert!(bad("arn:aws:secretsmanager:us-east-2").contains("reads"));
        assert!(bad("secretsmanager:").contains("empty"));
        assert!(bad("secretsmanager:a b").contains("' '"));
        assert!(bad("secretsmanager:x:k:AWSCURRENT:abc").contains("not both"));
        assert!(bad("ssm:").contains("empty"));
        assert!(bad("ssm:/a:1:2").contains("at most one"));
        assert!(bad("ssm:/a:").contains("empty"));
        assert!(bad("arn:aws:ssm:us-east-2::parameter/x").contains("account"));
        assert!(bad("arn:aws:ssm:us-east-2:111122223333:parameter").contains("parameter/NAME"));
        assert!(bad("arn:aws:ssm:us-east-2:111122223333:parameter/").contains("empty"));
    }

    #[test]
    fn display_round_trips() {
        for v in [
            "secretsmanager:simsportal/prod:SLACK_BOT_TOKEN",
            "secretsmanager:x",
            "arn:aws:secretsmanager:us-east-2:111122223333:secret:simsportal/prod-AbCdEf:K",
            "ssm:/a/b:label",
        ] {
            assert_eq!(ok(v).to_string(), v);
        }
    }

    #[test]
    fn random_suffix() {
        assert_eq!(strip_random_suffix("prod-AbCdEf"), Some("prod"));
        assert_eq!(
            strip_random_suffix("simsportal/prod-AbCdEf"),
            Some("simsportal/prod")
        );
        assert_eq!(strip_random_suffix("prod"), None);
        assert_eq!(strip_random_suffix("prod-AbCd"), None);
        assert_eq!(strip_random_suffix("-AbCdEf"), None);
    }
}
