//! SSM Parameter Store: `GetParameters`, 10 names a call, with decryption.
//! Throttled and transient calls are retried until the deadline with
//! backoff (SSM has no cheaper call to switch to: 40 `GetParameters` calls
//! a second per account and region by default, more with its higher
//! throughput setting). Each answer is recorded as it arrives.

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_sdk_ssm::config::Region;
use aws_sdk_ssm::Client;
use tokio::task::JoinSet;

use super::{classify, iam_resource, record, Answer, FetchError, Requests, Sink};
use crate::reference::Reference;
use crate::secret::SecretValue;

/// A client for `region` whose requests are retried by [`Requests`] only.
pub fn client(sdk: &SdkConfig, region: &str) -> Client {
    let conf = aws_sdk_ssm::config::Builder::from(sdk)
        .region(Region::new(region.to_owned()))
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

/// `GetParameters` for up to 10 references. When AWS denies the whole call,
/// each parameter is asked alone, so that the error names the one the role
/// may not read rather than all ten.
pub async fn fetch_batch(
    client: Client,
    region: String,
    items: Vec<Reference>,
    requests: Requests,
    sink: Sink,
) {
    let results = call(&client, &region, &items, &requests).await;
    let denied = results
        .iter()
        .all(|(_, r)| matches!(r, Err(FetchError::AccessDenied { .. })));
    if items.len() < 2 || !denied {
        for (item, result) in results {
            record(&sink, &item, result);
        }
        return;
    }
    let mut set = JoinSet::new();
    for item in items {
        let (client, region, requests, sink) = (
            client.clone(),
            region.clone(),
            requests.clone(),
            sink.clone(),
        );
        set.spawn(async move {
            for (item, result) in
                call(&client, &region, std::slice::from_ref(&item), &requests).await
            {
                record(&sink, &item, result);
            }
        });
    }
    while set.join_next().await.is_some() {}
}

/// The name `DescribeParameters` knows a parameter by: as written, or for
/// an ARN the part after `parameter/`, with its leading `/` back where the
/// name is a path (`parameter/sims/db` is `/sims/db`, `parameter/db` is
/// `db`).
fn described_name(r: &Reference) -> String {
    match r {
        Reference::Ssm {
            arn: Some(_), name, ..
        } => {
            let bare = name.trim_start_matches('/');
            if bare.contains('/') {
                name.clone()
            } else {
                bare.to_owned()
            }
        }
        Reference::Ssm { name, .. } => name.clone(),
        Reference::SecretsManager { .. } => r.aws_id(),
    }
}

/// Pages of `DescribeParameters` one check reads at most.
const MAX_PAGES: usize = 20;

/// Each parameter's version now, from `DescribeParameters`, which returns
/// no value (for `--watch`): up to 10 names a call, every page read (AWS
/// filters after it pages, so an early page may be empty).
pub async fn current_versions(
    client: &Client,
    items: &[Reference],
    requests: &Requests,
) -> Vec<(Reference, Result<String, FetchError>)> {
    let names: Vec<String> = items.iter().map(described_name).collect();
    let mut found: Vec<(String, String)> = Vec::new();
    let mut failed = None;
    match aws_sdk_ssm::types::ParameterStringFilter::builder()
        .key("Name")
        .option("Equals")
        .set_values(Some(names.clone()))
        .build()
    {
        Err(_) => failed = Some(FetchError::BadResponse),
        Ok(filter) => {
            let mut token: Option<String> = None;
            for _ in 0..MAX_PAGES {
                let page = requests
                    .retried(|| {
                        let call = client
                            .describe_parameters()
                            .parameter_filters(filter.clone())
                            .set_next_token(token.clone())
                            .max_results(50)
                            .send();
                        async move {
                            call.await
                                .map_err(|e| classify(&e, "ssm:DescribeParameters", || "*".into()))
                        }
                    })
                    .await;
                match page {
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                    Ok(out) => {
                        found.extend(
                            out.parameters().iter().filter_map(|p| {
                                Some((p.name()?.to_owned(), p.version().to_string()))
                            }),
                        );
                        token = out.next_token().map(str::to_owned);
                    }
                }
                if token.is_none() || found.len() >= names.len() {
                    break;
                }
            }
        }
    }
    items
        .iter()
        .zip(names)
        .map(|(item, name)| {
            let now = match found.iter().find(|(n, _)| *n == name) {
                Some((_, version)) => Ok(version.clone()),
                None => Err(failed.clone().unwrap_or_else(|| {
                    FetchError::NotFound(
                        "no such parameter in this account and region (a parameter shared from another account is not watched)".into(),
                    )
                })),
            };
            (item.clone(), now)
        })
        .collect()
}

/// Does a returned parameter answer what was asked? AWS answers `name:3`
/// with the name and the selector `:3`, and an ARN with the name and the
/// ARN. Some implementations leave the selector out, so a pinned id (which
/// is alone in its call) also matches by its name or ARN.
fn answers(
    item: &Reference,
    name: &str,
    arn: Option<&str>,
    selector: Option<&str>,
    alone: bool,
) -> bool {
    let asked = item.aws_id();
    let sel = selector.unwrap_or("");
    if format!("{name}{sel}") == asked || arn.is_some_and(|a| format!("{a}{sel}") == asked) {
        return true;
    }
    let Reference::Ssm { name: base, .. } = item else {
        return false;
    };
    alone && selector.is_none() && (name == base || (arn.is_some() && arn == item.arn().as_deref()))
}

async fn call(
    client: &Client,
    region: &str,
    items: &[Reference],
    requests: &Requests,
) -> Vec<(Reference, Answer)> {
    let names: Vec<String> = items.iter().map(Reference::aws_id).collect();
    let alone = items.len() == 1;
    let answer = requests
        .retried(|| {
            let call = client
                .get_parameters()
                .set_names(Some(names.clone()))
                .with_decryption(true)
                .send();
            async move {
                // The resource named for a denied call: the parameter when
                // it is alone, else all of them (the caller asks alone).
                call.await.map_err(|e| {
                    classify(&e, "ssm:GetParameters", || {
                        items
                            .iter()
                            .map(|i| iam_resource(i, region))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                })
            }
        })
        .await;
    let out = match answer {
        Ok(out) => out,
        Err(e) => return items.iter().map(|i| (i.clone(), Err(e.clone()))).collect(),
    };
    items
        .iter()
        .map(|item| {
            let found = out.parameters().iter().find(|p| {
                answers(item, p.name().unwrap_or_default(), p.arn(), p.selector(), alone)
            });
            let value = match found {
                Some(p) => match p.value() {
                    Some(v) => Ok((SecretValue::from_text(v), Some(p.version().to_string()))),
                    None => Err(FetchError::BadResponse),
                },
                None if out.invalid_parameters().contains(&item.aws_id()) => Err(FetchError::NotFound(
                    "no such parameter (or version or label) in this account and region; check the name and the region".into(),
                )),
                None => Err(FetchError::BadResponse),
            };
            (item.clone(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::must as r;

    #[test]
    fn described_names_are_as_ssm_stores_them() {
        assert_eq!(described_name(&r("ssm:/sims/db")), "/sims/db");
        assert_eq!(described_name(&r("ssm:flat")), "flat");
        assert_eq!(
            described_name(&r("arn:aws:ssm:us-east-2:111122223333:parameter/sims/db")),
            "/sims/db"
        );
        assert_eq!(
            described_name(&r("arn:aws:ssm:us-east-2:111122223333:parameter/db-url")),
            "db-url"
        );
    }

    #[test]
    fn answers_map_back_by_name_arn_and_selector() {
        let arn = "arn:aws:ssm:us-east-2:111122223333:parameter/sims/db";
        assert!(answers(
            &r("ssm:/sims/db"),
            "/sims/db",
            Some(arn),
            None,
            false
        ));
        assert!(answers(&r(arn), "/sims/db", Some(arn), None, false));
        assert!(answers(
            &r("ssm:/sims/db:3"),
            "/sims/db",
            Some(arn),
            Some(":3"),
            false
        ));
        assert!(!answers(
            &r("ssm:/sims/db:3"),
            "/sims/db",
            Some(arn),
            None,
            false
        ));
        assert!(answers(
            &r("ssm:/sims/db:3"),
            "/sims/db",
            Some(arn),
            None,
            true
        ));
        assert!(!answers(&r("ssm:/sims/db"), "/other/db", None, None, true));
        assert!(!answers(&r("ssm:/db"), "/sims/db", None, None, false));
    }
}
