//! The run path end to end: the built `secrun` against moto's Secrets Manager
//! and SSM on 127.0.0.1, the local secrets file, env files, `_FILE`
//! variables, `explain` and `verify`. Every run checks that no secret value
//! appears in secrun's own stdout or stderr.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use support::*;

const REGION: &str = "us-east-2";

/// A JSON secret with distinctive values; returns (name, ARN, values).
fn app_secret(keys: &[&str]) -> (String, String, Vec<(String, String)>) {
    let name = unique("simsportal/prod");
    let values: Vec<(String, String)> = keys
        .iter()
        .map(|k| (k.to_string(), secret_value()))
        .collect();
    let obj: serde_json::Map<String, serde_json::Value> =
        values.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let arn = moto().secret(REGION, &name, &serde_json::Value::Object(obj).to_string());
    (name, arn, values)
}

#[test]
fn ecs_value_from_arn_resolves_with_no_region_configured() {
    let (_, arn, values) = app_secret(&["SECRET_KEY", "SLACK_BOT_TOKEN"]);
    let mut s = Secrun::aws();
    for (_, v) in &values {
        s.marker(v);
    }
    // The ECS valueFrom syntax verbatim, empty trailing fields included.
    s.env("SECRET_KEY", format!("{arn}:SECRET_KEY::"))
        .env("SIMS_PORTAL_SLACK_BOT", format!("{arn}:SLACK_BOT_TOKEN::"))
        .env("PLAIN", "unchanged");
    let run = s.run_app();
    run.ok()
        .has("SECRET_KEY", &values[0].1)
        .has("SIMS_PORTAL_SLACK_BOT", &values[1].1)
        .has("PLAIN", "unchanged")
        .says("resolved 2 variables from 1 secret in");
    // One secret, one call, sent to the ARN's region.
    let calls = moto().calls(&s.akid);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(
        (calls[0].target.as_str(), calls[0].region.as_str()),
        (BATCH, REGION)
    );
}

#[test]
fn partial_arn_name_and_full_arn_map_back_to_their_variables() {
    let a = secret_value();
    let name = unique("app/db");
    let full = moto().secret(REGION, &name, &a);
    let partial = full[..full.len() - 7].to_owned();
    let other = secret_value();
    // A second secret whose name ends like the first must not be confused.
    let suffix_name = format!("x{name}");
    moto().secret(REGION, &suffix_name, &other);
    let mut s = Secrun::aws();
    s.marker(&a).marker(&other);
    s.env("AWS_REGION", REGION)
        .env("FULL", &full)
        .env("PARTIAL", &partial)
        .env("NAME", format!("secretsmanager:{name}"))
        .env("OTHER", format!("secretsmanager:{suffix_name}"));
    let run = s.run_app();
    run.ok()
        .has("FULL", &a)
        .has("PARTIAL", &a)
        .has("NAME", &a)
        .has("OTHER", &other);
}

#[test]
fn ssm_parameters_short_arn_and_pinned_forms_use_get_parameters() {
    let name = format!("/{}/db-url", unique("sims"));
    let (v1, v2) = (secret_value(), secret_value());
    moto().seed(
        REGION,
        json!([]),
        json!([{"name": name, "values": [v1, v2]}]),
    );
    let mut s = Secrun::aws();
    s.marker(&v1).marker(&v2);
    s.env("AWS_REGION", REGION)
        .env("DB_URL", format!("ssm:{name}"))
        .env(
            "DB_URL_ARN_FORM",
            format!("arn:aws:ssm:{REGION}:123456789012:parameter{name}"),
        )
        .env("DB_URL_V1", format!("ssm:{name}:1"));
    let run = s.run_app();
    run.ok()
        .has("DB_URL", &v2)
        .has("DB_URL_ARN_FORM", &v2)
        .has("DB_URL_V1", &v1);
    let calls = moto().calls(&s.akid);
    assert!(calls.iter().all(|c| c.target == PARAMS), "{calls:?}");
    assert_eq!(
        calls.len(),
        2,
        "one call for the names, one for the pinned version"
    );
}

#[test]
fn inline_reference_and_bundle_build_the_flask_settings() {
    let password = format!("p@ss{}", secret_value());
    let rds = unique("rds/sims");
    moto().secret(
        REGION,
        &rds,
        &json!({"password": password, "port": 5432}).to_string(),
    );
    let (bundle, _, values) =
        app_secret(&["GOOGLE_MAPS_API_TOKEN", "CONSUMER_KEY", "CONSUMER_SECRET"]);
    let mut s = Secrun::aws();
    s.marker(&password);
    for (_, v) in &values {
        s.marker(v);
    }
    s.env("AWS_REGION", REGION)
        .env("SECRUN_FROM", format!("secretsmanager:{bundle}"))
        .env(
            "SQLALCHEMY_DATABASE_URI",
            format!("postgresql://app:${{secretsmanager:{rds}:password}}@db:${{secretsmanager:{rds}:port}}/sims"),
        );
    let run = s.run_app();
    run.ok()
        .has(
            "SQLALCHEMY_DATABASE_URI",
            &format!("postgresql://app:{password}@db:5432/sims"),
        )
        .has("GOOGLE_MAPS_API_TOKEN", &values[0].1)
        .has("CONSUMER_SECRET", &values[2].1)
        .lacks("SECRUN_FROM");
    // Both secrets in one batch call.
    assert_eq!(moto().count(&s.akid, BATCH), 1);
}

#[test]
fn bundle_precedence_env_file_then_bundle_then_process() {
    let name = unique("bundle");
    let (a, b, c) = (secret_value(), secret_value(), secret_value());
    moto().secret(
        REGION,
        &name,
        &json!({"A": a, "B": b, "C": c, "N": 8000, "T": true, "O": {"x": [1, 2]}}).to_string(),
    );
    let mut s = Secrun::aws();
    let file = s.write("app.env", "A=from-file\nD=from-file\n");
    s.env("AWS_REGION", REGION)
        .env("C", "from-process")
        .args(["--env-file".as_ref(), file.as_os_str()])
        .args(["--from", &format!("secretsmanager:{name}")])
        .marker(&a)
        .marker(&b)
        .marker(&c);
    let run = s.run_app();
    run.ok()
        .has("A", &a)
        .has("B", &b)
        .has("C", "from-process")
        .has("D", "from-file")
        .has("N", "8000")
        .has("T", "true")
        .has("O", r#"{"x":[1,2]}"#);
}

#[test]
fn bundle_keys_that_could_run_code_are_refused_not_dropped() {
    let name = unique("evil");
    let v = secret_value();
    moto().secret(
        REGION,
        &name,
        &json!({"LD_PRELOAD": "/tmp/x.so", "PATH": "/evil", format!("p@ss{v}"): "x", "OK": v})
            .to_string(),
    );
    let mut s = Secrun::aws();
    // A key that is not a valid name may be a credential: never echoed.
    s.marker(&v);
    s.env("AWS_REGION", REGION)
        .args(["--from", &format!("secretsmanager:{name}")]);
    let run = s.run_app();
    run.fails(125)
        .says("LD_PRELOAD")
        .says("PATH")
        .says(&format!("key #3 ({} bytes): refused", 4 + v.len()))
        .says(&name);
}

#[test]
fn forty_five_secrets_take_three_batch_calls_run_in_parallel() {
    let mut s = Secrun::aws();
    let mut secrets = Vec::new();
    let mut expected = Vec::new();
    for i in 0..45 {
        let name = unique(&format!("many/s{i}"));
        let v = secret_value();
        secrets.push(json!({"name": name, "string": v}));
        s.env(format!("S{i}"), format!("secretsmanager:{name}"));
        s.marker(&v);
        expected.push(v);
    }
    moto().seed(REGION, json!(secrets), json!([]));
    // Each batch call takes 400 ms at the server, so overlap is visible.
    moto().faults(
        &s.akid,
        json!([{"target": BATCH, "action": "delay", "seconds": 0.4, "count": -1}]),
    );
    s.env("AWS_REGION", REGION);
    let run = s.run_app();
    run.ok().says("resolved 45 variables from 45 secrets");
    for (i, v) in expected.iter().enumerate() {
        run.has(&format!("S{i}"), v);
    }
    let calls = moto().calls(&s.akid);
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(calls.iter().all(|c| c.target == BATCH));
    for a in &calls {
        for b in &calls {
            assert!(
                a.start < b.end && b.start < a.end,
                "batch calls did not overlap: {calls:?}"
            );
        }
    }
}

#[test]
fn batches_for_different_regions_run_in_parallel() {
    let mut s = Secrun::aws();
    let mut regions = Vec::new();
    for region in ["us-east-1", "eu-west-1", "ap-southeast-2"] {
        let v = secret_value();
        let arn = moto().secret(region, &unique("regional"), &v);
        s.env(format!("R_{}", region.replace('-', "_")), &arn)
            .marker(&v);
        regions.push((region, v));
    }
    moto().faults(
        &s.akid,
        json!([{"target": BATCH, "action": "delay", "seconds": 0.4, "count": -1}]),
    );
    let run = s.run_app();
    run.ok();
    for (region, v) in &regions {
        run.has(&format!("R_{}", region.replace('-', "_")), v);
    }
    let calls = moto().calls(&s.akid);
    let mut seen: Vec<&str> = calls.iter().map(|c| c.region.as_str()).collect();
    seen.sort();
    assert_eq!(seen, ["ap-southeast-2", "eu-west-1", "us-east-1"]);
    for a in &calls {
        for b in &calls {
            assert!(
                a.start < b.end && b.start < a.end,
                "regional calls did not overlap: {calls:?}"
            );
        }
    }
}

#[test]
fn pinned_stage_uses_get_secret_value() {
    let name = unique("rotated");
    let (old, new) = (secret_value(), secret_value());
    moto().seed(REGION, json!([{"name": name, "string": json!({"k": old}).to_string(), "updates": [json!({"k": new}).to_string()]}]), json!([]));
    let mut s = Secrun::aws();
    s.marker(&old).marker(&new);
    s.env("AWS_REGION", REGION)
        .env("CURRENT", format!("secretsmanager:{name}:k"))
        .env("PREVIOUS", format!("secretsmanager:{name}:k:AWSPREVIOUS"));
    let run = s.run_app();
    run.ok().has("CURRENT", &new).has("PREVIOUS", &old);
    assert_eq!(moto().count(&s.akid, BATCH), 1);
    assert_eq!(moto().count(&s.akid, GET), 1);
}

#[test]
fn denied_batch_call_falls_back_to_get_secret_value() {
    let mut s = Secrun::aws();
    let mut values = Vec::new();
    for i in 0..3 {
        let v = secret_value();
        let name = unique("fallback");
        moto().secret(REGION, &name, &v);
        s.env(format!("F{i}"), format!("secretsmanager:{name}"))
            .marker(&v);
        values.push(v);
    }
    moto().faults(
        &s.akid,
        json!([{"target": BATCH, "action": "deny", "count": -1}]),
    );
    s.env("AWS_REGION", REGION);
    let run = s.run_app();
    run.ok()
        .has("F0", &values[0])
        .has("F1", &values[1])
        .has("F2", &values[2]);
    assert_eq!(moto().count(&s.akid, BATCH), 1);
    assert_eq!(moto().count(&s.akid, GET), 3);
}

#[test]
fn throttled_batch_call_switches_to_get_secret_value_at_once() {
    let mut s = Secrun::aws();
    let v = secret_value();
    let name = unique("throttled");
    moto().secret(REGION, &name, &v);
    moto().faults(
        &s.akid,
        json!([{"target": BATCH, "action": "throttle", "count": -1}]),
    );
    s.env("AWS_REGION", REGION)
        .env("T", format!("secretsmanager:{name}"))
        .marker(&v);
    s.run_app().ok().has("T", &v);
    // Not retried: one batch call, then the per-secret call.
    assert_eq!(moto().count(&s.akid, BATCH), 1);
    assert_eq!(moto().count(&s.akid, GET), 1);
}

/// The AWS configuration file is a FIFO: whoever opens it to read blocks
/// until a writer comes, so a run that opens it cannot end on its own.
#[test]
fn no_reference_means_no_request_and_no_aws_configuration() {
    let fifo_in = |s: &Secrun| {
        let fifo = s.dir.join("aws-config");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        fifo
    };
    let mut s = Secrun::aws();
    let fifo = fifo_in(&s);
    s.env("AWS_CONFIG_FILE", &fifo)
        .env("AWS_PROFILE", "does-not-exist")
        .env("PLAIN", "x")
        .env("SOME_ARN", "arn:aws:sns:us-east-1:111122223333:t")
        .args(["--timeout", "3s"]);
    let run = s.run_app();
    run.ok()
        .has("PLAIN", "x")
        .has("AWS_PROFILE", "does-not-exist");
    assert!(!run.stderr.contains("resolved"), "{}", run.stderr);
    assert!(moto().calls(&s.akid).is_empty());

    // Positive control: with a reference, the same run reads the file (and
    // blocks on it until its --timeout).
    let mut s = Secrun::aws();
    let fifo = fifo_in(&s);
    s.env("AWS_CONFIG_FILE", &fifo)
        .env("AWS_REGION", REGION)
        .env("X", "secretsmanager:anything")
        .args(["--timeout", "2s"]);
    s.run_app()
        .fails(125)
        .says("X (secretsmanager:anything): no answer within");
}

#[test]
fn every_failing_variable_is_reported_and_nothing_starts() {
    let name = unique("present");
    let v = secret_value();
    moto().secret(REGION, &name, &json!({"a": v, "n": null}).to_string());
    let plain = unique("plain");
    let pv = secret_value();
    moto().secret(REGION, &plain, &pv);
    let mut s = Secrun::aws();
    s.marker(&v).marker(&pv);
    s.env("AWS_REGION", REGION)
        .env("GOOD", format!("secretsmanager:{name}:a"))
        .env("MISSING_SECRET", "secretsmanager:no/such/secret")
        .env("MISSING_KEY", format!("secretsmanager:{name}:nokey"))
        .env("NULL_KEY", format!("secretsmanager:{name}:n"))
        .env("NOT_JSON", format!("secretsmanager:{plain}:k"))
        .env("MISSING_PARAM", "ssm:/no/such/param")
        .env("BAD_REF", "arn:aws:secretsmanager:us-east-2::secret:x")
        .env("UNSET_VAR", "postgresql://app:${DB_PASWORD}@db");
    let run = s.run_app();
    run.fails(125)
        .says("MISSING_SECRET (secretsmanager:no/such/secret): no such secret")
        .says(&format!("MISSING_KEY (secretsmanager:{name}:nokey): the secret has no key \"nokey\" (it has 2 keys)"))
        .says("NULL_KEY")
        .says("is null")
        .says("NOT_JSON")
        .says("not JSON")
        .says("MISSING_PARAM (ssm:/no/such/param): no such parameter")
        .says("BAD_REF (arn:aws:secretsmanager:us-east-2::secret:x): not a valid reference: the account id is missing")
        .says("UNSET_VAR: ${DB_PASWORD} is not set and has no default")
        .says("$${DB_PASWORD}")
        .says("--no-interpolate");
    assert!(!run.stderr.contains("GOOD"), "{}", run.stderr);
}

#[test]
fn access_denied_names_the_action_and_resource() {
    let mut s = Secrun::aws();
    moto().faults(
        &s.akid,
        json!([{"target": "*", "action": "deny", "count": -1}]),
    );
    s.env("AWS_REGION", REGION)
        .env("DB", "secretsmanager:rds/sims:password")
        .env(
            "FULL",
            "arn:aws:secretsmanager:us-east-2:111122223333:secret:app-AbCdEf",
        )
        .env("P", "ssm:/sims/db");
    let run = s.run_app();
    run.fails(125)
        .says("DB (secretsmanager:rds/sims:password): access denied: the role lacks secretsmanager:GetSecretValue on arn:aws:secretsmanager:us-east-2:*:secret:rds/sims-??????")
        .says("the role lacks secretsmanager:GetSecretValue on arn:aws:secretsmanager:us-east-2:111122223333:secret:app-AbCdEf")
        .says("P (ssm:/sims/db): access denied: the role lacks ssm:GetParameters on arn:aws:ssm:us-east-2:*:parameter/sims/db");
}

#[test]
fn secret_binary_and_nul_bytes_cannot_enter_the_environment() {
    let bin = unique("binary");
    let nul = unique("nul");
    let v = secret_value();
    moto().seed(
        REGION,
        json!([{"name": bin, "binary_b64": "AAEC"}, {"name": nul, "string": format!("{v}\u{0}tail")}]),
        json!([]),
    );
    let mut s = Secrun::aws();
    s.marker(&v);
    s.env("AWS_REGION", REGION)
        .env("BIN", format!("secretsmanager:{bin}"))
        .env("NUL", format!("secretsmanager:{nul}"));
    s.run_app()
        .fails(125)
        .says("BIN")
        .says("SecretBinary")
        .says(&format!(
            "NUL (secretsmanager:{nul}): the value contains a NUL byte"
        ))
        .says("base64-encode binary data");
}

#[test]
fn arn_names_and_keep_pass_through_untouched() {
    let mut s = Secrun::aws();
    let arn = "arn:aws:secretsmanager:us-east-2:111122223333:secret:rds-AbCdEf";
    s.env("DB_SECRET_ARN", arn)
        .env("RAW", "ssm:/not/resolved ${NOPE}")
        .env("SECRUN_KEEP", "RAW");
    let run = s.run_app();
    run.ok()
        .has("DB_SECRET_ARN", arn)
        .has("RAW", "ssm:/not/resolved ${NOPE}")
        .lacks("SECRUN_KEEP");
    assert!(moto().calls(&s.akid).is_empty());
}

#[test]
fn optional_missing_secret_leaves_the_variable_unset_with_a_warning() {
    let name = unique("opt");
    moto().secret(REGION, &name, &json!({"a": "1"}).to_string());
    let mut s = Secrun::aws();
    s.env("AWS_REGION", REGION)
        .env("OPT_SECRET", "secretsmanager:no/such/optional")
        .env("OPT_KEY", format!("secretsmanager:{name}:nope"))
        .env("USES", "${OPT_SECRET:-fallback}")
        .args(["--optional", "OPT_SECRET", "--optional", "OPT_KEY"]);
    let run = s.run_app();
    run.ok()
        .lacks("OPT_SECRET")
        .lacks("OPT_KEY")
        .has("USES", "fallback")
        .says("warning: OPT_SECRET");
}

#[test]
fn a_denied_parameter_is_named_alone() {
    let mut s = Secrun::aws();
    let prefix = format!("/{}", unique("params"));
    let names: Vec<String> = (0..3).map(|i| format!("{prefix}/p{i}")).collect();
    let params: Vec<serde_json::Value> = names
        .iter()
        .map(|n| json!({"name": n, "value": "v"}))
        .collect();
    moto().seed(REGION, json!([]), json!(params));
    moto().faults(
        &s.akid,
        json!([{"target": PARAMS, "action": "deny", "count": -1, "body_contains": names[1]}]),
    );
    s.env("AWS_REGION", REGION);
    for (i, n) in names.iter().enumerate() {
        s.env(format!("P{i}"), format!("ssm:{n}"));
    }
    let run = s.run_app();
    run.fails(125).says(&format!(
        "P1 (ssm:{}): access denied: the role lacks ssm:GetParameters",
        names[1]
    ));
    assert!(
        !run.stderr.contains("P0") && !run.stderr.contains("P2"),
        "{}",
        run.stderr
    );
}

#[test]
fn optional_does_not_forgive_access_denied() {
    let mut s = Secrun::aws();
    moto().faults(
        &s.akid,
        json!([{"target": "*", "action": "deny", "count": -1}]),
    );
    s.env("AWS_REGION", REGION)
        .env("OPT", "secretsmanager:x")
        .env("SECRUN_OPTIONAL", "OPT");
    s.run_app().fails(125).says("access denied");
}

#[test]
fn hanging_endpoint_ends_at_the_timeout() {
    let mut s = Secrun::aws();
    moto().faults(
        &s.akid,
        json!([{"target": "*", "action": "hang", "seconds": 20, "count": -1}]),
    );
    s.env("AWS_REGION", REGION)
        .env("H", "secretsmanager:hangs")
        .args(["--timeout", "1s"]);
    let started = std::time::Instant::now();
    let run = s.run_app();
    run.fails(125)
        .says("H (secretsmanager:hangs): no answer within the 1000 ms timeout");
    // Behaviour, not speed: it must not wait for the 20 s hang.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn short_reference_without_region_says_how_to_fix_it() {
    let mut s = Secrun::aws();
    s.env("X", "secretsmanager:app");
    s.run_app()
        .fails(125)
        .says("X (secretsmanager:app): no region")
        .says("AWS_REGION");
}

#[test]
fn non_utf8_values_pass_through_intact() {
    use std::os::unix::ffi::OsStrExt;
    let mut s = Secrun::bare();
    let raw = std::ffi::OsStr::from_bytes(b"caf\xe9 \xff${X:-}");
    s.env("LATIN1", raw).env("SECRUN_INTERPOLATE", "false");
    let run = s.run_app();
    run.ok();
    assert_eq!(
        run.env
            .get(std::ffi::OsStr::new("LATIN1"))
            .map(|v| v.as_bytes()),
        Some(raw.as_bytes())
    );
    // And with interpolation on, the bytes around an expansion survive.
    let mut s = Secrun::bare();
    s.env("LATIN1", std::ffi::OsStr::from_bytes(b"caf\xe9${X:-!}\xff"));
    let run = s.run_app();
    assert_eq!(
        run.ok()
            .env
            .get(std::ffi::OsStr::new("LATIN1"))
            .map(|v| v.as_bytes()),
        Some(&b"caf\xe9!\xff"[..])
    );
}

#[test]
fn service_specific_endpoints_are_honoured() {
    let v = secret_value();
    let name = unique("endpoint");
    moto().secret(REGION, &name, &v);
    let p = format!("/{}", unique("endpoint"));
    let pv = secret_value();
    moto().seed(REGION, json!([]), json!([{"name": p, "value": pv}]));
    let mut s = Secrun::aws();
    s.cmd.env_remove("AWS_ENDPOINT_URL");
    s.env("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto().url())
        .env("AWS_ENDPOINT_URL_SSM", moto().url())
        .env("AWS_REGION", REGION)
        .env("S", format!("secretsmanager:{name}"))
        .env("P", format!("ssm:{p}"))
        .marker(&v)
        .marker(&pv);
    s.run_app().ok().has("S", &v).has("P", &pv);
}

#[test]
fn server_errors_and_throttled_parameters_are_retried() {
    let v = secret_value();
    let name = unique("flaky");
    moto().secret(REGION, &name, &v);
    let p = format!("/{}", unique("flaky"));
    let pv = secret_value();
    moto().seed(REGION, json!([]), json!([{"name": p, "value": pv}]));
    let mut s = Secrun::aws();
    moto().faults(
        &s.akid,
        json!([
            {"target": BATCH, "action": "error500", "count": 1},
            {"target": GET, "action": "error500", "count": 1},
            {"target": PARAMS, "action": "throttle", "count": 2},
        ]),
    );
    s.env("AWS_REGION", REGION)
        .env("S", format!("secretsmanager:{name}"))
        .env("P", format!("ssm:{p}"))
        .marker(&v)
        .marker(&pv);
    s.run_app().ok().has("S", &v).has("P", &pv);
    // The failed batch went to GetSecretValue, whose 500 was retried; the
    // throttled GetParameters was retried twice.
    assert_eq!(moto().count(&s.akid, BATCH), 1);
    assert_eq!(moto().count(&s.akid, GET), 2);
    assert_eq!(moto().count(&s.akid, PARAMS), 3);
}
