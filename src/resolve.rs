//! Runs a [`Plan`]'s fetches under the `--timeout` deadline and owns the
//! tokio runtime: the local secrets file, or AWS with every batch in
//! parallel, and the `_FILE` files.
//!
//! When the plan needs no secret, nothing here touches AWS configuration at
//! all (no profile read, no credentials chain, no network).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::error::Error;
use crate::fetched::{FetchError, Fetched, Resolved};
use crate::log;
use crate::plan::{BatchKind, Plan};
use crate::provider::local::LocalFile;
use crate::provider::{record, secretsmanager, ssm, Answers, Requests, Sink};
use crate::reference::{self, Reference};
use crate::secret::SecretValue;
use crate::watch;

/// The most a `_FILE` file may hold: Secrets Manager's own limit for a
/// secret.
pub const MAX_FILE_BYTES: u64 = 64 * 1024;

/// The most a local secrets file or an env file may hold: far more than
/// an environment can (the kernel takes 2 MiB in all, usually).
pub const MAX_LOCAL_BYTES: u64 = 16 * 1024 * 1024;

/// Fetches in rounds under one deadline: the local secrets file, or AWS;
/// then the `_FILE` files. What was fetched once is not fetched again.
pub struct Resolver {
    timeout: Duration,
    deadline: Instant,
    /// `Some` with `--secrets-file`: the file, or why it is unusable.
    local: Option<Result<LocalFile, String>>,
    resolved: Resolved,
    errors: Vec<Error>,
    /// The AWS configuration, loaded once: credentials are fetched once for
    /// every round.
    sdk: Option<aws_config::SdkConfig>,
}

impl Resolver {
    /// Everything stops at `deadline`, the start plus `timeout`. The
    /// secrets file is checked at once, even when nothing refers to it: a
    /// typo in its path must not pass silently.
    pub fn new(secrets_file: Option<&Path>, timeout: Duration, deadline: Instant) -> Resolver {
        let mut errors = Vec::new();
        let mut resolved = Resolved::default();
        let local = secrets_file.map(|path| {
            let bytes = read_within(
                path,
                MAX_LOCAL_BYTES,
                "too large for a secrets file",
                deadline,
            )
            .map(|(bytes, meta)| {
                resolved.secrets_file_id = Some((path.to_owned(), identity(&meta)));
                bytes
            });
            LocalFile::load(path, bytes).map_err(|e| {
                errors.push(e);
                format!(
                    "the secrets file {} is unusable (see its error)",
                    path.display()
                )
            })
        });
        Resolver {
            timeout,
            deadline,
            local,
            resolved,
            errors,
            sdk: None,
        }
    }

    /// Fetch what `refs` holds that was not fetched yet.
    pub fn fetch(&mut self, refs: &BTreeSet<Reference>) {
        let todo: BTreeSet<Reference> = refs
            .iter()
            .filter(|r| !self.resolved.secrets.contains_key(*r))
            .cloned()
            .collect();
        if todo.is_empty() {
            return;
        }
        let fetched = match &self.local {
            Some(Ok(local)) => todo.iter().map(|r| (r.clone(), local.fetch(r))).collect(),
            Some(Err(why)) => todo
                .iter()
                .map(|r| (r.clone(), Err(FetchError::Unusable(why.clone()))))
                .collect(),
            None => match fetch_aws(&todo, self.timeout, self.deadline, &mut self.sdk) {
                Ok(answers) => {
                    self.resolved.versions.extend(answers.versions);
                    answers.values
                }
                Err(e) => {
                    self.errors.push(e);
                    HashMap::new()
                }
            },
        };
        self.resolved.secrets.extend(fetched);
    }

    pub fn secrets(&self) -> &HashMap<Reference, Fetched> {
        &self.resolved.secrets
    }

    /// Read the `_FILE` files, within what is left of the deadline.
    pub fn read_files(&mut self, paths: &BTreeSet<PathBuf>, dirs: &[PathBuf]) {
        if paths.is_empty() {
            return;
        }
        let (tx, rx) = mpsc::channel();
        let (paths_, dirs) = (paths.clone(), dirs.to_vec());
        // A file on a hung network file system blocks its reader: the
        // reader is a thread of its own, abandoned at the deadline.
        let spawned = std::thread::Builder::new()
            .name("secrun-files".into())
            .spawn(move || {
                for p in paths_ {
                    let read = read_file(&p, &dirs);
                    if tx.send((p, read)).is_err() {
                        return;
                    }
                }
            });
        if let Err(e) = spawned {
            for p in paths {
                self.resolved
                    .files
                    .insert(p.clone(), Err(format!("cannot read {}: {e}", p.display())));
            }
            return;
        }
        while self.resolved.files.len() < paths.len() {
            let left = self.deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok((p, read)) => {
                    let read = read.map(|(value, identity)| {
                        self.resolved.file_ids.insert(p.clone(), identity);
                        value
                    });
                    self.resolved.files.insert(p, read);
                }
                Err(_) => break,
            }
        }
        for p in paths {
            self.resolved.files.entry(p.clone()).or_insert_with(|| {
                Err(format!(
                    "{} could not be read within the {} ms timeout",
                    p.display(),
                    self.timeout.as_millis()
                ))
            });
        }
    }

    pub fn finish(self) -> (Resolved, Vec<Error>) {
        (self.resolved, self.errors)
    }
}

/// Fetch everything a plan needs in rounds: the bundles first (with what
/// no bundle can override), then what the bundles leave to fetch, then the
/// files. The plan gets the bundles' keys as definitions.
pub fn resolve(
    plan: &mut Plan,
    secrets_file: Option<&Path>,
    timeout: Duration,
    deadline: Instant,
    file_dirs: &[PathBuf],
) -> (Resolved, Vec<Error>) {
    let mut resolver = Resolver::new(secrets_file, timeout, deadline);
    resolver.fetch(&plan.first_round());
    let mut bundle_errors = plan.add_bundles(resolver.secrets());
    resolver.fetch(&plan.fetches.clone());
    resolver.read_files(&plan.files, file_dirs);
    let (resolved, mut errors) = resolver.finish();
    errors.append(&mut bundle_errors);
    (resolved, errors)
}

/// A `_FILE` file's content, with one trailing newline (`\n` or `\r\n`)
/// removed, as the postgres and mysql images do. Only a regular file of at
/// most [`MAX_FILE_BYTES`] whose real path (symbolic links and `..`
/// resolved) lies inside one of `dirs`.
fn read_file(path: &Path, dirs: &[PathBuf]) -> Result<(SecretValue, String), String> {
    let shown = path.display();
    let real = path
        .canonicalize()
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    let real_dirs: Vec<PathBuf> = dirs.iter().filter_map(|d| d.canonicalize().ok()).collect();
    if !real_dirs.iter().any(|d| real.starts_with(d) && real != *d) {
        return Err(format!(
            "{shown} leads outside the secrets directories ({}) through a symbolic link; point it at a file inside, or add its directory with --file-dir",
            dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
        ));
    }
    let (mut bytes, meta) = read_regular(
        &real,
        &shown.to_string(),
        MAX_FILE_BYTES,
        "the most a secret holds",
    )?;
    if bytes.ends_with(b"\r\n") {
        bytes.truncate(bytes.len() - 2);
    } else if bytes.ends_with(b"\n") {
        bytes.truncate(bytes.len() - 1);
    }
    Ok((SecretValue::new(bytes), identity(&meta)))
}

/// A regular file's bytes, at most `limit` (`why` says what the limit is),
/// opened without blocking on a FIFO and without following a last link;
/// messages call the file `shown` (its path as written, or "it").
pub fn read_regular(
    path: &Path,
    shown: &str,
    limit: u64,
    why: &str,
) -> Result<(Vec<u8>, std::fs::Metadata), String> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    let kind = meta.file_type();
    if !kind.is_file() {
        let what = if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else if kind.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        return Err(format!("{shown} is {what}; give a regular file"));
    }
    let too_big = || format!("{shown} is larger than {} KiB, {why}", limit / 1024);
    if meta.len() > limit {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    Ok((bytes, meta))
}

/// [`read_regular`] on a thread of its own, abandoned at `deadline`: a
/// file on a hung network file system must not hold up the start.
pub fn read_within(
    path: &Path,
    limit: u64,
    why: &'static str,
    deadline: Instant,
) -> Result<(Vec<u8>, std::fs::Metadata), String> {
    let (tx, rx) = mpsc::channel();
    let owned = path.to_owned();
    std::thread::Builder::new()
        .name("secrun-read".into())
        .spawn(move || {
            let _ = tx.send(read_regular(&owned, "it", limit, why));
        })
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .unwrap_or_else(|_| Err("it could not be read before the deadline (--timeout)".into()))
}

/// A file's identity for `--watch`: device, inode, size, modification time.
pub fn identity(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    crate::watch::file_identity(
        meta.dev(),
        meta.ino(),
        meta.size(),
        i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
    )
}

/// How long before the hard deadline requests stop starting new attempts,
/// so that each records its own last answer before the deadline passes.
const MARGIN: Duration = Duration::from_millis(100);

/// Fetch `refs` from AWS, every batch in parallel, on a thread of its own:
/// the hard deadline holds even when something blocks that thread (a
/// configuration file on a hung mount, a DNS lookup). What has answered by
/// then is kept; what never did is reported as timed out.
fn fetch_aws(
    refs: &BTreeSet<Reference>,
    timeout: Duration,
    deadline: Instant,
    sdk: &mut Option<aws_config::SdkConfig>,
) -> Result<Answers, Error> {
    let sink: Sink = Arc::new(Mutex::new(Answers::default()));
    let started = Instant::now();
    let (sink_, refs_, known) = (sink.clone(), refs.clone(), sdk.clone());
    let done = on_runtime("fetching", deadline, timeout, move |requests| async move {
        let sdk = match known {
            Some(sdk) => sdk,
            None => sdk_config().await,
        };
        fetch_all(&refs_, &sdk, requests, &sink_).await;
        sdk
    });
    let timed_out = match done.map_err(Error::Usage)? {
        None => true,
        Some(loaded) => {
            *sdk = Some(loaded);
            false
        }
    };
    let mut answers = sink
        .lock()
        .map(|mut m| std::mem::take(&mut *m))
        .unwrap_or_default();
    for r in refs {
        answers.values.entry(r.clone()).or_insert_with(|| {
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
    Ok(answers)
}

/// `work` (`what`: "fetching", "checking") on a tokio runtime of its own,
/// on a thread of its own, its requests bounded by `deadline`: its result, or
/// `None` when the deadline passes first (the thread is then abandoned, so
/// that nothing that blocks it can hold up secrun). `Err` when the thread or
/// the runtime cannot start.
fn on_runtime<T, F, Fut>(
    what: &str,
    deadline: Instant,
    timeout: Duration,
    work: F,
) -> Result<Option<T>, String>
where
    T: Send + 'static,
    F: FnOnce(Requests) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T>,
{
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(format!("secrun-{what}"))
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = done_tx.send(Err(format!("cannot start the async runtime: {e}")));
                    return;
                }
            };
            let requests = Requests::new(deadline - MARGIN.min(timeout / 2), timeout);
            let out = runtime.block_on(work(requests));
            // Whatever is still in flight is abandoned, not waited for.
            runtime.shutdown_background();
            let _ = done_tx.send(Ok(out));
        })
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    match done_rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Err(_) => Ok(None),
        Ok(result) => result.map(Some),
    }
}

/// Every batch of `refs` at once, each answer recorded in `sink`.
async fn fetch_all(
    refs: &BTreeSet<Reference>,
    sdk: &aws_config::SdkConfig,
    requests: Requests,
    sink: &Sink,
) {
    let default_region = sdk.region().map(|r| r.as_ref().to_owned());
    let mut set = JoinSet::new();
    for batch in crate::plan::batches(refs, default_region.as_deref()) {
        let Some(region) = batch.region.clone() else {
            for item in &batch.items {
                record(sink, item, Err(FetchError::NoRegion));
            }
            continue;
        };
        log::debug(&format!(
            "{} in {region}: {} ids",
            match batch.kind {
                BatchKind::SecretsBatch => "BatchGetSecretValue",
                BatchKind::SecretSingle => "GetSecretValue",
                BatchKind::Parameters | BatchKind::ParameterSingle => "GetParameters",
            },
            batch.items.len()
        ));
        let (sink, requests) = (sink.clone(), requests.clone());
        match batch.kind {
            BatchKind::SecretsBatch => {
                let client = secretsmanager::client(sdk, &region);
                set.spawn(secretsmanager::fetch_batch(
                    client,
                    region,
                    batch.items,
                    requests,
                    sink,
                ));
            }
            BatchKind::SecretSingle => {
                let client = secretsmanager::client(sdk, &region);
                set.spawn(async move {
                    for item in batch.items {
                        let v = secretsmanager::fetch_one(&client, &region, &item, &requests).await;
                        record(&sink, &item, v);
                    }
                });
            }
            BatchKind::Parameters | BatchKind::ParameterSingle => {
                let client = ssm::client(sdk, &region);
                set.spawn(ssm::fetch_batch(
                    client,
                    region,
                    batch.items,
                    requests,
                    sink,
                ));
            }
        }
    }
    while set.join_next().await.is_some() {}
}

/// `--watch`'s check, in a short-lived copy of secrun: each item's version
/// now, asked in ways that return no value (`DescribeSecret`,
/// `DescribeParameters`, `stat`), within `timeout`.
pub fn check_versions(items: &[watch::Item], timeout: Duration) -> Vec<watch::Checked> {
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    let mut remote: Vec<(String, Reference)> = Vec::new();
    for item in items {
        match item.kind {
            watch::Kind::File => out.push(watch::Checked {
                id: item.id.clone(),
                now: std::fs::metadata(&item.id)
                    .map(|m| identity(&m))
                    .map_err(|e| format!("cannot read {}: {e}", item.id)),
            }),
            _ => match reference::parse(&item.id) {
                Some(Ok(r)) => remote.push((item.id.clone(), r)),
                _ => out.push(watch::Checked {
                    id: item.id.clone(),
                    now: Err("not a reference".into()),
                }),
            },
        }
    }
    if remote.is_empty() {
        return out;
    }
    let found: Arc<Mutex<Vec<watch::Checked>>> = Arc::new(Mutex::new(Vec::new()));
    let found_ = found.clone();
    // What has not answered by the deadline is left out: the supervisor
    // reports it as not checked.
    let _ = on_runtime("checking", deadline, timeout, move |requests| async move {
        describe_all(remote, requests, &found_).await;
    });
    if let Ok(mut found) = found.lock() {
        out.append(&mut found);
    }
    out
}

async fn describe_all(
    remote: Vec<(String, Reference)>,
    requests: Requests,
    found: &Arc<Mutex<Vec<watch::Checked>>>,
) {
    let sdk = sdk_config().await;
    let default_region = sdk.region().map(|r| r.as_ref().to_owned());
    let done = |id: String, now: Result<String, FetchError>| {
        if let Ok(mut f) = found.lock() {
            f.push(watch::Checked {
                id,
                now: now.map_err(|e| e.describe()),
            });
        }
    };
    let mut parameters: BTreeMap<String, Vec<(String, Reference)>> = BTreeMap::new();
    let mut set = JoinSet::new();
    for (id, r) in remote {
        let Some(region) = r.region().or(default_region.as_deref()).map(str::to_owned) else {
            done(id, Err(FetchError::NoRegion));
            continue;
        };
        match r {
            Reference::Ssm { .. } => parameters.entry(region).or_default().push((id, r)),
            Reference::SecretsManager { .. } => {
                let client = secretsmanager::client(&sdk, &region);
                let requests = requests.clone();
                set.spawn(async move {
                    let now =
                        secretsmanager::current_version(&client, &region, &r, &requests).await;
                    (id, now)
                });
            }
        }
    }
    for (region, items) in parameters {
        let client = ssm::client(&sdk, &region);
        for chunk in items.chunks(crate::plan::PARAMETERS_PER_CALL) {
            let (ids, refs): (Vec<String>, Vec<Reference>) = chunk.iter().cloned().unzip();
            for ((_, now), id) in ssm::current_versions(&client, &refs, &requests)
                .await
                .into_iter()
                .zip(ids)
            {
                done(id, now);
            }
        }
    }
    while let Some(joined) = set.join_next().await {
        if let Ok((id, now)) = joined {
            done(id, now);
        }
    }
}

/// The AWS configuration from the standard chain, with rustls on the ring
/// provider: all the TLS that Secrets Manager, SSM and the credential
/// endpoints need, at a fraction of the size of the SDK's default provider
/// (aws-lc-rs).
async fn sdk_config() -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls;
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https)
        .load()
        .await
}
