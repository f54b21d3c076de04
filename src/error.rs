//! The one error type, its exit code, and its messages.
//!
//! Every message names the variable, the file and line, or the reference, and
//! says what would fix it. None carries a value: variants hold names,
//! references (which are not secret) and our own descriptions of causes,
//! never text that came from a secret or from a response body.

use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// The command line or a `SECRUN_*` variable.
    Usage(String),
    /// An env file that cannot be read or parsed.
    EnvFile {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    /// The local secrets file is unreadable or not the expected shape.
    SecretsFile { path: PathBuf, message: String },
    /// One variable could not get its value: a malformed reference, a fetch
    /// that failed, a missing JSON key, an interpolation error, a `_FILE`.
    Variable {
        var: String,
        reference: Option<String>,
        message: String,
    },
    /// A `--from` bundle that failed, or one of its keys that is refused.
    Bundle {
        bundle: String,
        key: Option<String>,
        message: String,
    },
    /// The command could not be started.
    Spawn { command: String, source: io::Error },
    /// The environment (with the arguments) is larger than the kernel
    /// takes: `total` bytes against `limit`.
    TooBig {
        total: usize,
        limit: usize,
        largest: Vec<(String, usize)>,
    },
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Spawn { source, .. } => match source.kind() {
                io::ErrorKind::NotFound => 127,
                _ => 126,
            },
            _ => 125,
        }
    }

    /// What the error is about (a variable, a bundle key, a file) and what
    /// it says, for per-variable reports.
    pub fn subject(&self) -> (String, String) {
        match self {
            Error::Variable {
                var,
                reference: Some(r),
                message,
            } => (var.clone(), format!("{r}: {message}")),
            Error::Variable {
                var,
                reference: None,
                message,
            } => (var.clone(), message.clone()),
            Error::Bundle {
                bundle,
                key: Some(k),
                message,
            } => (k.clone(), format!("bundle {bundle}: {message}")),
            Error::Bundle {
                bundle,
                key: None,
                message,
            } => (format!("(bundle {bundle})"), message.clone()),
            Error::EnvFile { .. } => ("(env file)".into(), self.to_string()),
            Error::SecretsFile { .. } => ("(secrets file)".into(), self.to_string()),
            Error::TooBig { .. } => ("(environment)".into(), self.to_string()),
            other => ("(secrun)".into(), other.to_string()),
        }
    }

    /// An error about one variable; a name that is not a valid variable
    /// name is printed redacted ([`printable_name`]).
    pub fn variable(
        var: impl AsRef<str>,
        reference: Option<String>,
        message: impl Into<String>,
    ) -> Error {
        Error::Variable {
            var: printable_name(var.as_ref()),
            reference,
            message: message.into(),
        }
    }
}

/// Whether `name` is a valid variable name, `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_valid_name(name: &str) -> bool {
    name.bytes().next().is_some_and(is_name_start) && name.bytes().all(is_name_byte)
}

/// A byte that may start a variable name.
pub fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

/// A byte that may follow in a variable name.
pub fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// How a variable name is printed: as it is when it is a valid name;
/// otherwise by its length only. An env-file line of a mis-quoted value
/// (compose reads it the same way) or a bundle key can look like a name,
/// and must not be echoed (`a.b` and `my-var` are redacted too: where such
/// a name comes from a file, the report gives the file and line).
pub fn printable_name(name: &str) -> String {
    if is_valid_name(name) {
        name.to_owned()
    } else {
        format!(
            "<a name of {} bytes that is not a valid variable name>",
            name.len()
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) => f.write_str(m),
            Error::EnvFile {
                path,
                line: Some(line),
                message,
            } => {
                write!(f, "{}:{line}: {message}", path.display())
            }
            Error::EnvFile {
                path,
                line: None,
                message,
            } => write!(f, "{}: {message}", path.display()),
            Error::SecretsFile { path, message } => {
                write!(f, "secrets file {}: {message}", path.display())
            }
            Error::Variable {
                var,
                reference: Some(r),
                message,
            } => write!(f, "{var} ({r}): {message}"),
            Error::Variable {
                var,
                reference: None,
                message,
            } => write!(f, "{var}: {message}"),
            Error::Bundle {
                bundle,
                key: Some(k),
                message,
            } => write!(f, "bundle {bundle}, key {k}: {message}"),
            Error::Bundle {
                bundle,
                key: None,
                message,
            } => write!(f, "bundle {bundle}: {message}"),
            Error::Spawn { command, source } => match source.kind() {
                io::ErrorKind::NotFound => write!(f, "{command}: command not found"),
                io::ErrorKind::PermissionDenied => {
                    write!(f, "{command}: permission denied (is it executable?)")
                }
                _ => write!(f, "{command}: cannot run: {source}"),
            },
            Error::TooBig {
                total,
                limit,
                largest,
            } => {
                let names: Vec<String> = largest
                    .iter()
                    .map(|(n, len)| format!("{n} ({len} bytes)"))
                    .collect();
                write!(
                    f,
                    "the environment and arguments are {total} bytes; the kernel takes at most {limit} (a quarter of the stack limit, `ulimit -s`); largest: {}; pass large values as files (--file-suffix _FILE)",
                    names.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for Error {}
