//! SSM Parameter Store: `GetParameters`, 10 names a call, with decryption.
//! Throttled and 5xx calls are retried with backoff by the SDK's standard
//! retry policy; SSM has no cheaper call to switch to.

use aws_config::SdkConfig;
use aws_sdk_ssm::config::Region;
use aws_sdk_ssm::Client;

use super::{classify, iam_resource, FetchError, Fetched};
use crate::reference::Reference;
use crate::secret::SecretValue;

pub fn client(sdk: &SdkConfig, region: &str) -> Client {
    let conf = aws_sdk_ssm::config::Builder::from(sdk)
        .region(Region::new(region.to_owned()))
        .build();
    Client::from_conf(conf)
}

pub async fn fetch_batch(
    client: Client,
    region: String,
    items: Vec<Reference>,
) -> Vec<(Reference, Fetched)> {
    let names: Vec<String> = items.iter().map(Reference::aws_id).collect();
    let single = items.len() == 1;
    let call = client
        .get_parameters()
        .set_names(Some(names))
        .with_decryption(true)
        .send()
        .await;
    let out = match call {
        Ok(out) => out,
        Err(e) => {
            return items
                .into_iter()
                .map(|item| {
                    let err = classify(&e, "ssm:GetParameters", || iam_resource(&item, &region));
                    (item, Err(err))
                })
                .collect()
        }
    };
    items
        .into_iter()
        .map(|item| {
            let asked = item.aws_id();
            // AWS answers `name:3` with the name and the selector `:3`; some
            // implementations leave the selector out, so a pinned name (which
            // is alone in its call) also matches by its name.
            let base = match &item {
                Reference::Ssm { name, .. } => name.as_str(),
                Reference::SecretsManager { .. } => asked.as_str(),
            };
            let found = out.parameters().iter().find(|p| {
                let name = p.name().unwrap_or_default();
                match p.selector() {
                    Some(sel) => format!("{name}{sel}") == asked,
                    None => name == asked || (single && name == base),
                }
            });
            let value = match found {
                Some(p) => match p.value() {
                    Some(v) => Ok(SecretValue::from_str(v)),
                    None => Err(FetchError::BadResponse),
                },
                None if out.invalid_parameters().contains(&asked) => Err(FetchError::NotFound(
                    "no such parameter (or version or label) in this account and region; check the name and the region".into(),
                )),
                None => Err(FetchError::BadResponse),
            };
            (item, value)
        })
        .collect()
}
