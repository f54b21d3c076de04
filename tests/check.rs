//! `secrun check` and `secrun policy` on the labelled corpus in
//! tests/check/corpus: task definitions, `terraform show -json` output,
//! compose files and env files. All values there are fake.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::*;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check/corpus")
}

/// What a finding is about: (container, variable or environment file).
type Target = (Option<String>, String);

fn labels() -> Vec<(String, BTreeSet<Target>)> {
    labels_in(&corpus())
}

fn labels_in(dir: &Path) -> Vec<(String, BTreeSet<Target>)> {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("labels.json")).unwrap()).unwrap();
    v.as_object()
        .unwrap()
        .iter()
        .map(|(file, list)| {
            let set = list
                .as_array()
                .unwrap()
                .iter()
                .map(|e| target(e).unwrap())
                .collect();
            (file.clone(), set)
        })
        .collect()
}

/// What a label or a finding points at: its container and its variable (or
/// the environment file's ARN).
fn target(e: &Value) -> Option<Target> {
    let what = e["variable"].as_str().or(e["environment_file"].as_str())?;
    Some((e["container"].as_str().map(str::to_owned), what.to_owned()))
}

/// Findings against labels, summed over files; what differs is listed.
#[derive(Default)]
struct Score {
    right: usize,
    false_: usize,
    missed: usize,
    wrong: Vec<String>,
}

impl Score {
    fn add(&mut self, file: &str, got: &BTreeSet<Target>, expected: &BTreeSet<Target>) {
        self.right += got.intersection(expected).count();
        for x in got.difference(expected) {
            self.false_ += 1;
            self.wrong.push(format!("{file}: flagged {x:?}"));
        }
        for x in expected.difference(got) {
            self.missed += 1;
            self.wrong.push(format!("{file}: missed {x:?}"));
        }
    }

    fn precision(&self) -> f64 {
        self.right as f64 / (self.right + self.false_).max(1) as f64
    }

    fn recall(&self) -> f64 {
        self.right as f64 / (self.right + self.missed).max(1) as f64
    }
}

fn check(args: &[&str]) -> Run {
    let mut s = Secrun::bare();
    s.cmd.current_dir(corpus());
    s.arg("check").args(args);
    s.run()
}

/// Runs of at least 12 characters from a file that are neither names nor
/// locations secrun may print: if one shows in the output, a value leaked.
fn value_tokens(text: &str, printable: &BTreeSet<String>) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || "\"',{}[]\\".contains(c))
        .map(|t| t.trim_matches(|c: char| c == '=' || c == ':'))
        // `NAME=value`: the value.
        .map(|t| t.split_once('=').map_or(t, |(_, v)| v))
        .filter(|t| {
            t.len() >= 12
                && !printable.iter().any(|p| p.contains(*t))
                // Generated values mix letters and digits; keys and prose do not.
                && t.chars().filter(char::is_ascii_digit).count() >= 2
                && t.chars().filter(char::is_ascii_alphabetic).count() >= 2
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn corpus_precision_and_recall_are_one() {
    let mut score = Score::default();
    for (file, expected) in labels() {
        let run = check(&["--format", "json", &file]);
        let expected_code = if expected.is_empty() { 0 } else { 1 };
        assert_eq!(run.code(), expected_code, "{file}: {}", run.stderr);
        let found: Value = serde_json::from_str(&run.stdout).unwrap();
        let got: BTreeSet<Target> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                for key in ["file", "container", "variable", "rule", "message"] {
                    assert!(f.get(key).is_some(), "{file}: finding without {key}: {f}");
                }
                target(f).unwrap()
            })
            .collect();
        score.add(&file, &got, &expected);
    }
    eprintln!(
        "corpus: {} findings right, {} false, {} missed; precision {:.3}, recall {:.3}",
        score.right,
        score.false_,
        score.missed,
        score.precision(),
        score.recall()
    );
    assert!(score.wrong.is_empty(), "{}", score.wrong.join("\n"));
}

/// The README shows findings as `FILE:LINE`: each line must be the one
/// that names the variable (or, for an S3 environment file, its ARN).
#[test]
fn every_finding_points_at_the_line_that_defines_it() {
    let mut checked = 0;
    for (file, _) in labels() {
        let text = std::fs::read_to_string(corpus().join(&file)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let run = check(&["--format", "json", &file]);
        let found: Value = serde_json::from_str(&run.stdout).unwrap();
        for f in found.as_array().unwrap() {
            let (_, what) = target(f).unwrap();
            let line = f["line"]
                .as_u64()
                .unwrap_or_else(|| panic!("{file}: {f}: no line")) as usize;
            assert!(
                lines.get(line - 1).is_some_and(|l| l.contains(&what)),
                "{file}:{line} does not name {what}: {:?}",
                lines.get(line - 1)
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} findings checked");
}

/// Real task definitions, Terraform templates, compose and env files from
/// public repositories (tests/check/realworld: SOURCES.md, LABELS.md),
/// labelled before the rules were tuned on them.
#[test]
fn real_files_from_public_repositories_score_at_least_95() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check/realworld");
    let mut score = Score::default();
    let (mut exits, mut leaks_checked) = (0, 0);
    let files = labels_in(&dir);
    for (file, expected) in &files {
        let mut s = Secrun::bare();
        s.cmd.current_dir(&dir);
        s.args(["check", "--format", "json", file]);
        let run = s.run();
        let want = if expected.is_empty() { 0 } else { 1 };
        if run.code() == want {
            exits += 1;
        } else {
            score.wrong.push(format!(
                "{file}: exit {} (want {want}): {}",
                run.code(),
                run.stderr
            ));
        }
        let found: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{file}: not JSON ({e}): {}", run.stderr));
        let got: BTreeSet<Target> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|f| target(f).unwrap_or_default())
            .collect();
        score.add(file, &got, expected);
        // Nothing that looks like a value in the file is in the output.
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let printable = expected
            .iter()
            .flat_map(|(c, v)| c.iter().cloned().chain([v.clone()]))
            .chain([file.clone()])
            .collect();
        for t in value_tokens(&text, &printable) {
            leaks_checked += 1;
            assert!(
                !run.stdout.contains(&t) && !run.stderr.contains(&t),
                "{file}: {t:?} appears in the output"
            );
        }
    }
    assert!(leaks_checked > 50, "only {leaks_checked} values looked for");
    let (precision, recall) = (score.precision(), score.recall());
    let wrong = score.wrong.join("\n");
    eprintln!(
        "real files: {} files, {} right, {} false, {} missed; precision {precision:.3}, recall {recall:.3}, exit codes right {exits}/{}, {leaks_checked} value-like strings not in the output\n{wrong}",
        files.len(),
        score.right,
        score.false_,
        score.missed,
        files.len(),
    );
    assert!(files.len() >= 40);
    assert!(precision >= 0.95 && recall >= 0.95, "{wrong}");
    assert_eq!(exits, files.len(), "{wrong}");
}

#[test]
fn no_value_is_ever_printed_in_any_format() {
    let values = std::fs::read_to_string(corpus().join("values.tsv")).unwrap();
    let secret_values: Vec<String> = values
        .lines()
        .filter_map(|l| l.strip_prefix("secret\t")?.split_once('\t'))
        .map(|(_, v)| v.to_owned())
        // Short ones ("sims") are words secrun prints in names.
        .filter(|v| v.len() >= 8)
        .collect();
    assert!(
        secret_values.len() > 50,
        "values.tsv: {}",
        secret_values.len()
    );
    for (file, expected) in labels() {
        let text = std::fs::read_to_string(corpus().join(&file)).unwrap();
        let mut printable: BTreeSet<String> = expected
            .iter()
            .flat_map(|(c, v)| c.iter().cloned().chain([v.clone()]))
            .collect();
        printable.insert(file.clone());
        let mut tokens = value_tokens(&text, &printable);
        assert!(
            expected.is_empty() || !tokens.is_empty(),
            "{file}: no values to look for"
        );
        // And every labelled secret value, exactly as written.
        tokens.extend(
            secret_values
                .iter()
                .filter(|v| text.contains(v.as_str()))
                .cloned(),
        );
        for format in ["text", "json", "sarif"] {
            let run = check(&["--format", format, &file]);
            for t in &tokens {
                assert!(
                    !run.stdout.contains(t.as_str()) && !run.stderr.contains(t.as_str()),
                    "{file} ({format}): {t:?} appears in the output"
                );
            }
        }
    }
}

#[test]
fn text_findings_name_file_line_container_variable_and_rule() {
    let run = check(&["app.env", "ecs-describe-plaintext.json"]);
    assert_eq!(run.code(), 1);
    let first = run.stdout.lines().next().unwrap();
    let (location, rest) = first.split_once(": ").unwrap();
    assert!(
        location.starts_with("app.env:") && location["app.env:".len()..].parse::<usize>().is_ok(),
        "{first}"
    );
    assert!(rest.contains("Secrets Manager"), "{first}");
    assert!(run.stdout.contains("in container web"), "{}", run.stdout);
    assert!(
        run.stdout.contains("ecs-describe-plaintext.json:"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.trim_end().ends_with("files"), "{}", run.stdout);
}

#[test]
fn exit_codes_stdin_and_allow() {
    assert_eq!(
        check(&[
            "clean.env",
            "compose-clean.yaml",
            "ecs-register-references.json"
        ])
        .code(),
        0
    );
    let run = check(&["no-such-file.json"]);
    assert_eq!(run.code(), 2);
    assert!(
        run.stdout.contains("no-such-file.json: cannot check"),
        "{}",
        run.stdout
    );
    let mut s = Secrun::bare();
    let broken = s.write("broken.json", "{\"taskDefinition\": ");
    s.arg("check").arg(&broken);
    assert_eq!(s.run().code(), 2);
    // A plan piped in, as `terraform show -json plan | secrun check -`.
    let mut s = Secrun::bare();
    s.args(["check", "-"])
        .cmd
        .stdin(std::fs::File::open(corpus().join("terraform-plan.json")).unwrap());
    let run = s.run();
    assert_eq!(run.code(), 1);
    assert!(run.stdout.contains("-:"), "{}", run.stdout);
    // --allow silences every finding of a variable.
    let mut s = Secrun::bare();
    let f = s.write("one.env", "SECRET_KEY=Zq8xW3vB7nM2kL9pR4tY\nOTHER=1\n");
    s.args([
        "check".as_ref(),
        "--allow".as_ref(),
        "SECRET_KEY".as_ref(),
        f.as_os_str(),
    ]);
    assert_eq!(s.run().code(), 0);
}

fn multitool() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "target/sarif-multitool/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool",
    );
    assert!(
        path.exists(),
        "{} is missing: scripts/test installs it",
        path.display()
    );
    path
}

#[test]
fn sarif_passes_the_sarif_multitool_for_sarif_and_github_rules() {
    let files: Vec<String> = labels().into_iter().map(|(f, _)| f).collect();
    let mut args = vec!["--format", "sarif"];
    args.extend(files.iter().map(String::as_str));
    let run = check(&args);
    assert_eq!(run.code(), 1);
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.starts_with('/') && files.iter().any(|f| f == uri),
            "{uri}"
        );
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
    }
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
    {
        assert!(
            rule["fullDescription"]["text"].is_string() && rule["help"]["text"].is_string(),
            "{rule}"
        );
    }
    let dir = scratch();
    let input = dir.join("check.sarif");
    std::fs::write(&input, &run.stdout).unwrap();
    for kind in ["Sarif", "Gh"] {
        let output = dir.join(format!("validation-{kind}.sarif"));
        let status = Command::new(multitool())
            .args(["validate", "--rule-kind", kind, "--output"])
            .arg(&output)
            .arg(&input)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&status.stdout)
        );
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
        let errors: Vec<&Value> = report["runs"][0]["results"]
            .as_array()
            .map(|r| r.iter().filter(|x| x["level"] == "error").collect())
            .unwrap_or_default();
        assert!(errors.is_empty(), "{kind}: {errors:?}");
    }
}

/// parliament's findings on a policy document (empty: none).
fn parliament(policy: &str) -> String {
    let out = Command::new(python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/lint_policy.py"))
        .arg(policy)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn policy_from_a_task_definition_passes_parliament() {
    let mut s = Secrun::bare();
    s.cmd.current_dir(corpus());
    s.args([
        "policy",
        "--kms-key",
        "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ])
    .arg("ecs-register-references.json");
    let run = s.run();
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let actions: Vec<&str> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "secretsmanager:GetSecretValue",
            "secretsmanager:BatchGetSecretValue",
            "ssm:GetParameters",
            "kms:Decrypt"
        ]
    );
    assert_eq!(doc["Statement"][1]["Resource"], "*");
    assert_eq!(parliament(&run.stdout), "", "parliament found problems");
    // The linter is real: a resource that does not fit its action is caught.
    let broken = run.stdout.replace("arn:aws:ssm:", "arn:aws:s3:::x-");
    assert!(
        parliament(&broken).contains("No resources match"),
        "parliament missed a bad resource"
    );
}

#[test]
fn policy_from_the_environment_and_env_files() {
    let mut s = Secrun::bare();
    let f = s.write("app.env", "DB=ssm:/sims/prod/db-url\nKEEP_ARN=arn:aws:secretsmanager:us-east-2:111122223333:secret:x\n");
    s.env("AWS_REGION", "eu-west-1")
        .env("SECRUN_FROM", "secretsmanager:simsportal/prod")
        .env("SECRET_KEY", "arn:aws:secretsmanager:us-east-2:111122223333:secret:simsportal/prod-AbCdEf:SECRET_KEY::")
        .env("URI", "postgresql://app:${secretsmanager:rds/sims:password}@db/sims")
        .args(["policy".as_ref(), "--env-file".as_ref(), f.as_os_str()]);
    let run = s.run();
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        doc["Statement"][0]["Resource"],
        serde_json::json!([
            "arn:aws:secretsmanager:eu-west-1:*:secret:rds/sims-??????",
            "arn:aws:secretsmanager:eu-west-1:*:secret:simsportal/prod-??????",
            "arn:aws:secretsmanager:us-east-2:111122223333:secret:simsportal/prod-AbCdEf",
            // `AbCdEf` may be the random suffix or part of the name: both.
            "arn:aws:secretsmanager:us-east-2:111122223333:secret:simsportal/prod-AbCdEf-??????"
        ])
    );
    assert_eq!(
        doc["Statement"][2]["Resource"],
        serde_json::json!(["arn:aws:ssm:eu-west-1:*:parameter/sims/prod/db-url"])
    );
    assert_eq!(parliament(&run.stdout), "");
    let mut s = Secrun::bare();
    s.env("PLAIN", "x").arg("policy");
    let run = s.run();
    assert_eq!(run.code(), 1);
    assert!(run.stderr.contains("nothing to grant"));
}

/// Inputs a review found read as "clean" without being read, or echoed.
#[test]
fn inputs_that_cannot_be_read_are_never_clean() {
    let mut s = Secrun::bare();
    let v = secret_value();
    s.marker(&v);
    let files = [
        // A bare environment list: read, and its secret found.
        ("env-list.json", format!(r#"[{{"name": "DB_PASSWORD", "value": "{v}"}}]"#), 1),
        // An array that is neither: unreadable, not clean.
        ("numbers.json", "[1, 2]".to_owned(), 2),
        // A service merged from an anchor, in the second YAML document, with a BOM.
        (
            "merged.yaml",
            format!("\u{feff}version: '3'\n---\nx-app: &app\n  environment:\n    DB_PASSWORD: {v}\nservices:\n  web:\n    <<: *app\n"),
            1,
        ),
        // Compose's `$$` escape: the container sees an inline reference.
        ("escaped.yaml", "services:\n  web:\n    environment:\n      DB_URL: postgresql://app:$${secretsmanager:rds:password}@db/x\n".to_owned(), 0),
    ];
    for (name, text, code) in &files {
        let path = s.write(name, text);
        let mut c = Secrun::bare();
        c.marker(&v);
        c.arg("check").arg(&path);
        let run = c.run();
        assert_eq!(run.code(), *code, "{name}: {}", run.stdout);
    }
    // A list item whose "name" holds part of a value is not echoed.
    let path = s.write(
        "list.yaml",
        format!("services:\n  web:\n    environment:\n      - \"DJANGO_SECRET_KEY {v}=xoxb-572117085161-2098602490165-Qd3RlNZplSziR2zhCpwEREGP\"\n"),
    );
    let mut c = Secrun::bare();
    c.marker(&v).marker("Qd3RlNZplSziR2zhCpwEREGP");
    c.arg("check").arg(&path);
    let run = c.run();
    // A Slack token: a finding, which names the entry by its place.
    assert_eq!(run.code(), 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("(the entry on line 4)"),
        "{}",
        run.stdout
    );
    // An alias bomb is refused quickly instead of exhausting memory.
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        bomb.push_str(&format!(
            "{}: &{} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n",
            (b'a' + i) as char,
            (b'a' + i) as char,
            p = (b'a' + i - 1) as char
        ));
    }
    bomb.push_str("services:\n  web:\n    environment:\n      A: b\n");
    let path = s.write("bomb.yaml", bomb);
    let mut c = Secrun::bare();
    c.arg("check").arg(&path);
    let run = c.run();
    assert_eq!(run.code(), 2, "{}", run.stdout);
    assert!(run.stdout.contains("aliases expand"), "{}", run.stdout);
}

#[test]
fn policy_refuses_aliases_bad_regions_and_invalid_references() {
    let mut s = Secrun::bare();
    s.env("X", "secretsmanager:app")
        .args(["policy", "--kms-key", "alias/aws/secretsmanager"]);
    let run = s.run();
    assert_eq!(run.code(), 2, "{}", run.stderr);
    run.says("--kms-key alias/aws/secretsmanager: give the key's ARN");
    let mut s = Secrun::bare();
    s.env("X", "secretsmanager:app")
        .args(["policy", "--region", "eu west"]);
    let run = s.run();
    assert_eq!(run.code(), 2, "{}", run.stderr);
    run.says("--region \"eu west\" is not a region name");
    let mut s = Secrun::bare();
    let f = s.write(
        "bad.env",
        "E=arn:aws:secretsmanager:us-east-1:111122223333:secret:\n",
    );
    s.arg("policy").arg(&f);
    let run = s.run();
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr.contains("not a valid reference"),
        "{}",
        run.stderr
    );
    // A mistyped reference may be a pasted value: its text is not echoed.
    let (v1, v2) = (secret_value(), secret_value());
    let mut s = Secrun::bare();
    let f = s.write(
        "near.env",
        format!("NEAR=SSM:/app/{v1}\nURI=postgresql://app:${{Secretsmanager:{v2}}}@db/sims\n"),
    );
    s.arg("policy").arg(&f).marker(&v1).marker(&v2);
    let run = s.run();
    assert_eq!(run.code(), 2);
    run.says("NEAR (a value of ")
        .says("not a valid reference")
        .says("URI (a value of ")
        .says("not a valid inline reference");
}
