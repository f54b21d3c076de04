//! Inputs an independent review broke, each kept as a test that fails
//! without its fix: references that passed through as values, reports that
//! disagreed with what a run does, names and values echoed, `_FILE` reads
//! that hung or read what the user never meant, a stack overflow, and
//! options parsed twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::os::unix::fs::symlink;
use std::process::Command;

use serde_json::json;
use support::*;

const REGION: &str = "us-east-2";

// Regression: an SSM ARN with its account missing passed through as an
// ordinary value and the command started (exit 0).
#[test]
fn an_arn_with_a_missing_or_shifted_field_is_an_error_not_a_value() {
    for (value, says) in [
        (
            "arn:aws:ssm:us-east-2:parameter/sims/db",
            "the account id is missing",
        ),
        (
            "arn:aws:us-east-2:111122223333:secret:simsportal/prod",
            "\"us-east-2\" where the service belongs; a Secrets Manager ARN reads",
        ),
        (
            "arn:aws:secretmanager:us-east-2:111122223333:secret:db",
            "\"secretmanager\" where the service belongs",
        ),
    ] {
        let mut s = Secrun::bare();
        s.env("DB", value);
        s.run_app()
            .fails(125)
            .says(&format!("DB ({value}): not a valid reference: {says}"));
    }
    // A value that only nearly looks like a reference may be a password
    // that happens to: it is named by its length, never echoed.
    for (value, says) in [
        (" ssm:/sims/db", "white space"),
        ("Ssm:hunter2 pass", "lower case"),
    ] {
        let mut s = Secrun::bare();
        s.env("DB", value).marker(value.trim());
        s.run_app()
            .fails(125)
            .says(&format!(
                "DB (a value of {} bytes): not a valid reference: ",
                value.len()
            ))
            .says(says);
    }
}

// Regression: explain named the env file's reference while verify and -v
// named the bundle; the overridden reference was fetched and counted, and
// its error silently dropped.
#[test]
fn what_a_bundle_overrides_is_neither_fetched_nor_counted_and_every_report_agrees() {
    let bundle = unique("settings");
    let other = unique("other");
    let missing = unique("never-created");
    let (v1, v2) = (secret_value(), secret_value());
    moto().seed(
        REGION,
        json!([
            {"name": bundle, "string": json!({"SECRET_KEY": v1}).to_string()},
            {"name": other, "string": v2},
        ]),
        json!([]),
    );
    let setup = |s: &mut Secrun| {
        let env_file = s.write(
            "app.env",
            format!("SECRET_KEY=secretsmanager:{missing}\nOTHER=secretsmanager:{other}\n"),
        );
        s.marker(&v1).marker(&v2);
        s.env("AWS_REGION", REGION)
            .env("SECRUN_FROM", format!("secretsmanager:{bundle}"))
            .env("SECRUN_ENV_FILE", env_file);
    };

    let mut s = Secrun::aws();
    setup(&mut s);
    s.arg("-v");
    let run = s.run_app();
    run.ok()
        .has("SECRET_KEY", &v1)
        .has("OTHER", &v2)
        .says(&format!("SECRET_KEY from bundle secretsmanager:{bundle}"))
        .says("resolved 2 variables from 2 secrets in");
    let asked = moto().asked(&s.akid);
    assert!(
        !asked.iter().any(|id| id.contains(&missing)),
        "the overridden reference was fetched: {asked:?}"
    );

    let mut s = Secrun::aws();
    setup(&mut s);
    s.arg("verify");
    let run = s.run();
    run.ok().prints(&format!(
        "OK  {} bytes  bundle secretsmanager:{bundle}",
        v1.len()
    ));
    assert!(!moto().asked(&s.akid).iter().any(|id| id.contains(&missing)));

    let mut s = Secrun::aws();
    setup(&mut s);
    s.arg("explain");
    s.run()
        .ok()
        .prints("unless a --from bundle sets it")
        .prints(&format!("(every key)  bundle secretsmanager:{bundle}"));
}

// Regression: verify said OK for what run refuses.
#[test]
fn verify_fails_a_variable_over_128_kib_and_an_environment_the_kernel_refuses() {
    let mut s = Secrun::bare();
    let big = format!("{}{}", secret_value(), "x".repeat(140 * 1024));
    s.marker(&big[..22]);
    let file = s.write("big.json", json!({"big": big}).to_string());
    s.args(["--secrets-file".as_ref(), file.as_os_str()])
        .env("HUGE", "secretsmanager:big")
        .arg("verify");
    s.run()
        .fails(125)
        .prints("HUGE  FAILED  secretsmanager:big: NAME=value is 143");

    // 24 variables of 100 KiB: each fits, all together do not (the kernel
    // takes a quarter of the stack limit, 2 MiB under the usual 8 MiB).
    let mut secrets = serde_json::Map::new();
    for i in 0..24 {
        secrets.insert(
            format!("s{i}"),
            json!(format!("{i:02}{}", "y".repeat(100 * 1024))),
        );
    }
    for command in [&["verify"][..], &["--", "true"]] {
        let mut s = Secrun::bare();
        let file = s.write(
            "many.json",
            serde_json::Value::Object(secrets.clone()).to_string(),
        );
        s.args(["--secrets-file".as_ref(), file.as_os_str()]);
        for i in 0..24 {
            s.env(format!("V{i}"), format!("secretsmanager:s{i}"));
        }
        s.args(command);
        let run = s.run();
        assert_eq!(run.code(), 125, "{command:?}: {}", run.stderr);
        let said = format!("{}{}", run.stdout, run.stderr);
        assert!(
            said.contains("the environment and arguments are") && said.contains("largest: V"),
            "{command:?}: {said}"
        );
    }
}

// Regression: with nothing to resolve, explain and verify printed nothing.
#[test]
fn explain_and_verify_say_when_there_is_nothing_to_resolve() {
    for sub in ["explain", "verify"] {
        let mut s = Secrun::bare();
        s.env("PLAIN", "value").arg(sub);
        let run = s.run();
        run.ok().prints("nothing to resolve");
        assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    }
}

// Regression: a line of a mis-quoted value became a "variable name" that
// explain, verify and -v printed.
#[test]
fn a_name_that_is_not_a_valid_variable_name_is_never_echoed() {
    let v = secret_value();
    for args in [&["explain"][..], &["verify"], &["-v", "--", "true"]] {
        let mut s = Secrun::bare();
        let file = s.write(
            "app.env",
            format!("DB_PASSWORD=first-line\np4ss-W0rd.{v}: tail\n"),
        );
        s.marker(&v);
        s.args(["--env-file".as_ref(), file.as_os_str()]).args(args);
        let run = s.run();
        assert_eq!(run.code(), 0, "{args:?}: {}", run.stderr);
        let said = format!("{}{}", run.stdout, run.stderr);
        assert!(
            said.contains("<a name of ") && said.contains("app.env:2"),
            "{args:?}: {said}"
        );
    }
}

// Regression: `_FILE` read a FIFO forever, /dev/zero without end, and any
// `*_FILE` variable, turning LOG_FILE=/var/log/app.log into LOG=<the log>.
#[test]
fn file_variables_read_only_small_regular_files_inside_the_secrets_directory() {
    let mut s = Secrun::bare();
    let dir = s.dir.join("secrets");
    std::fs::create_dir_all(&dir).unwrap();
    let v = secret_value();
    s.marker(&v);
    std::fs::write(dir.join("db"), format!("{v}\n")).unwrap();
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::fs::write(dir.join("big"), "z".repeat(64 * 1024 + 1)).unwrap();
    let outside = s.write("outside", "not a secret");
    symlink(&outside, dir.join("link")).unwrap();
    symlink("/dev/zero", dir.join("zero")).unwrap();
    s.env("SECRUN_FILE_SUFFIX", "_FILE")
        .env("SECRUN_FILE_DIR", &dir)
        .env("SECRUN_TIMEOUT", "1s")
        .env("FIFO_FILE", &fifo)
        .env("BIG_FILE", dir.join("big"))
        .env("LINK_FILE", dir.join("link"))
        .env("ZERO_FILE", dir.join("zero"));
    let run = s.run_app();
    run.fails(125)
        .says(&format!("FIFO: {} is a FIFO", fifo.display()))
        .says(&format!(
            "BIG: {} is larger than 64 KiB",
            dir.join("big").display()
        ));
    // Links are resolved before the test: one that leads outside makes an
    // ordinary variable, untouched.
    assert!(
        !run.stderr.contains("LINK") && !run.stderr.contains("ZERO"),
        "{}",
        run.stderr
    );

    // Outside the secrets directory, a *_FILE variable is the application's.
    let mut s = Secrun::bare();
    s.env("SECRUN_FILE_SUFFIX", "_FILE")
        .env("SECRUN_FILE_DIR", &dir)
        .env("DB_PASSWORD_FILE", dir.join("db"))
        .env("LOG_FILE", "/var/log/app.log")
        .env("TF_CLI_CONFIG_FILE", "/root/.terraformrc")
        .env("ESCAPE_FILE", dir.join("../outside"))
        .env("LINK_FILE", dir.join("link"));
    s.marker(&v);
    s.run_app()
        .ok()
        .has("LINK_FILE", &dir.join("link").to_string_lossy())
        .lacks("LINK")
        .has("DB_PASSWORD", &v)
        .lacks("DB_PASSWORD_FILE")
        .has("LOG_FILE", "/var/log/app.log")
        .lacks("LOG")
        .has("TF_CLI_CONFIG_FILE", "/root/.terraformrc")
        .lacks("TF_CLI_CONFIG")
        .has("ESCAPE_FILE", &dir.join("../outside").to_string_lossy())
        .lacks("ESCAPE");

    // A device inside the directory is refused as a device.
    let mut s = Secrun::bare();
    s.env("SECRUN_FILE_SUFFIX", "_FILE")
        .env("SECRUN_FILE_DIR", "/dev")
        .env("ZERO_FILE", "/dev/zero");
    s.run_app().fails(125).says("ZERO: /dev/zero is a device");
}

// Regression: 20,000 variables each referring to the next overflowed the
// stack (exit 134).
#[test]
fn a_very_long_chain_of_variables_ends_in_a_clear_error() {
    let mut s = Secrun::bare();
    let n = 20_000;
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!("V{i:05}=${{V{:05}}}\n", i + 1));
    }
    text.push_str(&format!("V{n:05}=end\n"));
    let file = s.write("chain.env", text);
    s.args(["--env-file".as_ref(), file.as_os_str()]);
    let run = s.run_app();
    run.fails(125).says("more than 4096 deep");
    assert!(
        run.stderr.lines().count() < 20,
        "one error per cut, not one per variable: {} lines",
        run.stderr.lines().count()
    );
}

// Regression: a plan whose container_definitions is known only after apply
// made check exit 2 and fail every first deploy's plan gate.
#[test]
fn a_plan_with_unknown_container_definitions_warns_in_check_and_fails_policy() {
    let mut s = Secrun::bare();
    let plan = s.write(
        "plan.json",
        r#"{"format_version": "1.2", "planned_values": {"root_module": {"resources": [{"address": "aws_ecs_task_definition.web", "type": "aws_ecs_task_definition", "values": {"family": "x"}}]}}}"#,
    );
    s.arg("check").arg(&plan);
    s.run()
        .ok()
        .says("warning: ")
        .says("aws_ecs_task_definition.web: container_definitions is not known until apply");
    let mut s = Secrun::bare();
    s.arg("policy").arg(&plan);
    let run = s.run();
    assert_eq!(run.code(), 2, "{}", run.stderr);
    run.says("aws_ecs_task_definition.web");
}

// Regression: --log-format and -q/-v were parsed twice, and check ignored
// them; check's help listed the run path's options; `check` with no file
// exited 125; the unknown-variable error listed an internal variable.
#[test]
fn every_subcommand_honours_its_own_options_and_exit_codes() {
    let mut s = Secrun::bare();
    s.args([
        "check",
        "--format",
        "json",
        "--log-format",
        "json",
        "no-such-file.json",
    ]);
    let run = s.run();
    assert_eq!(run.code(), 2);
    let line: serde_json::Value = serde_json::from_str(run.stderr.trim())
        .unwrap_or_else(|e| panic!("stderr is not one JSON line ({e}): {}", run.stderr));
    assert_eq!(line["level"], "error");

    let mut s = Secrun::bare();
    s.args(["check", "--help"]);
    let run = s.run();
    run.ok().prints("--allow").prints("--log-format");
    for run_only in ["--grace", "--signal-map", "--secrets-file"] {
        assert!(!run.stdout.contains(run_only), "{}", run.stdout);
    }

    let mut s = Secrun::bare();
    s.arg("check");
    let run = s.run();
    assert_eq!(run.code(), 2, "{}", run.stderr);
    run.says("Usage: secrun check");

    let mut s = Secrun::bare();
    s.env("SECRUN_SECRET_FILE", "dev.json").args(["--", "true"]);
    let run = s.run();
    assert_eq!(run.code(), 125);
    run.says("unknown variable SECRUN_SECRET_FILE: did you mean SECRUN_SECRETS_FILE?");
    assert!(!run.stderr.contains("SECRUN_SUPERVISED"), "{}", run.stderr);
}

// Regression: the test for "inside the secrets directory" was lexical, so
// a path through a linked directory (/var/run/secrets where /var/run links
// to /run) was passed through, and a lower layer pointing inside beat the
// process environment pointing elsewhere.
#[test]
fn file_variables_decide_on_real_paths_and_the_winning_definition() {
    // Exec mode, and init mode, whose supervisor decides whether there is
    // anything to resolve before a copy of secrun resolves it.
    for init in ["never", "always"] {
        let mut s = Secrun::bare();
        let dir = s.dir.join("secrets");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("db"), "from-the-file\n").unwrap();
        symlink(&s.dir, s.dir.join("alias")).unwrap();
        let via_alias = s.dir.join("alias/secrets/db");
        s.env("SECRUN_FILE_SUFFIX", "_FILE")
            .env("SECRUN_FILE_DIR", &dir)
            .env("DB_FILE", &via_alias)
            .args(["--init", init]);
        s.run_app().ok().has("DB", "from-the-file").lacks("DB_FILE");
    }

    let mut s = Secrun::bare();
    let dir = s.dir.join("secrets");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("db"), "from-the-file\n").unwrap();
    let env_file = s.write("app.env", format!("DB_FILE={}\n", dir.join("db").display()));
    s.env("SECRUN_FILE_SUFFIX", "_FILE")
        .env("SECRUN_FILE_DIR", &dir)
        .env("SECRUN_ENV_FILE", &env_file)
        .env("DB_FILE", "/var/log/db.log");
    s.run_app()
        .ok()
        .has("DB_FILE", "/var/log/db.log")
        .lacks("DB");
}

// Regression: env files and the local secrets file were read outside the
// deadline, so a FIFO hung the start for ever.
#[test]
fn env_files_and_the_secrets_file_are_read_within_the_deadline() {
    for option in ["--env-file", "--secrets-file"] {
        let mut s = Secrun::bare();
        let fifo = s.dir.join("fifo");
        assert!(Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        s.args([option.as_ref(), fifo.as_os_str()])
            .args(["--timeout", "1s"]);
        let started = std::time::Instant::now();
        let run = s.run_app();
        run.fails(125).says("is a FIFO; give a regular file");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
}

// Regression: as PID 1 with nothing to resolve, a mistyped secrets file
// was never read, so the typo passed silently.
#[test]
fn a_mistyped_secrets_file_fails_in_init_mode_too() {
    let mut s = Secrun::bare();
    s.args([
        "--init",
        "always",
        "--secrets-file",
        "dev-secrest.json",
        "--",
        "true",
    ]);
    let run = s.run();
    assert_eq!(run.code(), 125, "{}", run.stderr);
    run.says("secrets file dev-secrest.json: cannot read it");
}

// Regression: explain said "nothing to resolve" about a malformed
// reference that verify reported.
#[test]
fn explain_reports_what_planning_refused() {
    let mut s = Secrun::bare();
    s.env("X", "ssm:").arg("explain");
    let run = s.run();
    assert_eq!(run.code(), 125);
    run.prints("X  FAILED  ssm:: not a valid reference");
    assert!(!run.stdout.contains("nothing to resolve"), "{}", run.stdout);
}
