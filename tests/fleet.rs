//! Fetching under AWS's quotas, against moto behind the fault layer: a
//! throttled or transient request is retried until the deadline (not a
//! fixed number of times), at most a bounded number of requests are in
//! flight whatever the number of secrets, and each answer is recorded as
//! it arrives, so one hung request hides no other variable's result. The
//! fleet itself (hundreds of processes against scaled quotas) is measured
//! by scripts/bench-fleet, not asserted here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use support::*;

const REGION: &str = "us-east-2";

/// A new secret named after PREFIX, and a secrun whose requests meet FAULTS.
fn secret_behind_faults(prefix: &str, faults: serde_json::Value) -> (Secrun, String, String) {
    let name = unique(prefix);
    let v = secret_value();
    moto().secret(REGION, &name, &v);
    let s = Secrun::aws();
    moto().faults(&s.akid, faults);
    (s, name, v)
}

#[test]
fn a_throttled_request_is_retried_past_three_attempts_within_the_deadline() {
    // The batch call and the first five single calls are throttled.
    let (mut s, name, v) = secret_behind_faults(
        "throttled",
        json!([
            {"target": BATCH, "action": "throttle", "count": -1},
            {"target": GET, "action": "throttle", "count": 5},
        ]),
    );
    s.env("AWS_REGION", REGION)
        .env("T", format!("secretsmanager:{name}"))
        .args(["--timeout", "20s"])
        .marker(&v);
    s.run_app().ok().has("T", &v);
    assert_eq!(
        moto().count(&s.akid, BATCH),
        1,
        "a throttled batch is not retried as a batch"
    );
    assert_eq!(
        moto().count(&s.akid, GET),
        6,
        "five throttled attempts, then the answer"
    );
}

#[test]
fn throttled_parameters_are_retried_too() {
    let param = format!("/{}", unique("throttled-param"));
    let v = secret_value();
    moto().seed(REGION, json!([]), json!([{"name": param, "value": v}]));
    let mut s = Secrun::aws();
    moto().faults(
        &s.akid,
        json!([{"target": PARAMS, "action": "throttle", "count": 4}]),
    );
    s.env("AWS_REGION", REGION)
        .env("P", format!("ssm:{param}"))
        .marker(&v);
    s.run_app().ok().has("P", &v);
    assert_eq!(moto().count(&s.akid, PARAMS), 5);
}

#[test]
fn errors_retrying_cannot_fix_are_reported_at_once() {
    let mut s = Secrun::aws();
    moto().faults(
        &s.akid,
        json!([{"target": GET, "action": "deny", "count": -1}, {"target": BATCH, "action": "throttle", "count": -1}]),
    );
    s.env("AWS_REGION", REGION)
        .env("D", "secretsmanager:denied-secret")
        .env("N", format!("secretsmanager:{}", unique("never-created")))
        .args(["--timeout", "20s"]);
    let started = std::time::Instant::now();
    s.run_app()
        .fails(125)
        .says("D (secretsmanager:denied-secret): access denied");
    assert_eq!(moto().count(&s.akid, GET), 2, "each asked once");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// A hung attempt is cut off and retried while the deadline has room.
#[test]
fn a_hung_attempt_is_retried_within_a_short_timeout() {
    let (mut s, name, v) = secret_behind_faults(
        "hangs-once",
        json!([
            {"target": BATCH, "action": "throttle", "count": -1},
            {"target": GET, "action": "hang", "seconds": 60, "count": 1},
        ]),
    );
    s.env("AWS_REGION", REGION)
        .env("H", format!("secretsmanager:{name}"))
        .args(["--timeout", "6s"])
        .marker(&v);
    s.run_app().ok().has("H", &v);
    assert_eq!(moto().count(&s.akid, GET), 2);
}

/// Each answer is recorded as it arrives: the batch call hangs, its
/// secrets are asked one by one, and at the deadline only the one that
/// never answered reports a timeout; the others report their own result.
#[test]
fn a_hung_request_hides_no_other_variables_result() {
    let ok = unique("fine");
    let denied = unique("denied");
    let hangs = unique("hangs");
    let v = secret_value();
    moto().seed(
        REGION,
        json!([{"name": ok, "string": v}, {"name": denied, "string": "x"}, {"name": hangs, "string": "y"}]),
        json!([]),
    );
    let mut s = Secrun::aws();
    moto().faults(
        &s.akid,
        json!([
            {"target": BATCH, "action": "hang", "seconds": 60, "count": -1},
            {"target": GET, "body_contains": denied, "action": "deny", "count": -1},
            {"target": GET, "body_contains": hangs, "action": "hang", "seconds": 60, "count": -1},
        ]),
    );
    s.env("AWS_REGION", REGION)
        .env("OK", format!("secretsmanager:{ok}"))
        .env("DENIED", format!("secretsmanager:{denied}"))
        .env("HANGS", format!("secretsmanager:{hangs}"))
        .args(["--timeout", "6s", "verify"])
        .marker(&v);
    let run = s.run();
    assert_eq!(run.code(), 125, "{}", run.stderr);
    run.prints(&format!("OK      OK      {} bytes", v.len()))
        .prints(&format!(
            "DENIED  FAILED  secretsmanager:{denied}: access denied"
        ))
        .prints(&format!(
            "HANGS   FAILED  secretsmanager:{hangs}: no answer within the 6000 ms timeout"
        ));
}

/// However many secrets, at most a bounded number of requests are in
/// flight at once; and the fallback does run them concurrently.
#[test]
fn requests_in_flight_are_bounded_and_concurrent() {
    let mut s = Secrun::aws();
    let mut names = Vec::new();
    let mut secrets = Vec::new();
    for i in 0..60 {
        let name = unique(&format!("many/s{i:02}"));
        secrets.push(json!({"name": name, "string": format!("v{i}")}));
        names.push(name);
    }
    moto().seed(REGION, json!(secrets), json!([]));
    moto().faults(
        &s.akid,
        json!([
            {"target": BATCH, "action": "deny", "count": -1},
            {"target": GET, "action": "delay", "seconds": 0.3, "count": -1},
        ]),
    );
    s.env("AWS_REGION", REGION);
    for (i, name) in names.iter().enumerate() {
        s.env(format!("S{i:02}"), format!("secretsmanager:{name}"));
    }
    s.run_app().ok();
    let gets: Vec<Call> = moto()
        .calls(&s.akid)
        .into_iter()
        .filter(|c| c.target == GET)
        .collect();
    assert_eq!(gets.len(), 60);
    // The most requests open at one moment: at a start, count the calls
    // that started before it and had not ended.
    let most = gets
        .iter()
        .map(|c| {
            gets.iter()
                .filter(|o| o.start <= c.start && o.end > c.start)
                .count()
        })
        .max()
        .unwrap();
    assert!(most <= 16, "{most} requests in flight at once");
    assert!(
        most >= 8,
        "only {most} at once: the fallback is not concurrent"
    );
}
