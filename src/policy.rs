//! `secrun policy`: references -> the least-privilege IAM policy document.
//!
//! Pure. `secretsmanager:GetSecretValue` on each secret (a name without its
//! random suffix becomes `NAME-??????`), `secretsmanager:BatchGetSecretValue`
//! on `*` (it authorises each secret through GetSecretValue),
//! `ssm:GetParameters` on each parameter, `kms:Decrypt` on the keys given.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::check::inputs::Extracted;
use crate::provider::iam_resource;
use crate::reference::{self, Reference};
use crate::template;

/// Every reference a deployment file makes: whole values, inline
/// `${...}` references, `SECRUN_FROM` lists, and ECS `secrets` entries.
pub fn references_in(x: &Extracted) -> Vec<Reference> {
    let mut out = Vec::new();
    for e in &x.entries {
        if e.name.ends_with("_ARN") {
            continue;
        }
        if e.name == "SECRUN_FROM" {
            out.extend(
                e.value
                    .split(',')
                    .filter_map(|r| reference::parse(r.trim())?.ok()),
            );
            continue;
        }
        match reference::parse(&e.value) {
            Some(Ok(r)) => out.push(r),
            Some(Err(_)) => {}
            None => {
                if let Ok(pieces) = template::parse(e.value.as_bytes()) {
                    let mut refs = Vec::new();
                    template::references(&pieces, &mut refs);
                    out.extend(refs.into_iter().cloned());
                }
            }
        }
    }
    for s in &x.secrets {
        // ECS takes an ARN, or for SSM a parameter name in the same region.
        let written = if s.value_from.starts_with("arn:") {
            s.value_from.clone()
        } else {
            format!("ssm:{}", s.value_from)
        };
        if let Some(Ok(r)) = reference::parse(&written) {
            out.push(r);
        }
    }
    out
}

/// The policy document, or `None` when there is nothing to grant.
/// `region` is where short references go (`*` when unknown).
pub fn document(refs: &[Reference], region: &str, kms_keys: &[String]) -> Option<Value> {
    let mut secrets = BTreeSet::new();
    let mut parameters = BTreeSet::new();
    for r in refs {
        let r = r.without_key();
        let resource_region = r.region().unwrap_or(region).to_owned();
        match r {
            Reference::SecretsManager { .. } => secrets.insert(iam_resource(&r, &resource_region)),
            Reference::Ssm { .. } => parameters.insert(iam_resource(&r, &resource_region)),
        };
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
            must("arn:aws:ssm:eu-west-1:111122223333:parameter/shared/key"),
        ];
        let doc = document(
            &refs,
            "us-east-2",
            &["arn:aws:kms:us-east-2:111122223333:key/abcd".into()],
        );
        let doc = doc.unwrap_or_default();
        assert_eq!(
            doc["Statement"][0]["Resource"],
            json!([
                "arn:aws:secretsmanager:us-east-2:*:secret:rds/sims-??????",
                "arn:aws:secretsmanager:us-east-2:111122223333:secret:simsportal/prod-AbCdEf"
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
        assert!(document(&[], "us-east-2", &[]).is_none());
    }

    #[test]
    fn references_from_task_definitions() {
        let text = r#"{"containerDefinitions": [{"name": "web",
            "environment": [
                {"name": "SECRUN_FROM", "value": "secretsmanager:a, secretsmanager:b"},
                {"name": "URI", "value": "pg://u:${secretsmanager:rds:password}@db"},
                {"name": "DB_SECRET_ARN", "value": "arn:aws:secretsmanager:us-east-2:111122223333:secret:x"},
                {"name": "PLAIN", "value": "x"}],
            "secrets": [{"name": "P", "valueFrom": "/sims/db"},
                        {"name": "S", "valueFrom": "arn:aws:secretsmanager:us-east-2:111122223333:secret:c-AbCdEf:k::"}]}]}"#;
        let x = inputs::read("td.json", text).unwrap_or_default();
        let ids: Vec<String> = references_in(&x).iter().map(Reference::aws_id).collect();
        assert_eq!(
            ids,
            [
                "a",
                "b",
                "rds",
                "/sims/db",
                "arn:aws:secretsmanager:us-east-2:111122223333:secret:c-AbCdEf"
            ]
        );
    }
}
