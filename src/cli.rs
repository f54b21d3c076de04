//! The command line and the `SECRUN_*` variables -> [`Config`].
//!
//! Every run-path option can be set by a flag or by its `SECRUN_*` variable,
//! since a Dockerfile ENTRYPOINT is fixed and a task definition sets variables
//! easily. A flag wins over its variable; a repeatable flag replaces its
//! variable's list. An unknown `SECRUN_*` variable is an error, so a typo such
//! as `SECRUN_SECRET_FILE` cannot silently send a laptop run to AWS.
//!
//! No I/O here: the environment comes in as a slice, errors go out as values.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::Error;
use crate::log::{LogFormat, LogLevel};

#[derive(Parser, Debug)]
#[command(
    name = "secrun",
    version,
    override_usage = "secrun [OPTIONS] [--] COMMAND [ARGS...]\n       secrun explain [OPTIONS] [--format text|json]\n       secrun verify  [OPTIONS] [--format text|json]\n       secrun check   [--format text|json|sarif] [--allow NAME]... FILE|-...\n       secrun policy  [--kms-key ARN]... [--region REGION] [FILE|-...]",
    about = "Resolve secret references in the environment, then run COMMAND",
    long_about = "Resolve environment variables whose values are references to secrets \
(Secrets Manager ARNs in the ECS valueFrom format, SSM parameters, ${...} \
interpolation) into their values, then run COMMAND with that environment. \
As PID 1 it also forwards signals, reaps zombies and passes the exit code through.",
    after_help = "Every option can also be set with its SECRUN_* variable; see the README."
)]
struct Cli {
    #[command(flatten)]
    run: RunArgs,
    #[command(subcommand)]
    sub: Option<Sub>,
    /// The command to run, with its arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    command: Vec<OsString>,
}

#[derive(Subcommand, Debug)]
enum Sub {
    /// Show what would be resolved from where; fetches nothing.
    Explain(ReportArgs),
    /// Resolve everything, report per variable, run nothing.
    Verify(ReportArgs),
    /// Find plaintext secrets in deployment files (exit 0 clean, 1 findings, 2 unreadable input).
    Check(CheckArgs),
    /// Print the least-privilege IAM policy for the references in files, or in the environment.
    Policy(PolicyArgs),
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    format: CheckFormat,
    /// A variable whose findings are silenced (repeatable).
    #[arg(long, value_name = "NAME")]
    allow: Vec<String>,
    /// Task definitions, container definitions, `terraform show -json` output,
    /// compose files or env files; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct PolicyArgs {
    /// A KMS key that encrypts the secrets or parameters (repeatable).
    #[arg(long, value_name = "ARN")]
    kms_key: Vec<String>,
    /// Region of short references [default: AWS_REGION, AWS_DEFAULT_REGION, or *]
    #[arg(long)]
    region: Option<String>,
    /// Files to read as `check` does; none: the environment and --env-file.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Args, Debug)]
struct ReportArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args, Debug, Default)]
struct RunArgs {
    /// Dotenv file to load (repeatable; later files win) [env: SECRUN_ENV_FILE]
    #[arg(global = true, long, value_name = "PATH")]
    env_file: Vec<PathBuf>,
    /// JSON secret whose every top-level key becomes a variable (repeatable) [env: SECRUN_FROM]
    #[arg(global = true, long, value_name = "REF")]
    from: Vec<String>,
    /// Resolve references from this local JSON file instead of AWS [env: SECRUN_SECRETS_FILE]
    #[arg(global = true, long, value_name = "PATH")]
    secrets_file: Option<PathBuf>,
    /// NAME<SUFFIX>=/path sets NAME to the file's content, e.g. _FILE [env: SECRUN_FILE_SUFFIX]
    #[arg(global = true, long, value_name = "SUFFIX")]
    file_suffix: Option<String>,
    /// Variable passed through untouched (repeatable) [env: SECRUN_KEEP]
    #[arg(global = true, long, value_name = "NAME", value_delimiter = ',')]
    keep: Vec<String>,
    /// A missing secret, parameter or key leaves NAME unset (repeatable) [env: SECRUN_OPTIONAL]
    #[arg(global = true, long, value_name = "NAME", value_delimiter = ',')]
    optional: Vec<String>,
    /// Deadline for all resolution, e.g. 500ms, 30s, 2m [env: SECRUN_TIMEOUT] [default: 30s]
    #[arg(global = true, long, value_name = "DUR")]
    timeout: Option<String>,
    /// Supervise as an init: auto (when PID 1), always, never [env: SECRUN_INIT]
    #[arg(global = true, long, value_name = "MODE")]
    init: Option<String>,
    /// Forward signals to the child's process group or the child alone [env: SECRUN_SIGNAL_TARGET]
    #[arg(global = true, long, value_name = "group|child")]
    signal_target: Option<String>,
    /// Rewrite a forwarded signal, e.g. TERM:QUIT (repeatable) [env: SECRUN_SIGNAL_MAP]
    #[arg(global = true, long, value_name = "FROM:TO", value_delimiter = ',')]
    signal_map: Vec<String>,
    /// After the main child exits, TERM the rest, wait DUR, then KILL [env: SECRUN_GRACE]
    #[arg(global = true, long, value_name = "DUR")]
    grace: Option<String>,
    /// Turn ${...} expansion off [env: SECRUN_INTERPOLATE=false]
    #[arg(global = true, long)]
    no_interpolate: bool,
    /// Log format on stderr: text or json [env: SECRUN_LOG_FORMAT]
    #[arg(global = true, long, value_name = "FORMAT")]
    log_format: Option<String>,
    /// Say only warnings and errors [env: SECRUN_LOG_LEVEL=quiet]
    #[arg(global = true, short, long, conflicts_with = "verbose")]
    quiet: bool,
    /// Say where every variable came from (never its value) [env: SECRUN_LOG_LEVEL=debug]
    #[arg(global = true, short, long)]
    verbose: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitMode {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalTarget {
    Group,
    Child,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Run(Vec<OsString>),
    Explain(Format),
    Verify(Format),
    Check {
        format: CheckFormat,
        allow: Vec<String>,
        files: Vec<PathBuf>,
    },
    Policy {
        kms_keys: Vec<String>,
        region: Option<String>,
        files: Vec<PathBuf>,
    },
}

/// Everything the run path needs, flags and variables merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub action: Action,
    pub env_files: Vec<PathBuf>,
    pub from: Vec<String>,
    pub secrets_file: Option<PathBuf>,
    pub file_suffix: Option<String>,
    pub keep: Vec<String>,
    pub optional: Vec<String>,
    pub timeout: Duration,
    pub init: InitMode,
    pub signal_target: SignalTarget,
    pub signal_map: Vec<(i32, i32)>,
    pub grace: Duration,
    pub interpolate: bool,
    pub log_format: LogFormat,
    pub log_level: LogLevel,
}

/// What the command line asked for: a configuration, or help/version text
/// that clap prints itself (exit 0), or a usage error (exit 125).
pub enum Parsed {
    Config(Box<Config>),
    Clap(clap::Error),
}

const KNOWN: [&str; 15] = [
    "SECRUN_ENV_FILE",
    "SECRUN_FROM",
    "SECRUN_SECRETS_FILE",
    "SECRUN_FILE_SUFFIX",
    "SECRUN_KEEP",
    "SECRUN_OPTIONAL",
    "SECRUN_TIMEOUT",
    "SECRUN_INIT",
    "SECRUN_SIGNAL_TARGET",
    "SECRUN_SIGNAL_MAP",
    "SECRUN_GRACE",
    "SECRUN_INTERPOLATE",
    "SECRUN_LOG_FORMAT",
    "SECRUN_LOG_LEVEL",
    // Set by secrun's supervisor on the copy of secrun it starts.
    "SECRUN_SUPERVISED",
];

/// `SECRUN_*` variables configure secrun and never reach the application.
pub fn is_secrun_var(name: &OsStr) -> bool {
    name.as_encoded_bytes().starts_with(b"SECRUN_")
}

/// The log settings alone, read leniently, so that even a configuration
/// error is reported in the format the user asked for.
pub fn log_settings(args: &[OsString], env: &[(OsString, OsString)]) -> (LogFormat, LogLevel) {
    let var = |n: &str| lookup(env, n).and_then(|v| v.to_str().map(str::to_owned));
    let mut format = var("SECRUN_LOG_FORMAT")
        .and_then(|v| parse_log_format(&v).ok())
        .unwrap_or(LogFormat::Text);
    let mut level = var("SECRUN_LOG_LEVEL")
        .and_then(|v| parse_log_level(&v).ok())
        .unwrap_or(LogLevel::Info);
    // Only options before the command count; stop at `--` or the first word.
    let mut it = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(a) = it.next() {
        match a {
            "--" => break,
            "-q" | "--quiet" => level = LogLevel::Quiet,
            "-v" | "--verbose" => level = LogLevel::Debug,
            "--log-format" => {
                if let Some(f) = it.next().and_then(|v| parse_log_format(v).ok()) {
                    format = f;
                }
            }
            _ if a.starts_with("--log-format=") => {
                if let Ok(f) = parse_log_format(&a["--log-format=".len()..]) {
                    format = f;
                }
            }
            "--env-file" | "--from" | "--secrets-file" | "--file-suffix" | "--keep"
            | "--optional" | "--timeout" | "--init" | "--signal-target" | "--signal-map"
            | "--grace" | "--format" => {
                it.next();
            }
            _ if !a.starts_with('-') && !matches!(a, "explain" | "verify") => break,
            _ => {}
        }
    }
    (format, level)
}

fn lookup<'a>(env: &'a [(OsString, OsString)], name: &str) -> Option<&'a OsStr> {
    env.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_os_str())
}

pub fn parse(args: &[OsString], env: &[(OsString, OsString)]) -> Result<Parsed, Error> {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return Ok(Parsed::Clap(e)),
    };
    for (name, _) in env {
        if is_secrun_var(name) && !KNOWN.iter().any(|k| name == *k) {
            return Err(Error::Usage(format!(
                "unknown variable {}: secrun reads only {}",
                name.to_string_lossy(),
                KNOWN.join(", ")
            )));
        }
    }
    let var = |n: &str| -> Result<Option<String>, Error> {
        match lookup(env, n) {
            None => Ok(None),
            Some(v) => v
                .to_str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| Error::Usage(format!("{n} is not valid UTF-8"))),
        }
    };
    let list = |n: &str| -> Result<Vec<String>, Error> {
        Ok(var(n)?
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    };
    let (action, run) = match cli.sub {
        Some(Sub::Explain(r)) => (Action::Explain(r.format), cli.run),
        Some(Sub::Verify(r)) => (Action::Verify(r.format), cli.run),
        Some(Sub::Check(c)) => (
            Action::Check {
                format: c.format,
                allow: c.allow,
                files: c.files,
            },
            cli.run,
        ),
        Some(Sub::Policy(p)) => (
            Action::Policy {
                kms_keys: p.kms_key,
                region: p.region,
                files: p.files,
            },
            cli.run,
        ),
        None if cli.command.is_empty() => {
            return Err(Error::Usage(format!(
                "no command given (see secrun --help)\n{}",
                <Cli as clap::CommandFactory>::command().render_usage()
            )))
        }
        None => {
            // `allow_hyphen_values` lets `-- -weird-name` through; without
            // the `--`, a leading dash is a mistyped option, not a command.
            let first = &cli.command[0];
            let dashed = first.as_encoded_bytes().starts_with(b"-");
            let position = args.iter().position(|a| a == first);
            let after_double_dash = position.is_some_and(|p| args[..p].iter().any(|a| a == "--"));
            if dashed && !after_double_dash {
                return Err(Error::Usage(format!(
                    "unknown option {} (see secrun --help; put -- before a command that starts with -)",
                    first.to_string_lossy()
                )));
            }
            (Action::Run(cli.command), cli.run)
        }
    };
    let pick = |flag: Vec<String>, name: &str| -> Result<Vec<String>, Error> {
        if flag.is_empty() {
            list(name)
        } else {
            Ok(flag)
        }
    };
    let env_files = if run.env_file.is_empty() {
        list("SECRUN_ENV_FILE")?
            .into_iter()
            .map(PathBuf::from)
            .collect()
    } else {
        run.env_file
    };
    let from = pick(run.from, "SECRUN_FROM")?;
    let keep = pick(run.keep, "SECRUN_KEEP")?;
    let optional = pick(run.optional, "SECRUN_OPTIONAL")?;
    let signal_map = pick(run.signal_map, "SECRUN_SIGNAL_MAP")?
        .iter()
        .map(|m| parse_signal_map(m))
        .collect::<Result<Vec<_>, _>>()?;
    let secrets_file = match run.secrets_file {
        Some(p) => Some(p),
        None => var("SECRUN_SECRETS_FILE")?.map(PathBuf::from),
    };
    let file_suffix = run.file_suffix.or(var("SECRUN_FILE_SUFFIX")?);
    if file_suffix.as_deref() == Some("") {
        return Err(Error::Usage("the file suffix is empty".into()));
    }
    let timeout = match run.timeout.or(var("SECRUN_TIMEOUT")?) {
        Some(t) => parse_duration(&t).map_err(|e| Error::Usage(format!("timeout: {e}")))?,
        None => Duration::from_secs(30),
    };
    let grace = match run.grace.or(var("SECRUN_GRACE")?) {
        Some(t) => parse_duration(&t).map_err(|e| Error::Usage(format!("grace: {e}")))?,
        None => Duration::ZERO,
    };
    let init = match run.init.or(var("SECRUN_INIT")?).as_deref() {
        None | Some("auto") => InitMode::Auto,
        Some("always") => InitMode::Always,
        Some("never") => InitMode::Never,
        Some(other) => {
            return Err(Error::Usage(format!(
                "init mode {other:?}: expected auto, always or never"
            )))
        }
    };
    let signal_target = match run
        .signal_target
        .or(var("SECRUN_SIGNAL_TARGET")?)
        .as_deref()
    {
        None | Some("group") => SignalTarget::Group,
        Some("child") => SignalTarget::Child,
        Some(other) => {
            return Err(Error::Usage(format!(
                "signal target {other:?}: expected group or child"
            )))
        }
    };
    let interpolate = if run.no_interpolate {
        false
    } else {
        match var("SECRUN_INTERPOLATE")?.as_deref() {
            None | Some("true" | "1" | "yes" | "on") => true,
            Some("false" | "0" | "no" | "off") => false,
            Some(other) => {
                return Err(Error::Usage(format!(
                    "SECRUN_INTERPOLATE={other:?}: expected true or false"
                )))
            }
        }
    };
    let log_format = match run.log_format.or(var("SECRUN_LOG_FORMAT")?) {
        Some(f) => parse_log_format(&f)?,
        None => LogFormat::Text,
    };
    let log_level = if run.quiet {
        LogLevel::Quiet
    } else if run.verbose {
        LogLevel::Debug
    } else {
        match var("SECRUN_LOG_LEVEL")? {
            Some(l) => parse_log_level(&l)?,
            None => LogLevel::Info,
        }
    };
    Ok(Parsed::Config(Box::new(Config {
        action,
        env_files,
        from,
        secrets_file,
        file_suffix,
        keep,
        optional,
        timeout,
        init,
        signal_target,
        signal_map,
        grace,
        interpolate,
        log_format,
        log_level,
    })))
}

fn parse_log_format(s: &str) -> Result<LogFormat, Error> {
    match s {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(Error::Usage(format!(
            "log format {other:?}: expected text or json"
        ))),
    }
}

fn parse_log_level(s: &str) -> Result<LogLevel, Error> {
    match s {
        "quiet" => Ok(LogLevel::Quiet),
        "info" => Ok(LogLevel::Info),
        "debug" => Ok(LogLevel::Debug),
        other => Err(Error::Usage(format!(
            "SECRUN_LOG_LEVEL={other:?}: expected quiet, info or debug"
        ))),
    }
}

/// `500ms`, `30s`, `2m`, `1h`; `0` alone is zero.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (write 500ms, 30s or 2m)"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        "h" => Ok(Duration::from_secs(n.saturating_mul(3600))),
        _ => Err(format!("{s:?} is not a duration (write 500ms, 30s or 2m)")),
    }
}

/// Signal names as `kill -l` prints them, with or without `SIG`, or numbers.
pub fn parse_signal(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let name = s.trim_start_matches("SIG");
    SIGNALS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

pub const SIGNALS: [(&str, i32); 30] = [
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("PWR", libc::SIGPWR),
];

fn parse_signal_map(m: &str) -> Result<(i32, i32), Error> {
    let bad = || Error::Usage(format!("signal map {m:?}: write FROM:TO, e.g. TERM:QUIT"));
    let (from, to) = m.split_once(':').ok_or_else(bad)?;
    Ok((
        parse_signal(from.trim()).ok_or_else(bad)?,
        parse_signal(to.trim()).ok_or_else(bad)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn env(v: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        v.iter().map(|(k, v)| (k.into(), v.into())).collect()
    }

    fn config(args: &[&str], vars: &[(&str, &str)]) -> Result<Config, String> {
        match parse(&os(args), &env(vars)) {
            Ok(Parsed::Config(c)) => Ok(*c),
            Ok(Parsed::Clap(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn command_after_options_and_double_dash() {
        let c = config(&["secrun", "--", "gunicorn", "app:app", "-w", "2"], &[]);
        assert_eq!(
            c.map(|c| c.action),
            Ok(Action::Run(os(&["gunicorn", "app:app", "-w", "2"])))
        );
        let c = config(&["secrun", "-q", "env", "-i"], &[]);
        assert_eq!(c.map(|c| c.action), Ok(Action::Run(os(&["env", "-i"]))));
        let c = config(&["secrun", "--", "explain"], &[]);
        assert_eq!(c.map(|c| c.action), Ok(Action::Run(os(&["explain"]))));
    }

    #[test]
    fn subcommands() {
        let c = config(
            &["secrun", "verify", "--format", "json", "--from", "ssm:/x"],
            &[],
        );
        assert_eq!(
            c.as_ref().map(|c| c.action.clone()),
            Ok(Action::Verify(Format::Json))
        );
        assert_eq!(c.map(|c| c.from), Ok(vec!["ssm:/x".to_owned()]));
        let c = config(&["secrun", "explain"], &[]);
        assert_eq!(c.map(|c| c.action), Ok(Action::Explain(Format::Text)));
        // Options may come before the subcommand too.
        let c = config(&["secrun", "--secrets-file", "x.json", "verify"], &[]);
        assert_eq!(
            c.as_ref().map(|c| c.action.clone()),
            Ok(Action::Verify(Format::Text))
        );
        assert_eq!(c.map(|c| c.secrets_file), Ok(Some(PathBuf::from("x.json"))));
    }

    #[test]
    fn unknown_option_is_not_a_command() {
        assert!(config(&["secrun", "--bogus", "x"], &[])
            .is_err_and(|e| e.contains("unknown option --bogus")));
        let c = config(&["secrun", "--", "-x"], &[]);
        assert_eq!(c.map(|c| c.action), Ok(Action::Run(os(&["-x"]))));
    }

    #[test]
    fn no_command_is_a_usage_error() {
        assert!(config(&["secrun"], &[]).is_err_and(|e| e.contains("no command")));
    }

    #[test]
    fn variables_and_flags_merge() {
        let vars = [
            ("SECRUN_KEEP", "A, B"),
            ("SECRUN_TIMEOUT", "500ms"),
            ("SECRUN_ENV_FILE", "a.env,b.env"),
            ("SECRUN_INTERPOLATE", "false"),
            ("SECRUN_LOG_LEVEL", "debug"),
        ];
        let c = config(&["secrun", "true"], &vars).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.keep, ["A", "B"]);
        assert_eq!(c.timeout, Duration::from_millis(500));
        assert_eq!(
            c.env_files,
            [PathBuf::from("a.env"), PathBuf::from("b.env")]
        );
        assert!(!c.interpolate);
        assert_eq!(c.log_level, LogLevel::Debug);
        // A repeatable flag replaces the variable's list; a flag wins.
        let c = config(
            &["secrun", "--keep", "C", "--timeout", "2m", "-q", "true"],
            &vars,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.keep, ["C"]);
        assert_eq!(c.timeout, Duration::from_secs(120));
        assert_eq!(c.log_level, LogLevel::Quiet);
    }

    #[test]
    fn unknown_secrun_variable_is_named() {
        let e = config(&["secrun", "true"], &[("SECRUN_SECRET_FILE", "x.json")]);
        assert!(e.is_err_and(|e| e.contains("SECRUN_SECRET_FILE")));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("30").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("1.5s").is_err());
    }

    #[test]
    fn signal_maps() {
        let c = config(&["secrun", "--signal-map", "TERM:QUIT", "true"], &[]);
        assert_eq!(
            c.map(|c| c.signal_map),
            Ok(vec![(libc::SIGTERM, libc::SIGQUIT)])
        );
        let c = config(
            &["secrun", "true"],
            &[("SECRUN_SIGNAL_MAP", "SIGINT:TERM,USR1:HUP")],
        );
        assert_eq!(
            c.map(|c| c.signal_map),
            Ok(vec![
                (libc::SIGINT, libc::SIGTERM),
                (libc::SIGUSR1, libc::SIGHUP)
            ])
        );
        assert!(config(&["secrun", "--signal-map", "TERM", "true"], &[]).is_err());
    }

    #[test]
    fn log_settings_are_read_leniently() {
        let (f, l) = log_settings(
            &os(&["secrun", "--log-format", "json", "-v", "x", "-q"]),
            &[],
        );
        assert_eq!((f, l), (LogFormat::Json, LogLevel::Debug));
        let (_, l) = log_settings(
            &os(&["secrun", "--secrets-file", "d.json", "-v", "--", "env"]),
            &[],
        );
        assert_eq!(l, LogLevel::Debug);
    }
}
