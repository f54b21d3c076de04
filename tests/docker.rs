//! Under a real Docker engine, as users run it: the images built with
//! `docker build` (secrun packaged from the static binary users get, the
//! example on a locally built Debian base, since no registry is reachable
//! here), the example started with `docker run` and `docker compose`,
//! stopped with `docker stop`, signalled with `docker kill`, and looked at
//! with `docker inspect`, `docker history` and `docker logs`.
//!
//! scripts/test starts the engine (tests/docker/daemon) and builds the
//! static binary first; the tests find the engine in `$TESTS_DOCKER_HOST`.
//! The commands in `README` are the README's Docker section, word for word
//! (the test checks they are there), run in the repository's root; each
//! test runs its containers alone, on port 8000 as the README does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::*;

/// The local base image the tests build the example on.
const BASE: &str = "secrun-test/python:bookworm";

const BUILD_SECRUN: &str = "docker build -t secrun:local -f docker/Dockerfile --target prebuilt target/x86_64-unknown-linux-gnu/release";
const BUILD_APP: &str = "docker build -t simsportal examples/flask";
const RUN_APP: &str = r#"docker run -d --name simsportal --network host \
  -v "$PWD/examples/flask/dev-secrets.json:/run/dev-secrets.json:ro" \
  -e SECRUN_SECRETS_FILE=/run/dev-secrets.json \
  -e SECRUN_FROM=arn:aws:secretsmanager:us-east-2:111122223333:secret:simsportal/prod \
  -e 'SQLALCHEMY_DATABASE_URI=postgresql://app:${secretsmanager:rds/sims:password}@db:5432/sims' \
  simsportal"#;
const STOP_APP: &str = "docker stop simsportal";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One container on port 8000 at a time.
fn alone() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn docker_host() -> String {
    std::env::var("TESTS_DOCKER_HOST")
        .expect("TESTS_DOCKER_HOST is not set: run scripts/test, which starts a Docker engine")
}

/// A shell in the repository's root, with the engine's client (Debian's
/// docker.io, which drives BuildKit itself) first on PATH.
fn sh(script: &str) -> Output {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(root())
        .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
        .env("DOCKER_HOST", docker_host())
        .env("DOCKER_BUILDKIT", "1")
        .env("COMPOSE_DOCKER_CLI_BUILD", "1")
        .output()
        .unwrap();
    out
}

fn ok(script: &str) -> String {
    let out = sh(script);
    assert!(
        out.status.success(),
        "{script}\nstatus {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn inspect(what: &str) -> Value {
    let text = ok(&format!("docker inspect {what}"));
    serde_json::from_str::<Value>(&text).unwrap()[0].clone()
}

/// Both images, built once per test binary: secrun from the static binary
/// scripts/test built, the example on the local base image.
fn images() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
        for command in [BUILD_SECRUN, BUILD_APP, RUN_APP, STOP_APP] {
            assert!(readme.contains(command), "README lacks: {command}");
        }
        assert!(
            root()
                .join("target/x86_64-unknown-linux-gnu/release/secrun")
                .exists(),
            "no static binary: run scripts/test (scripts/build-static)"
        );
        ok(BUILD_SECRUN);
        ok(&format!(
            "{BUILD_APP} --network host --build-arg PYTHON_IMAGE={BASE}"
        ));
    });
}

fn logs(name: &str) -> String {
    let out = sh(&format!("docker logs {name}"));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Wait for the app's first answer; fail with the container's logs.
fn settings(name: &str) -> Value {
    let start = Instant::now();
    loop {
        if let Some(body) = http_get(8000, "/settings") {
            return serde_json::from_str(&body).unwrap();
        }
        let state = inspect(name);
        assert!(
            state["State"]["Running"] == json!(true) && start.elapsed() < Duration::from_secs(60),
            "the app never answered: {}\n{}",
            state["State"],
            logs(name)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The lengths the example's settings should have, from a secrets file.
fn expected_lengths(secrets: &Path) -> BTreeMap<String, usize> {
    let file: Value = serde_json::from_str(&std::fs::read_to_string(secrets).unwrap()).unwrap();
    let mut out: BTreeMap<String, usize> = file["simsportal/prod"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().len()))
        .collect();
    let password = file["rds/sims"]["password"].as_str().unwrap();
    out.insert(
        "SQLALCHEMY_DATABASE_URI".into(),
        format!("postgresql://app:{password}@db:5432/sims").len(),
    );
    out
}

fn assert_settings(got: &Value, want: &BTreeMap<String, usize>) {
    for (name, len) in want {
        assert_eq!(got[name], json!(len), "{name}: {got}");
    }
}

fn remove(name: &str) {
    let _ = sh(&format!("docker rm -f {name}"));
}

#[test]
fn the_images_build_and_the_app_runs_secrun_as_a_non_root_user() {
    if !needs_root() {
        return;
    }
    images();
    let app = inspect("simsportal");
    assert_eq!(app["Config"]["Entrypoint"], json!(["secrun", "--"]));
    assert_eq!(app["Config"]["User"], json!("app"));
    let secrun = inspect("secrun:local");
    assert_eq!(secrun["Config"]["Entrypoint"], json!(["/secrun"]));
    assert_eq!(secrun["Config"]["User"], json!("65532:65532"));
    // The image holds secrun and nothing else.
    let history = ok("docker history --no-trunc --format '{{.CreatedBy}}' secrun:local");
    assert!(history.contains("COPY secrun /secrun"), "{history}");
}

#[test]
fn docker_run_gets_every_setting_and_docker_stop_and_kill_reach_gunicorn() {
    if !needs_root() {
        return;
    }
    images();
    let _alone = alone();
    remove("simsportal");
    ok(RUN_APP);
    let got = settings("simsportal");
    assert_settings(
        &got,
        &expected_lengths(&root().join("examples/flask/dev-secrets.json")),
    );

    // docker kill -s TTIN adds a gunicorn worker, TTOU removes one, HUP
    // reloads them: secrun forwards each as it is.
    let booted = |l: &str| l.matches("Booting worker").count();
    let before = booted(&logs("simsportal"));
    ok("docker kill -s TTIN simsportal");
    poll("a worker added by TTIN", Duration::from_secs(20), || {
        (booted(&logs("simsportal")) > before).then_some(())
    });
    ok("docker kill -s TTOU simsportal");
    poll("a worker removed by TTOU", Duration::from_secs(20), || {
        logs("simsportal")
            .contains("Handling signal: ttou")
            .then_some(())
    });
    ok("docker kill -s HUP simsportal");
    poll(
        "the workers reloaded by HUP",
        Duration::from_secs(20),
        || {
            logs("simsportal")
                .contains("Handling signal: hup")
                .then_some(())
        },
    );

    let started = Instant::now();
    ok(STOP_APP);
    let stop = started.elapsed();
    eprintln!("docker stop took {} ms", stop.as_millis());
    assert!(
        stop < Duration::from_secs(5),
        "docker stop took {stop:?}: TERM did not reach gunicorn"
    );
    let state = inspect("simsportal");
    assert_eq!(
        state["State"]["ExitCode"],
        json!(0),
        "{}",
        logs("simsportal")
    );
    let text = logs("simsportal");
    assert!(text.contains("Handling signal: term"), "{text}");
    assert!(text.contains("Shutting down: Master"), "{text}");
    remove("simsportal");
}

#[test]
fn docker_compose_runs_both_example_files_and_down_ends_cleanly() {
    if !needs_root() {
        return;
    }
    images();
    let _alone = alone();
    let dir = "examples/flask";
    let local =
        format!("docker-compose -f {dir}/compose.yaml -f tests/docker/compose.override.yaml");
    let _ = sh(&format!("{local} down --remove-orphans"));
    ok(&format!("{local} up -d --build"));
    let container = ok(&format!("{local} ps -q web")).trim().to_owned();
    let got = settings(&container);
    assert_settings(
        &got,
        &expected_lengths(&root().join("examples/flask/dev-secrets.json")),
    );
    ok(&format!("{local} down"));
    assert!(
        http_get(8000, "/settings").is_none(),
        "still answering after down"
    );

    // Against moto's Secrets Manager on the compose network, seeded by the
    // seed service, reached by its service name.
    let aws = format!(
        "docker-compose -f {dir}/compose.moto.yaml -f tests/docker/compose.moto.override.yaml"
    );
    let _ = sh(&format!("{aws} down --remove-orphans"));
    ok(&format!("{aws} up -d --build"));
    let container = ok(&format!("{aws} ps -q web")).trim().to_owned();
    let got = settings(&container);
    let seeded: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/flask/seed/simsportal.json")).unwrap(),
    )
    .unwrap();
    for (name, v) in seeded.as_object().unwrap() {
        assert_eq!(got[name], json!(v.as_str().unwrap().len()), "{name}");
    }
    let text = logs(&container);
    assert!(
        text.contains("resolved 8 variables from 2 secrets"),
        "{text}"
    );
    ok(&format!("{aws} down"));
    assert!(
        http_get(8000, "/settings").is_none(),
        "still answering after down"
    );
}

/// No plaintext where Docker shows configuration: the image, the
/// container, the image's history and the logs hold references only.
#[test]
fn docker_shows_references_never_values() {
    if !needs_root() {
        return;
    }
    images();
    let _alone = alone();
    remove("simsportal");
    // The README's run, with a secrets file of random values.
    let dir = scratch();
    let values: Vec<String> = (0..8).map(|_| secret_value()).collect();
    let bundle: serde_json::Map<String, Value> = SETTINGS
        .iter()
        .zip(&values)
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let secrets = dir.join("dev-secrets.json");
    std::fs::write(
        &secrets,
        json!({"simsportal/prod": bundle, "rds/sims": {"password": values[7]}}).to_string(),
    )
    .unwrap();
    let run = RUN_APP.replace(
        "$PWD/examples/flask/dev-secrets.json",
        &secrets.to_string_lossy(),
    );
    ok(&run);
    let got = settings("simsportal");
    assert_settings(&got, &expected_lengths(&secrets));
    let mut shown = String::new();
    for what in ["simsportal", "secrun:local"] {
        let i = inspect(what);
        for key in ["Env", "Cmd", "Entrypoint", "Labels"] {
            shown.push_str(&i["Config"][key].to_string());
        }
    }
    let container = inspect("simsportal");
    assert!(
        container["Config"]["Env"].to_string().contains(
            "SECRUN_FROM=arn:aws:secretsmanager:us-east-2:111122223333:secret:simsportal/prod"
        ),
        "the references are where docker inspect shows them"
    );
    shown.push_str(&ok("docker history --no-trunc simsportal"));
    shown.push_str(&ok("docker history --no-trunc secrun:local"));
    ok(STOP_APP);
    shown.push_str(&logs("simsportal"));
    for v in &values {
        assert!(!shown.contains(v.as_str()), "a value shows in Docker: {v}");
    }
    remove("simsportal");
}

/// A secret that is not there: the container exits 125 at once, its log
/// names the variable and the reference, and gunicorn never started.
#[test]
fn a_missing_secret_exits_125_at_once_naming_it() {
    if !needs_root() {
        return;
    }
    images();
    let _alone = alone();
    remove("simsportal-missing");
    let run = RUN_APP
        .replace("--name simsportal", "--name simsportal-missing")
        .replace(
            "simsportal/prod \\",
            "simsportal/prod \\\n  -e SENTRY_DSN=secretsmanager:sentry/dsn \\",
        );
    let started = Instant::now();
    ok(&run);
    let status = poll("the container to exit", Duration::from_secs(30), || {
        let s = inspect("simsportal-missing");
        (s["State"]["Running"] == json!(false)).then(|| s["State"]["ExitCode"].clone())
    });
    assert_eq!(status, json!(125));
    assert!(started.elapsed() < Duration::from_secs(20));
    let text = logs("simsportal-missing");
    assert!(
        text.contains("SENTRY_DSN (secretsmanager:sentry/dsn): not in the secrets file"),
        "{text}"
    );
    assert!(
        !text.contains("Starting gunicorn"),
        "the app started: {text}"
    );
    remove("simsportal-missing");
}

/// A read-only root and a non-root user work; Docker's own init (tini)
/// in front: secrun, not PID 1, still resolves, and signals still reach
/// gunicorn.
#[test]
fn read_only_and_docker_init_work() {
    if !needs_root() {
        return;
    }
    images();
    let _alone = alone();
    for extra in ["--read-only --user 10001 --tmpfs /tmp", "--init"] {
        remove("simsportal");
        let run = RUN_APP.replace("--network host", &format!("--network host {extra}"));
        ok(&run);
        let got = settings("simsportal");
        assert_settings(
            &got,
            &expected_lengths(&root().join("examples/flask/dev-secrets.json")),
        );
        ok(STOP_APP);
        let state = inspect("simsportal");
        assert_eq!(
            state["State"]["ExitCode"],
            json!(0),
            "{extra}: {}",
            logs("simsportal")
        );
        assert!(
            logs("simsportal").contains("Handling signal: term"),
            "{extra}"
        );
        remove("simsportal");
    }
}
