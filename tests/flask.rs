//! The story end to end: the Flask app of examples/flask under gunicorn,
//! started by secrun as PID 1 of a PID namespace, its settings in moto's
//! Secrets Manager behind the same kind of references the ECS task
//! definition holds; then `docker stop`'s SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::*;

#[test]
fn gunicorn_flask_under_secrun_as_pid_1_gets_every_setting_and_stops_cleanly() {
    if !needs_root() {
        return;
    }
    // The app's settings as one JSON secret, and the database password.
    let bundle_name = unique("simsportal/prod");
    // Each value of its own length, so that swapped or duplicated settings
    // show in the lengths the app reports.
    let values: Vec<(&str, String)> = SETTINGS
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, format!("{}{}", secret_value(), "v".repeat(3 * i + 1))))
        .collect();
    let bundle: serde_json::Map<String, Value> = values
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let bundle_arn = moto().secret(
        "us-east-2",
        &bundle_name,
        &Value::Object(bundle).to_string(),
    );
    let rds_name = unique("rds/sims");
    let password = secret_value();
    moto().secret(
        "us-east-2",
        &rds_name,
        &json!({"username": "app", "password": password}).to_string(),
    );
    // The partial ARN (no random suffix), as the example task definition has.
    let partial_arn = &bundle_arn[..bundle_arn.len() - 7];

    let akid = unique("AKIAFLASK").replace('-', "");
    let mut child = gunicorn_under_secrun(&akid, &[], 2)
        .env("SECRUN_FROM", partial_arn)
        .env(
            "SQLALCHEMY_DATABASE_URI",
            format!("postgresql://app:${{secretsmanager:{rds_name}:password}}@db:5432/sims"),
        )
        .spawn()
        .unwrap();

    let log = collect(child.stderr.take().unwrap());
    let out = collect(child.stdout.take().unwrap());
    let port: u16 = poll("gunicorn to listen", Duration::from_secs(30), || {
        assert!(
            child.try_wait().unwrap().is_none(),
            "secrun exited before the app listened: {}",
            log.text()
        );
        listening_port(&log.text(), 1)
    });
    // Workers boot after the arbiter listens: the first answer may wait.
    let body = poll("the app's first answer", Duration::from_secs(30), || {
        http_get(port, "/settings")
    });
    let settings: Value = serde_json::from_str(&body).unwrap();
    for (name, value) in &values {
        assert_eq!(settings[*name], json!(value.len()), "{name}: {body}");
    }
    let uri_len = format!("postgresql://app:{password}@db:5432/sims").len();
    assert_eq!(
        settings["SQLALCHEMY_DATABASE_URI"],
        json!(uri_len),
        "{body}"
    );
    assert!(
        !body.contains(&password),
        "the app shows lengths, never values"
    );
    // Two requests, two batch calls? No: one BatchGetSecretValue for both secrets.
    assert_eq!(moto().count(&akid, BATCH), 1);

    // docker stop: SIGTERM to PID 1, which forwards it; gunicorn drains and exits 0.
    let unshare = child.id() as i32;
    let pid1 = std::fs::read_to_string(format!("/proc/{unshare}/task/{unshare}/children")).unwrap();
    let pid1 = pid1.split_whitespace().next().unwrap().to_owned();
    Command::new("kill")
        .args(["-TERM", &pid1])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let stderr = log.finish();
    let stdout = out.finish();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("Handling signal: term"),
        "gunicorn did not get TERM: {stderr}"
    );
    assert!(
        stderr.contains("resolved 8 variables from 2 secrets"),
        "{stderr}"
    );
    for v in values.iter().map(|(_, v)| v).chain([&password]) {
        assert!(
            !stderr.contains(v.as_str()) && !stdout.contains(v.as_str()),
            "a value leaked: {stderr}{stdout}"
        );
    }
}

#[test]
fn the_example_task_definitions_pass_and_fail_check() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/flask");
    let run = |file: &str| {
        Command::new(SECRUN)
            .args(["check", file])
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    assert_eq!(run("taskdef.json").status.code(), Some(0));
    let plaintext = run("taskdef-plaintext.json");
    assert_eq!(plaintext.status.code(), Some(1));
    let text = String::from_utf8_lossy(&plaintext.stdout);
    for name in SETTINGS.iter().chain(&["SQLALCHEMY_DATABASE_URI"]) {
        assert!(
            text.contains(&format!(" {name} in container web")),
            "{name} not reported: {text}"
        );
    }
    // The committed policy is what `secrun policy` makes of the task definition.
    let policy = Command::new(SECRUN)
        .args(["policy", "--region", "us-east-2", "--kms-key"])
        .arg("arn:aws:kms:us-east-2:111122223333:key/0f2a7c55-3b1e-4c8d-9a6f-52d1e0b7c3a4")
        .arg("taskdef.json")
        .current_dir(&dir)
        .output()
        .unwrap();
    let committed = std::fs::read_to_string(dir.join("terraform/policy.json")).unwrap();
    assert_eq!(String::from_utf8_lossy(&policy.stdout), committed);
}

/// The port a gunicorn log names in its n-th "Listening at" line.
/// gunicorn and the example app under secrun as PID 1 of a PID namespace,
/// against moto with the access key `akid`: the command, for each test to
/// add its references and spawn. gunicorn binds port 0 and names the port
/// in its log (`listening_port`).
fn gunicorn_under_secrun(akid: &str, secrun_args: &[&str], workers: u32) -> Command {
    let gunicorn = python().parent().unwrap().join("gunicorn");
    let app_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/flask");
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc", "--kill-child", SECRUN])
        .args(secrun_args)
        .arg("--")
        .arg(gunicorn)
        .args(["--bind", "127.0.0.1:0", "--workers", &workers.to_string()])
        .args(["--graceful-timeout", "5", "app:app"])
        .current_dir(app_dir)
        .env_clear()
        // No bytecode written into examples/flask.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_ACCESS_KEY_ID", akid)
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_REGION", "us-east-2")
        .env("AWS_ENDPOINT_URL", moto().url())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// The port of gunicorn's `n`th "Listening at" line in `log`.
fn listening_port(log: &str, n: usize) -> Option<u16> {
    let marker = "Listening at: http://127.0.0.1:";
    let rest = log.split(marker).nth(n)?;
    rest[..rest.find(|c: char| !c.is_ascii_digit())?]
        .parse()
        .ok()
}

/// gunicorn and the app under `--watch` as PID 1: the bundle rotates, the
/// app restarts with the new value, TTIN still reaches gunicorn, and TERM
/// ends it cleanly. The downtime is reported, not asserted.
#[test]
fn gunicorn_under_watch_picks_up_a_rotated_setting() {
    if !needs_root() {
        return;
    }
    let bundle_name = unique("simsportal/watch");
    let (old, new) = (secret_value(), format!("{}-rotated-longer", secret_value()));
    moto().secret(
        "us-east-2",
        &bundle_name,
        &json!({"SECRET_KEY": old}).to_string(),
    );
    let akid = unique("AKIAWATCH").replace('-', "");
    let mut child = gunicorn_under_secrun(&akid, &["--watch", "1s", "--watch-spread", "0s"], 1)
        .env("SECRUN_FROM", format!("secretsmanager:{bundle_name}"))
        .spawn()
        .unwrap();
    let log = collect(child.stderr.take().unwrap());
    let out = collect(child.stdout.take().unwrap());
    let port = poll("gunicorn to listen", Duration::from_secs(30), || {
        listening_port(&log.text(), 1)
    });
    let body = poll("the app", Duration::from_secs(30), || {
        http_get(port, "/settings")
    });
    let settings: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(settings["SECRET_KEY"], json!(old.len()), "{body}");

    let unshare = child.id() as i32;
    let pid1 = poll("PID 1", Duration::from_secs(5), || {
        children_of(unshare).first().copied()
    });
    let kill = |sig: &str| {
        Command::new("kill")
            .args([sig, &pid1.to_string()])
            .status()
            .unwrap()
    };
    moto().call(
        "secretsmanager",
        "us-east-2",
        "put_secret_value",
        json!({"SecretId": bundle_name, "SecretString": json!({"SECRET_KEY": new}).to_string()}),
    );
    let port = poll("gunicorn to listen again", Duration::from_secs(30), || {
        listening_port(&log.text(), 2)
    });
    let up = Instant::now();
    let body = poll("the restarted app", Duration::from_secs(30), || {
        http_get(port, "/settings")
    });
    let settings: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(settings["SECRET_KEY"], json!(new.len()), "{body}");
    let text = log.text();
    let down = text
        .split("it was down ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or("?");
    eprintln!(
        "gunicorn restart: secrun's stop-to-exec {down} ms; first answer {} ms after gunicorn listened",
        up.elapsed().as_millis()
    );
    // TTIN still reaches the new gunicorn: one more worker boots.
    let booted = |t: &str| t.matches("Booting worker").count();
    let before = booted(&log.text());
    kill("-TTIN");
    poll("a worker added by TTIN", Duration::from_secs(10), || {
        (booted(&log.text()) > before).then_some(())
    });
    kill("-TERM");
    let status = child.wait().unwrap();
    let text = log.finish() + &out.finish();
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(
        !text.contains(&old) && !text.contains(&new),
        "a value leaked: {text}"
    );
}
