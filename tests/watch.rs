//! `--watch` with real processes: secrun as a child subreaper (`--init
//! always`) supervising a small application, moto behind the fault layer
//! for Secrets Manager and SSM, rotations made as an operator makes them
//! (`PutSecretValue`, `PutParameter`), and files edited on disk. The
//! application records its pid at every start; each new process's own
//! environment is read from `/proc/PID/environ`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::*;

const REGION: &str = "us-east-2";
const DESCRIBE: &str = "secretsmanager.DescribeSecret";

/// secrun watching an application that appends its pid to `starts` when
/// it starts and exits with `exit_code` on TERM (after noting it).
struct App {
    child: Child,
    starts: PathBuf,
    termed: PathBuf,
    log: Option<Collected>,
    akid: String,
    markers: Vec<String>,
}

fn start(mut s: Secrun, opts: &[&str], exit_code: i32) -> App {
    let starts = s.dir.join("starts");
    let termed = s.dir.join("termed");
    let script = format!(
        "trap 'echo $$ >> {termed}; exit {exit_code}' TERM; echo $$ >> {starts}; while :; do sleep 0.05; done",
        starts = starts.display(),
        termed = termed.display(),
    );
    s.args(["--init", "always", "--watch-spread", "0s"])
        .args(opts)
        .args(["--", "sh", "-c", &script]);
    s.cmd.stderr(Stdio::piped()).stdout(Stdio::null());
    let mut child = s.cmd.spawn().unwrap();
    let log = Some(collect(child.stderr.take().unwrap()));
    let app = App {
        child,
        starts,
        termed,
        log,
        akid: s.akid.clone(),
        markers: Vec::new(),
    };
    app.wait_starts(1, Duration::from_secs(15));
    app
}

impl App {
    fn pids(&self) -> Vec<i32> {
        std::fs::read_to_string(&self.starts)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    fn wait_starts(&self, n: usize, within: Duration) -> i32 {
        poll(&format!("start number {n}"), within, || {
            let pids = self.pids();
            (pids.len() >= n).then(|| pids[n - 1])
        })
    }

    fn log(&self) -> String {
        self.log.as_ref().map(Collected::text).unwrap_or_default()
    }

    fn environ(&self, pid: i32) -> String {
        String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default())
            .into_owned()
    }

    /// Wait until moto has answered `n` more `DescribeSecret` calls: the
    /// checks that have run, observed rather than slept for.
    fn checks(&self, target: &str, n: usize) {
        let before = moto().count(&self.akid, target);
        poll(&format!("{n} more checks"), Duration::from_secs(20), || {
            (moto().count(&self.akid, target) >= before + n).then_some(())
        });
    }

    /// TERM to secrun; its exit code and everything it printed.
    fn stop(mut self) -> (i32, String) {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        let log = self.log.take().map(Collected::finish).unwrap_or_default();
        for m in &self.markers {
            assert!(!log.contains(m.as_str()), "a value leaked: {log}");
        }
        (status.code().unwrap_or(-1), log)
    }
}

fn aws() -> Secrun {
    let mut s = Secrun::aws();
    s.env("AWS_REGION", REGION);
    s
}

/// The application started under `secrun OPTS` with TOKEN referring to a
/// new secret NAME holding VALUE.
fn watch_token(name: &str, value: &str, opts: &[&str], exit_code: i32) -> App {
    moto().secret(REGION, name, value);
    let mut s = aws();
    s.env("TOKEN", format!("secretsmanager:{name}"));
    start(s, opts, exit_code)
}

fn put_secret(name: &str, value: &str) {
    moto().call(
        "secretsmanager",
        REGION,
        "put_secret_value",
        json!({"SecretId": name, "SecretString": value}),
    );
}

#[test]
fn a_rotated_secret_restarts_the_application_with_the_new_value_and_an_unchanged_one_does_not() {
    let name = unique("rotated");
    let (v1, v2) = (secret_value(), format!("{}-rotated", secret_value()));
    let mut app = watch_token(&name, &v1, &["--watch", "1s"], 0);
    app.markers = vec![v1.clone(), v2.clone()];
    let first = app.pids()[0];
    assert!(app.environ(first).contains(&format!("TOKEN={v1}")));
    // Three checks with nothing changed: no restart.
    app.checks(DESCRIBE, 3);
    assert_eq!(app.pids(), [first], "restarted with nothing changed");
    put_secret(&name, &v2);
    let checks_before = moto().count(&app.akid, DESCRIBE);
    // The first check that sees the new version restarts the application
    // (the spread is 0): counted in checks, not timed, so that a loaded
    // machine cannot fail it. One check may have been under way with the
    // old version when the secret changed.
    let second = app.wait_starts(2, Duration::from_secs(20));
    let checks = moto().count(&app.akid, DESCRIBE) - checks_before;
    assert!(
        (1..=2).contains(&checks),
        "{checks} checks before the restart"
    );
    assert!(app.environ(second).contains(&format!("TOKEN={v2}")));
    assert!(
        app.termed.exists(),
        "the old application was not stopped with TERM"
    );
    poll("the restart's log line", Duration::from_secs(5), || {
        app.log()
            .contains(&format!(
                "restarted the application after a change to secretsmanager:{name}; it was down "
            ))
            .then_some(())
    });
    let (code, _) = app.stop();
    assert_eq!(code, 0);
}

#[test]
fn a_json_key_a_bundle_and_a_parameter_each_restart_and_a_pinned_reference_is_not_watched() {
    let (keyed, bundle, pinned) = (unique("keyed"), unique("bundle"), unique("pinned"));
    let param = format!("/{}", unique("param"));
    // Distinct random values, looked for in everything secrun prints.
    let v: Vec<String> = (0..8).map(|_| secret_value()).collect();
    let [k1, k2, b1, b2, p1, p2, s1, s2] = [0, 1, 2, 3, 4, 5, 6, 7].map(|i| v[i].as_str());
    moto().seed(
        REGION,
        json!([
            {"name": keyed, "string": json!({"password": k1}).to_string()},
            {"name": bundle, "string": json!({"SETTING": b1}).to_string()},
            {"name": pinned, "string": p1},
        ]),
        json!([{"name": param, "value": s1}]),
    );
    let mut s = aws();
    s.env("PASSWORD", format!("secretsmanager:{keyed}:password"))
        .env("SECRUN_FROM", format!("secretsmanager:{bundle}"))
        .env("PARAM", format!("ssm:{param}"))
        .env("PINNED", format!("secretsmanager:{pinned}::AWSCURRENT"));
    let mut app = start(s, &["--watch", "1s"], 0);
    app.markers = v.clone();
    let within = Duration::from_secs(10);

    put_secret(&keyed, &json!({"password": k2}).to_string());
    let pid = app.wait_starts(2, within);
    assert!(app.environ(pid).contains(&format!("PASSWORD={k2}")));

    put_secret(&bundle, &json!({"SETTING": b2}).to_string());
    let pid = app.wait_starts(3, within);
    assert!(app.environ(pid).contains(&format!("SETTING={b2}")));

    moto().call(
        "ssm",
        REGION,
        "put_parameter",
        json!({"Name": param, "Value": s2, "Type": "SecureString", "Overwrite": true}),
    );
    let pid = app.wait_starts(4, within);
    assert!(app.environ(pid).contains(&format!("PARAM={s2}")));

    // A reference pinned to a stage is never checked, so never restarts.
    put_secret(&pinned, p2);
    app.checks(DESCRIBE, 6);
    assert_eq!(
        app.pids().len(),
        4,
        "a pinned reference restarted the application"
    );
    let described: Vec<String> = moto()
        .calls(&app.akid)
        .into_iter()
        .filter(|c| c.target == DESCRIBE)
        .flat_map(|c| c.ids)
        .collect();
    assert!(
        !described.iter().any(|id| id.contains(&pinned)),
        "{described:?}"
    );
    let (code, _) = app.stop();
    assert_eq!(code, 0);
}

#[test]
fn a_failed_resolution_leaves_the_application_running_until_a_later_check_succeeds() {
    let name = unique("denied-later");
    let (v1, v2) = (secret_value(), format!("{}-2", secret_value()));
    let mut app = watch_token(&name, &v1, &["--watch", "1s"], 0);
    app.markers = vec![v1.clone(), v2.clone()];
    let first = app.pids()[0];
    // Reading the secret is denied from now on: the change is seen, but
    // resolving again fails.
    moto().faults(
        &app.akid,
        json!([
            {"target": GET, "action": "deny", "count": -1},
            {"target": BATCH, "action": "deny", "count": -1},
        ]),
    );
    put_secret(&name, &v2);
    poll("the warning", Duration::from_secs(10), || {
        app.log()
            .contains(&format!(
                "warning: after a change: TOKEN (secretsmanager:{name}): access denied"
            ))
            .then_some(())
    });
    poll("the supervisor's warning", Duration::from_secs(10), || {
        app.log()
            .contains("the application keeps running")
            .then_some(())
    });
    assert_eq!(app.pids(), [first]);
    assert!(std::path::Path::new(&format!("/proc/{first}")).exists());
    // The role is fixed: the next check restarts it with the new value.
    moto().faults(&app.akid, json!([]));
    let second = app.wait_starts(2, Duration::from_secs(10));
    assert!(app.environ(second).contains(&format!("TOKEN={v2}")));
    let (code, _) = app.stop();
    assert_eq!(code, 0);
}

#[test]
fn a_check_that_fails_warns_and_changes_nothing() {
    let name = unique("deleted");
    let v = secret_value();
    let mut app = watch_token(&name, &v, &["--watch", "1s"], 0);
    app.markers = vec![v.clone()];
    moto().faults(
        &app.akid,
        json!([{"target": DESCRIBE, "action": "deny", "count": -1}]),
    );
    poll("the warning", Duration::from_secs(10), || {
        app.log()
            .contains(&format!(
                "warning: could not check TOKEN (secretsmanager:{name}) for changes: access denied: the role lacks secretsmanager:DescribeSecret"
            ))
            .then_some(())
    });
    // Two more failed checks: still the first start, and no restart begun.
    app.checks(DESCRIBE, 2);
    assert_eq!(app.pids().len(), 1);
    assert!(
        !app.log().contains("changed; resolving again"),
        "{}",
        app.log()
    );
    let (code, _) = app.stop();
    assert_eq!(code, 0);
}

#[test]
fn on_change_exit_stops_the_application_and_exits_0() {
    let name = unique("exit-on-change");
    let mut app = watch_token(&name, "one", &["--watch", "1s", "--on-change", "exit"], 9);
    put_secret(&name, "two");
    let status = poll("secrun to exit", Duration::from_secs(15), || {
        app.child.try_wait().unwrap()
    });
    assert_eq!(status.code(), Some(0), "{}", app.log());
    assert!(
        app.termed.exists(),
        "the application was not stopped with TERM"
    );
    assert_eq!(app.pids().len(), 1, "it was started again");
}

/// TERM while watching ends everything with the application's status; TERM
/// while a restart is resolving too, and the resolving copy goes with it.
/// The old application of a restart is reaped.
#[test]
fn term_during_watching_and_during_a_restart_stops_everything() {
    let name = unique("term-watch");
    let app = watch_token(&name, "one", &["--watch", "1s"], 7);
    let secrun = app.child.id() as i32;
    put_secret(&name, "two");
    let old = app.pids()[0];
    app.wait_starts(2, Duration::from_secs(10));
    poll("the old application reaped", Duration::from_secs(5), || {
        (!std::path::Path::new(&format!("/proc/{old}")).exists()).then_some(())
    });
    assert!(children_of(secrun).len() <= 2, "{:?}", children_of(secrun));
    let (code, _) = app.stop();
    assert_eq!(code, 7, "the application's status");

    // A restart whose resolution hangs: TERM ends it all at once.
    let name = unique("term-restart");
    let app = watch_token(&name, "one", &["--watch", "1s", "--timeout", "20s"], 7);
    moto().faults(
        &app.akid,
        json!([
            {"target": GET, "action": "hang", "seconds": 30, "count": -1},
            {"target": BATCH, "action": "hang", "seconds": 30, "count": -1},
        ]),
    );
    let before = moto().count(&app.akid, BATCH) + moto().count(&app.akid, GET);
    put_secret(&name, "two");
    poll(
        "the restart to be resolving",
        Duration::from_secs(10),
        || (moto().count(&app.akid, BATCH) + moto().count(&app.akid, GET) > before).then_some(()),
    );
    let secrun = app.child.id() as i32;
    let copies = children_of(secrun);
    let started = Instant::now();
    let (code, _) = app.stop();
    assert_eq!(code, 7);
    assert!(started.elapsed() < Duration::from_secs(10));
    for pid in copies {
        poll("no process left", Duration::from_secs(5), || {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            (stat.is_empty() || stat.contains(") Z ")).then_some(())
        });
    }
}

/// The supervisor learns versions, never values: after a restart neither
/// the old nor the new value is in its memory or environment (the
/// application's memory holds the new one: the scanner's control).
#[test]
fn the_supervisor_holds_no_value_after_a_restart() {
    let name = unique("scan");
    let (v1, v2) = (secret_value(), secret_value());
    let mut app = watch_token(&name, &v1, &["--watch", "1s"], 0);
    app.markers = vec![v1.clone(), v2.clone()];
    put_secret(&name, &v2);
    let second = app.wait_starts(2, Duration::from_secs(10));
    let secrun = app.child.id() as i32;
    assert!(
        memory_contains(second, v2.as_bytes()),
        "the scanner failed its control"
    );
    assert!(
        memory_contains(secrun, format!("secretsmanager:{name}").as_bytes()),
        "the scanner failed its control on the supervisor"
    );
    for v in [&v1, &v2] {
        assert!(
            !memory_contains(secrun, v.as_bytes()),
            "a value is in the supervisor's memory"
        );
        let environ = std::fs::read(format!("/proc/{secrun}/environ")).unwrap();
        assert!(!environ.windows(v.len()).any(|w| w == v.as_bytes()));
    }
    let (code, _) = app.stop();
    assert_eq!(code, 0);
}

/// On a laptop: edit the local secrets file, the application restarts.
#[test]
fn editing_the_local_secrets_file_restarts_the_application() {
    let mut s = Secrun::bare();
    let file = s.write(
        "dev-secrets.json",
        json!({"app": {"TOKEN": "first"}}).to_string(),
    );
    s.env("TOKEN", "secretsmanager:app:TOKEN")
        .args(["--secrets-file".as_ref(), file.as_os_str()]);
    let app = start(s, &["--watch", "1s"], 0);
    std::fs::write(&file, json!({"app": {"TOKEN": "second"}}).to_string()).unwrap();
    let second = app.wait_starts(2, Duration::from_secs(10));
    assert!(app.environ(second).contains("TOKEN=second"));
    let (code, log) = app.stop();
    assert_eq!(code, 0);
    assert!(log.contains("dev-secrets.json changed"), "{log}");
}

#[test]
fn watch_needs_init_mode() {
    let mut s = Secrun::bare();
    s.args(["--init", "never", "--watch", "1m", "--", "true"]);
    let run = s.run();
    assert_eq!(run.code(), 125);
    run.says("--watch needs init mode");
}

/// Regression: a stop signal before a change was acted on (or mapped to
/// QUIT) still let the restart start the new application.
#[test]
fn a_stop_signal_ends_watching_even_when_a_change_follows() {
    for map in [None, Some("TERM:QUIT")] {
        let mut s = Secrun::bare();
        let file = s.write(
            "dev-secrets.json",
            json!({"app": {"TOKEN": "first"}}).to_string(),
        );
        s.env("TOKEN", "secretsmanager:app:TOKEN")
            .args(["--secrets-file".as_ref(), file.as_os_str()]);
        let starts = s.dir.join("starts");
        // The application takes a second to stop, on TERM or QUIT.
        let script = format!(
            "trap 'sleep 1; exit 7' TERM QUIT; echo $$ >> {starts}; while :; do sleep 0.05; done",
            starts = starts.display()
        );
        s.args([
            "--init",
            "always",
            "--watch",
            "200ms",
            "--watch-spread",
            "0s",
        ]);
        if let Some(m) = map {
            s.args(["--signal-map", m]);
        }
        s.args(["--", "sh", "-c", &script]);
        s.cmd.stderr(Stdio::piped()).stdout(Stdio::null());
        let mut child = s.cmd.spawn().unwrap();
        let log = collect(child.stderr.take().unwrap());
        poll("the start", Duration::from_secs(15), || {
            starts.exists().then_some(())
        });
        std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        // The change comes while the application is still stopping.
        std::fs::write(&file, json!({"app": {"TOKEN": "second"}}).to_string()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let tree = std::process::Command::new("ps")
                    .args(["-e", "-o", "pid,ppid,pgid,stat,args"])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                    .unwrap_or_default();
                let _ = child.kill();
                panic!(
                    "{map:?}: secrun did not exit; its log:\n{}\nprocesses:\n{tree}",
                    log.finish()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let text = log.finish();
        assert_eq!(status.code(), Some(7), "{map:?}: {text}");
        let n = std::fs::read_to_string(&starts).unwrap().lines().count();
        assert_eq!(n, 1, "{map:?}: the application was started again: {text}");
    }
}
