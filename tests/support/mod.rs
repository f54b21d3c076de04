//! What the integration tests share: moto's server on 127.0.0.1 (started
//! once per test binary, see `moto_server.py`), a builder that runs the
//! built `secrun` in a clean environment, and the leak check that every run
//! goes through.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{json, Value};

pub const SECRUN: &str = env!("CARGO_BIN_EXE_secrun");

/// The example Flask app's settings that come from its secrets bundle
/// (examples/flask).
pub const SETTINGS: [&str; 7] = [
    "SECRET_KEY",
    "GOOGLE_MAPS_API_TOKEN",
    "SIMS_PORTAL_SLACK_BOT",
    "CONSUMER_KEY",
    "CONSUMER_SECRET",
    "ACCESS_TOKEN",
    "ACCESS_TOKEN_SECRET",
];

/// The body of `GET PATH` on 127.0.0.1:PORT, if the answer is a 200.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    (head.split_whitespace().nth(1) == Some("200")).then(|| body.to_owned())
}

/// A random 64-bit number, without a dependency.
pub fn random() -> u64 {
    let mut h = RandomState::new().build_hasher();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:016x}", random())
}

/// A distinctive secret value: if it shows up in secrun's output, it leaked.
pub fn secret_value() -> String {
    format!("SeCrEt{:016x}{:08x}", random(), random() as u32)
}

pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TESTS_PYTHON") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

pub struct Moto {
    pub port: u16,
    _child: Child,
}

/// moto's server, started on first use and shared by the tests of a binary.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| Moto::start(&[]))
}

impl Moto {
    /// A server of its own, with `env` (`MOTO_ACCOUNT_ID`, say).
    pub fn start(env: &[(&str, &str)]) -> Moto {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/moto_server.py");
        // The server's own log, for when a test needs explaining.
        let log = std::fs::File::create(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/moto-server.log"),
        )
        .unwrap();
        let mut child = Command::new(python())
            .arg(script)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start moto (run scripts/test, which installs it in .venv)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("moto server did not start: {line:?}"));
        Moto {
            port,
            _child: child,
        }
    }
}

fn http(port: u16, method: &str, path: &str, body: &Value) -> Value {
    let body = body.to_string();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let (_, body) = response.split_once("\r\n\r\n").unwrap();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[derive(Debug, Clone)]
pub struct Call {
    pub target: String,
    pub region: String,
    /// The secret ids or parameter names asked for.
    pub ids: Vec<String>,
    pub start: f64,
    pub end: f64,
}

impl Moto {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Create secrets (`{"name", "string"}` or `{"name", "binary_b64"}`,
    /// optional `"updates"`) and parameters; returns name -> ARN.
    pub fn seed(
        &self,
        region: &str,
        secrets: Value,
        parameters: Value,
    ) -> BTreeMap<String, String> {
        let out = http(
            self.port,
            "POST",
            "/__secrun/seed",
            &json!({"region": region, "secrets": secrets, "parameters": parameters}),
        );
        out["arns"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// One call as an operator makes it (`put_secret_value`, ...).
    pub fn call(&self, service: &str, region: &str, operation: &str, params: Value) -> Value {
        http(
            self.port,
            "POST",
            "/__secrun/call",
            &json!({"service": service, "region": region, "operation": operation, "params": params}),
        )
    }

    pub fn secret(&self, region: &str, name: &str, value: &str) -> String {
        self.seed(region, json!([{"name": name, "string": value}]), json!([]))[name].clone()
    }

    /// Faults for requests signed with `akid`: `{"target", "action", "count"}`.
    pub fn faults(&self, akid: &str, rules: Value) {
        http(
            self.port,
            "POST",
            "/__secrun/faults",
            &json!({"akid": akid, "rules": rules}),
        );
    }

    pub fn calls(&self, akid: &str) -> Vec<Call> {
        let v = http(
            self.port,
            "GET",
            &format!("/__secrun/calls?akid={akid}"),
            &json!({}),
        );
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| Call {
                target: c["target"].as_str().unwrap().to_owned(),
                region: c["region"].as_str().unwrap().to_owned(),
                ids: c["ids"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|i| i.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                start: c["start"].as_f64().unwrap(),
                end: c["end"].as_f64().unwrap_or(f64::INFINITY),
            })
            .collect()
    }

    /// Every id asked for, by any call.
    pub fn asked(&self, akid: &str) -> Vec<String> {
        self.calls(akid).into_iter().flat_map(|c| c.ids).collect()
    }

    pub fn count(&self, akid: &str, target: &str) -> usize {
        self.calls(akid)
            .iter()
            .filter(|c| c.target == target)
            .count()
    }
}

pub const BATCH: &str = "secretsmanager.BatchGetSecretValue";
pub const GET: &str = "secretsmanager.GetSecretValue";
pub const PARAMS: &str = "AmazonSSM.GetParameters";

/// A scratch directory for one test, under the build's own `target/tmp`
/// (never a directory shared with other users; scripts/test empties it
/// before a run).
pub fn scratch() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("scratch")
        .join(unique("t"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The built `secrun`, in an environment holding only what the test sets,
/// pointed at moto with an access key of its own.
pub struct Secrun {
    pub cmd: Command,
    pub akid: String,
    pub dir: PathBuf,
    markers: Vec<String>,
}

pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// The application's environment, when the command was the env dumper.
    pub env: BTreeMap<OsString, OsString>,
    pub described: String,
}

impl Secrun {
    /// No AWS configuration at all.
    pub fn bare() -> Secrun {
        let dir = scratch();
        let mut cmd = Command::new(SECRUN);
        cmd.env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", &dir)
            .current_dir(&dir)
            .stdin(Stdio::null());
        Secrun {
            cmd,
            akid: String::new(),
            dir,
            markers: Vec::new(),
        }
    }

    /// Credentials and endpoint for moto, a key of its own, no default region.
    pub fn aws() -> Secrun {
        let mut s = Secrun::bare();
        s.akid = unique("AKIATEST").replace('-', "");
        s.cmd
            .env("AWS_ACCESS_KEY_ID", &s.akid)
            .env("AWS_SECRET_ACCESS_KEY", "test-secret-key")
            .env("AWS_ENDPOINT_URL", moto().url())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", s.dir.join("no-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", s.dir.join("no-credentials"));
        s
    }

    pub fn env(&mut self, k: impl AsRef<OsStr>, v: impl AsRef<OsStr>) -> &mut Self {
        self.cmd.env(k, v);
        self
    }

    pub fn arg(&mut self, a: impl AsRef<OsStr>) -> &mut Self {
        self.cmd.arg(a);
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&mut self, a: I) -> &mut Self {
        self.cmd.args(a);
        self
    }

    /// A value that must never appear in secrun's own output.
    pub fn marker(&mut self, v: impl Into<String>) -> &mut Self {
        self.markers.push(v.into());
        self
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    /// Run with the given trailing words (a subcommand, or `--` + command).
    pub fn run(&mut self) -> Run {
        let described = format!("{:?}", self.cmd);
        let out = self.cmd.output().unwrap();
        let run = Run {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            env: BTreeMap::new(),
            described,
        };
        run.assert_no_leak(&self.markers);
        run
    }

    /// Run `secrun ... -- sh -c 'env -0 > FILE'` and read the application's
    /// environment back from the file, so secrun's own output stays separate.
    pub fn run_app(&mut self) -> Run {
        let out = self.dir.join("app-env");
        let _ = std::fs::remove_file(&out);
        self.cmd
            .args(["--", "sh", "-c", "env -0 > \"$0\""])
            .arg(&out);
        let mut run = self.run();
        if let Ok(bytes) = std::fs::read(&out) {
            for entry in bytes.split(|&b| b == 0).filter(|e| !e.is_empty()) {
                let at = entry.iter().position(|&b| b == b'=').unwrap();
                run.env.insert(
                    OsString::from_vec(entry[..at].to_vec()),
                    OsString::from_vec(entry[at + 1..].to_vec()),
                );
            }
        }
        run
    }
}

impl Run {
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or(-1)
    }

    pub fn var(&self, name: &str) -> Option<String> {
        self.env
            .get(OsStr::new(name))
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    fn context(&self) -> String {
        format!(
            "\ncommand: {}\nstatus: {}\nstdout:\n{}\nstderr:\n{}",
            self.described, self.status, self.stdout, self.stderr
        )
    }

    pub fn assert_no_leak(&self, markers: &[String]) {
        for m in markers {
            assert!(
                !self.stdout.contains(m.as_str()) && !self.stderr.contains(m.as_str()),
                "secret value {m:?} leaked into secrun's output{}",
                self.context()
            );
        }
    }

    pub fn ok(&self) -> &Self {
        assert_eq!(self.code(), 0, "expected success{}", self.context());
        self
    }

    pub fn fails(&self, code: i32) -> &Self {
        assert_eq!(self.code(), code, "expected exit {code}{}", self.context());
        assert!(
            self.env.is_empty(),
            "the application ran although start-up failed{}",
            self.context()
        );
        self
    }

    pub fn says(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}{}",
            self.context()
        );
        self
    }

    pub fn prints(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}{}",
            self.context()
        );
        self
    }

    pub fn has(&self, name: &str, value: &str) -> &Self {
        assert_eq!(
            self.var(name).as_deref(),
            Some(value),
            "{name}{}",
            self.context()
        );
        self
    }

    pub fn lacks(&self, name: &str) -> &Self {
        assert_eq!(
            self.var(name),
            None,
            "{name} should be unset{}",
            self.context()
        );
        self
    }
}

/// Whether the tests run as root.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// For tests that need root (PID namespaces, Docker): `false` as
/// another user, after naming the test in `$TESTS_SKIP_LOG`, which
/// scripts/test reports as skipped. Call it first and return when false.
pub fn needs_root() -> bool {
    if is_root() {
        return true;
    }
    let name = std::thread::current()
        .name()
        .unwrap_or("unnamed test")
        .to_owned();
    if let Some(log) = std::env::var_os("TESTS_SKIP_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            // One write per line: tests run in parallel and append at once.
            let _ = f.write_all(format!("{name}\n").as_bytes());
        }
    }
    eprintln!("skipped {name}: needs root");
    false
}

/// Poll `f` every few milliseconds until it gives a value; on timeout,
/// fail naming what was awaited.
pub fn poll<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A child's output, read as it comes by a thread of its own, so that a
/// test can wait for a line while the child runs.
pub struct Collected {
    text: std::sync::Arc<std::sync::Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

pub fn collect(mut from: impl Read + Send + 'static) -> Collected {
    let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = text.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    Collected { text, reader }
}

impl Collected {
    /// What has come so far.
    pub fn text(&self) -> String {
        self.text.lock().unwrap().clone()
    }

    /// Everything, once the child has closed its end.
    pub fn finish(self) -> String {
        let _ = self.reader.join();
        let text = self.text.lock().unwrap().clone();
        text
    }
}

/// A process's children, from `/proc/PID/task/*/children`.
pub fn children_of(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            if let Ok(c) = std::fs::read_to_string(t.path().join("children")) {
                out.extend(c.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
            }
        }
    }
    out
}

/// Whether `needle` occurs anywhere in the readable memory of `pid`.
pub fn memory_contains(pid: i32, needle: &[u8]) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    for line in maps.lines() {
        let mut f = line.split_whitespace();
        let (range, perms) = (f.next().unwrap(), f.next().unwrap());
        if !perms.starts_with('r') || line.ends_with("[vvar]") || line.ends_with("[vsyscall]") {
            continue;
        }
        let (a, b) = range.split_once('-').unwrap();
        let (a, b) = (
            u64::from_str_radix(a, 16).unwrap(),
            u64::from_str_radix(b, 16).unwrap(),
        );
        let mut buf = vec![0u8; (b - a) as usize];
        if mem.seek(SeekFrom::Start(a)).is_err() || mem.read_exact(&mut buf).is_err() {
            // Heap, stack and data, where a value would be, must be read.
            assert!(!perms.contains('w'), "{pid}: could not read {line}");
            continue;
        }
        if buf.windows(needle.len()).any(|w| w == needle) {
            return true;
        }
    }
    false
}
