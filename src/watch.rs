//! `--watch`: what a resolution used and at which version, and how a
//! later check compares with it (SPEC section 10).
//!
//! Pure. A [`Watched`] list goes from the resolving copy to the supervisor
//! and from the supervisor to each short-lived checking copy; it holds
//! references, paths, version ids, parameter versions and file identities,
//! and the names of the variables that used each: never a value, a hash of
//! a value, or a JSON key's content. That is what lets PID 1 watch secrets
//! without ever holding one.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::printable_name;
use crate::fetched::Resolved;
use crate::plan::{Plan, Raw, Source};
use crate::reference::Reference;
use crate::template;

/// What is watched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A Secrets Manager secret: its AWSCURRENT version id.
    Secret,
    /// An SSM parameter: its version number.
    Parameter,
    /// A file (a `_FILE` file, an env file, the local secrets file): its
    /// device, inode, size and modification time.
    File,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub kind: Kind,
    /// The keyless reference as written (secrets, parameters) or the path.
    pub id: String,
    pub version: String,
    /// The variables that got their value from it.
    pub vars: Vec<String>,
}

/// Everything one resolution used, at the versions it used.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watched {
    pub items: Vec<Item>,
}

/// What a resolution used and at which version: every secret and
/// parameter it fetched (but those pinned to a version id, stage or label,
/// which never change), every `_FILE` file it read, and the files given
/// as `files` (env files, the local secrets file) with their identities.
/// With a local secrets file, the file stands for every reference in it.
pub fn watched(
    plan: &Plan,
    resolved: &Resolved,
    files: &[(PathBuf, String)],
    local: bool,
) -> Watched {
    let mut by_ref: BTreeMap<Reference, Vec<String>> = BTreeMap::new();
    let mut by_file: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for (name, defs) in &plan.vars {
        let printable = printable_name(&name.to_string_lossy());
        // The winning definition, and the ones below it that it names
        // (`PORT=${PORT:-8000}`), as the fetch was planned.
        for def in defs.iter().rev() {
            let mut refs = Vec::new();
            let mut self_ref = false;
            match (&def.source, &def.raw) {
                (Source::Bundle(r), _) => refs.push(r.clone()),
                (_, Raw::Ref(r, _)) => refs.push(r.without_key()),
                (_, Raw::Template(pieces)) => {
                    let mut found = Vec::new();
                    template::references(pieces, &mut found);
                    refs.extend(found.into_iter().map(Reference::without_key));
                    let mut names = Vec::new();
                    template::variables(pieces, &mut names);
                    self_ref = name.to_str().is_some_and(|n| names.iter().any(|v| v == n));
                }
                (_, Raw::File(path)) => by_file
                    .entry(path.clone())
                    .or_default()
                    .push(printable.clone()),
                _ => {}
            }
            for r in refs {
                let vars = by_ref.entry(r).or_default();
                if !vars.contains(&printable) {
                    vars.push(printable.clone());
                }
            }
            if !self_ref {
                break;
            }
        }
    }
    let mut items = Vec::new();
    if !local {
        for (r, vars) in by_ref {
            let Some(version) = resolved.versions.get(&r) else {
                continue;
            };
            if r.is_pinned() {
                continue;
            }
            let kind = match r {
                Reference::SecretsManager { .. } => Kind::Secret,
                Reference::Ssm { .. } => Kind::Parameter,
            };
            items.push(Item {
                kind,
                id: r.to_string(),
                version: version.clone(),
                vars,
            });
        }
    }
    for (path, vars) in by_file {
        if let Some(identity) = resolved.file_ids.get(&path) {
            items.push(Item {
                kind: Kind::File,
                id: path.to_string_lossy().into_owned(),
                version: identity.clone(),
                vars,
            });
        }
    }
    for (path, identity) in files {
        items.push(Item {
            kind: Kind::File,
            id: path.to_string_lossy().into_owned(),
            version: identity.clone(),
            vars: Vec::new(),
        });
    }
    Watched { items }
}

/// What one check found for one item: its version now, or why it could
/// not be had.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checked {
    pub id: String,
    pub now: Result<String, String>,
}

/// The outcome of a check against what was resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Items at another version now.
    pub changed: Vec<String>,
    /// Items that could not be checked: id, why, and the variables.
    pub failed: Vec<(String, String, Vec<String>)>,
}

impl Diff {
    pub fn is_change(&self) -> bool {
        !self.changed.is_empty()
    }
}

/// Compare a check with what was resolved. An item the check did not
/// report is a failure: it changes nothing.
pub fn compare(watched: &Watched, checked: &[Checked]) -> Diff {
    let mut diff = Diff::default();
    for item in &watched.items {
        match checked.iter().find(|c| c.id == item.id).map(|c| &c.now) {
            Some(Ok(now)) if *now == item.version => {}
            Some(Ok(_)) => diff.changed.push(item.id.clone()),
            Some(Err(why)) => diff
                .failed
                .push((item.id.clone(), why.clone(), item.vars.clone())),
            None => diff.failed.push((
                item.id.clone(),
                "the check did not report it".into(),
                item.vars.clone(),
            )),
        }
    }
    diff
}

/// The next check's delay: `interval` with ±20% jitter, so that a fleet
/// started together does not check together. `unit` is in `[0, 1)`.
pub fn next_check(interval: Duration, unit: f64) -> Duration {
    interval.mul_f64(0.8 + 0.4 * unit.clamp(0.0, 1.0))
}

/// The delay before acting on a change: anywhere in `[0, spread]`, so that
/// a fleet does not restart together.
pub fn spread_delay(spread: Duration, unit: f64) -> Duration {
    spread.mul_f64(unit.clamp(0.0, 1.0))
}

/// A file's identity as `--watch` compares it.
pub fn file_identity(dev: u64, ino: u64, size: u64, mtime_ns: i128) -> String {
    format!("{dev}:{ino}:{size}:{mtime_ns}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, version: &str) -> Item {
        Item {
            kind: Kind::Secret,
            id: id.into(),
            version: version.into(),
            vars: vec!["V".into()],
        }
    }

    #[test]
    fn a_new_version_is_a_change_and_a_failure_is_not() {
        let watched = Watched {
            items: vec![
                item("a", "1"),
                item("b", "1"),
                item("c", "1"),
                item("d", "1"),
            ],
        };
        let diff = compare(
            &watched,
            &[
                Checked {
                    id: "a".into(),
                    now: Ok("1".into()),
                },
                Checked {
                    id: "b".into(),
                    now: Ok("2".into()),
                },
                Checked {
                    id: "c".into(),
                    now: Err("access denied".into()),
                },
            ],
        );
        assert_eq!(diff.changed, ["b"]);
        assert_eq!(diff.failed.len(), 2);
        assert_eq!(diff.failed[0].0, "c");
        assert_eq!(diff.failed[1].1, "the check did not report it");
    }

    #[test]
    fn jitter_stays_within_twenty_percent_and_spread_within_its_bound() {
        let i = Duration::from_secs(300);
        assert_eq!(next_check(i, 0.0), Duration::from_secs(240));
        assert!(next_check(i, 0.999) <= Duration::from_secs(360));
        assert_eq!(
            spread_delay(Duration::from_secs(30), 0.5),
            Duration::from_secs(15)
        );
        assert_eq!(spread_delay(Duration::ZERO, 0.7), Duration::ZERO);
    }

    #[test]
    fn the_list_carries_no_value() {
        let w = Watched {
            items: vec![item("secretsmanager:app", "v-1")],
        };
        let text = serde_json::to_string(&w).unwrap_or_default();
        assert_eq!(
            text,
            r#"{"items":[{"kind":"secret","id":"secretsmanager:app","version":"v-1","vars":["V"]}]}"#
        );
    }
}
