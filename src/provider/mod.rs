//! The only code that talks to AWS or reads secret files.
//!
//! Providers take keyless references (one per distinct secret or parameter)
//! and give back a [`SecretValue`] or a [`FetchError`] for each. A
//! `FetchError` describes the cause in our own words (and AWS's error code
//! and message for service errors); it never holds response bodies or values.

pub mod local;
pub mod secretsmanager;
pub mod ssm;

use std::time::Duration;

use crate::reference::{strip_random_suffix, Reference};
use crate::secret::SecretValue;

pub type Fetched = Result<SecretValue, FetchError>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchError {
    /// No such secret, parameter, version or stage (or not in the local file).
    NotFound(String),
    /// The role lacks `action` on `resource`.
    AccessDenied { action: String, resource: String },
    /// Still throttled after retries.
    Throttled,
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
                "AWS kept throttling the request after retries; try again, or raise --timeout".into()
            }
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

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};

/// One place that reads an AWS SDK error: not found, access denied,
/// throttled, credentials, network, or another service error. Only AWS's
/// error code and message, and the chain of transport errors, are kept:
/// never a response body.
pub fn classify<E, R>(
    err: &SdkError<E, R>,
    action: &str,
    resource: impl FnOnce() -> String,
) -> FetchError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            // No error code at all: the answer was not an AWS error either.
            let Some(code) = e.code() else {
                return FetchError::BadResponse;
            };
            let message = e.message().unwrap_or("").to_owned();
            match code {
                "ResourceNotFoundException" | "ParameterNotFound" | "ParameterVersionNotFound" | "ParameterVersionLabelNotFound" => {
                    FetchError::NotFound("no such secret, parameter, version or stage in this account and region; check the name and the region".into())
                }
                "AccessDeniedException" | "AccessDenied" => {
                    if message.contains("kms") || message.contains("KMS") {
                        FetchError::AccessDenied {
                            action: "kms:Decrypt".into(),
                            resource: "the KMS key that encrypts it".into(),
                        }
                    } else {
                        FetchError::AccessDenied {
                            action: action.into(),
                            resource: resource(),
                        }
                    }
                }
                "ThrottlingException" | "Throttling" | "TooManyRequestsException" | "RequestLimitExceeded" => FetchError::Throttled,
                "UnrecognizedClientException" | "InvalidSignatureException" | "ExpiredTokenException" | "InvalidClientTokenId" | "IncompleteSignature" => {
                    FetchError::Credentials(format!("AWS answered {code}"))
                }
                _ => FetchError::Service {
                    code: code.to_owned(),
                    message,
                },
            }
        }
        SdkError::TimeoutError(_) => FetchError::Unreachable("timed out".into()),
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => {
            let chain = error_chain(err);
            if chain.to_ascii_lowercase().contains("credential") {
                FetchError::Credentials(chain)
            } else {
                FetchError::Unreachable(chain)
            }
        }
        _ => FetchError::BadResponse,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::must as r;

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
            assert_eq!(iam_resource(&r(reference), region), want, "{reference}");
        }
    }
}
