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

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::error::Error;
use crate::log::{LogFormat, LogLevel};
use crate::plan::{is_secrun_var, Options};
use crate::process::supervise::{SignalTarget, Supervision, Watching};

#[derive(Parser, Debug)]
#[command(
    name = "secrun",
    version,
    override_usage = "secrun [OPTIONS] [--] COMMAND [ARGS...]\n       secrun explain [OPTIONS] [--format text|json]\n       secrun verify  [OPTIONS] [--format text|json]\n       secrun check   [--format text|json|sarif] [--allow NAME]... FILE|-...\n       secrun policy  [OPTIONS] [FILE|-...]",
    about = "Resolve secret references in the environment, then run COMMAND",
    long_about = "Resolve environment variables whose values are references to secrets \
(Secrets Manager ARNs in the ECS valueFrom format, SSM parameters, ${...} \
interpolation) into their values, then run COMMAND with that environment. \
As PID 1 it also forwards signals, reaps zombies and passes the exit code through.",
    after_help = "Every option can also be set with its SECRUN_* variable; see the README.",
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    log: LogArgs,
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
    /// Resolve everything, report per variable, run nothing (exit 0 or 125).
    Verify(ReportArgs),
    /// Find plaintext secrets in deployment files (exit 0 clean, 1 findings, 2 unreadable input).
    Check(CheckArgs),
    /// Print the least-privilege IAM policy for the references in files, or in the environment
    /// (exit 0 printed, 1 no reference found, 2 unreadable input or usage error).
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
    #[command(flatten)]
    resolve: ResolveArgs,
    /// A KMS key that encrypts the secrets or parameters (repeatable).
    #[arg(long, value_name = "ARN")]
    kms_key: Vec<String>,
    /// Region of short references [default: AWS_REGION, AWS_DEFAULT_REGION, or *]
    #[arg(long)]
    region: Option<String>,
    /// Also grant what --watch needs (secretsmanager:DescribeSecret, ssm:DescribeParameters).
    #[arg(long)]
    watch: bool,
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
    #[command(flatten)]
    run: RunArgs,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// What decides which variables are resolved from where: the run path's,
/// and `policy`'s when it reads the environment.
#[derive(Args, Debug, Default)]
struct ResolveArgs {
    /// Dotenv file to load (repeatable; later files win) [env: SECRUN_ENV_FILE]
    #[arg(long, value_name = "PATH")]
    env_file: Vec<PathBuf>,
    /// JSON secret whose every top-level key becomes a variable (repeatable) [env: SECRUN_FROM]
    #[arg(long, value_name = "REF")]
    from: Vec<String>,
    /// NAME<SUFFIX>=/path sets NAME to the file's content, e.g. _FILE [env: SECRUN_FILE_SUFFIX]
    #[arg(long, value_name = "SUFFIX")]
    file_suffix: Option<String>,
    /// Directory that _FILE paths may point into (repeatable) [env: SECRUN_FILE_DIR] [default: /run/secrets]
    #[arg(long, value_name = "DIR")]
    file_dir: Vec<PathBuf>,
    /// Variable passed through untouched (repeatable) [env: SECRUN_KEEP]
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    keep: Vec<String>,
    /// Turn ${...} expansion off [env: SECRUN_INTERPOLATE=false]
    #[arg(long)]
    no_interpolate: bool,
}

#[derive(Args, Debug, Default)]
struct RunArgs {
    #[command(flatten)]
    resolve: ResolveArgs,
    /// Resolve references from this local JSON file instead of AWS [env: SECRUN_SECRETS_FILE]
    #[arg(long, value_name = "PATH")]
    secrets_file: Option<PathBuf>,
    /// A missing secret, parameter or key leaves NAME unset (repeatable) [env: SECRUN_OPTIONAL]
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    optional: Vec<String>,
    /// Deadline for all resolution, e.g. 500ms, 30s, 2m [env: SECRUN_TIMEOUT] [default: 30s]
    #[arg(long, value_name = "DUR")]
    timeout: Option<String>,
    /// Supervise as an init: auto (when PID 1), always, never [env: SECRUN_INIT]
    #[arg(long, value_name = "MODE")]
    init: Option<String>,
    /// Forward signals to the child's process group or the child alone [env: SECRUN_SIGNAL_TARGET]
    #[arg(long, value_name = "group|child")]
    signal_target: Option<String>,
    /// Rewrite a forwarded signal, e.g. TERM:QUIT (repeatable) [env: SECRUN_SIGNAL_MAP]
    #[arg(long, value_name = "FROM:TO", value_delimiter = ',')]
    signal_map: Vec<String>,
    /// After the main child exits, TERM the rest, wait DUR, then KILL [env: SECRUN_GRACE]
    #[arg(long, value_name = "DUR")]
    grace: Option<String>,
    /// Check what was resolved for changes every DUR and restart the command (init mode) [env: SECRUN_WATCH]
    #[arg(long, value_name = "DUR")]
    watch: Option<String>,
    /// Random delay, up to DUR, before acting on a change [env: SECRUN_WATCH_SPREAD] [default: 30s]
    #[arg(long, value_name = "DUR")]
    watch_spread: Option<String>,
    /// What a change does: restart the command, or stop it and exit 0 [env: SECRUN_ON_CHANGE] [default: restart]
    #[arg(long, value_name = "restart|exit")]
    on_change: Option<String>,
}

/// How much secrun says and how: every subcommand takes these.
#[derive(Args, Debug, Default)]
struct LogArgs {
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
        watch: bool,
        files: Vec<PathBuf>,
    },
}

/// Everything a run needs, flags and variables merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub action: Action,
    /// Which variables are resolved from where (the planner's options).
    pub options: Options,
    pub env_files: Vec<PathBuf>,
    pub secrets_file: Option<PathBuf>,
    pub timeout: Duration,
    pub init: InitMode,
    pub supervision: Supervision,
    pub watch: Option<Watching>,
    pub log_format: LogFormat,
    pub log_level: LogLevel,
}

/// What the command line asked for.
pub enum Parsed {
    Config(Box<Config>),
    /// Help or version text (stdout, exit 0), or a usage error clap found
    /// (stderr, exit `code`).
    Clap {
        error: clap::Error,
        code: u8,
    },
}

/// A configuration error, with the log settings to report it in and the
/// exit code the subcommand documents for usage errors.
#[derive(Debug)]
pub struct Invalid {
    pub error: Error,
    pub log: (LogFormat, LogLevel),
    pub code: u8,
}

/// The `SECRUN_*` variables a user may set.
const KNOWN: [&str; 18] = [
    "SECRUN_ENV_FILE",
    "SECRUN_FROM",
    "SECRUN_SECRETS_FILE",
    "SECRUN_FILE_SUFFIX",
    "SECRUN_FILE_DIR",
    "SECRUN_KEEP",
    "SECRUN_OPTIONAL",
    "SECRUN_TIMEOUT",
    "SECRUN_INIT",
    "SECRUN_SIGNAL_TARGET",
    "SECRUN_SIGNAL_MAP",
    "SECRUN_GRACE",
    "SECRUN_WATCH",
    "SECRUN_WATCH_SPREAD",
    "SECRUN_ON_CHANGE",
    "SECRUN_INTERPOLATE",
    "SECRUN_LOG_FORMAT",
    "SECRUN_LOG_LEVEL",
];

/// Set by secrun's supervisor on the copy of secrun it starts; not for users.
pub const SUPERVISED: &str = "SECRUN_SUPERVISED";

/// Which process this is, from `SECRUN_SUPERVISED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Started by a user: supervises in init mode, else resolves and execs.
    Own,
    /// A copy a supervisor started: resolves and execs the command. With
    /// `--watch` it reports what it used on the descriptor `report`, and
    /// with `go`, waits for the word on that descriptor before it execs.
    Copy {
        report: Option<i32>,
        go: Option<i32>,
    },
    /// A short-lived copy that checks versions for `--watch`.
    Check,
}

pub fn role(env: &[(OsString, OsString)]) -> Role {
    let Some(value) = lookup(env, SUPERVISED).and_then(OsStr::to_str) else {
        return Role::Own;
    };
    let mut parts = value.split(':');
    let number = |p: Option<&str>| p.and_then(|n| n.parse::<i32>().ok());
    match parts.next() {
        Some("check") => Role::Check,
        Some("watch") => Role::Copy {
            report: number(parts.next()),
            go: None,
        },
        Some("restart") => Role::Copy {
            report: number(parts.next()),
            go: number(parts.next()),
        },
        _ => Role::Copy {
            report: None,
            go: None,
        },
    }
}

/// The exit code for usage errors: `check` and `policy` document 2 for
/// anything that is not a finding; the run path uses 125, as `env` does.
fn usage_code(sub: Option<&str>) -> u8 {
    match sub {
        Some("check" | "policy") => 2,
        _ => 125,
    }
}

fn lookup<'a>(env: &'a [(OsString, OsString)], name: &str) -> Option<&'a OsStr> {
    env.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_os_str())
}

/// The closest known name to a mistyped `SECRUN_*` variable.
fn nearest_known(name: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), *k))
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// Flags and `SECRUN_*` variables, read once.
pub fn parse(args: &[OsString], env: &[(OsString, OsString)]) -> Result<Parsed, Invalid> {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            // Which subcommand the words were for decides the exit code.
            let sub = Cli::command()
                .ignore_errors(true)
                .try_get_matches_from(args)
                .ok()
                .and_then(|m| m.subcommand_name().map(str::to_owned));
            let code = if error.use_stderr() {
                usage_code(sub.as_deref())
            } else {
                0
            };
            return Ok(Parsed::Clap { error, code });
        }
    };
    let sub = cli.sub.as_ref().map(|s| match s {
        Sub::Explain(_) => "explain",
        Sub::Verify(_) => "verify",
        Sub::Check(_) => "check",
        Sub::Policy(_) => "policy",
    });
    let code = usage_code(sub);
    let vars = Vars(env);
    let log = match log_settings(&cli.log, &vars) {
        Ok(log) => log,
        Err(error) => {
            let log = (LogFormat::Text, LogLevel::Info);
            return Err(Invalid { error, log, code });
        }
    };
    let invalid = |error: Error| Invalid { error, log, code };
    if let Some(first) = cli.command.first() {
        // `allow_hyphen_values` lets `-- -weird-name` through; without the
        // `--`, a leading dash is a mistyped option, not a command.
        let dashed = first.as_encoded_bytes().starts_with(b"-");
        let position = args.iter().position(|a| a == first);
        let after_double_dash = position.is_some_and(|p| args[..p].iter().any(|a| a == "--"));
        if dashed && !after_double_dash {
            return Err(invalid(Error::Usage(format!(
                "unknown option {} (see secrun --help; put -- before a command that starts with -)",
                first.to_string_lossy()
            ))));
        }
    }
    let config = build(cli, &vars, log).map_err(invalid)?;
    Ok(Parsed::Config(Box::new(config)))
}

/// The `SECRUN_*` variables of the process environment.
struct Vars<'a>(&'a [(OsString, OsString)]);

impl Vars<'_> {
    fn get(&self, n: &str) -> Result<Option<String>, Error> {
        match lookup(self.0, n) {
            None => Ok(None),
            Some(v) => v
                .to_str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| Error::Usage(format!("{n} is not valid UTF-8"))),
        }
    }

    fn list(&self, n: &str) -> Result<Vec<String>, Error> {
        Ok(self
            .get(n)?
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// A repeatable flag replaces its variable's list.
    fn pick(&self, flag: Vec<String>, n: &str) -> Result<Vec<String>, Error> {
        if flag.is_empty() {
            self.list(n)
        } else {
            Ok(flag)
        }
    }

    fn unknown(&self) -> Result<(), Error> {
        for (name, _) in self.0 {
            if !is_secrun_var(name) || name == SUPERVISED || KNOWN.iter().any(|k| name == *k) {
                continue;
            }
            let name = name.to_string_lossy();
            let hint = match nearest_known(&name) {
                Some(k) => format!("did you mean {k}?"),
                None => "see the README for the SECRUN_* variables".to_owned(),
            };
            return Err(Error::Usage(format!(
                "unknown variable {name}: {hint} (a mistyped setting is refused rather than ignored)"
            )));
        }
        Ok(())
    }
}

/// Flag, else variable, else the default; an invalid value is an error
/// (reported in text, the default).
fn log_settings(log: &LogArgs, vars: &Vars) -> Result<(LogFormat, LogLevel), Error> {
    let format = match log.log_format.clone().or(vars.get("SECRUN_LOG_FORMAT")?) {
        Some(f) => parse_log_format(&f)?,
        None => LogFormat::Text,
    };
    let level = if log.quiet {
        LogLevel::Quiet
    } else if log.verbose {
        LogLevel::Debug
    } else {
        match vars.get("SECRUN_LOG_LEVEL")? {
            Some(l) => parse_log_level(&l)?,
            None => LogLevel::Info,
        }
    };
    Ok((format, level))
}

fn build(cli: Cli, vars: &Vars, log: (LogFormat, LogLevel)) -> Result<Config, Error> {
    let top_level_used = cli.run.is_used();
    let (action, run) = match cli.sub {
        Some(Sub::Explain(r)) => (Action::Explain(r.format), cli.run.or(r.run)),
        Some(Sub::Verify(r)) => (Action::Verify(r.format), cli.run.or(r.run)),
        Some(Sub::Check(c)) if !top_level_used => (
            Action::Check {
                format: c.format,
                allow: c.allow,
                files: c.files,
            },
            RunArgs::default(),
        ),
        Some(Sub::Policy(p)) if !top_level_used => (
            Action::Policy {
                kms_keys: p.kms_key,
                region: p.region,
                watch: p.watch,
                files: p.files,
            },
            RunArgs {
                resolve: p.resolve,
                ..RunArgs::default()
            },
        ),
        Some(_) => {
            return Err(Error::Usage(
                "options of the run path come after the command word here: secrun check|policy [OPTIONS] (see --help of each)".into(),
            ))
        }
        None if cli.command.is_empty() => {
            return Err(Error::Usage(format!(
                "no command given (see secrun --help)\n{}",
                Cli::command().render_usage()
            )))
        }
        None => (Action::Run(cli.command), cli.run),
    };
    if !matches!(action, Action::Check { .. }) {
        vars.unknown()?;
    }
    let resolve = run.resolve;
    let env_files = if resolve.env_file.is_empty() {
        vars.list("SECRUN_ENV_FILE")?
            .into_iter()
            .map(PathBuf::from)
            .collect()
    } else {
        resolve.env_file
    };
    let file_dirs = if resolve.file_dir.is_empty() {
        match vars.list("SECRUN_FILE_DIR")? {
            d if d.is_empty() => vec![PathBuf::from("/run/secrets")],
            d => d.into_iter().map(PathBuf::from).collect(),
        }
    } else {
        resolve.file_dir
    };
    let file_suffix = resolve.file_suffix.or(vars.get("SECRUN_FILE_SUFFIX")?);
    if file_suffix.as_deref() == Some("") {
        return Err(Error::Usage("the file suffix is empty".into()));
    }
    let interpolate = if resolve.no_interpolate {
        false
    } else {
        match vars.get("SECRUN_INTERPOLATE")?.as_deref() {
            None | Some("true" | "1" | "yes" | "on") => true,
            Some("false" | "0" | "no" | "off") => false,
            Some(other) => {
                return Err(Error::Usage(format!(
                    "SECRUN_INTERPOLATE={other:?}: expected true or false"
                )))
            }
        }
    };
    let options = Options {
        from: vars.pick(resolve.from, "SECRUN_FROM")?,
        keep: vars.pick(resolve.keep, "SECRUN_KEEP")?,
        optional: vars.pick(run.optional, "SECRUN_OPTIONAL")?,
        file_suffix,
        file_dirs,
        real_paths: Default::default(),
        interpolate,
    };
    let signal_map = vars
        .pick(run.signal_map, "SECRUN_SIGNAL_MAP")?
        .iter()
        .map(|m| parse_signal_map(m))
        .collect::<Result<Vec<_>, _>>()?;
    let secrets_file = match run.secrets_file {
        Some(p) => Some(p),
        None => vars.get("SECRUN_SECRETS_FILE")?.map(PathBuf::from),
    };
    let duration = |flag: Option<String>, n: &str, what: &str, default: Duration| match flag
        .or(vars.get(n)?)
    {
        Some(t) => parse_duration(&t).map_err(|e| Error::Usage(format!("{what}: {e}"))),
        None => Ok(default),
    };
    let timeout = duration(
        run.timeout,
        "SECRUN_TIMEOUT",
        "timeout",
        Duration::from_secs(30),
    )?;
    let grace = duration(run.grace, "SECRUN_GRACE", "grace", Duration::ZERO)?;
    let watch = match run.watch.or(vars.get("SECRUN_WATCH")?) {
        None if run.watch_spread.is_some() || run.on_change.is_some() => {
            return Err(Error::Usage(
                "--watch-spread and --on-change take effect only with --watch".into(),
            ))
        }
        None => None,
        Some(t) => {
            let interval = parse_duration(&t).map_err(|e| Error::Usage(format!("watch: {e}")))?;
            if interval < Duration::from_millis(100) {
                return Err(Error::Usage(
                    "watch: the interval must be at least 100ms (AWS is asked once per interval)"
                        .into(),
                ));
            }
            let spread = duration(
                run.watch_spread,
                "SECRUN_WATCH_SPREAD",
                "watch spread",
                Duration::from_secs(30),
            )?;
            let exit = match run.on_change.or(vars.get("SECRUN_ON_CHANGE")?).as_deref() {
                None | Some("restart") => false,
                Some("exit") => true,
                Some(other) => {
                    return Err(Error::Usage(format!(
                        "on-change {other:?}: expected restart or exit"
                    )))
                }
            };
            Some(Watching {
                interval,
                spread,
                exit,
            })
        }
    };
    let init = match run.init.or(vars.get("SECRUN_INIT")?).as_deref() {
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
        .or(vars.get("SECRUN_SIGNAL_TARGET")?)
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
    Ok(Config {
        action,
        options,
        env_files,
        secrets_file,
        timeout,
        init,
        supervision: Supervision {
            signal_target,
            signal_map,
            grace,
        },
        watch,
        log_format: log.0,
        log_level: log.1,
    })
}

impl RunArgs {
    /// Whether any run-path option was given (before a subcommand).
    fn is_used(&self) -> bool {
        let r = &self.resolve;
        !(r.env_file.is_empty()
            && r.from.is_empty()
            && r.file_suffix.is_none()
            && r.file_dir.is_empty()
            && r.keep.is_empty()
            && !r.no_interpolate
            && self.secrets_file.is_none()
            && self.optional.is_empty()
            && self.timeout.is_none()
            && self.init.is_none()
            && self.signal_target.is_none()
            && self.signal_map.is_empty()
            && self.grace.is_none()
            && self.watch.is_none()
            && self.watch_spread.is_none()
            && self.on_change.is_none())
    }

    /// Options given before `explain` / `verify` and after it: after wins.
    fn or(self, after: RunArgs) -> RunArgs {
        fn list<T>(before: Vec<T>, after: Vec<T>) -> Vec<T> {
            if after.is_empty() {
                before
            } else {
                after
            }
        }
        let (b, a) = (self.resolve, after.resolve);
        RunArgs {
            resolve: ResolveArgs {
                env_file: list(b.env_file, a.env_file),
                from: list(b.from, a.from),
                file_suffix: a.file_suffix.or(b.file_suffix),
                file_dir: list(b.file_dir, a.file_dir),
                keep: list(b.keep, a.keep),
                no_interpolate: a.no_interpolate || b.no_interpolate,
            },
            secrets_file: after.secrets_file.or(self.secrets_file),
            optional: list(self.optional, after.optional),
            timeout: after.timeout.or(self.timeout),
            init: after.init.or(self.init),
            signal_target: after.signal_target.or(self.signal_target),
            signal_map: list(self.signal_map, after.signal_map),
            grace: after.grace.or(self.grace),
            watch: after.watch.or(self.watch),
            watch_spread: after.watch_spread.or(self.watch_spread),
            on_change: after.on_change.or(self.on_change),
        }
    }
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

/// The longest duration an option takes.
const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

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
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(format!("{s:?} is not a duration (write 500ms, 30s or 2m)")),
    };
    // Beyond any deadline or interval that makes sense, and a bound that
    // keeps every `Instant + Duration` from overflowing.
    if d > MAX_DURATION {
        return Err(format!("{s:?} is longer than a year"));
    }
    Ok(d)
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
            Ok(Parsed::Clap { error, .. }) => Err(error.to_string()),
            Err(e) => Err(e.error.to_string()),
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
        assert_eq!(c.map(|c| c.options.from), Ok(vec!["ssm:/x".to_owned()]));
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
        assert_eq!(c.options.keep, ["A", "B"]);
        assert_eq!(c.timeout, Duration::from_millis(500));
        assert_eq!(
            c.env_files,
            [PathBuf::from("a.env"), PathBuf::from("b.env")]
        );
        assert!(!c.options.interpolate);
        assert_eq!(c.log_level, LogLevel::Debug);
        // A repeatable flag replaces the variable's list; a flag wins.
        let c = config(
            &["secrun", "--keep", "C", "--timeout", "2m", "-q", "true"],
            &vars,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.options.keep, ["C"]);
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
        // Regression: a huge duration overflowed `Instant + Duration`.
        assert!(parse_duration("9999999999999999h").is_err_and(|e| e.contains("year")));
    }

    #[test]
    fn signal_maps() {
        let c = config(&["secrun", "--signal-map", "TERM:QUIT", "true"], &[]);
        assert_eq!(
            c.map(|c| c.supervision.signal_map),
            Ok(vec![(libc::SIGTERM, libc::SIGQUIT)])
        );
        let c = config(
            &["secrun", "true"],
            &[("SECRUN_SIGNAL_MAP", "SIGINT:TERM,USR1:HUP")],
        );
        assert_eq!(
            c.map(|c| c.supervision.signal_map),
            Ok(vec![
                (libc::SIGINT, libc::SIGTERM),
                (libc::SIGUSR1, libc::SIGHUP)
            ])
        );
        assert!(config(&["secrun", "--signal-map", "TERM", "true"], &[]).is_err());
    }

    #[test]
    fn log_settings_are_honoured_by_every_subcommand() {
        let c = config(
            &["secrun", "check", "--log-format", "json", "-q", "x.json"],
            &[],
        );
        let c = c.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (c.log_format, c.log_level),
            (LogFormat::Json, LogLevel::Quiet)
        );
        let c = config(
            &["secrun", "-v", "policy", "f.json"],
            &[("SECRUN_LOG_FORMAT", "json")],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (c.log_format, c.log_level),
            (LogFormat::Json, LogLevel::Debug)
        );
    }

    #[test]
    fn a_configuration_error_is_reported_in_the_log_format_asked_for() {
        match parse(
            &os(&[
                "secrun",
                "--log-format",
                "json",
                "--timeout",
                "soon",
                "true",
            ]),
            &[],
        ) {
            Err(Invalid { log, code, .. }) => {
                assert_eq!(log, (LogFormat::Json, LogLevel::Info));
                assert_eq!(code, 125);
            }
            _ => panic!("expected a usage error"),
        }
    }

    #[test]
    fn usage_errors_of_check_and_policy_exit_2() {
        for args in [
            &["secrun", "check"][..],
            &["secrun", "check", "--bogus", "x"],
            &["secrun", "policy", "--kms-key"],
        ] {
            match parse(&os(args), &[]) {
                Ok(Parsed::Clap { code, .. }) => assert_eq!(code, 2, "{args:?}"),
                _ => panic!("{args:?}: expected a usage error"),
            }
        }
        match parse(&os(&["secrun", "--bogus"]), &[]) {
            Ok(Parsed::Clap { code, .. }) | Err(Invalid { code, .. }) => assert_eq!(code, 125),
            _ => panic!("expected a usage error"),
        }
    }

    #[test]
    fn each_subcommand_shows_its_own_options() {
        let mut cmd = Cli::command();
        cmd.build();
        let check = cmd
            .find_subcommand_mut("check")
            .map(|c| c.render_help().to_string())
            .unwrap_or_default();
        assert!(
            check.contains("--allow") && check.contains("--log-format"),
            "{check}"
        );
        for run_only in ["--grace", "--signal-map", "--secrets-file", "--env-file"] {
            assert!(!check.contains(run_only), "check --help lists {run_only}");
        }
        let policy = cmd
            .find_subcommand_mut("policy")
            .map(|c| c.render_help().to_string())
            .unwrap_or_default();
        assert!(policy.contains("--env-file") && policy.contains("--kms-key"));
        assert!(!policy.contains("--grace"), "policy --help lists --grace");
    }

    #[test]
    fn the_nearest_known_variable_is_suggested() {
        let e = config(&["secrun", "true"], &[("SECRUN_SECRET_FILE", "x.json")]);
        assert!(
            e.as_ref()
                .is_err_and(|e| e.contains("did you mean SECRUN_SECRETS_FILE?")
                    && !e.contains("SECRUN_SUPERVISED")),
            "{e:?}"
        );
        // Set by the supervisor on its own copy: not unknown.
        assert!(config(&["secrun", "true"], &[(SUPERVISED, "1")]).is_ok());
    }
}
