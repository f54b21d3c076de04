//! `secrun policy`: references -> the least-privilege IAM policy document.
//!
//! Pure. `secretsmanager:GetSecretValue` on each secret (a name without its
//! random suffix becomes `NAME-??????`), `secretsmanager:BatchGetSecretValue`
//! on `*` (it authorises each secret through GetSecretValue),
//! `ssm:GetParameters` on each parameter, `kms:Decrypt` on the keys given.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::check::inputs::Extracted;
use crate::plan::shown_reference;
use crate::reference::{self, strip_random_suffix, Reference};
use crate::template;

/// Every reference the application resolves through secrun in a deployment
/// file: whole values, inline `${...}` references and `SECRUN_FROM` lists.
/// ECS `secrets` entries are left out: ECS fetches them with the task's
/// execution role, not the role the application runs as; their count is
/// returned so the caller can say so. A malformed reference is an error.
pub fn references_in(x: &Extracted) -> Result<(Vec<Reference>, usize), Vec<String>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    fn take(name: &str, written: &str, out: &mut Vec<Reference>, errors: &mut Vec<String>) {
        match reference::parse(written) {
            Some(Ok(r)) => out.push(r),
            Some(Err(e)) => errors.push(format!(
                "{name} ({}): not a valid reference: {e}",
                shown_reference(written)
            )),
            None => {}
        }
    }
    for e in &x.entries {
        if e.name.ends_with("_ARN") {
            continue;
        }
        if e.name == "SECRUN_FROM" {
            for r in e.value.split(',') {
                take(&e.name, r.trim(), &mut out, &mut errors);
            }
            continue;
        }
        if reference::parse(&e.value).is_some() {
            take(&e.name, &e.value, &mut out, &mut errors);
            continue;
        }
        match template::parse(e.value.as_bytes()) {
            Ok(pieces) => {
                let mut refs = Vec::new();
                template::references(&pieces, &mut refs);
                out.extend(refs.into_iter().cloned());
            }
            Err(bad) => errors.push(format!(
                "{} ({}): not a valid inline reference: {}",
                e.name,
                shown_reference(&bad.written),
                bad.error
            )),
        }
    }
    if errors.is_empty() {
        Ok((out, x.secrets.len()))
    } else {
        Err(errors)
    }
}

/// A KMS key ARN: an alias does not authorise kms:Decrypt.
pub fn is_kms_key_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "kms"
        && parts[5].starts_with("key/")
        && parts[5].len() > 4
}

/// A region name, or `*`.
pub fn is_region(s: &str) -> bool {
    s == "*"
        || (!s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && s.contains('-'))
}

/// The policy document, or `None` when there is nothing to grant.
/// `region` is where short references go (`*` when unknown). With
/// `watch`, also what `--watch` asks: `secretsmanager:DescribeSecret` on
/// the watched secrets and `ssm:DescribeParameters` (which IAM authorises
/// on `*` only).
pub fn document(
    refs: &[Reference],
    region: &str,
    kms_keys: &[String],
    watch: bool,
) -> Option<Value> {
    let mut secrets = BTreeSet::new();
    let mut parameters = BTreeSet::new();
    let mut described = BTreeSet::new();
    let mut watched_parameters = false;
    for r in refs {
        let r = r.without_key();
        let resource_region = r.region().unwrap_or(region).to_owned();
        let resources = iam_resources(&r, &resource_region);
        match r {
            Reference::SecretsManager { .. } => {
                if !r.is_pinned() {
                    described.extend(resources.iter().cloned());
                }
                secrets.extend(resources);
            }
            Reference::Ssm { .. } => {
                watched_parameters |= !r.is_pinned();
                parameters.extend(resources);
            }
        }
    }
    let mut statements = Vec::new();
    if !secrets.is_empty() {
        statements.push(json!({
            "Sid": "ReadSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": secrets.into_iter().collect::<Vec<_>>(),
        }));
        statements.push(json!({
            "Sid": "ReadSecretsInBatches",
            "Effect": "Allow",
            "Action": "secretsmanager:BatchGetSecretValue",
            "Resource": "*",
        }));
    }
    if !parameters.is_empty() {
        statements.push(json!({
            "Sid": "ReadParameters",
            "Effect": "Allow",
            "Action": "ssm:GetParameters",
            "Resource": parameters.into_iter().collect::<Vec<_>>(),
        }));
    }
    if statements.is_empty() {
        return None;
    }
    if watch && !described.is_empty() {
        statements.push(json!({
            "Sid": "WatchSecretVersions",
            "Effect": "Allow",
            "Action": "secretsmanager:DescribeSecret",
            "Resource": described.into_iter().collect::<Vec<_>>(),
        }));
    }
    if watch && watched_parameters {
        statements.push(json!({
            "Sid": "WatchParameterVersions",
            "Effect": "Allow",
            "Action": "ssm:DescribeParameters",
            "Resource": "*",
        }));
    }
    if !kms_keys.is_empty() {
        statements.push(json!({
            "Sid": "DecryptSecrets",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": kms_keys,
        }));
    }
    Some(json!({"Version": "2012-10-17", "Statement": statements}))
}

/// Every resource to grant for `r`: a name whose last `-` + 6 characters
/// may be the random suffix or part of the name (`app/prod-config`) gets
/// both `NAME` and `NAME-??????`, so that the grant holds either way.
pub fn iam_resources(r: &Reference, region: &str) -> Vec<String> {
    let exact = iam_resource(r, region);
    match r {
        Reference::SecretsManager { name, .. } if strip_random_suffix(name).is_some() => {
            vec![exact.clone(), format!("{exact}-??????")]
        }
        _ => vec![exact],
    }
}

/// The partition a region belongs to.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The resource an IAM statement must grant for `r`, as precisely as the
/// reference allows: a secret name without its random suffix (a short name
/// or a partial ARN) matches `NAME-??????`, as AWS adds the suffix.
pub fn iam_resource(r: &Reference, region: &str) -> String {
    match r {
        Reference::SecretsManager { arn, name, .. } => {
            let wildcard = if strip_random_suffix(name).is_some() {
                ""
            } else {
                "-??????"
            };
            match arn {
                Some(a) => format!(
                    "arn:{}:secretsmanager:{}:{}:secret:{name}{wildcard}",
                    a.partition, a.region, a.account
                ),
                None => format!(
                    "arn:{}:secretsmanager:{region}:*:secret:{name}{wildcard}",
                    partition_of(region)
                ),
            }
        }
        Reference::Ssm { name, .. } => match r.arn() {
            Some(arn) => arn,
            None => format!(
                "arn:{}:ssm:{region}:*:parameter/{}",
                partition_of(region),
                name.trim_start_matches('/')
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::inputs;
    use crate::reference::must;

    #[test]
    fn one_statement_per_action_with_exact_resources() {
        let refs = [
            must("arn:aws:secretsmanager:us-east-2:111122223333:secret:simsportal/prod-AbCdEf:SECRET_KEY::"),
            must("arn:aws:secretsmanager:us-east-2:111122223333:secret:simsportal/prod-AbCdEf:SLACK::"),
            must("secretsmanager:rds/sims:password"),
            must("ssm:/sims/db:3"),
            must("secretsmanager:myapp/prod-config"),
            must("arn:aws:ssm:eu-west-1:111122223333:parameter/shared/key"),
        ];
        let doc = document(
            &refs,
            "us-east-2",
            &["arn:aws:kms:us-east-2:111122223333:key/abcd".into()],
            false,
        );
        let doc = doc.unwrap_or_default();
        assert_eq!(
            doc["Statement"][0]["Resource"],
            json!([
                "arn:aws:secretsmanager:us-east-2:*:secret:myapp/prod-config",
                "arn:aws:secretsmanager:us-east-2:*:secret:myapp/prod-config-??????",
                "arn:aws:secretsmanager:us-east-2:*:secret:rds/sims-??????",
                "arn:aws:secretsmanager:us-east-2:111122223333:secret:simsportal/prod-AbCdEf",
                "arn:aws:secretsmanager:us-east-2:111122223333:secret:simsportal/prod-AbCdEf-??????"
            ])
        );
        assert_eq!(doc["Statement"][1]["Resource"], "*");
        assert_eq!(
            doc["Statement"][2]["Resource"],
            json!([
                "arn:aws:ssm:eu-west-1:111122223333:parameter/shared/key",
                "arn:aws:ssm:us-east-2:*:parameter/sims/db"
            ])
        );
        assert_eq!(doc["Statement"][3]["Action"], "kms:Decrypt");
        assert!(document(&[], "us-east-2", &[], false).is_none());
    }

    #[test]
    fn watch_adds_describe_on_what_is_watched() {
        let refs = [
            must("secretsmanager:rds/sims:password"),
            must("secretsmanager:pinned::AWSPREVIOUS"),
            must("ssm:/sims/db"),
        ];
        let doc = document(&refs, "us-east-2", &[], true).unwrap_or_default();
        let statements = doc["Statement"].as_array().cloned().unwrap_or_default();
        let by_action = |a: &str| {
            statements
                .iter()
                .find(|s| s["Action"] == a)
                .map(|s| s["Resource"].clone())
        };
        assert_eq!(
            by_action("secretsmanager:DescribeSecret"),
            Some(json!([
                "arn:aws:secretsmanager:us-east-2:*:secret:rds/sims-??????"
            ])),
            "a pinned secret never changes, so it is not described"
        );
        assert_eq!(by_action("ssm:DescribeParameters"), Some(json!("*")));
        let plain = document(&refs, "us-east-2", &[], false).unwrap_or_default();
        assert!(!plain.to_string().contains("Describe"));
    }

    #[test]
    fn references_from_task_definitions() {
        let text = r#"{"containerDefinitions": [{"name": "web",
            "environment": [
                {"name": "SECRUN_FROM", "value": "secretsmanager:a, secretsmanager:b"},
                {"name": "URI", "value": "pg://u:${secretsmanager:rds:password}@db"},
                {"name": "DB_SECRET_ARN", "value": "arn:aws:secretsmanager:us-east-2:111122223333:secret:x"},
                {"name": "PLAIN", "value": "x"}],
            "secrets": [{"name": "P", "valueFrom": "/sims/db"}]}]}"#;
        let x = inputs::read("td.json", text).unwrap_or_default();
        let (refs, ecs_secrets) = references_in(&x).unwrap_or_default();
        let ids: Vec<String> = refs.iter().map(Reference::aws_id).collect();
        assert_eq!(ids, ["a", "b", "rds"]);
        assert_eq!(ecs_secrets, 1, "ECS secrets are the execution role's");
        let bad = inputs::read(
            ".env",
            "E=arn:aws:secretsmanager:us-east-1:111122223333:secret:\n",
        )
        .unwrap_or_default();
        assert!(references_in(&bad).is_err());
    }

    #[test]
    fn kms_keys_and_regions_are_checked() {
        assert!(is_kms_key_arn(
            "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ));
        assert!(!is_kms_key_arn("alias/aws/secretsmanager"));
        assert!(!is_kms_key_arn(
            "arn:aws:kms:us-east-2:111122223333:alias/app"
        ));
        assert!(
            is_region("us-east-2") && is_region("*") && !is_region("") && !is_region("eu west")
        );
    }

    #[test]
    fn iam_resources_match_what_aws_checks() {
        let cases = [
            (
                "secretsmanager:rds/sims",
                "us-east-2",
                "arn:aws:secretsmanager:us-east-2:*:secret:rds/sims-??????",
            ),
            (
                "secretsmanager:app-AbCdEf",
                "us-east-2",
                "arn:aws:secretsmanager:us-east-2:*:secret:app-AbCdEf",
            ),
            (
                "arn:aws:secretsmanager:us-east-2:111122223333:secret:app",
                "us-east-2",
                "arn:aws:secretsmanager:us-east-2:111122223333:secret:app-??????",
            ),
            (
                "arn:aws:secretsmanager:us-east-2:111122223333:secret:app-AbCdEf:k::",
                "us-east-2",
                "arn:aws:secretsmanager:us-east-2:111122223333:secret:app-AbCdEf",
            ),
            (
                "secretsmanager:x",
                "cn-north-1",
                "arn:aws-cn:secretsmanager:cn-north-1:*:secret:x-??????",
            ),
            (
                "ssm:/sims/db",
                "us-gov-west-1",
                "arn:aws-us-gov:ssm:us-gov-west-1:*:parameter/sims/db",
            ),
        ];
        for (reference, region, want) in cases {
            assert_eq!(iam_resource(&must(reference), region), want, "{reference}");
        }
    }
}
