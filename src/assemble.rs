//! Plan + fetched values -> the application's environment, a per-variable
//! report, and every error at once.
//!
//! Pure: no I/O, no clock. Bundles become definitions here (their keys are
//! known only once fetched), JSON keys are picked, and `${...}` is expanded
//! with each variable's final value. Cycles are found and every variable of
//! a cycle is named. Nothing here formats a value: reports carry lengths.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::error::{printable_name, Error};
use crate::fetched::Resolved;
use crate::plan::{json_text, Def, Plan, Raw, Source};
use crate::reference::Reference;
use crate::secret::SecretValue;
use crate::template::{self, Missing, Scope};

/// One variable that secrun sets or changes, for `verify` and `-v`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub name: String,
    pub source: String,
    /// The value's length in bytes (`None`: left unset, optional), or why it failed.
    pub result: Result<Option<usize>, String>,
    /// Whether the value came from a secret, a bundle or a file.
    pub from_secret: bool,
}

/// No `Debug`: `env` holds the resolved values.
#[derive(Default)]
pub struct Outcome {
    pub env: Vec<(OsString, OsString)>,
    pub lines: Vec<Line>,
    pub errors: Vec<Error>,
    pub warnings: Vec<String>,
}

/// Why one definition could not be evaluated.
enum Fail {
    /// A variable it uses failed (that one reports its own error).
    Dep(String),
    /// It is part of a cycle.
    Cycle,
    /// A reference failed; `missing` when `--optional` may forgive it.
    Ref {
        reference: String,
        message: String,
        missing: bool,
    },
    Missing(Missing),
    /// A NUL byte; where the value came from (a reference, a bundle, a file).
    Nul(String),
    File(String),
    /// Variables refer to each other more than [`MAX_CHAIN`] deep; reported
    /// once, where the chain was cut.
    TooDeep,
    /// A variable further down the chain was cut (already reported).
    Cut,
}

/// How many variables a chain of `${...}` may pass through: far beyond any
/// real environment, and a bound on the stack the evaluation needs.
pub const MAX_CHAIN: usize = 4096;

/// What the kernel takes (see `execve(2)`, "Limits on size of arguments
/// and environment"): a variable of at most [`MAX_VAR_BYTES`], and all of
/// the arguments and the environment within `arg_max`.
pub struct Limits {
    /// `sysconf(_SC_ARG_MAX)`: a quarter of the stack limit.
    pub arg_max: usize,
    /// The command's arguments: bytes (each with its NUL) and how many.
    pub arg_bytes: usize,
    pub args: usize,
}

/// Linux's `MAX_ARG_STRLEN`: 32 pages, for `NAME=value` and its NUL.
pub const MAX_VAR_BYTES: usize = 32 * 4096;

impl From<Missing> for Fail {
    fn from(m: Missing) -> Self {
        Fail::Missing(m)
    }
}

/// How a definition is described: a reference as written, a bundle, an env
/// file and line, a file.
pub fn describe_source(def: &Def) -> String {
    let place = match &def.source {
        Source::Process => None,
        Source::EnvFile { path, line } => Some(format!("{}:{line}", path.display())),
        Source::Bundle(r) => return format!("bundle {r}"),
        Source::File { var, path } => return format!("file {} ({var})", path.display()),
    };
    let what = match &def.raw {
        Raw::Ref(_, written) => written.clone(),
        Raw::Template(pieces) => {
            let mut refs = Vec::new();
            template::references(pieces, &mut refs);
            if refs.is_empty() {
                "${...} expanded".to_owned()
            } else {
                let refs: Vec<String> = refs.iter().map(|r| r.to_string()).collect();
                format!("{} inside ${{...}}", refs.join(", "))
            }
        }
        Raw::Keep(_) | Raw::Secret(_) | Raw::File(_) => "value".to_owned(),
    };
    match place {
        Some(place) if what == "value" => format!("env file {place}"),
        Some(place) => format!("{what} (env file {place})"),
        None => what,
    }
}

/// Whether a definition's value comes from a secret, a bundle or a file.
pub fn is_secret(def: &Def) -> bool {
    match &def.raw {
        Raw::Ref(..) | Raw::Secret(_) | Raw::File(_) => true,
        Raw::Template(pieces) => {
            let mut refs = Vec::new();
            template::references(pieces, &mut refs);
            !refs.is_empty()
        }
        Raw::Keep(_) => false,
    }
}

/// True when the application's value differs from the process environment's.
pub fn is_changed(def: &Def) -> bool {
    !matches!((&def.source, &def.raw), (Source::Process, Raw::Keep(_)))
}

fn pick_key(value: &SecretValue, key: &str) -> Result<SecretValue, (String, bool)> {
    let parsed: serde_json::Value = serde_json::from_slice(value.as_bytes()).map_err(|_| {
        (
            format!("the secret is not JSON, so key {key:?} cannot be read from it; remove the key field, or store a JSON object"),
            false,
        )
    })?;
    let serde_json::Value::Object(map) = parsed else {
        return Err((
            format!("the secret is JSON but not an object, so it has no key {key:?}"),
            false,
        ));
    };
    match map.get(key) {
        // Only how many keys it has: in a `{"user": "password"}` secret the
        // key names are credentials too.
        None => Err((
            format!(
                "the secret has no key {key:?} (it has {} keys); fix the key or add it to the secret",
                map.len()
            ),
            true,
        )),
        Some(v) => json_text(v)
            .map(|t| SecretValue::new(t.into_bytes()))
            .ok_or_else(|| {
                (
                    format!("key {key:?} is null; give it a value in the secret"),
                    false,
                )
            }),
    }
}

enum Slot {
    Busy,
    Done(Result<Option<SecretValue>, ()>),
}

type Key = (OsString, usize);

struct Eval<'a> {
    vars: &'a BTreeMap<OsString, Vec<Def>>,
    resolved: &'a Resolved,
    optional: &'a HashSet<String>,
    memo: HashMap<Key, Slot>,
    stack: Vec<Key>,
    cycles: HashMap<Key, String>,
    /// A chain was cut at [`MAX_CHAIN`]: the variables above the cut fail
    /// without an error of their own.
    cut: bool,
    errors: Vec<Error>,
    warnings: Vec<String>,
}

impl Eval<'_> {
    fn eval(&mut self, name: &OsStr, idx: usize) -> Result<Option<SecretValue>, ()> {
        let key = (name.to_owned(), idx);
        match self.memo.get(&key) {
            Some(Slot::Done(r)) => return r.clone(),
            Some(Slot::Busy) => {
                let start = self.stack.iter().position(|k| *k == key).unwrap_or(0);
                let mut chain: Vec<String> = self.stack[start..]
                    .iter()
                    .map(|(n, _)| printable_name(&n.to_string_lossy()))
                    .collect();
                chain.push(printable_name(&name.to_string_lossy()));
                let text = chain.join(" -> ");
                for member in &self.stack[start..] {
                    self.cycles.insert(member.clone(), text.clone());
                }
                return Err(());
            }
            None => {}
        }
        self.memo.insert(key.clone(), Slot::Busy);
        self.stack.push(key.clone());
        let computed = self.compute(name, idx);
        self.stack.pop();
        let result = match computed {
            Ok(v) => Ok(v),
            Err(fail) => self.report(name, &key, fail),
        };
        self.memo.insert(key, Slot::Done(result.clone()));
        result
    }

    fn report(&mut self, name: &OsStr, key: &Key, fail: Fail) -> Result<Option<SecretValue>, ()> {
        let var = printable_name(&name.to_string_lossy());
        if let Some(chain) = self.cycles.get(key) {
            let message = format!("its value is part of a cycle ({chain}); break the cycle");
            self.errors.push(Error::variable(var, None, message));
            return Err(());
        }
        let error = match fail {
            Fail::Ref { reference, missing: true, .. } if self.optional.contains(&var) => {
                self.warnings.push(format!("{var}: {reference} not found; left unset (optional)"));
                return Ok(None);
            }
            Fail::TooDeep => {
                self.cut = true;
                Error::variable(
                    var,
                    None,
                    format!("its value refers to variables that refer to others more than {MAX_CHAIN} deep; shorten the chain of ${{...}}"),
                )
            }
            Fail::Dep(dep) => Error::variable(var, None, format!("uses ${{{dep}}}, which could not be resolved (see its error)")),
            Fail::Cycle => return Err(()),
            Fail::Ref { reference, message, .. } => Error::variable(var, Some(reference), message),
            Fail::Missing(Missing::Unset(n)) if n == var => Error::variable(
                var,
                None,
                format!("uses ${{{n}}} in its own value, but no env file or bundle below it sets {n}; give a default (${{{n}:-...}}), write $${{{n}}} for a literal, or turn expansion off with --no-interpolate"),
            ),
            Fail::Missing(Missing::Unset(n)) => Error::variable(
                var,
                None,
                format!("${{{n}}} is not set and has no default; set {n}, give a default (${{{n}:-...}}), write $${{{n}}} for a literal ${{{n}}}, or turn expansion off with --no-interpolate"),
            ),
            Fail::Missing(Missing::Required { name, message }) => {
                Error::variable(var, None, format!("${{{name}}} is required: {message}"))
            }
            Fail::Nul(from) => Error::variable(
                var,
                Some(from),
                "the value contains a NUL byte, which an environment variable cannot hold; store it without NUL bytes (base64-encode binary data, and decode it in the application)",
            ),
            Fail::File(message) => Error::variable(var, None, message),
            Fail::Cut => return Err(()),
        };
        self.errors.push(error);
        Err(())
    }

    fn compute(&mut self, name: &OsStr, idx: usize) -> Result<Option<SecretValue>, Fail> {
        let vars = self.vars;
        let def = &vars[name][idx];
        let value = match &def.raw {
            Raw::Keep(v) => SecretValue::new(v.as_bytes().to_vec()),
            Raw::Secret(v) => v.clone(),
            Raw::Ref(r, written) => self.reference(r, written)?,
            Raw::File(path) => match self.resolved.files.get(path) {
                Some(Ok(v)) => v.clone(),
                Some(Err(message)) => return Err(Fail::File(message.clone())),
                None => return Err(Fail::File(format!("{} was not read", path.display()))),
            },
            Raw::Template(pieces) => {
                let mut scope = VarScope {
                    eval: self,
                    name,
                    idx,
                };
                SecretValue::new(template::expand(pieces, &mut scope)?)
            }
        };
        if value.contains_nul() {
            return Err(Fail::Nul(describe_source(def)));
        }
        Ok(Some(value))
    }

    fn reference(&mut self, r: &Reference, written: &str) -> Result<SecretValue, Fail> {
        let fail = |message: String, missing: bool| Fail::Ref {
            reference: written.to_owned(),
            message,
            missing,
        };
        let value = match self.resolved.secrets.get(&r.without_key()) {
            Some(Ok(v)) => v,
            Some(Err(e)) => return Err(fail(e.describe(), e.is_missing())),
            None => return Err(fail("was not fetched".into(), false)),
        };
        match r.json_key() {
            None => Ok(value.clone()),
            Some(key) => pick_key(value, key).map_err(|(m, missing)| fail(m, missing)),
        }
    }
}

struct VarScope<'e, 'a> {
    eval: &'e mut Eval<'a>,
    name: &'e OsStr,
    idx: usize,
}

impl Scope for VarScope<'_, '_> {
    type Error = Fail;

    fn var(&mut self, name: &str) -> Result<Option<Vec<u8>>, Fail> {
        let target = OsStr::new(name);
        // Inside NAME's own value, ${NAME} is the definition below this one.
        let idx = if target == self.name {
            match self.idx.checked_sub(1) {
                Some(i) => i,
                None => return Ok(None),
            }
        } else {
            match self.eval.vars.get(target) {
                Some(defs) => defs.len() - 1,
                None => return Ok(None),
            }
        };
        if self.eval.stack.len() >= MAX_CHAIN {
            return Err(Fail::TooDeep);
        }
        match self.eval.eval(target, idx) {
            Ok(v) => Ok(v.map(|v| v.as_bytes().to_vec())),
            Err(()) if self.eval.cut => Err(Fail::Cut),
            Err(())
                if self
                    .eval
                    .cycles
                    .contains_key(&(self.name.to_owned(), self.idx)) =>
            {
                Err(Fail::Cycle)
            }
            Err(()) => Err(Fail::Dep(name.to_owned())),
        }
    }

    fn reference(&mut self, r: &Reference) -> Result<Vec<u8>, Fail> {
        let written = r.to_string();
        self.eval
            .reference(r, &written)
            .map(|v| v.as_bytes().to_vec())
    }
}

/// The application's environment from a plan whose bundles are already
/// added ([`Plan::add_bundles`]) and what was fetched for it.
pub fn assemble(plan: &Plan, resolved: &Resolved, limits: &Limits) -> Outcome {
    let vars = &plan.vars;
    let mut eval = Eval {
        vars,
        resolved,
        optional: &plan.optional,
        memo: HashMap::new(),
        stack: Vec::new(),
        cycles: HashMap::new(),
        cut: false,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let mut env = Vec::new();
    let mut results = Vec::new();
    for (name, defs) in vars {
        let top = defs.len() - 1;
        eval.cut = false;
        let mut result = eval.eval(name, top);
        if let Ok(Some(v)) = &result {
            let bytes = name.len() + 1 + v.len() + 1;
            if bytes > MAX_VAR_BYTES {
                eval.errors.push(Error::variable(
                    name.to_string_lossy(),
                    Some(describe_source(&defs[top])),
                    format!("NAME=value is {bytes} bytes; Linux takes at most {MAX_VAR_BYTES} (128 KiB) a variable; pass a large value as a file (--file-suffix _FILE) or split it"),
                ));
                result = Err(());
            } else {
                env.push((name.clone(), OsString::from_vec(v.as_bytes().to_vec())));
            }
        }
        if is_changed(&defs[top]) {
            results.push((
                name,
                describe_source(&defs[top]),
                result.map(|v| v.map(|v| v.len())),
                is_secret(&defs[top]),
            ));
        }
    }
    let mut lines = Vec::new();
    for (name, source, result, from_secret) in results {
        let name = printable_name(&name.to_string_lossy());
        let result = match result {
            Ok(len) => Ok(len),
            Err(()) => Err(eval
                .errors
                .iter()
                .filter(|e| matches!(e, Error::Variable { var, .. } if *var == name))
                .map(|e| e.subject().1)
                .next()
                .unwrap_or_else(|| "could not be resolved".into())),
        };
        lines.push(Line {
            name,
            source,
            result,
            from_secret,
        });
    }
    let mut errors = eval.errors;
    errors.extend(too_big(&env, limits));
    Outcome {
        env,
        lines,
        errors,
        warnings: eval.warnings,
    }
}

/// The whole environment and the arguments beyond what `execve` takes:
/// an error naming the largest variables (names and sizes only).
fn too_big(env: &[(OsString, OsString)], limits: &Limits) -> Option<Error> {
    (exec_bytes(env, limits) > limits.arg_max).then(|| size_error(env, limits))
}

/// The environment and arguments' size as `execve` counts it: strings with
/// their NULs, and a pointer each.
fn exec_bytes(env: &[(OsString, OsString)], limits: &Limits) -> usize {
    let pointer = std::mem::size_of::<usize>();
    let strings: usize = env.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    strings + limits.arg_bytes + pointer * (env.len() + limits.args + 2)
}

/// The environment's size against the limit, with the largest variables
/// by name (names and sizes only).
pub fn size_error(env: &[(OsString, OsString)], limits: &Limits) -> Error {
    let mut largest: Vec<(String, usize)> = env
        .iter()
        .map(|(k, v)| (printable_name(&k.to_string_lossy()), k.len() + v.len() + 2))
        .collect();
    largest.sort_by_key(|s| std::cmp::Reverse(s.1));
    largest.truncate(5);
    Error::TooBig {
        total: exec_bytes(env, limits),
        limit: limits.arg_max,
        largest,
    }
}
