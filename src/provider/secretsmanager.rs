//! Secrets Manager: `BatchGetSecretValue` for up to 20 secrets a call, and
//! `GetSecretValue` for pinned stages and versions and as the fallback.
//!
//! A batch call is an optimisation, never a requirement: when the whole call
//! fails (the role may not call it, it is throttled, the endpoint errs), its
//! secrets are fetched at once with `GetSecretValue`, concurrently, each with
//! the SDK's retries. That is also how a throttled batch is "retried": AWS
//! allows 100 batch calls a second but 10,000 `GetSecretValue` calls, so
//! hundreds of tasks restarting together still start in seconds.
//!
//! Answers map back by what was asked: a full ARN by ARN, a name by name, a
//! partial ARN by the answer's ARN without its random suffix. Never by a
//! suffix match.

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_sdk_secretsmanager::config::Region;
use aws_sdk_secretsmanager::Client;
use tokio::task::JoinSet;

use super::{classify, iam_resource, FetchError, Fetched};
use crate::log;
use crate::reference::{strip_random_suffix, Reference};
use crate::secret::SecretValue;

pub fn client(sdk: &SdkConfig, region: &str, retries: bool) -> Client {
    let mut b =
        aws_sdk_secretsmanager::config::Builder::from(sdk).region(Region::new(region.to_owned()));
    if !retries {
        b = b.retry_config(RetryConfig::disabled());
    }
    Client::from_conf(b.build())
}

/// Does an entry of a batch answer (its ARN and name) answer `asked`?
fn answers(asked: &Reference, arn: Option<&str>, name: Option<&str>) -> bool {
    let id = asked.aws_id();
    match asked.arn() {
        Some(_) => arn.is_some_and(|a| a == id || strip_arn_suffix(a) == Some(id.as_str())),
        None => name == Some(id.as_str()),
    }
}

fn strip_arn_suffix(arn: &str) -> Option<&str> {
    let (prefix, name) = arn.rsplit_once(":secret:")?;
    let base = strip_random_suffix(name)?;
    Some(&arn[..prefix.len() + ":secret:".len() + base.len()])
}

fn value_of(string: Option<&str>, has_binary: bool) -> Fetched {
    match string {
        Some(s) => Ok(SecretValue::from_text(s)),
        None if has_binary => Err(FetchError::Binary),
        None => Err(FetchError::BadResponse),
    }
}

/// Fetch up to 20 unpinned secrets with one `BatchGetSecretValue` (more
/// pages if AWS splits the answer), falling back to `GetSecretValue`.
pub async fn fetch_batch(
    batch_client: Client,
    single_client: Client,
    region: String,
    items: Vec<Reference>,
) -> Vec<(Reference, Fetched)> {
    let ids: Vec<String> = items.iter().map(Reference::aws_id).collect();
    let mut results: Vec<(Reference, Fetched)> = Vec::new();
    let mut next_token = None;
    loop {
        let call = batch_client
            .batch_get_secret_value()
            .set_secret_id_list(Some(ids.clone()))
            .set_next_token(next_token.take())
            .send()
            .await;
        let out = match call {
            Ok(out) => out,
            Err(e) => {
                let why = classify(&e, "secretsmanager:BatchGetSecretValue", || "*".into());
                log::debug(&format!(
                    "BatchGetSecretValue in {region} failed ({}); fetching its {} secrets with GetSecretValue",
                    why.describe(),
                    items.len()
                ));
                break;
            }
        };
        for entry in out.secret_values() {
            for item in &items {
                if answers(item, entry.arn(), entry.name())
                    && !results.iter().any(|(r, _)| r == item)
                {
                    results.push((
                        item.clone(),
                        value_of(entry.secret_string(), entry.secret_binary().is_some()),
                    ));
                }
            }
        }
        for error in out.errors() {
            let Some(item) = items
                .iter()
                .find(|i| error.secret_id() == Some(i.aws_id().as_str()))
            else {
                continue;
            };
            if results.iter().any(|(r, _)| r == item) {
                continue;
            }
            let code = error.error_code().unwrap_or("Unknown");
            let fetch_error = match code {
                "ResourceNotFoundException" => FetchError::NotFound(
                    "no such secret in this account and region; check the name and the region"
                        .into(),
                ),
                "AccessDeniedException" => FetchError::AccessDenied {
                    action: "secretsmanager:GetSecretValue".into(),
                    resource: iam_resource(item, &region),
                },
                "DecryptionFailure" => FetchError::AccessDenied {
                    action: "kms:Decrypt".into(),
                    resource: "the KMS key that encrypts it".into(),
                },
                _ => FetchError::Service {
                    code: code.to_owned(),
                    message: error.message().unwrap_or("").to_owned(),
                },
            };
            results.push((item.clone(), Err(fetch_error)));
        }
        next_token = out.next_token().map(str::to_owned);
        if next_token.is_none() {
            break;
        }
    }
    // Whatever the batch did not answer (a failed call, an odd answer) is
    // fetched one by one, concurrently.
    let missing: Vec<Reference> = items
        .into_iter()
        .filter(|i| !results.iter().any(|(r, _)| r == i))
        .collect();
    let mut set = JoinSet::new();
    for item in missing {
        let client = single_client.clone();
        let region = region.clone();
        set.spawn(async move {
            let v = fetch_one(&client, &region, &item).await;
            (item, v)
        });
    }
    while let Some(joined) = set.join_next().await {
        if let Ok(pair) = joined {
            results.push(pair);
        }
    }
    results
}

/// `GetSecretValue` for one secret, with its stage or version if pinned.
pub async fn fetch_one(client: &Client, region: &str, item: &Reference) -> Fetched {
    let (stage, version) = match item {
        Reference::SecretsManager {
            version_stage,
            version_id,
            ..
        } => (version_stage.clone(), version_id.clone()),
        Reference::Ssm { .. } => (None, None),
    };
    let call = client
        .get_secret_value()
        .secret_id(item.aws_id())
        .set_version_stage(stage)
        .set_version_id(version)
        .send()
        .await;
    match call {
        // An answer about another secret (a misrouted response) is no answer.
        Ok(out) if !answers(item, out.arn(), out.name()) => Err(FetchError::BadResponse),
        Ok(out) => value_of(out.secret_string(), out.secret_binary().is_some()),
        Err(e) => Err(classify(&e, "secretsmanager:GetSecretValue", || {
            iam_resource(item, region)
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::must as r;

    #[test]
    fn answers_map_back_by_what_was_asked() {
        let full = "arn:aws:secretsmanager:us-east-2:111122223333:secret:app/prod-AbCdEf";
        // A full ARN by ARN.
        assert!(answers(&r(full), Some(full), Some("app/prod")));
        // A partial ARN by the ARN without its random suffix.
        assert!(answers(
            &r("arn:aws:secretsmanager:us-east-2:111122223333:secret:app/prod"),
            Some(full),
            Some("app/prod")
        ));
        // A name by name, not by a suffix of another name.
        assert!(answers(
            &r("secretsmanager:app/prod"),
            Some(full),
            Some("app/prod")
        ));
        assert!(!answers(
            &r("secretsmanager:prod"),
            Some(full),
            Some("app/prod")
        ));
        assert!(!answers(
            &r("arn:aws:secretsmanager:us-east-2:111122223333:secret:prod"),
            Some(full),
            Some("app/prod")
        ));
    }
}
