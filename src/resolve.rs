//! Runs a [`Plan`]'s fetches under the `--timeout` deadline and owns the
//! tokio runtime: the local secrets file, or AWS with every batch in
//! parallel, and the `_FILE` files.
//!
//! When the plan needs no secret, nothing here touches AWS configuration at
//! all (no profile read, no credentials chain, no network).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::error::Error;
use crate::log;
use crate::plan::{BatchKind, Plan};
use crate::provider::local::LocalFile;
use crate::provider::{secretsmanager, ssm, FetchError, Fetched};
use crate::reference::Reference;
use crate::secret::SecretValue;

pub struct Resolved {
    pub secrets: HashMap<Reference, Fetched>,
    pub files: HashMap<PathBuf, Result<SecretValue, String>>,
}

/// Fetch everything the plan needs. Errors that are not about one variable
/// (the secrets file) come back beside the results; the variables that
/// needed it then fail too, so `verify` still reports each of them.
pub fn resolve(
    plan: &Plan,
    secrets_file: Option<&Path>,
    timeout: Duration,
) -> (Resolved, Vec<Error>) {
    let files = plan
        .files
        .iter()
        .map(|p| (p.clone(), read_file(p)))
        .collect();
    let mut errors = Vec::new();
    let secrets = if let Some(path) = secrets_file {
        // Checked even when nothing refers to it: a typo in its path must
        // not pass silently.
        match LocalFile::load(path) {
            Ok(local) => plan
                .fetches
                .iter()
                .map(|r| (r.clone(), local.fetch(r)))
                .collect(),
            Err(e) => {
                errors.push(e);
                let why = FetchError::Unusable(format!(
                    "the secrets file {} is unusable (see its error)",
                    path.display()
                ));
                plan.fetches
                    .iter()
                    .map(|r| (r.clone(), Err(why.clone())))
                    .collect()
            }
        }
    } else if !plan.needs_fetch() {
        HashMap::new()
    } else {
        match fetch_aws(plan, timeout) {
            Ok(s) => s,
            Err(e) => {
                errors.push(e);
                HashMap::new()
            }
        }
    };
    (Resolved { secrets, files }, errors)
}

/// A `_FILE` file's content, with one trailing newline (`\n` or `\r\n`)
/// removed, as the postgres and mysql images do.
fn read_file(path: &Path) -> Result<SecretValue, String> {
    let mut bytes =
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.ends_with(b"\r\n") {
        bytes.truncate(bytes.len() - 2);
    } else if bytes.ends_with(b"\n") {
        bytes.truncate(bytes.len() - 1);
    }
    Ok(SecretValue::new(bytes))
}

type Sink = Arc<Mutex<HashMap<Reference, Fetched>>>;

fn record(sink: &Sink, results: Vec<(Reference, Fetched)>) {
    if let Ok(mut map) = sink.lock() {
        map.extend(results);
    }
}

fn fetch_aws(plan: &Plan, timeout: Duration) -> Result<HashMap<Reference, Fetched>, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))?;
    let sink: Sink = Arc::new(Mutex::new(HashMap::new()));
    let started = Instant::now();
    let work = {
        let sink = sink.clone();
        async move {
            // Each attempt has its own deadline, a quarter of the whole: a
            // connection that hangs is retried (or, for a batch call, its
            // secrets are fetched one by one) while time remains.
            // With a short --timeout, the whole deadline alone applies: an
            // attempt limit under 3 s would cut off a cold credential fetch or
            // a slow TLS handshake.
            let attempt = timeout / 4;
            let timeouts = if attempt >= Duration::from_secs(3) {
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(attempt.min(Duration::from_secs(10)))
                    .build()
            } else {
                aws_config::timeout::TimeoutConfig::builder().build()
            };
            let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .timeout_config(timeouts)
                .load()
                .await;
            let default_region = sdk.region().map(|r| r.as_ref().to_owned());
            let mut set = JoinSet::new();
            for batch in plan.batches(default_region.as_deref()) {
                let Some(region) = batch.region.clone() else {
                    record(
                        &sink,
                        batch
                            .items
                            .into_iter()
                            .map(|r| (r, Err(FetchError::NoRegion)))
                            .collect(),
                    );
                    continue;
                };
                let sink = sink.clone();
                let sdk = sdk.clone();
                log::debug(&format!(
                    "{} in {region}: {} ids",
                    match batch.kind {
                        BatchKind::SecretsBatch => "BatchGetSecretValue",
                        BatchKind::SecretSingle => "GetSecretValue",
                        BatchKind::Parameters | BatchKind::ParameterSingle => "GetParameters",
                    },
                    batch.items.len()
                ));
                set.spawn(async move {
                    let results = match batch.kind {
                        BatchKind::SecretsBatch => {
                            let batch_client = secretsmanager::client(&sdk, &region, false);
                            let single_client = secretsmanager::client(&sdk, &region, true);
                            secretsmanager::fetch_batch(
                                batch_client,
                                single_client,
                                region,
                                batch.items,
                            )
                            .await
                        }
                        BatchKind::SecretSingle => {
                            let client = secretsmanager::client(&sdk, &region, true);
                            let mut out = Vec::new();
                            for item in batch.items {
                                let v = secretsmanager::fetch_one(&client, &region, &item).await;
                                out.push((item, v));
                            }
                            out
                        }
                        BatchKind::Parameters | BatchKind::ParameterSingle => {
                            ssm::fetch_batch(ssm::client(&sdk, &region), region, batch.items).await
                        }
                    };
                    record(&sink, results);
                });
            }
            while set.join_next().await.is_some() {}
        }
    };
    let timed_out = runtime
        .block_on(async { tokio::time::timeout(timeout, work).await })
        .is_err();
    // Whatever is still in flight (a hung connection, a DNS lookup on a
    // blocking thread) is abandoned, not waited for: --timeout is a hard limit.
    runtime.shutdown_background();
    let mut secrets = sink
        .lock()
        .map(|mut m| std::mem::take(&mut *m))
        .unwrap_or_default();
    for r in &plan.fetches {
        secrets.entry(r.clone()).or_insert_with(|| {
            Err(if timed_out {
                FetchError::Timeout(timeout)
            } else {
                FetchError::BadResponse
            })
        });
    }
    log::debug(&format!(
        "fetching took {} ms",
        started.elapsed().as_millis()
    ));
    Ok(secrets)
}
