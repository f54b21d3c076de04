//! What fetching gives back, as values: a secret's value or why it could not
//! be had ([`FetchError`]), for each distinct secret or parameter, and each
//! `_FILE` file's content. Pure data: the providers fill it in, the planner
//! and `assemble` read it.
//!
//! A `FetchError` describes the cause in our own words (and AWS's error code
//! and message for service errors); it never holds response bodies or values.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::reference::Reference;
use crate::secret::SecretValue;

pub type Fetched = Result<SecretValue, FetchError>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchError {
    /// No such secret, parameter, version or stage (or not in the local file).
    NotFound(String),
    /// The role lacks `action` on `resource`.
    AccessDenied { action: String, resource: String },
    /// Throttled, the last answer before the deadline.
    Throttled,
    /// A 5xx, a reset connection, an attempt with no answer: the last
    /// answer before the deadline.
    Transient(String),
    /// `--timeout` passed before an answer came.
    Timeout(Duration),
    /// The endpoint could not be reached.
    Unreachable(String),
    /// No usable credentials.
    Credentials(String),
    /// A short reference with no region configured.
    NoRegion,
    /// Another error AWS answered with.
    Service { code: String, message: String },
    /// The secret holds only SecretBinary.
    Binary,
    /// The answer could not be read.
    BadResponse,
    /// The source itself could not be used (an unreadable secrets file).
    Unusable(String),
}

impl FetchError {
    /// Whether another attempt could change the answer.
    pub fn is_retryable(&self) -> bool {
        matches!(self, FetchError::Throttled | FetchError::Transient(_))
    }

    /// A missing secret, parameter or key: what `--optional` forgives.
    pub fn is_missing(&self) -> bool {
        matches!(self, FetchError::NotFound(_))
    }

    /// What went wrong and what would fix it.
    pub fn describe(&self) -> String {
        match self {
            FetchError::NotFound(detail) => detail.clone(),
            FetchError::AccessDenied { action, resource } => format!(
                "access denied: the role lacks {action} on {resource}; grant it in the role's IAM policy (for ECS, the task role)"
            ),
            FetchError::Throttled => {
                "AWS throttled the request until the deadline (a fleet starting together shares the account's quota); raise --timeout, or start fewer tasks at once".into()
            }
            FetchError::Transient(detail) => format!(
                "no good answer until the deadline ({detail}); check network access to the endpoint, or raise --timeout"
            ),
            FetchError::Timeout(t) => format!(
                "no answer within the {} ms timeout; check network access to the endpoint (VPC endpoint or NAT), or raise --timeout",
                t.as_millis()
            ),
            FetchError::Unreachable(detail) => format!(
                "could not reach the endpoint ({detail}); check network access, AWS_ENDPOINT_URL, or the region"
            ),
            FetchError::Credentials(detail) => format!(
                "no usable AWS credentials ({detail}); give the task a role (taskRoleArn), or set AWS_PROFILE or AWS_ACCESS_KEY_ID, or use --secrets-file locally"
            ),
            FetchError::NoRegion => {
                "no region for a short reference; set AWS_REGION, or write the full ARN".into()
            }
            FetchError::Service { code, message } => format!("AWS answered {code}: {message}"),
            FetchError::Binary => {
                "the secret has only SecretBinary, which cannot go into an environment variable; store it as SecretString".into()
            }
            FetchError::BadResponse => "the answer from AWS could not be read".into(),
            FetchError::Unusable(why) => why.clone(),
        }
    }
}

/// Everything fetched for one start-up.
#[derive(Default)]
pub struct Resolved {
    pub secrets: HashMap<Reference, Fetched>,
    pub files: HashMap<PathBuf, Result<SecretValue, String>>,
    /// The version each secret or parameter came at, where AWS said.
    pub versions: HashMap<Reference, String>,
    /// Each `_FILE` file's identity when it was read (for `--watch`).
    pub file_ids: HashMap<PathBuf, String>,
    /// The local secrets file's identity when it was read.
    pub secrets_file_id: Option<(PathBuf, String)>,
}
