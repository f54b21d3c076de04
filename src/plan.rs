//! Environment -> [`Plan`]: which variable is defined where, what each
//! definition needs (a reference, an expansion, a file), and the distinct
//! fetches that the whole start-up needs, batched.
//!
//! Pure: the process environment and the parsed env files come in as values;
//! nothing is read or fetched here. Errors found while planning (a malformed
//! reference, a refused name) are collected, not returned at the first one.
//!
//! Layers, lowest first: env files in order, then bundles (added after they
//! are fetched, see `assemble`), then the process environment. A variable's
//! definitions are kept lowest first, so that `${NAME}` inside NAME's own
//! value can mean the definition below it (`PORT=${PORT:-8000}`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::dotenv;
use crate::error::{is_valid_name, printable_name, Error};
use crate::fetched::Fetched;
use crate::reference::{self, Reference};
use crate::secret::{Redacted, SecretValue};
use crate::template::{self, Piece};

/// Where a definition came from; printed by `explain`, `verify` and `-v`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Process,
    EnvFile { path: PathBuf, line: usize },
    Bundle(Reference),
    File { var: String, path: PathBuf },
}

/// What a definition holds before resolution.
#[derive(Clone)]
pub enum Raw {
    /// Passed through byte for byte.
    Keep(OsString),
    /// The whole value is a reference; the text as written.
    Ref(Reference, String),
    /// To be expanded (may hold inline references).
    Template(Vec<Piece>),
    /// The content of a file (`NAME_FILE=/path`).
    File(PathBuf),
    /// A key of a bundle: secret text, never expanded.
    Secret(SecretValue),
}

// Values as written may be plaintext secrets: Debug shows lengths only.
impl std::fmt::Debug for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Raw::Keep(v) => f.debug_tuple("Keep").field(&Redacted(v.len())).finish(),
            Raw::Ref(r, _) => f.debug_tuple("Ref").field(r).finish(),
            Raw::Template(p) => f.debug_tuple("Template").field(p).finish(),
            Raw::File(p) => f.debug_tuple("File").field(p).finish(),
            Raw::Secret(v) => f.debug_tuple("Secret").field(v).finish(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Def {
    /// Layer, then line: env file i is `(i, line)`, bundle j is
    /// `(files + j, 0)`, the process environment is highest.
    pub rank: (usize, usize),
    pub source: Source,
    pub raw: Raw,
}

/// A Secrets Manager or SSM request group: same service, same region, and
/// either batchable (unpinned Secrets Manager, SSM) or one call per id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    pub region: Option<String>,
    pub kind: BatchKind,
    /// Keyless references, one per distinct secret or parameter.
    pub items: Vec<Reference>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchKind {
    /// `BatchGetSecretValue`, up to 20 ids.
    SecretsBatch,
    /// `GetSecretValue`, one id (a pinned stage or version).
    SecretSingle,
    /// `GetParameters`, up to 10 names.
    Parameters,
    /// `GetParameters` for one name pinned to a version or label, alone in
    /// its call so that the answer maps back whether or not it carries the
    /// `Selector` field.
    ParameterSingle,
}

pub const SECRETS_PER_BATCH: usize = 20;
pub const PARAMETERS_PER_CALL: usize = 10;

#[derive(Debug, Default)]
pub struct Plan {
    /// Every variable of the application's environment, definitions lowest first.
    pub vars: BTreeMap<OsString, Vec<Def>>,
    pub bundles: Vec<Reference>,
    /// Rank of the first bundle layer (= number of env files).
    pub bundle_rank: usize,
    /// Distinct secrets and parameters to fetch (keyless), bundles included.
    pub fetches: BTreeSet<Reference>,
    pub files: BTreeSet<PathBuf>,
    pub optional: HashSet<String>,
    pub errors: Vec<Error>,
}

pub const PROCESS_RANK: (usize, usize) = (usize::MAX, 0);

/// What decides which variables are resolved from where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `--from` bundles, as written.
    pub from: Vec<String>,
    /// Variables passed through untouched.
    pub keep: Vec<String>,
    /// Variables that a missing secret leaves unset.
    pub optional: Vec<String>,
    /// `NAME<SUFFIX>=/path` reads NAME from the file.
    pub file_suffix: Option<String>,
    /// The directories `_FILE` paths may point into.
    pub file_dirs: Vec<PathBuf>,
    /// Paths (candidate `_FILE` paths and `file_dirs`) with their symbolic
    /// links and `..` resolved, as the shell found them on disk; a path not
    /// here is taken as written, with `..` resolved.
    pub real_paths: BTreeMap<PathBuf, PathBuf>,
    pub interpolate: bool,
}

impl Options {
    /// Whether `path` lies inside one of the secrets directories, both
    /// with their links resolved where they exist.
    pub fn is_inside(&self, path: &Path) -> bool {
        let real = |p: &Path| {
            self.real_paths
                .get(p)
                .cloned()
                .unwrap_or_else(|| normalize(p))
        };
        let path = real(path);
        self.file_dirs.iter().any(|d| {
            let d = real(d);
            path != d && path.starts_with(&d)
        })
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            from: Vec::new(),
            keep: Vec::new(),
            optional: Vec::new(),
            file_suffix: None,
            file_dirs: vec![PathBuf::from("/run/secrets")],
            real_paths: BTreeMap::new(),
            interpolate: true,
        }
    }
}

/// `SECRUN_*` variables configure secrun and never reach the application.
pub fn is_secrun_var(name: &OsStr) -> bool {
    name.as_bytes().starts_with(b"SECRUN_")
}

fn is_kept(name: &OsStr, keep: &[String]) -> bool {
    name.as_bytes().ends_with(b"_ARN") || keep.iter().any(|k| name == k.as_str())
}

/// Names that belong to other programs: never read as `_FILE` variables.
fn is_foreign_file_var(name: &OsStr, keep: &[String]) -> bool {
    let b = name.as_bytes();
    b.starts_with(b"AWS_")
        || is_secrun_var(name)
        || b == b"SSL_CERT_FILE"
        || keep.iter().any(|k| name == k.as_str())
}

/// The text a JSON value contributes: strings as they are, other values as
/// their compact JSON; `null` is refused.
pub fn json_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Bundle keys that would let whoever may write a secret run code in the
/// application, or break it: refused, never dropped silently.
pub fn refused_bundle_key(key: &str) -> Option<&'static str> {
    if !is_valid_name(key) {
        return Some("is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)");
    }
    if key == "PATH" || key == "HOME" {
        return Some("may not be set from a bundle (it would change which programs run)");
    }
    if key.starts_with("LD_") {
        return Some(
            "may not be set from a bundle (LD_* variables load code into the application)",
        );
    }
    if key.starts_with("SECRUN_") {
        return Some("may not be set from a bundle (SECRUN_* configures secrun itself)");
    }
    None
}

/// Classify one value as written, given whether it may be expanded.
fn classify(name: &OsStr, value: &[u8], expandable: bool, config: &Options) -> Result<Raw, Error> {
    if is_kept(name, &config.keep) {
        return Ok(Raw::Keep(OsStr::from_bytes(value).to_owned()));
    }
    let Ok(text) = std::str::from_utf8(value) else {
        // Not UTF-8, so not a reference; but one that starts like a reference
        // must not pass through as its own value.
        if reference::parse(&String::from_utf8_lossy(value)).is_some() {
            return Err(Error::variable(
                name.to_string_lossy(),
                None,
                "starts like a reference but is not valid UTF-8",
            ));
        }
        return classify_text(name, value, expandable, config);
    };
    match reference::parse(text) {
        Some(Ok(r)) => Ok(Raw::Ref(r, text.to_owned())),
        Some(Err(e)) => Err(Error::variable(
            name.to_string_lossy(),
            Some(shown_reference(text)),
            format!("not a valid reference: {e}"),
        )),
        None => classify_text(name, value, expandable, config),
    }
}

/// How a value that failed to parse as a reference is shown: as written
/// when it begins like one exactly (a mistyped reference names no secret),
/// by its length when it only nearly does (`SSM:...`, white space around
/// it), since such a value may be a password that happens to look so.
pub fn shown_reference(text: &str) -> String {
    if ["arn:", "secretsmanager:", "ssm:"]
        .iter()
        .any(|p| text.starts_with(p))
    {
        text.to_owned()
    } else {
        format!("a value of {} bytes", text.len())
    }
}

/// A value that is not a reference: kept, or a template to expand.
fn classify_text(
    name: &OsStr,
    value: &[u8],
    expandable: bool,
    config: &Options,
) -> Result<Raw, Error> {
    if !(expandable && config.interpolate && value.contains(&b'$')) {
        return Ok(Raw::Keep(OsStr::from_bytes(value).to_owned()));
    }
    match template::parse(value) {
        // Nothing to expand (a bare `$NAME`, `${#x}`): kept byte for byte.
        // A `$$` makes it a template, since it changes the value.
        Ok(pieces) if template::is_plain(&pieces) && pieces_text(&pieces) == value => {
            Ok(Raw::Keep(OsStr::from_bytes(value).to_owned()))
        }
        Ok(pieces) => Ok(Raw::Template(pieces)),
        Err(bad) => Err(Error::variable(
            name.to_string_lossy(),
            Some(shown_reference(&bad.written)),
            format!("not a valid inline reference: {}", bad.error),
        )),
    }
}

fn pieces_text(pieces: &[Piece]) -> Vec<u8> {
    pieces
        .iter()
        .flat_map(|p| match p {
            Piece::Text(t) => t.as_slice(),
            _ => &[],
        })
        .copied()
        .collect()
}

/// Build the plan. `env_files` are the files given, in order, already parsed.
pub fn plan(
    env: &[(OsString, OsString)],
    env_files: &[(PathBuf, Vec<dotenv::Entry>)],
    config: &Options,
) -> Plan {
    let mut p = Plan {
        bundle_rank: env_files.len(),
        optional: config.optional.iter().cloned().collect(),
        ..Plan::default()
    };

    // Env files, lowest layers first.
    for (rank, (path, entries)) in env_files.iter().enumerate() {
        for entry in entries {
            let name = OsString::from(&entry.key);
            if is_secrun_var(&name) {
                p.errors.push(Error::EnvFile {
                    path: path.clone(),
                    line: Some(entry.line),
                    message: format!(
                        "{} configures secrun and is read only from the process environment",
                        printable_name(&entry.key)
                    ),
                });
                continue;
            }
            let source = Source::EnvFile {
                path: path.clone(),
                line: entry.line,
            };
            let raw = match &entry.value {
                // A key alone takes its value from the process environment,
                // which outranks every file anyway.
                dotenv::Value::Inherit => continue,
                dotenv::Value::Template(t) => classify(&name, t.as_bytes(), true, config),
                dotenv::Value::Literal(t) => classify(&name, t.as_bytes(), false, config),
            };
            match raw {
                Ok(raw) => push_def(
                    &mut p.vars,
                    name,
                    Def {
                        rank: (rank, entry.line),
                        source,
                        raw,
                    },
                ),
                Err(Error::Variable {
                    var,
                    reference,
                    message,
                }) => p.errors.push(Error::Variable {
                    var,
                    reference,
                    message: format!("{message} (at {}:{})", path.display(), entry.line),
                }),
                Err(e) => p.errors.push(e),
            }
        }
    }

    // The process environment, highest layer; SECRUN_* never passes.
    for (name, value) in env {
        if is_secrun_var(name) {
            continue;
        }
        match classify(name, value.as_bytes(), true, config) {
            Ok(raw) => push_def(
                &mut p.vars,
                name.clone(),
                Def {
                    rank: PROCESS_RANK,
                    source: Source::Process,
                    raw,
                },
            ),
            Err(e) => p.errors.push(e),
        }
    }

    if let Some(suffix) = &config.file_suffix {
        apply_file_suffix(&mut p, suffix, config);
    }

    for (i, written) in config.from.iter().enumerate() {
        let bundle_name = format!("--from #{} ({written})", i + 1);
        match reference::parse(written) {
            Some(Ok(r)) if r.json_key().is_some() => p.errors.push(Error::Bundle {
                bundle: written.clone(),
                key: None,
                message: "a bundle takes the whole secret; remove the JSON key field".into(),
            }),
            Some(Ok(r)) => p.bundles.push(r),
            Some(Err(e)) => p.errors.push(Error::Bundle {
                bundle: written.clone(),
                key: None,
                message: format!("not a valid reference: {e}"),
            }),
            None => p.errors.push(Error::Bundle {
                bundle: bundle_name,
                key: None,
                message: "not a reference: write secretsmanager:NAME, an ARN, or ssm:/NAME".into(),
            }),
        }
    }

    collect_fetches(&mut p);
    p
}

/// Add a definition in rank order. A key set twice in one file keeps both
/// lines, so that `A=${A}2` after `A=1` reads the earlier one, as compose does.
pub fn push_def(vars: &mut BTreeMap<OsString, Vec<Def>>, name: OsString, def: Def) {
    let defs = vars.entry(name).or_default();
    let at = defs
        .iter()
        .position(|d| d.rank > def.rank)
        .unwrap_or(defs.len());
    defs.insert(at, def);
}

/// `.` and `..` taken out of a path without looking at the file system
/// (`/run/secrets/../x` is `/run/x`); symbolic links are followed when the
/// file is read.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// `NAME<SUFFIX>=/path` -> NAME from the file; `NAME<SUFFIX>` itself is
/// removed. Only a path inside a secrets directory makes a file variable,
/// and only as the winning definition says it: any other `*_FILE` variable
/// (`LOG_FILE=/var/log/app.log`) is the application's own and passes
/// through untouched.
fn apply_file_suffix(p: &mut Plan, suffix: &str, config: &Options) {
    let file_vars: Vec<OsString> = p
        .vars
        .iter()
        .filter(|(n, _)| {
            n.as_bytes().len() > suffix.len() && n.as_bytes().ends_with(suffix.as_bytes())
        })
        .filter(|(n, defs)| {
            !is_foreign_file_var(n, &config.keep)
                && matches!(defs.last(), Some(Def { raw: Raw::Keep(v), .. }) if config.is_inside(Path::new(v)))
        })
        .map(|(n, _)| n.clone())
        .collect();
    for file_var in file_vars {
        let bytes = file_var.as_bytes();
        let target = OsStr::from_bytes(&bytes[..bytes.len() - suffix.len()]).to_owned();
        let Some(top) = p.vars.remove(&file_var).and_then(|mut defs| defs.pop()) else {
            continue;
        };
        let file_var_name = file_var.to_string_lossy().into_owned();
        if p.vars.contains_key(&target) {
            p.errors.push(Error::variable(
                target.to_string_lossy(),
                None,
                format!(
                    "both {} and {} are set; set only one",
                    printable_name(&target.to_string_lossy()),
                    printable_name(&file_var_name)
                ),
            ));
            continue;
        }
        let Raw::Keep(v) = &top.raw else { continue };
        let path = PathBuf::from(v);
        push_def(
            &mut p.vars,
            target,
            Def {
                rank: top.rank,
                source: Source::File {
                    var: file_var_name,
                    path: path.clone(),
                },
                raw: Raw::File(path),
            },
        );
    }
}

/// Which secrets, parameters and files the start-up needs. Every variable's
/// top definition is needed; a lower one only when the one above it names
/// the variable itself (`PORT=${PORT:-8000}`). References inside unused
/// defaults are fetched too (planning does not know values), but their
/// failures count only if the default is used.
fn collect_fetches(p: &mut Plan) {
    let mut fetches = BTreeSet::new();
    let mut files = BTreeSet::new();
    for r in &p.bundles {
        fetches.insert(r.without_key());
    }
    for (name, defs) in &p.vars {
        let name = name.to_str();
        let mut idx = defs.len();
        while idx > 0 {
            idx -= 1;
            let def = &defs[idx];
            let mut self_ref = false;
            match &def.raw {
                Raw::Ref(r, _) => {
                    fetches.insert(r.without_key());
                }
                Raw::Template(pieces) => {
                    let mut refs = Vec::new();
                    template::references(pieces, &mut refs);
                    fetches.extend(refs.into_iter().map(Reference::without_key));
                    let mut vars = Vec::new();
                    template::variables(pieces, &mut vars);
                    self_ref = name.is_some_and(|n| vars.iter().any(|v| v == n));
                }
                Raw::File(path) => {
                    files.insert(path.clone());
                }
                Raw::Keep(_) | Raw::Secret(_) => {}
            }
            if !self_ref {
                break;
            }
        }
    }
    p.fetches = fetches;
    p.files = files;
}

/// Distinct fetches grouped into API calls: by region, 20 secrets a
/// `BatchGetSecretValue`, 10 names a `GetParameters`, one
/// `GetSecretValue` per pinned stage or version.
///
/// `default_region` is where short references go; `None` leaves them
/// in a group of their own (which then fails: no region).
pub fn batches(refs: &BTreeSet<Reference>, default_region: Option<&str>) -> Vec<Batch> {
    let mut groups: BTreeMap<(Option<String>, u8), Vec<Reference>> = BTreeMap::new();
    for r in refs {
        let kind = match r {
            Reference::SecretsManager { .. } if r.is_pinned() => 1,
            Reference::SecretsManager { .. } => 0,
            Reference::Ssm { selector: None, .. } => 2,
            Reference::Ssm {
                selector: Some(_), ..
            } => 3,
        };
        let region = r.region().or(default_region).map(str::to_owned);
        groups.entry((region, kind)).or_default().push(r.clone());
    }
    let mut out = Vec::new();
    for ((region, kind), items) in groups {
        let (kind, size) = match kind {
            0 => (BatchKind::SecretsBatch, SECRETS_PER_BATCH),
            1 => (BatchKind::SecretSingle, 1),
            2 => (BatchKind::Parameters, PARAMETERS_PER_CALL),
            _ => (BatchKind::ParameterSingle, 1),
        };
        for chunk in items.chunks(size) {
            out.push(Batch {
                region: region.clone(),
                kind,
                items: chunk.to_vec(),
            });
        }
    }
    out
}

impl Plan {
    /// What a first round fetches: every bundle, and the references of the
    /// process environment, which no bundle can override. Without bundles,
    /// everything.
    pub fn first_round(&self) -> BTreeSet<Reference> {
        if self.bundles.is_empty() {
            return self.fetches.clone();
        }
        let mut out: BTreeSet<Reference> =
            self.bundles.iter().map(Reference::without_key).collect();
        for defs in self.vars.values() {
            match defs.last() {
                Some(Def {
                    rank,
                    raw: Raw::Ref(r, _),
                    ..
                }) if *rank == PROCESS_RANK => {
                    out.insert(r.without_key());
                }
                Some(Def {
                    rank,
                    raw: Raw::Template(pieces),
                    ..
                }) if *rank == PROCESS_RANK => {
                    let mut refs = Vec::new();
                    template::references(pieces, &mut refs);
                    out.extend(refs.into_iter().map(Reference::without_key));
                }
                _ => {}
            }
        }
        out
    }

    /// Once the bundles are fetched, their keys become definitions (or
    /// errors naming bundle and key), and what they override is no longer
    /// fetched: `fetches` and `files` are worked out again.
    pub fn add_bundles(&mut self, secrets: &HashMap<Reference, Fetched>) -> Vec<Error> {
        let mut errors = Vec::new();
        let bundles = self.bundles.clone();
        for (j, bundle) in bundles.iter().enumerate() {
            let name = bundle.to_string();
            let bad = |key: Option<&str>, message: String| Error::Bundle {
                bundle: name.clone(),
                key: key.map(str::to_owned),
                message,
            };
            let value = match secrets.get(&bundle.without_key()) {
                Some(Ok(v)) => v,
                Some(Err(e)) => {
                    errors.push(bad(None, e.describe()));
                    continue;
                }
                None => {
                    errors.push(bad(None, "was not fetched".into()));
                    continue;
                }
            };
            let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(value.as_bytes())
            else {
                errors.push(bad(None, "its value is not a JSON object of NAME -> value; store the variables as a JSON object".into()));
                continue;
            };
            for (position, (key, v)) in map.into_iter().enumerate() {
                if let Some(why) = refused_bundle_key(&key) {
                    // Key names can be credentials (`{"user": "password"}`): one
                    // that is not a valid name is named by its position only.
                    let shown = if is_valid_name(&key) {
                        key.clone()
                    } else {
                        format!("#{} ({} bytes)", position + 1, key.len())
                    };
                    errors.push(bad(Some(&shown), format!("refused: {why}")));
                    continue;
                }
                let Some(text) = json_text(&v) else {
                    errors.push(bad(
                        Some(&key),
                        "is null; give it a value or remove it".into(),
                    ));
                    continue;
                };
                let def = Def {
                    rank: (self.bundle_rank + j, 0),
                    source: Source::Bundle(bundle.clone()),
                    raw: Raw::Secret(SecretValue::new(text.into_bytes())),
                };
                push_def(&mut self.vars, OsString::from(&key), def);
            }
        }
        collect_fetches(self);
        errors
    }

    /// True when the application's environment is the process environment
    /// as it is (but for `SECRUN_*`): nothing to fetch, read or expand.
    pub fn changes_nothing(&self) -> bool {
        self.errors.is_empty()
            && self.bundles.is_empty()
            && self.fetches.is_empty()
            && self.files.is_empty()
            && self.vars.values().all(|defs| {
                matches!(
                    defs.as_slice(),
                    [Def {
                        source: Source::Process,
                        raw: Raw::Keep(_),
                        ..
                    }]
                )
            })
    }

    /// Whether any definition holds `${...}` to expand.
    pub fn has_templates(&self) -> bool {
        self.vars
            .values()
            .flatten()
            .any(|d| matches!(d.raw, Raw::Template(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    pub(crate) fn config() -> Options {
        Options::default()
    }

    fn env(v: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        v.iter().map(|(k, v)| (k.into(), v.into())).collect()
    }

    #[test]
    fn one_fetch_per_distinct_secret() {
        let p = plan(
            &env(&[
                ("A", "secretsmanager:app:A"),
                ("B", "secretsmanager:app:B"),
                ("C", "x${secretsmanager:app:C}y"),
                ("D", "ssm:/p"),
                ("E", "ssm:/p"),
            ]),
            &[],
            &config(),
        );
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.fetches.len(), 2);
    }

    #[test]
    fn batches_of_twenty_grouped_by_region_and_kind() {
        let mut vars = Vec::new();
        for i in 0..45 {
            vars.push((format!("S{i}"), format!("secretsmanager:s{i}")));
        }
        vars.push((
            "E".into(),
            "arn:aws:secretsmanager:eu-west-1:111122223333:secret:x".into(),
        ));
        vars.push(("P".into(), "secretsmanager:pinned::AWSPREVIOUS".into()));
        for i in 0..11 {
            vars.push((format!("M{i}"), format!("ssm:/m{i}")));
        }
        let env: Vec<(OsString, OsString)> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let p = plan(&env, &[], &config());
        // Short references in the default region share calls with ARNs there.
        let same = batches(&p.fetches, Some("eu-west-1"));
        assert_eq!(
            same.iter()
                .filter(|b| b.kind == BatchKind::SecretsBatch)
                .count(),
            3
        );
        let batches = batches(&p.fetches, None);
        let shape: Vec<(Option<&str>, BatchKind, usize)> = batches
            .iter()
            .map(|b| (b.region.as_deref(), b.kind, b.items.len()))
            .collect();
        assert_eq!(
            shape,
            [
                (None, BatchKind::SecretsBatch, 20),
                (None, BatchKind::SecretsBatch, 20),
                (None, BatchKind::SecretsBatch, 5),
                (None, BatchKind::SecretSingle, 1),
                (None, BatchKind::Parameters, 10),
                (None, BatchKind::Parameters, 1),
                (Some("eu-west-1"), BatchKind::SecretsBatch, 1),
            ]
        );
    }

    #[test]
    fn arn_names_and_keep_are_never_resolved() {
        let mut c = config();
        c.keep = vec!["RAW".into()];
        let p = plan(
            &env(&[
                (
                    "DB_SECRET_ARN",
                    "arn:aws:secretsmanager:us-east-1:111122223333:secret:db",
                ),
                ("RAW", "ssm:/x ${NOPE}"),
            ]),
            &[],
            &c,
        );
        assert!(p.errors.is_empty());
        assert!(p.fetches.is_empty());
    }

    #[test]
    fn malformed_reference_is_collected_with_the_variable() {
        let p = plan(
            &env(&[("A", "ssm:"), ("B", "secretsmanager:")]),
            &[],
            &config(),
        );
        assert_eq!(p.errors.len(), 2);
        assert!(p.errors[0].to_string().starts_with("A (ssm:)"));
    }

    #[test]
    fn shadowed_definitions_are_not_fetched_unless_named() {
        let files = vec![(
            PathBuf::from(".env"),
            dotenv::parse("DB=secretsmanager:dev/db\nPORT=ssm:/port\n", true).unwrap_or_default(),
        )];
        let p = plan(
            &env(&[("DB", "plain"), ("PORT", "${PORT:-80}")]),
            &files,
            &config(),
        );
        let ids: Vec<String> = p.fetches.iter().map(Reference::aws_id).collect();
        assert_eq!(ids, ["/port"]);
    }

    #[test]
    fn file_suffix_replaces_the_variable_and_skips_foreign_names() {
        let mut c = config();
        c.file_suffix = Some("_FILE".into());
        c.keep = vec!["KEEP_FILE".into()];
        let p = plan(
            &env(&[
                ("DB_PASSWORD_FILE", "/run/secrets/db"),
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
                ("SSL_CERT_FILE", "/c"),
                ("KEEP_FILE", "/k"),
                ("BOTH", "x"),
                ("BOTH_FILE", "/run/secrets/b"),
                ("LOG_FILE", "/var/log/app.log"),
                ("ESCAPE_FILE", "/run/secrets/../../etc/shadow"),
            ]),
            &[],
            &c,
        );
        assert!(p.vars.contains_key(OsStr::new("DB_PASSWORD")));
        assert!(!p.vars.contains_key(OsStr::new("DB_PASSWORD_FILE")));
        assert!(p
            .vars
            .contains_key(OsStr::new("AWS_WEB_IDENTITY_TOKEN_FILE")));
        assert!(p.vars.contains_key(OsStr::new("SSL_CERT_FILE")));
        assert!(p.vars.contains_key(OsStr::new("KEEP_FILE")));
        // Outside the secrets directories: the application's own variables.
        assert!(p.vars.contains_key(OsStr::new("LOG_FILE")));
        assert!(!p.vars.contains_key(OsStr::new("LOG")));
        assert!(p.vars.contains_key(OsStr::new("ESCAPE_FILE")));
        assert_eq!(p.files.len(), 1);
        assert_eq!(p.errors.len(), 1);
        assert!(p.errors[0].to_string().contains("both BOTH and BOTH_FILE"));
    }

    #[test]
    fn refused_bundle_keys() {
        for k in [
            "PATH",
            "HOME",
            "LD_PRELOAD",
            "LD_LIBRARY_PATH",
            "a.b",
            "1X",
            "",
            "SECRUN_FROM",
        ] {
            assert!(refused_bundle_key(k).is_some(), "{k}");
        }
        for k in ["SECRET_KEY", "_x", "GOOGLE_MAPS_API_TOKEN"] {
            assert!(refused_bundle_key(k).is_none(), "{k}");
        }
    }

    #[test]
    fn secrun_variables_in_env_files_are_refused() {
        let files = vec![(
            PathBuf::from("a.env"),
            dotenv::parse("SECRUN_TIMEOUT=1s\n", true).unwrap_or_default(),
        )];
        let p = plan(&[], &files, &config());
        assert!(p.errors[0].to_string().starts_with("a.env:1:"));
    }

    #[test]
    fn a_dollar_escape_makes_a_template_and_a_bare_dollar_is_kept() {
        let p = plan(
            &env(&[("PW", "a$$b"), ("RAW", "a$b ${#x}")]),
            &[],
            &config(),
        );
        assert!(matches!(p.vars[OsStr::new("PW")][0].raw, Raw::Template(_)));
        match &p.vars[OsStr::new("RAW")][0].raw {
            Raw::Keep(v) => assert_eq!(v, "a$b ${#x}"),
            other => panic!("{other:?}"),
        }
    }
}
