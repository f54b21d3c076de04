//! `secrun check`: plaintext secrets in deployment files, as findings.
//!
//! Pure: inputs come in as (name, text) pairs, findings go out as values and
//! are rendered as text, JSON or SARIF 2.1.0. A finding names the file, the
//! container, the variable and the rule, and says how to move the value to
//! Secrets Manager; it never carries the value.

pub mod inputs;
pub mod rules;

use serde_json::{json, Value};

use rules::Rule;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub file: String,
    pub container: Option<String>,
    /// The variable; `None` for an environment file.
    pub variable: Option<String>,
    /// For an environment file: its S3 ARN (a location, not a secret).
    pub environment_file: Option<String>,
    pub rule: Rule,
    pub line: Option<usize>,
    pub message: String,
}

/// What `check` found in all its inputs.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Inputs that could not be read or understood: (name, why).
    pub unreadable: Vec<(String, String)>,
    /// What could not be checked and does not change the exit code.
    pub warnings: Vec<String>,
}

impl Report {
    /// 0 clean, 1 findings, 2 unreadable input.
    pub fn exit_code(&self) -> u8 {
        if !self.unreadable.is_empty() {
            2
        } else if !self.findings.is_empty() {
            1
        } else {
            0
        }
    }
}

fn fix(variable: &str) -> String {
    format!(
        "move the value to Secrets Manager and put a reference in its place: \
in a task definition, a `secrets` entry {{\"name\": \"{variable}\", \"valueFrom\": \"arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME:{variable}::\"}}, \
or for secrun the value `secretsmanager:NAME:{variable}` (several variables at once: one JSON secret loaded with SECRUN_FROM)"
    )
}

/// Check each input; `allow` silences variables by name.
pub fn check(inputs: &[(String, Result<String, String>)], allow: &[String]) -> Report {
    let mut report = Report::default();
    for (file, text) in inputs {
        let text = match text {
            Ok(t) => t,
            Err(why) => {
                report.unreadable.push((file.clone(), why.clone()));
                continue;
            }
        };
        let extracted = match inputs::read(file, text) {
            Ok(x) => x,
            Err(why) => {
                report.unreadable.push((file.clone(), why));
                continue;
            }
        };
        if !extracted.tolerated.is_empty() {
            report.warnings.push(format!(
                "{file}: read tolerantly: {}",
                extracted.tolerated.join("; ")
            ));
        }
        // Placeholders of this file, and the ones frameworks publish: a JWT
        // signed with one is derived from a placeholder, not a credential.
        let placeholders: Vec<&str> = extracted
            .entries
            .iter()
            .map(|e| e.value.as_str())
            .filter(|v| v.len() >= 8 && rules::says_placeholder(v))
            .chain(rules::PUBLISHED_SIGNING_KEYS)
            .collect();
        for address in &extracted.unknown {
            report.warnings.push(format!(
                "{file}: {address}: container_definitions is not known until apply, so it was not checked; check the state after apply (terraform show -json), or the file it is rendered from"
            ));
        }
        for e in &extracted.entries {
            if allow.contains(&e.name) {
                continue;
            }
            if let Some(rule) = rules::classify(&e.name, &e.value) {
                if rule == Rule::Jwt && rules::signed_with(e.value.trim(), &placeholders) {
                    continue;
                }
                let place = e
                    .container
                    .as_deref()
                    .map(|c| format!(" in container {c}"))
                    .unwrap_or_default();
                report.findings.push(Finding {
                    file: file.clone(),
                    container: e.container.clone(),
                    variable: Some(e.name.clone()),
                    environment_file: None,
                    rule,
                    line: e.line,
                    message: format!("{}{place}: {}; {}.", e.name, rule.short(), fix(&e.name)),
                });
            }
        }
        for f in &extracted.env_files {
            // Only an S3 ARN is echoed: a presigned URL carries a credential.
            let shown = if f.value.starts_with("arn:") {
                f.value.as_str()
            } else {
                "(not an S3 ARN)"
            };
            let place = f
                .container
                .as_deref()
                .map(|c| format!(" of container {c}"))
                .unwrap_or_default();
            report.findings.push(Finding {
                file: file.clone(),
                container: f.container.clone(),
                variable: None,
                environment_file: Some(shown.to_owned()),
                rule: Rule::EnvironmentFile,
                line: f.line,
                message: format!(
                    "the environment file {}{place} is plaintext at rest on S3; move its variables to one JSON secret in Secrets Manager and load it with SECRUN_FROM, or list them under `secrets`.",
                    shown
                ),
            });
        }
    }
    report
}

pub fn text(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let line = f.line.map(|l| format!(":{l}")).unwrap_or_default();
        out.push_str(&format!(
            "{}{line}: {}: {}\n",
            f.file,
            f.rule.id(),
            f.message
        ));
    }
    for (file, why) in &report.unreadable {
        out.push_str(&format!("{file}: cannot check: {why}\n"));
    }
    let files: std::collections::BTreeSet<&str> =
        report.findings.iter().map(|f| f.file.as_str()).collect();
    out.push_str(&match report.findings.len() {
        0 if report.unreadable.is_empty() => "no plaintext secrets found\n".to_owned(),
        0 => String::new(),
        n => format!(
            "{n} plaintext secret{} in {} file{}\n",
            if n == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        ),
    });
    out
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "file": f.file,
        "container": f.container,
        "variable": f.variable,
        "environment_file": f.environment_file,
        "rule": f.rule.id(),
        "line": f.line,
        "message": f.message,
    })
}

pub fn json(report: &Report) -> String {
    let all: Vec<Value> = report.findings.iter().map(finding_json).collect();
    format!("{}\n", Value::Array(all))
}

/// A path as SARIF wants it for code scanning: relative to `cwd` (the
/// working directory, given by the caller), with `/`.
fn artifact_uri(file: &str, cwd: Option<&std::path::Path>) -> String {
    if file == "-" {
        return "stdin".into();
    }
    let path = std::path::Path::new(file);
    let relative = cwd
        .and_then(|cwd| {
            path.strip_prefix(cwd)
                .ok()
                .map(std::path::Path::to_path_buf)
        })
        .unwrap_or_else(|| path.to_path_buf());
    relative
        .to_string_lossy()
        .trim_start_matches("./")
        .trim_start_matches('/')
        .to_owned()
}

/// A stable id for a finding across runs (file, container, variable, rule).
fn fingerprint(f: &Finding) -> String {
    // FNV-1a: stable across platforms and versions, unlike std's hasher.
    let mut h: u64 = 0xcbf29ce484222325;
    let key = format!(
        "{}\0{}\0{}\0{}",
        f.file,
        f.container.as_deref().unwrap_or(""),
        f.variable
            .as_deref()
            .or(f.environment_file.as_deref())
            .unwrap_or(""),
        f.rule.id()
    );
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// SARIF 2.1.0; file names relative to `cwd` where they lie inside it.
pub fn sarif(report: &Report, cwd: Option<&std::path::Path>) -> String {
    let rules: Vec<Value> = rules::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.id(),
                "name": r.name(),
                "shortDescription": {"text": r.short()},
                "fullDescription": {"text": r.full()},
                "help": {
                    "text": format!("{} Store the value in AWS Secrets Manager and put a reference where it was (a task definition `secrets` entry, or a value that secrun resolves, such as `secretsmanager:NAME:KEY`).", r.full()),
                    "markdown": format!("{}\n\nStore the value in AWS Secrets Manager and put a reference where it was: a task definition `secrets` entry with `valueFrom`, or a value that secrun resolves at start, such as `secretsmanager:NAME:KEY`. See `secrun check --help`.", r.full()),
                },
                "defaultConfiguration": {"level": "error"},
                "properties": {"tags": ["security", "secrets"], "precision": "high", "security-severity": "8.0"},
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = rules::ALL.iter().position(|r| *r == f.rule).unwrap_or(0);
            json!({
                "ruleId": f.rule.id(),
                "ruleIndex": index,
                "level": "error",
                "message": {"text": f.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri(&f.file, cwd)},
                        "region": {"startLine": f.line.unwrap_or(1)},
                    }
                }],
                "partialFingerprints": {"secrunFinding/v1": fingerprint(f)},
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "secrun",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    format!("{doc}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_never_carry_the_value_and_allow_silences() {
        let token = "xoxb-2837461923-3948572039485-Qw3rTy7UiOp9AsDfGh2JkL4z";
        let text = format!("SLACK={token}\nOK=1\nPASSWORD=hunter2hunter2\n");
        let inputs = vec![("app.env".to_owned(), Ok(text))];
        let report = check(&inputs, &[]);
        assert_eq!(report.findings.len(), 2);
        assert_eq!(report.exit_code(), 1);
        for out in [self::text(&report), json(&report), sarif(&report, None)] {
            assert!(
                !out.contains(token) && !out.contains("hunter2hunter2"),
                "{out}"
            );
        }
        assert!(
            self::text(&report).contains("app.env:1: slack-token: SLACK: Slack token in plaintext")
        );
        let report = check(&inputs, &["SLACK".into(), "PASSWORD".into()]);
        assert_eq!(report.exit_code(), 0);
    }

    #[test]
    fn unreadable_input_is_exit_2() {
        let inputs = vec![
            ("x.json".to_owned(), Ok("{".to_owned())),
            ("y.env".to_owned(), Err("no such file".to_owned())),
        ];
        let report = check(&inputs, &[]);
        assert_eq!(report.exit_code(), 2);
        assert_eq!(report.unreadable.len(), 2);
    }
}
