//! Failing safely: faults injected in front of moto on 127.0.0.1 (resets,
//! mangled answers, denials of one secret, unreachable endpoints, missing
//! credentials) and under concurrency. Each failure exits 125 before the
//! application starts, names the variable and the reference, and prints no
//! value. Credential paths (ECS container credentials, web identity, a
//! named profile) are tested with small loopback servers and moto's STS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::json;
use support::*;

const REGION: &str = "us-east-2";

fn seeded(prefix: &str) -> (String, String) {
    let name = unique(prefix);
    let v = secret_value();
    moto().secret(REGION, &name, &v);
    (name, v)
}

#[test]
fn a_connection_reset_is_retried() {
    let (name, v) = seeded("reset-once");
    let mut s = Secrun::aws();
    moto().faults(
        &s.akid,
        json!([{"target": "*", "action": "reset", "count": 1}]),
    );
    s.env("AWS_REGION", REGION)
        .env("R", format!("secretsmanager:{name}"))
        .marker(&v);
    s.run_app().ok().has("R", &v);
}

#[test]
fn resets_that_never_stop_end_in_125_naming_the_variable() {
    let (name, v) = seeded("reset-always");
    let mut s = Secrun::aws();
    moto().faults(
        &s.akid,
        json!([{"target": "*", "action": "reset", "count": -1}]),
    );
    s.env("AWS_REGION", REGION)
        .env("R", format!("secretsmanager:{name}"))
        .args(["--timeout", "3s"])
        .marker(&v);
    s.run_app().fails(125).says(&format!(
        "R (secretsmanager:{name}): no good answer until the deadline ("
    ));
    // A reset is transient: retried until the deadline, not three times.
    assert!(
        moto().count(&s.akid, GET) > 3,
        "{:?}",
        moto().calls(&s.akid)
    );
}

#[test]
fn a_mangled_answer_is_an_error_not_a_value() {
    let (name, v) = seeded("mangled");
    let mut s = Secrun::aws();
    moto().faults(
        &s.akid,
        json!([{"target": "*", "action": "garbage", "count": -1}]),
    );
    s.env("AWS_REGION", REGION)
        .env("M", format!("secretsmanager:{name}"))
        .marker(&v);
    s.run_app().fails(125).says(&format!(
        "M (secretsmanager:{name}): the answer from AWS could not be read"
    ));
}

#[test]
fn access_denied_on_one_secret_names_only_that_one() {
    let (ok_name, ok_v) = seeded("allowed");
    let (denied, denied_v) = seeded("denied");
    let mut s = Secrun::aws();
    // The role may read one secret and not the other: the batch is denied
    // (as AWS denies a batch naming a secret the role may not read), and so
    // is GetSecretValue of that one secret.
    moto().faults(
        &s.akid,
        json!([
            {"target": BATCH, "action": "deny", "count": -1, "body_contains": denied},
            {"target": GET, "action": "deny", "count": -1, "body_contains": denied},
        ]),
    );
    s.env("AWS_REGION", REGION)
        .env("OK", format!("secretsmanager:{ok_name}"))
        .env("DENIED", format!("secretsmanager:{denied}"))
        .marker(&ok_v)
        .marker(&denied_v);
    let run = s.run_app();
    run.fails(125).says(&format!(
        "DENIED (secretsmanager:{denied}): access denied: the role lacks secretsmanager:GetSecretValue on arn:aws:secretsmanager:{REGION}:*:secret:{denied}-??????"
    ));
    assert!(!run.stderr.contains("OK ("), "{}", run.stderr);
}

#[test]
fn an_unreachable_endpoint_ends_in_125() {
    // Port 9 (discard) on loopback: nothing listens there.
    let mut s = Secrun::aws();
    s.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", REGION)
        .env("U", "secretsmanager:anything")
        .args(["--timeout", "20s"]);
    let started = Instant::now();
    s.run_app()
        .fails(125)
        .says("U (secretsmanager:anything): could not reach the endpoint");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "gave up only at the timeout"
    );
}

/// The endpoint is a listener of this test's own: no connection at all
/// may reach it without credentials; with them, one does (the control).
#[test]
fn no_credentials_at_all_ends_in_125_with_the_fix() {
    let endpoint = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    endpoint.set_nonblocking(true).unwrap();
    let url = format!("http://{}", endpoint.local_addr().unwrap());
    let mut s = Secrun::aws();
    s.cmd
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    s.env("AWS_REGION", REGION)
        .env("AWS_ENDPOINT_URL", &url)
        .env("C", "secretsmanager:anything");
    s.run_app()
        .fails(125)
        .says("C (secretsmanager:anything): no usable AWS credentials")
        .says("taskRoleArn");
    assert!(
        endpoint.accept().is_err(),
        "a request went out without credentials"
    );
    // Control: the same run with credentials connects (and times out).
    let mut s = Secrun::aws();
    s.env("AWS_REGION", REGION)
        .env("AWS_ENDPOINT_URL", &url)
        .env("C", "secretsmanager:anything")
        .args(["--timeout", "1s"]);
    s.run_app().fails(125);
    assert!(endpoint.accept().is_ok(), "the control never connected");
}

#[test]
fn a_hundred_secrets_in_five_batches_with_faults_on_some() {
    let mut secrets = Vec::new();
    let mut s = Secrun::aws();
    let mut names = Vec::new();
    for i in 0..100 {
        let name = unique(&format!("fleet/s{i:03}"));
        let v = secret_value();
        secrets.push(json!({"name": name, "string": v}));
        s.env(format!("S{i:03}"), format!("secretsmanager:{name}"))
            .marker(&v);
        names.push((name, v));
    }
    moto().seed(REGION, json!(secrets), json!([]));
    // Throttling on some batch calls, a 500 on some per-secret calls,
    // resets on others: every one recoverable.
    moto().faults(
        &s.akid,
        json!([
            {"target": BATCH, "action": "throttle", "count": 2},
            {"target": GET, "action": "error500", "count": 5},
            {"target": BATCH, "action": "reset", "count": 1},
        ]),
    );
    s.env("AWS_REGION", REGION);
    let run = s.run_app();
    run.ok().says("resolved 100 variables from 100 secrets");
    for (i, (_, v)) in names.iter().enumerate() {
        run.has(&format!("S{i:03}"), v);
    }
    assert_eq!(moto().count(&s.akid, BATCH), 5, "one call per batch of 20");

    // The same fleet with one secret gone: nothing starts, one error.
    let mut s2 = Secrun::aws();
    for (i, (name, v)) in names.iter().enumerate() {
        s2.env(format!("S{i:03}"), format!("secretsmanager:{name}"))
            .marker(v);
    }
    s2.env("AWS_REGION", REGION)
        .env("S050", "secretsmanager:fleet/gone");
    moto().faults(
        &s2.akid,
        json!([{"target": BATCH, "action": "throttle", "count": 3}]),
    );
    let run = s2.run_app();
    run.fails(125)
        .says("S050 (secretsmanager:fleet/gone): no such secret");
    assert_eq!(run.stderr.matches("secrun: S").count(), 1, "{}", run.stderr);
}

/// A loopback server answering every request with `body` (JSON), counting
/// the requests and recording their Authorization headers.
fn credentials_server(body: String) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut auth = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if line.to_ascii_lowercase().starts_with("authorization:") {
                    auth = line.trim().to_owned();
                }
            }
            log.lock().unwrap().push(auth);
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, seen)
}

#[test]
fn ecs_container_credentials_endpoint() {
    let (name, v) = seeded("ecs-creds");
    let akid = unique("ASIAECSTASK").replace('-', "");
    let creds = json!({
        "AccessKeyId": akid,
        "SecretAccessKey": "task-role-secret",
        "Token": "task-role-session-token",
        "Expiration": "2099-01-01T00:00:00Z",
        "RoleArn": "arn:aws:iam::123456789012:role/simsportal-task",
    });
    let (port, seen) = credentials_server(creds.to_string());
    let mut s = Secrun::aws();
    s.cmd
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    s.env(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        format!("http://127.0.0.1:{port}/v2/credentials/abc"),
    )
    .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ecs-agent-token")
    .env("AWS_REGION", REGION)
    .env("T", format!("secretsmanager:{name}"))
    .marker(&v);
    s.run_app().ok().has("T", &v);
    // The task role's keys signed the request to Secrets Manager.
    assert_eq!(moto().count(&akid, BATCH), 1);
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|a| a.contains("ecs-agent-token")),
        "{:?}",
        seen.lock().unwrap()
    );
}

#[test]
fn web_identity_token_through_sts() {
    let (name, v) = seeded("web-identity");
    let mut s = Secrun::aws();
    s.cmd
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let token = s.write(
        "token",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2ln",
    );
    s.env("AWS_WEB_IDENTITY_TOKEN_FILE", &token)
        .env(
            "AWS_ROLE_ARN",
            "arn:aws:iam::123456789012:role/simsportal-irsa",
        )
        .env("AWS_ROLE_SESSION_NAME", "secrun-test")
        .env("AWS_REGION", REGION)
        .env("W", format!("secretsmanager:{name}"))
        .marker(&v);
    // AWS_ENDPOINT_URL sends STS to moto too, which answers
    // AssumeRoleWithWebIdentity with temporary keys.
    s.run_app().ok().has("W", &v);
}

#[test]
fn named_profile_from_the_shared_files() {
    let (name, v) = seeded("profile");
    let mut s = Secrun::aws();
    s.cmd
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let akid = unique("AKIAPROFILE").replace('-', "");
    let config = s.write("config", format!("[profile sims-dev]\nregion = {REGION}\n"));
    let credentials = s.write(
        "credentials",
        format!("[sims-dev]\naws_access_key_id = {akid}\naws_secret_access_key = x\n"),
    );
    s.env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .env("AWS_PROFILE", "sims-dev")
        .env("P", format!("secretsmanager:{name}"))
        .marker(&v);
    // The region comes from the profile too.
    s.run_app().ok().has("P", &v);
    assert_eq!(moto().count(&akid, BATCH), 1);
}
