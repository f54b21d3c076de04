//! Secrets Manager: `BatchGetSecretValue` for up to 20 secrets a call, and
//! `GetSecretValue` for pinned stages and versions and as the fallback.
//!
//! A batch call is an optimisation, never a requirement: when its one
//! attempt fails (the role may not call it, it is throttled, the endpoint
//! errs or does not answer in time), its secrets are fetched at once with
//! `GetSecretValue`, concurrently, each retried until the deadline while it
//! is throttled or transient. AWS allows 100 batch calls a second but
//! 10,000 `GetSecretValue` calls per account and region, so a fleet that
//! starts together moves most of its secrets through the larger quota.
//!
//! Answers map back by what was asked: a full ARN by ARN, a name by name, a
//! partial ARN by the answer's ARN without its random suffix. Never by a
//! suffix match. Each answer is recorded as it arrives.

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_sdk_secretsmanager::config::Region;
use aws_sdk_secretsmanager::Client;
use tokio::task::JoinSet;

use super::{classify, classify_code, iam_resource, record, Answer, FetchError, Requests, Sink};
use crate::log;
use crate::reference::{strip_random_suffix, Reference};
use crate::secret::SecretValue;

/// A client for `region` whose requests are retried by [`Requests`] only.
pub fn client(sdk: &SdkConfig, region: &str) -> Client {
    let conf = aws_sdk_secretsmanager::config::Builder::from(sdk)
        .region(Region::new(region.to_owned()))
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
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

fn value_of(string: Option<&str>, has_binary: bool, version: Option<&str>) -> Answer {
    match string {
        Some(s) => Ok((SecretValue::from_text(s), version.map(str::to_owned))),
        None if has_binary => Err(FetchError::Binary),
        None => Err(FetchError::BadResponse),
    }
}

/// Up to 20 unpinned secrets: one `BatchGetSecretValue` attempt (more pages
/// if AWS splits the answer), then `GetSecretValue` for whatever it did not
/// answer.
pub async fn fetch_batch(
    client: Client,
    region: String,
    items: Vec<Reference>,
    requests: Requests,
    sink: Sink,
) {
    let ids: Vec<String> = items.iter().map(Reference::aws_id).collect();
    let mut answered: Vec<Reference> = Vec::new();
    let mut next_token = None;
    loop {
        let call = client
            .batch_get_secret_value()
            .set_secret_id_list(Some(ids.clone()))
            .set_next_token(next_token.take())
            .send();
        let out = match requests
            .once(async {
                call.await
                    .map_err(|e| classify(&e, "secretsmanager:BatchGetSecretValue", || "*".into()))
            })
            .await
        {
            Ok(out) => out,
            Err(why) => {
                log::debug(&format!(
                    "BatchGetSecretValue in {region} failed ({}); fetching its {} secrets with GetSecretValue",
                    why.describe(),
                    items.len() - answered.len()
                ));
                break;
            }
        };
        for entry in out.secret_values() {
            for item in &items {
                if answers(item, entry.arn(), entry.name()) && !answered.contains(item) {
                    record(
                        &sink,
                        item,
                        value_of(
                            entry.secret_string(),
                            entry.secret_binary().is_some(),
                            entry.version_id(),
                        ),
                    );
                    answered.push(item.clone());
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
            let code = error.error_code().unwrap_or("Unknown");
            let why = classify_code(
                code,
                error.message().unwrap_or(""),
                "secretsmanager:GetSecretValue",
                || iam_resource(item, &region),
            );
            // A throttled or failed entry is asked again on its own.
            if answered.contains(item) || why.is_retryable() {
                continue;
            }
            record(&sink, item, Err(why));
            answered.push(item.clone());
        }
        next_token = out.next_token().map(str::to_owned);
        if next_token.is_none() {
            break;
        }
    }
    // Whatever the batch did not answer (a failed call, an odd answer) is
    // fetched one by one, concurrently.
    let mut set = JoinSet::new();
    for item in items.into_iter().filter(|i| !answered.contains(i)) {
        let (client, region, requests, sink) = (
            client.clone(),
            region.clone(),
            requests.clone(),
            sink.clone(),
        );
        set.spawn(async move {
            let result = fetch_one(&client, &region, &item, &requests).await;
            record(&sink, &item, result);
        });
    }
    while set.join_next().await.is_some() {}
}

/// `GetSecretValue` for one secret, with its stage or version if pinned,
/// retried while throttled or transient.
pub async fn fetch_one(
    client: &Client,
    region: &str,
    item: &Reference,
    requests: &Requests,
) -> Answer {
    let (stage, version) = match item {
        Reference::SecretsManager {
            version_stage,
            version_id,
            ..
        } => (version_stage.clone(), version_id.clone()),
        Reference::Ssm { .. } => (None, None),
    };
    requests
        .retried(|| {
            let call = client
                .get_secret_value()
                .secret_id(item.aws_id())
                .set_version_stage(stage.clone())
                .set_version_id(version.clone())
                .send();
            async move {
                match call.await {
                    // An answer about another secret (a misrouted response)
                    // is no answer.
                    Ok(out) if !answers(item, out.arn(), out.name()) => {
                        Err(FetchError::BadResponse)
                    }
                    Ok(out) => value_of(
                        out.secret_string(),
                        out.secret_binary().is_some(),
                        out.version_id(),
                    ),
                    Err(e) => Err(classify(&e, "secretsmanager:GetSecretValue", || {
                        iam_resource(item, region)
                    })),
                }
            }
        })
        .await
}

/// The version id that holds AWSCURRENT now, from `DescribeSecret`, which
/// returns no secret value (for `--watch`).
pub async fn current_version(
    client: &Client,
    region: &str,
    item: &Reference,
    requests: &Requests,
) -> Result<String, FetchError> {
    requests
        .retried(|| {
            let call = client.describe_secret().secret_id(item.aws_id()).send();
            async move {
                let out = call.await.map_err(|e| {
                    classify(&e, "secretsmanager:DescribeSecret", || {
                        iam_resource(item, region)
                    })
                })?;
                out.version_ids_to_stages()
                    .and_then(|m| {
                        m.iter()
                            .find(|(_, stages)| stages.iter().any(|s| s == "AWSCURRENT"))
                            .map(|(id, _)| id.clone())
                    })
                    .ok_or(FetchError::BadResponse)
            }
        })
        .await
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
