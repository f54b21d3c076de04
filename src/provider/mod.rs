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
