//! The local secrets file: Secrets Manager and SSM references resolved from a
//! JSON object instead of AWS, so the same references work on a laptop, in
//! tests and in production. Nothing is sent over the network.
//!
//! Keys are secret names, full ARNs or parameter names; a value is a string
//! (the SecretString) or an object (stored as its JSON text).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{FetchError, Fetched};
use crate::error::Error;
use crate::reference::{strip_random_suffix, Reference};
use crate::secret::SecretValue;

pub struct LocalFile {
    path: PathBuf,
    entries: HashMap<String, SecretValue>,
}

impl LocalFile {
    /// Reads and checks the whole file: every top-level value must be a
    /// string or an object, whether or not a reference uses it.
    /// `bytes`: the file as read (within the deadline), or why it could
    /// not be.
    pub fn load(path: &Path, bytes: Result<Vec<u8>, String>) -> Result<LocalFile, Error> {
        let bad = |message: String| Error::SecretsFile {
            path: path.to_owned(),
            message,
        };
        let bytes = bytes.map_err(bad)?;
        // serde_json's messages give a position, never the text around it.
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| bad(format!("not valid JSON ({e})")))?;
        let serde_json::Value::Object(map) = value else {
            return Err(bad("must be a JSON object of name -> secret".into()));
        };
        let mut entries = HashMap::new();
        for (key, value) in map {
            let text = match value {
                serde_json::Value::String(s) => s,
                v @ serde_json::Value::Object(_) => v.to_string(),
                _ => {
                    return Err(bad(format!(
                        "key {key:?}: a value must be a string (the SecretString) or a JSON object"
                    )))
                }
            };
            entries.insert(key, SecretValue::new(text.into_bytes()));
        }
        Ok(LocalFile {
            path: path.to_owned(),
            entries,
        })
    }

    /// The keys a reference is looked up under, in order.
    pub fn candidates(r: &Reference) -> Vec<String> {
        let mut keys = Vec::new();
        if let Some(arn) = r.arn() {
            keys.push(arn);
        }
        match r {
            Reference::SecretsManager { name, arn, .. } => {
                keys.push(name.clone());
                if arn.is_some() {
                    if let Some(base) = strip_random_suffix(name) {
                        keys.push(base.to_owned());
                    }
                }
            }
            Reference::Ssm { name, .. } => keys.push(name.clone()),
        }
        keys.dedup();
        keys
    }

    pub fn fetch(&self, r: &Reference) -> Fetched {
        let keys = Self::candidates(r);
        for key in &keys {
            if let Some(v) = self.entries.get(key) {
                return Ok(v.clone());
            }
        }
        Err(FetchError::NotFound(format!(
            "not in the secrets file {} (looked for {}); add it there",
            self.path.display(),
            keys.iter()
                .map(|k| format!("{k:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::must as r;

    #[test]
    fn lookup_order() {
        assert_eq!(
            LocalFile::candidates(&r(
                "arn:aws:secretsmanager:us-east-2:111122223333:secret:simsportal/prod-AbCdEf:K::"
            )),
            [
                "arn:aws:secretsmanager:us-east-2:111122223333:secret:simsportal/prod-AbCdEf",
                "simsportal/prod-AbCdEf",
                "simsportal/prod"
            ]
        );
        assert_eq!(
            LocalFile::candidates(&r("secretsmanager:app-AbCdEf")),
            ["app-AbCdEf"]
        );
        assert_eq!(
            LocalFile::candidates(&r("arn:aws:ssm:us-east-2:111122223333:parameter/sims/db")),
            [
                "arn:aws:ssm:us-east-2:111122223333:parameter/sims/db",
                "/sims/db"
            ]
        );
        assert_eq!(LocalFile::candidates(&r("ssm:/sims/db:3")), ["/sims/db"]);
    }
}
