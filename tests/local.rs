//! The laptop path: the local secrets file, env files in compose's dialect,
//! `_FILE` variables, interpolation, `explain`, `verify` and exit codes. No
//! AWS here: where an endpoint is set, the test checks nothing reached it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use support::*;

/// A secrets file with distinctive values, the same references as production.
fn dev_secrets(s: &mut Secrun) -> (std::path::PathBuf, Vec<String>) {
    let v: Vec<String> = (0..5).map(|_| secret_value()).collect();
    for x in &v {
        s.marker(x);
    }
    let file = json!({
        "simsportal/prod": {"SECRET_KEY": v[0], "SLACK_BOT_TOKEN": v[1], "PORT": 8000},
        "rds/sims": {"password": v[2]},
        "/sims/prod/db-url": v[3],
        "arn:aws:secretsmanager:us-east-2:111122223333:secret:exact-AbCdEf": v[4],
    });
    (s.write("dev-secrets.json", file.to_string()), v)
}

#[test]
fn local_secrets_file_resolves_every_reference_form() {
    let mut s = Secrun::aws();
    let (file, v) = dev_secrets(&mut s);
    s.args(["--secrets-file".as_ref(), file.as_os_str()])
        .env("SECRET_KEY", "arn:aws:secretsmanager:us-east-2:111122223333:secret:simsportal/prod-AbCdEf:SECRET_KEY::")
        .env("SLACK", "secretsmanager:simsportal/prod:SLACK_BOT_TOKEN")
        .env("PORT", "secretsmanager:simsportal/prod:PORT")
        .env("DB_URL", "ssm:/sims/prod/db-url")
        .env("DB_URL_ARN", "arn:aws:ssm:us-east-2:111122223333:parameter/sims/prod/db-url")
        .env("DB_URL2", "arn:aws:ssm:us-east-2:111122223333:parameter/sims/prod/db-url")
        .env("EXACT", "arn:aws:secretsmanager:us-east-2:111122223333:secret:exact-AbCdEf")
        .env("URI", "postgresql://app:${secretsmanager:rds/sims:password}@db:5432/sims")
        .env("WHOLE", "secretsmanager:rds/sims");
    let run = s.run_app();
    run.ok()
        .has("SECRET_KEY", &v[0])
        .has("SLACK", &v[1])
        .has("PORT", "8000")
        .has("DB_URL", &v[3])
        // A name ending in _ARN is never resolved.
        .has(
            "DB_URL_ARN",
            "arn:aws:ssm:us-east-2:111122223333:parameter/sims/prod/db-url",
        )
        .has("DB_URL2", &v[3])
        .has("EXACT", &v[4])
        .has("URI", &format!("postgresql://app:{}@db:5432/sims", v[2]))
        .has("WHOLE", &json!({"password": v[2]}).to_string());
    // Nothing went to the network, although an endpoint was configured.
    assert!(moto().calls(&s.akid).is_empty());
}

#[test]
fn missing_in_the_local_file_never_falls_back_to_aws() {
    let mut s = Secrun::aws();
    let (file, _) = dev_secrets(&mut s);
    s.env("SECRUN_SECRETS_FILE", &file)
        .env("AWS_REGION", "us-east-2")
        .env("X", "secretsmanager:only/in/aws");
    let run = s.run_app();
    run.fails(125)
        .says("X (secretsmanager:only/in/aws): not in the secrets file")
        .says("\"only/in/aws\"");
    assert!(moto().calls(&s.akid).is_empty());
}

#[test]
fn a_malformed_secrets_file_is_an_error_naming_the_key() {
    let mut s = Secrun::bare();
    let v = secret_value();
    s.marker(&v);
    let file = s.write("bad.json", json!({"good": v, "bad": 42}).to_string());
    s.args(["--secrets-file".as_ref(), file.as_os_str()])
        .env("X", "secretsmanager:good");
    s.run_app().fails(125).says("bad.json").says("key \"bad\"");
    let mut s = Secrun::bare();
    let file = s.write("list.json", "[1, 2]");
    s.args(["--secrets-file".as_ref(), file.as_os_str()])
        .env("X", "secretsmanager:good");
    s.run_app().fails(125).says("must be a JSON object");
}

#[test]
fn env_files_in_compose_syntax() {
    let mut s = Secrun::bare();
    let (file, v) = dev_secrets(&mut s);
    let base = s.write(
        "base.env",
        "\u{feff}# comment\nexport GREETING='hello ${NOT_EXPANDED}'\nPORT=${PORT:-8000}\nQUOTED=\"line1\\nline2\"\nYAML: style\nINLINE=value # comment\nHASH=VAL#x\nEMPTY=\nFROM_PROCESS\nSECRET=secretsmanager:simsportal/prod:SECRET_KEY\nLATER=base\n",
    );
    let over = s.write("override.env", "LATER=override\nDB=ssm:/sims/prod/db-url\n");
    s.args(["--secrets-file".as_ref(), file.as_os_str()])
        .args([
            "--env-file".as_ref(),
            base.as_os_str(),
            "--env-file".as_ref(),
            over.as_os_str(),
        ])
        .env("FROM_PROCESS", "process");
    let run = s.run_app();
    run.ok()
        .has("GREETING", "hello ${NOT_EXPANDED}")
        .has("PORT", "8000")
        .has("QUOTED", "line1\nline2")
        .has("YAML", "style")
        .has("INLINE", "value")
        .has("HASH", "VAL#x")
        .has("EMPTY", "")
        .has("FROM_PROCESS", "process")
        .has("SECRET", &v[0])
        .has("LATER", "override")
        .has("DB", &v[3]);
}

#[test]
fn self_reference_reads_the_layer_below() {
    let mut s = Secrun::bare();
    let file = s.write("a.env", "PORT=9000\nWORKERS=${WORKERS:-2}\n");
    s.args(["--env-file".as_ref(), file.as_os_str()])
        .env("PORT", "${PORT:-8000}")
        .env("PATH_EXTRA", "x${PATH_EXTRA}");
    s.run_app().fails(125).says("PATH_EXTRA: uses ${PATH_EXTRA} in its own value, but no env file or bundle below it sets PATH_EXTRA");
    let mut s = Secrun::bare();
    let file = s.write("a.env", "PORT=9000\nWORKERS=${WORKERS:-2}\n");
    s.args(["--env-file".as_ref(), file.as_os_str()])
        .env("PORT", "${PORT:-8000}");
    s.run_app().ok().has("PORT", "9000").has("WORKERS", "2");
}

#[test]
fn env_file_errors_name_the_file_and_line() {
    let mut s = Secrun::bare();
    let v = secret_value();
    s.marker(&v);
    let file = s.write("broken.env", format!("A=1\n# fine\nTOKEN=\"{v}\nB=2\n"));
    s.args(["--env-file".as_ref(), file.as_os_str()]);
    s.run_app()
        .fails(125)
        .says("broken.env:3: unterminated \"-quoted value");
    let mut s = Secrun::bare();
    let file = s.write("empty-key.env", "A=1\n=value\n");
    s.args(["--env-file".as_ref(), file.as_os_str()]);
    s.run_app().fails(125).says("empty-key.env:2:");
    let mut s = Secrun::bare();
    let file = s.write("badref.env", "A=1\nDB=ssm:\n");
    s.args(["--env-file".as_ref(), file.as_os_str()]);
    s.run_app()
        .fails(125)
        .says("DB (ssm:): not a valid reference")
        .says("badref.env:2");
    let mut s = Secrun::bare();
    s.args(["--env-file", "does-not-exist.env"]);
    s.run_app()
        .fails(125)
        .says("does-not-exist.env: cannot read it");
}

#[test]
fn secret_text_is_never_expanded_again() {
    let mut s = Secrun::bare();
    let file = s.write(
        "s.json",
        json!({"tricky": "pa$$w0rd${HOME}$(id)", "tpl": {"k": "${HOME}"}}).to_string(),
    );
    s.args(["--secrets-file".as_ref(), file.as_os_str()])
        .env("PW", "secretsmanager:tricky")
        .env("WRAPPED", "[${secretsmanager:tricky}]")
        .env("K", "secretsmanager:tpl:k");
    s.run_app()
        .ok()
        .has("PW", "pa$$w0rd${HOME}$(id)")
        .has("WRAPPED", "[pa$$w0rd${HOME}$(id)]")
        .has("K", "${HOME}");
}

#[test]
fn interpolation_grammar_end_to_end() {
    let mut s = Secrun::bare();
    s.env("HOST", "db")
        .env("EMPTY", "")
        .env("URL", "postgres://${HOST}:${DB_PORT:-5432}/${EMPTY:-app}")
        .env("ALT", "${HOST:+set}${MISSING:+never}")
        .env("DOLLARS", "a$$b")
        .env("BARE", "pa$word$HOST")
        .env("SHELLISH", "${#x} ${a b} ${HOME")
        .env("NESTED", "${MISSING:-${HOST}-${EMPTY-x}}")
        .env("CHAIN", "${URL}/extra");
    s.run_app()
        .ok()
        .has("URL", "postgres://db:5432/app")
        .has("ALT", "set")
        .has("DOLLARS", "a$b")
        .has("BARE", "pa$word$HOST")
        .has("SHELLISH", "${#x} ${a b} ${HOME")
        .has("NESTED", "db-")
        .has("CHAIN", "postgres://db:5432/app/extra");
    let mut s = Secrun::bare();
    s.env("A", "${B}")
        .env("B", "${C}")
        .env("C", "${A}")
        .env("D", "${NEED:?set NEED to the bucket name}");
    s.run_app()
        .fails(125)
        .says("A: its value is part of a cycle")
        .says("B: its value is part of a cycle")
        .says("C: its value is part of a cycle")
        .says("D: ${NEED} is required: set NEED to the bucket name");
    let mut s = Secrun::bare();
    s.env("A", "${UNSET}").arg("--no-interpolate");
    s.run_app().ok().has("A", "${UNSET}");
}

#[test]
fn file_suffix_reads_docker_secrets() {
    let mut s = Secrun::bare();
    let v = secret_value();
    s.marker(&v);
    let secret = s.write("db_password", format!("{v}\r\n"));
    let token = s.dir.join("token");
    std::fs::write(&token, "keep\n\n").unwrap();
    let dir = s.dir.clone();
    s.env("DB_PASSWORD_FILE", &secret)
        .env("TOKEN_FILE", &token)
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token")
        .env("SSL_CERT_FILE", "/etc/ssl/cert.pem")
        .env("SECRUN_FILE_SUFFIX", "_FILE")
        .env("SECRUN_FILE_DIR", &dir);
    let run = s.run_app();
    run.ok()
        .has("DB_PASSWORD", &v)
        .lacks("DB_PASSWORD_FILE")
        .has("TOKEN", "keep\n")
        .has("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token")
        .has("SSL_CERT_FILE", "/etc/ssl/cert.pem");
    // Without the suffix option, nothing is read.
    let mut s = Secrun::bare();
    s.env("DB_PASSWORD_FILE", &secret);
    s.run_app()
        .ok()
        .lacks("DB_PASSWORD")
        .has("DB_PASSWORD_FILE", secret.to_str().unwrap());
}

#[test]
fn file_suffix_errors_name_variable_and_path() {
    let mut s = Secrun::bare();
    s.env("A_FILE", "/run/secrets/no-such-file-here")
        .arg("--file-suffix=_FILE");
    s.run_app()
        .fails(125)
        .says("A: cannot read /run/secrets/no-such-file-here");
    let mut s = Secrun::bare();
    let f = s.write("nul", b"x\0y");
    let dir = s.dir.clone();
    s.env("B_FILE", &f)
        .env("C", "x")
        .env("C_FILE", &f)
        .arg("--file-suffix=_FILE")
        .arg("--file-dir")
        .arg(&dir);
    s.run_app()
        .fails(125)
        .says(&format!(
            "B (file {} (B_FILE)): the value contains a NUL byte",
            f.display()
        ))
        .says("both C and C_FILE are set");
}

#[test]
fn explain_fetches_nothing_and_shows_sources() {
    let mut s = Secrun::aws();
    let file = s.write("x.env", "FROM_FILE=plain\n");
    s.env("AWS_REGION", "us-east-2")
        .env("SECRET_KEY", "secretsmanager:simsportal/prod:SECRET_KEY")
        .env("URI", "pg://${secretsmanager:rds/sims:password}@db")
        .env("SECRUN_FROM", "secretsmanager:simsportal/prod")
        .env("UNCHANGED", "x")
        .args(["explain".as_ref(), "--env-file".as_ref(), file.as_os_str()]);
    let run = s.run();
    run.ok()
        .prints("SECRET_KEY   secretsmanager:simsportal/prod:SECRET_KEY")
        .prints("key SECRET_KEY")
        .prints("secretsmanager:rds/sims:password inside ${...}")
        .prints("env file ")
        .prints("bundle secretsmanager:simsportal/prod");
    assert!(!run.stdout.contains("UNCHANGED"));
    assert!(moto().calls(&s.akid).is_empty());
    let mut s = Secrun::bare();
    s.env("A", "ssm:/x").args(["explain", "--format", "json"]);
    let run = s.run();
    let v: serde_json::Value = serde_json::from_str(run.ok().stdout.trim()).unwrap();
    assert_eq!(v["variables"][0]["name"], "A");
    assert_eq!(v["variables"][0]["source"], "ssm:/x");
}

#[test]
fn verify_reports_every_variable_and_runs_nothing() {
    let mut s = Secrun::bare();
    let (file, v) = dev_secrets(&mut s);
    s.args(["--secrets-file".as_ref(), file.as_os_str()])
        .env("SECRET_KEY", "secretsmanager:simsportal/prod:SECRET_KEY")
        .env("BROKEN", "secretsmanager:simsportal/prod:NOPE")
        .arg("verify");
    let run = s.run();
    assert_eq!(run.code(), 125);
    let ok_line = format!(
        "SECRET_KEY  OK      {} bytes  secretsmanager:simsportal/prod:SECRET_KEY",
        v[0].len()
    );
    run.prints(&ok_line).prints(
        "BROKEN      FAILED  secretsmanager:simsportal/prod:NOPE: the secret has no key \"NOPE\"",
    );
    let mut s = Secrun::bare();
    let (file, _) = dev_secrets(&mut s);
    s.args(["--secrets-file".as_ref(), file.as_os_str()])
        .env("SECRET_KEY", "secretsmanager:simsportal/prod:SECRET_KEY")
        .args(["verify", "--format", "json"]);
    let run = s.run();
    let v: serde_json::Value = serde_json::from_str(run.ok().stdout.trim()).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["variables"][0]["status"], "ok");
}

#[test]
fn exit_codes_follow_env_and_timeout() {
    let mut s = Secrun::bare();
    s.args(["--", "no-such-command-xyz"]);
    let run = s.run();
    assert_eq!(run.code(), 127, "{}", run.stderr);
    run.says("no-such-command-xyz: command not found");
    let mut s = Secrun::bare();
    let f = s.write("not-executable", "#!/bin/sh\n");
    s.arg("--").arg(&f);
    assert_eq!(s.run().code(), 126);
    let mut s = Secrun::bare();
    s.args(["--", "sh", "-c", "exit 42"]);
    assert_eq!(s.run().code(), 42);
    let mut s = Secrun::bare();
    let run = s.run();
    assert_eq!(run.code(), 125);
    run.says("no command given");
    assert!(
        !run.stdout.contains("PATH="),
        "never prints the environment"
    );
    let mut s = Secrun::bare();
    s.env("SECRUN_SECRET_FILE", "dev.json").args(["--", "true"]);
    let run = s.run();
    assert_eq!(run.code(), 125);
    run.says("unknown variable SECRUN_SECRET_FILE");
    let mut s = Secrun::bare();
    s.args(["--timeout", "soon", "--", "true"]);
    assert_eq!(s.run().code(), 125);
    let mut s = Secrun::bare();
    s.arg("--version");
    s.run().ok().prints("secrun ");
}

#[test]
fn a_variable_over_128_kib_is_refused_naming_it() {
    let mut s = Secrun::bare();
    let big = format!("{}{}", secret_value(), "x".repeat(140 * 1024));
    s.marker(&big[..22]);
    let file = s.write("big.json", json!({"big": big}).to_string());
    s.args(["--secrets-file".as_ref(), file.as_os_str()])
        .env("HUGE", "secretsmanager:big");
    s.run_app()
        .fails(125)
        .says("HUGE (secretsmanager:big): NAME=value is 143")
        .says("at most 131072 (128 KiB) a variable");
}

#[test]
fn json_log_lines_for_cloudwatch() {
    let mut s = Secrun::bare();
    let (file, _) = dev_secrets(&mut s);
    s.args(["--secrets-file".as_ref(), file.as_os_str()])
        .env("SECRUN_LOG_FORMAT", "json")
        .env("K", "secretsmanager:simsportal/prod:SECRET_KEY")
        .env("BAD", "secretsmanager:simsportal/prod:NOPE");
    let run = s.run_app();
    run.fails(125);
    for line in run.stderr.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["source"], "secrun");
    }
    run.says("BAD (secretsmanager:simsportal/prod:NOPE)");
}

#[test]
fn debug_names_every_source_and_quiet_says_nothing() {
    let mut s = Secrun::bare();
    let (file, _) = dev_secrets(&mut s);
    s.args(["--secrets-file".as_ref(), file.as_os_str(), "-v".as_ref()])
        .env("K", "secretsmanager:simsportal/prod:SECRET_KEY");
    s.run_app()
        .ok()
        .says("K from secretsmanager:simsportal/prod:SECRET_KEY");
    let mut s = Secrun::bare();
    let (file, _) = dev_secrets(&mut s);
    s.args(["--secrets-file".as_ref(), file.as_os_str(), "-q".as_ref()])
        .env("K", "secretsmanager:simsportal/prod:SECRET_KEY");
    let run = s.run_app();
    assert_eq!(run.ok().stderr, "");
}

#[test]
fn argv_with_spaces_and_empty_strings_reaches_the_command() {
    let mut s = Secrun::bare();
    let out = s.dir.join("argv");
    s.args(["--", "sh", "-c", "printf '[%s]' \"$@\" > \"$0\""])
        .arg(&out)
        .args(["a b", "", "-x", "--"]);
    s.run().ok();
    assert_eq!(std::fs::read_to_string(out).unwrap(), "[a b][][-x][--]");
}

/// The README's first command, so that it keeps working.
#[test]
fn readme_example_runs_on_the_local_secrets_file() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut s = Secrun::bare();
    s.cmd.current_dir(root);
    s.args([
        "--secrets-file",
        "examples/dev-secrets.json",
        "--env-file",
        "examples/local.env",
        "--from",
        "secretsmanager:simsportal/prod",
        "--",
        "python3",
        "examples/show_env.py",
    ]);
    let run = s.run();
    run.ok()
        .prints("SECRET_KEY               set, 44 characters")
        .prints("SQLALCHEMY_DATABASE_URI  set, 57 characters")
        .prints("SIMS_PORTAL_SLACK_BOT    set, 20 characters")
        .prints("SECRUN_* variables seen by the app: none");
    assert!(!run.stdout.contains("missing"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("dev-only"),
        "the example prints no values"
    );
}

/// Regression: an env-file error once printed the line's text, and so a
/// value pasted without quotes.
#[test]
fn env_file_errors_never_print_the_line() {
    let mut s = Secrun::bare();
    let v = secret_value();
    s.marker(&v);
    let file = s.write("leaky.env", format!("TOKEN!: {v}\n"));
    s.args(["--env-file".as_ref(), file.as_os_str()]);
    s.run_app()
        .fails(125)
        .says("leaky.env:1: unexpected character in a variable name at column 6");
    let mut s = Secrun::bare();
    s.marker(&v);
    let file = s.write("spaced.env", format!("PASSWORD {v}\n"));
    s.args(["--env-file".as_ref(), file.as_os_str()]);
    s.run_app()
        .fails(125)
        .says("spaced.env:1: a variable name cannot contain a space");
}

/// Regression: the first env-file error used to stop everything else.
#[test]
fn errors_of_every_file_and_phase_are_reported_together() {
    let mut s = Secrun::bare();
    let a = s.write("a.env", "A='open\n");
    let b = s.write("b.env", "OK=1\nB=\"open\n");
    let bad_json = s.write("s.json", "{not json");
    s.args([
        "--env-file".as_ref(),
        a.as_os_str(),
        "--env-file".as_ref(),
        b.as_os_str(),
    ])
    .args(["--secrets-file".as_ref(), bad_json.as_os_str()])
    .env("X", "ssm:")
    .env("Y", "secretsmanager:app:k")
    .arg("verify");
    let run = s.run();
    assert_eq!(run.code(), 125);
    run.says("a.env:1: unterminated")
        .says("b.env:2: unterminated")
        .says("X (ssm:): not a valid reference")
        .says("secrets file")
        .prints("FAILED  secretsmanager:app:k: the secrets file")
        .prints("FAILED  ssm:: not a valid reference")
        .prints("(env file)      FAILED  ");
}

#[test]
fn a_missing_secrets_file_is_an_error_even_with_no_reference() {
    let mut s = Secrun::bare();
    s.args(["--secrets-file", "dev-secrest.json"]);
    s.run_app()
        .fails(125)
        .says("secrets file dev-secrest.json: cannot read it");
}

/// Regression: `A=${A}2` after `A=1` in the same file read nothing.
#[test]
fn a_key_set_twice_in_one_file_reads_its_earlier_line() {
    let mut s = Secrun::bare();
    let f = s.write("twice.env", "A=1\nA=${A}2\nB=x\nB=y\n");
    s.args(["--env-file".as_ref(), f.as_os_str()]);
    s.run_app().ok().has("A", "12").has("B", "y");
}

/// Regression: numbers lost precision and object keys were reordered.
#[test]
fn json_values_keep_their_text() {
    let mut s = Secrun::bare();
    let f = s.write(
        "s.json",
        r#"{"app": {"BIG": 123456789012345678901234, "F": 1.50, "OBJ": {"z": 1, "a": 2}}}"#,
    );
    s.args(["--secrets-file".as_ref(), f.as_os_str()])
        .env("BIG", "secretsmanager:app:BIG")
        .env("F", "secretsmanager:app:F")
        .env("OBJ", "secretsmanager:app:OBJ")
        .env("WHOLE", "secretsmanager:app");
    s.run_app()
        .ok()
        .has("BIG", "123456789012345678901234")
        .has("F", "1.50")
        .has("OBJ", r#"{"z":1,"a":2}"#)
        .has(
            "WHOLE",
            r#"{"BIG":123456789012345678901234,"F":1.50,"OBJ":{"z":1,"a":2}}"#,
        );
}

#[test]
fn a_non_utf8_value_that_starts_like_a_reference_is_refused() {
    use std::os::unix::ffi::OsStrExt;
    let mut s = Secrun::bare();
    s.env("X", std::ffi::OsStr::from_bytes(b"ssm:/x\xff"));
    s.run_app()
        .fails(125)
        .says("X: starts like a reference but is not valid UTF-8");
}

#[test]
fn dollar_escape_without_interpolation_is_a_plain_dollar() {
    let mut s = Secrun::bare();
    let f = s.write("d.env", "K=\"\\$HOME\"\n");
    s.args([
        "--env-file".as_ref(),
        f.as_os_str(),
        "--no-interpolate".as_ref(),
    ]);
    s.run_app().ok().has("K", "$HOME");
}

/// The message of `${NAME:?message}` is printed as written: a `${SECRET}`
/// inside it is never expanded into the error.
#[test]
fn a_required_variables_message_is_printed_unexpanded() {
    let mut s = Secrun::bare();
    let v = secret_value();
    let file = s.write("s.json", json!({"db": v}).to_string());
    s.marker(&v);
    s.args(["--secrets-file".as_ref(), file.as_os_str()])
        .env("SECRET", "secretsmanager:db")
        .env("URL", "${MISSING:?set MISSING, not ${SECRET}}");
    s.run_app()
        .fails(125)
        .says("URL: ${MISSING} is required: set MISSING, not ${SECRET}");
}

/// A panic prints where it happened, never what was being formatted (the
/// debug build panics on demand with the value given).
#[test]
fn a_panic_prints_no_value() {
    let mut s = Secrun::bare();
    let v = secret_value();
    s.marker(&v);
    s.env("__SECRUN_TEST_PANIC", &v).args(["--", "true"]);
    let run = s.run();
    assert_ne!(run.code(), 0);
    run.says("secrun: internal error at src/main.rs:");
}
