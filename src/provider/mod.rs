//! The only code that talks to AWS or reads secret files.
//!
//! Providers take keyless references (one per distinct secret or parameter)
//! and give back a secret value or a [`FetchError`] for each. A
//! `FetchError` describes the cause in our own words (and AWS's error code
//! and message for service errors); it never holds response bodies or values.

pub mod local;
pub mod secretsmanager;
pub mod ssm;

pub use crate::fetched::{FetchError, Fetched};
pub use crate::policy::iam_resource;
use crate::reference::Reference;
use crate::secret::SecretValue;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use tokio::sync::Semaphore;

/// What AWS's answer (an error code and its message) means, for a whole
/// call or for one secret of a batch answer. One table for both.
pub fn classify_code(
    code: &str,
    message: &str,
    action: &str,
    resource: impl FnOnce() -> String,
) -> FetchError {
    match code {
        "ResourceNotFoundException" | "ParameterNotFound" | "ParameterVersionNotFound"
        | "ParameterVersionLabelNotFound" => FetchError::NotFound(
            "no such secret, parameter, version or stage in this account and region; check the name and the region".into(),
        ),
        "DecryptionFailure" => FetchError::AccessDenied {
            action: "kms:Decrypt".into(),
            resource: "the KMS key that encrypts it".into(),
        },
        "AccessDeniedException" | "AccessDenied" if message.to_ascii_lowercase().contains("kms") => {
            FetchError::AccessDenied {
                action: "kms:Decrypt".into(),
                resource: "the KMS key that encrypts it".into(),
            }
        }
        "AccessDeniedException" | "AccessDenied" => FetchError::AccessDenied {
            action: action.into(),
            resource: resource(),
        },
        "ThrottlingException" | "Throttling" | "TooManyRequestsException"
        | "RequestLimitExceeded" | "ThrottledException" => FetchError::Throttled,
        "InternalServiceError" | "InternalServerError" | "InternalFailure"
        | "ServiceUnavailable" | "ServiceUnavailableException" => {
            FetchError::Transient(format!("AWS answered {code}"))
        }
        "UnrecognizedClientException" | "InvalidSignatureException" | "ExpiredTokenException"
        | "InvalidClientTokenId" | "IncompleteSignature" => {
            FetchError::Credentials(format!("AWS answered {code}"))
        }
        _ => FetchError::Service {
            code: code.to_owned(),
            message: message.to_owned(),
        },
    }
}

/// One place that reads an AWS SDK error: not found, access denied,
/// throttled, transient (5xx, a reset connection, no answer in time),
/// credentials, network, or another service error. Only AWS's error code
/// and message, and the chain of transport errors, are kept: never a
/// response body.
pub fn classify<E, R>(
    err: &SdkError<E, R>,
    action: &str,
    resource: impl FnOnce() -> String,
) -> FetchError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + HttpStatus,
{
    match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let status = se.raw().status_code();
            // No error code at all: the answer was not an AWS error either.
            let Some(code) = e.code() else {
                return if status >= 500 {
                    FetchError::Transient(format!("HTTP {status}"))
                } else {
                    FetchError::BadResponse
                };
            };
            match classify_code(code, e.message().unwrap_or(""), action, resource) {
                FetchError::Service { .. } if status >= 500 => {
                    FetchError::Transient(format!("AWS answered {code} (HTTP {status})"))
                }
                FetchError::Service { .. } if status == 429 => FetchError::Throttled,
                other => other,
            }
        }
        SdkError::TimeoutError(_) => FetchError::Transient("no answer in time".into()),
        // A body cut off while it was read: the connection, not the answer.
        SdkError::ResponseError(_) => FetchError::Transient(error_chain(err)),
        SdkError::DispatchFailure(d) => {
            let chain = error_chain(err);
            if chain.to_ascii_lowercase().contains("credential") {
                credentials(chain)
            } else if refused(err) || d.is_user() {
                // Nothing listens there: retrying until the deadline would
                // only hide a wrong endpoint or region.
                FetchError::Unreachable(chain)
            } else {
                // A reset, a dropped or timed-out connection.
                FetchError::Transient(chain)
            }
        }
        SdkError::ConstructionFailure(_) => {
            let chain = error_chain(err);
            if chain.to_ascii_lowercase().contains("credential") {
                credentials(chain)
            } else {
                FetchError::Unreachable(chain)
            }
        }
        _ => FetchError::BadResponse,
    }
}

/// What a provider found for one secret or parameter: its value and the
/// version it came at (a version id, a parameter version), or why not.
pub type Answer = Result<(SecretValue, Option<String>), FetchError>;

/// Answers so far: values, and the versions they came at (for `--watch`).
#[derive(Default)]
pub struct Answers {
    pub values: std::collections::HashMap<Reference, Fetched>,
    pub versions: std::collections::HashMap<Reference, String>,
}

/// Where each answer is recorded as it arrives, so that at the deadline
/// only what never got an answer is reported as timed out.
pub type Sink = Arc<std::sync::Mutex<Answers>>;

pub fn record(sink: &Sink, item: &Reference, answer: Answer) {
    if let Ok(mut answers) = sink.lock() {
        let value = answer.map(|(value, version)| {
            if let Some(v) = version {
                answers.versions.insert(item.clone(), v);
            }
            value
        });
        answers.values.insert(item.clone(), value);
    }
}

/// A credential error: transient when the provider timed out or was
/// throttled or unreachable (the ECS endpoint or STS under a fleet start),
/// else what retrying cannot fix (no credentials, a bad configuration).
fn credentials(chain: String) -> FetchError {
    let lower = chain.to_ascii_lowercase();
    let transient = [
        "timed out",
        "timeout",
        "throttl",
        "rate exceeded",
        "connection",
        "service unavailable",
        "internal server error",
    ];
    if transient.iter().any(|t| lower.contains(t)) {
        FetchError::Transient(chain)
    } else {
        FetchError::Credentials(chain)
    }
}

/// The HTTP status of a raw response, for [`classify`].
pub trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_secretsmanager::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// Whether the connection was refused (or the name did not resolve).
fn refused(err: &dyn std::error::Error) -> bool {
    let mut cur = err.source();
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        let text = e.to_string().to_ascii_lowercase();
        if text.contains("connection refused") || text.contains("dns error") {
            return true;
        }
        cur = e.source();
    }
    false
}

/// The messages of an error and its sources, joined: for transport and
/// credential errors only, which carry no response text.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.contains(&s) {
            parts.push(s);
        }
        cur = e.source();
    }
    if parts.is_empty() {
        parts.push(err.to_string());
    }
    parts.join(": ")
}

/// How requests are made: under one deadline, at most `in_flight` at a
/// time, each attempt cut off after `attempt`, throttled and transient
/// answers retried with capped exponential backoff and full jitter until
/// the deadline (AWS's "Exponential Backoff And Jitter"): a fleet that
/// starts together spreads itself over the quota instead of failing
/// together.
#[derive(Clone)]
pub struct Requests {
    pub deadline: Instant,
    /// The whole `--timeout`, for messages.
    pub timeout: Duration,
    pub attempt: Duration,
    pub in_flight: Arc<Semaphore>,
}

/// The first backoff's ceiling and the most any backoff waits.
const BACKOFF_BASE: Duration = Duration::from_millis(50);
const BACKOFF_CAP: Duration = Duration::from_secs(2);

/// The least time worth an attempt.
const MIN_ATTEMPT: Duration = Duration::from_millis(20);

/// Requests in flight per process, whatever the number of secrets.
pub const MAX_IN_FLIGHT: usize = 16;

impl Requests {
    pub fn new(deadline: Instant, timeout: Duration) -> Requests {
        // A quarter of the whole, between 2 and 10 s: a hung connection is
        // cut off and retried while time remains, and a slow credential
        // fetch or TLS handshake still fits.
        let attempt = (timeout / 4).clamp(Duration::from_secs(2), Duration::from_secs(10));
        Requests {
            deadline,
            timeout,
            attempt,
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        }
    }

    /// One attempt, within the in-flight bound and the attempt's time.
    pub async fn once<T, Fut>(&self, call: Fut) -> Result<T, FetchError>
    where
        Fut: Future<Output = Result<T, FetchError>>,
    {
        let Ok(_permit) = self.in_flight.acquire().await else {
            return Err(FetchError::Transient("shutting down".into()));
        };
        // Time left once a place in flight was had: none, no new attempt.
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(FetchError::Timeout(self.timeout));
        }
        match tokio::time::timeout(self.attempt.min(left), call).await {
            Ok(result) => result,
            // Cut off by the deadline itself: the whole timeout passed.
            Err(_) if left <= self.attempt => Err(FetchError::Timeout(self.timeout)),
            Err(_) => Err(FetchError::Transient(format!(
                "an attempt had no answer within {} ms",
                self.attempt.as_millis()
            ))),
        }
    }

    /// Attempts until one answers with something retrying cannot change,
    /// or the deadline leaves no room for another: then the last error.
    pub async fn retried<T, F, Fut>(&self, mut call: F) -> Result<T, FetchError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, FetchError>>,
    {
        let mut attempt: u32 = 0;
        loop {
            let result = self.once(call()).await;
            let retryable = matches!(&result, Err(e) if e.is_retryable());
            // A refused connection is tried three times, not until the end.
            let refused = matches!(&result, Err(FetchError::Unreachable(_))) && attempt < 2;
            if !(retryable || refused) {
                return result;
            }
            attempt += 1;
            // A wait past the deadline is cut to what is left, so the last
            // moments are used for one more attempt.
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left < MIN_ATTEMPT {
                return result;
            }
            tokio::time::sleep(full_jitter(attempt).min(left - MIN_ATTEMPT)).await;
        }
    }
}

/// A random wait in `[0, min(cap, base * 2^attempt))`.
fn full_jitter(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.min(16))
        .min(BACKOFF_CAP);
    ceiling.mul_f64(random_unit())
}

/// A number in `[0, 1)`: xorshift, seeded from the clock and the pid. Jitter
/// needs spread across a fleet, not unpredictability.
pub fn random_unit() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        x = nanos ^ (u64::from(std::process::id()) << 32) | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_and_stays_under_it() {
        for attempt in 1..40 {
            let ceiling = BACKOFF_BASE
                .saturating_mul(1u32 << attempt.min(16))
                .min(BACKOFF_CAP);
            for _ in 0..50 {
                assert!(full_jitter(attempt) < ceiling.max(Duration::from_nanos(1)));
            }
        }
        let spread: Vec<Duration> = (0..200).map(|_| full_jitter(10)).collect();
        let max = spread.iter().max().copied().unwrap_or_default();
        let min = spread.iter().min().copied().unwrap_or_default();
        assert!(max - min > BACKOFF_CAP / 2, "full jitter spreads the waits");
    }

    #[test]
    fn one_table_for_calls_and_batch_entries() {
        let denied = classify_code("AccessDeniedException", "not authorized", "a:B", || {
            "r".into()
        });
        assert_eq!(
            denied,
            FetchError::AccessDenied {
                action: "a:B".into(),
                resource: "r".into()
            }
        );
        assert!(classify_code("ThrottlingException", "", "", String::new).is_retryable());
        assert!(classify_code("InternalServiceError", "", "", String::new).is_retryable());
        assert!(!classify_code("ResourceNotFoundException", "", "", String::new).is_retryable());
        assert!(matches!(
            classify_code("DecryptionFailure", "", "", String::new),
            FetchError::AccessDenied { action, .. } if action == "kms:Decrypt"
        ));
    }
}
