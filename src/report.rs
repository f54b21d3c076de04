//! The `explain` and `verify` reports, on stdout: text for people, JSON for
//! tools. Pure: lines in, text out. Reports name variables and sources and
//! give lengths, never values.

use crate::assemble::{describe_source, is_changed, Line};
use crate::cli::Format;
use crate::error::{printable_name, Error};
use crate::plan::{Plan, Raw, PROCESS_RANK};

fn columns(rows: &[Vec<String>]) -> String {
    // A row's last cell is not padded, so it does not widen its column.
    let width = |i: usize| {
        rows.iter()
            .filter(|r| i + 1 < r.len())
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..4).map(width).collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `explain`: each variable that would change, its source and JSON key,
/// and every error planning found (as `verify` would report it).
pub fn explain(plan: &Plan, errors: &[Error], format: Format) -> String {
    let mut rows = Vec::new();
    let mut json = Vec::new();
    for (name, defs) in &plan.vars {
        let Some(top) = defs.last() else { continue };
        if !is_changed(top) {
            continue;
        }
        let name = printable_name(&name.to_string_lossy());
        let key = match &top.raw {
            Raw::Ref(r, _) => r.json_key().map(str::to_owned),
            _ => None,
        };
        let mut source = describe_source(top);
        // Bundles outrank env files, and explain fetches nothing: it cannot
        // know their keys, so it says which way the precedence goes.
        if !plan.bundles.is_empty() && top.rank < PROCESS_RANK {
            source.push_str(", unless a --from bundle sets it");
        }
        json.push(serde_json::json!({"name": name, "source": source, "json_key": key}));
        let key = key.map(|k| format!("key {k}")).unwrap_or_default();
        rows.push(vec![name, source, key]);
    }
    for e in errors {
        let (name, reason) = e.subject();
        json.push(serde_json::json!({"name": name, "error": reason}));
        rows.push(vec![name, "FAILED".into(), reason]);
    }
    for b in &plan.bundles {
        json.push(
            serde_json::json!({"name": null, "source": format!("bundle {b}"), "json_key": null}),
        );
        rows.push(vec![
            "(every key)".into(),
            format!("bundle {b}"),
            String::new(),
        ]);
    }
    match format {
        Format::Text if rows.is_empty() => NOTHING.to_owned(),
        Format::Text => columns(&rows),
        Format::Json => format!("{}\n", serde_json::json!({ "variables": json })),
    }
}

/// What `explain` and `verify` say when no variable would change.
pub const NOTHING: &str = "nothing to resolve: no variable holds a reference or ${...}, and no bundle, env file or _FILE variable is given\n";

/// `verify`: `NAME  OK  N bytes  SOURCE` or `NAME  FAILED  reason`.
pub fn verify(lines: &[Line], errors: &[Error], format: Format) -> String {
    let mut rows = Vec::new();
    let mut json = Vec::new();
    for l in lines {
        match &l.result {
            Ok(Some(n)) => {
                rows.push(vec![
                    l.name.clone(),
                    "OK".into(),
                    format!("{n} bytes"),
                    l.source.clone(),
                ]);
                json.push(serde_json::json!({"name": l.name, "status": "ok", "bytes": n, "source": l.source}));
            }
            Ok(None) => {
                rows.push(vec![
                    l.name.clone(),
                    "UNSET".into(),
                    "optional, not found".into(),
                    l.source.clone(),
                ]);
                json.push(
                    serde_json::json!({"name": l.name, "status": "unset", "source": l.source}),
                );
            }
            Err(reason) => {
                rows.push(vec![l.name.clone(), "FAILED".into(), reason.clone()]);
                json.push(serde_json::json!({"name": l.name, "status": "failed", "reason": reason, "source": l.source}));
            }
        }
    }
    // Errors with no line of their own: malformed references, bundles, files.
    for e in errors {
        let (name, reason) = e.subject();
        if lines.iter().any(|l| l.name == name && l.result.is_err()) {
            continue;
        }
        rows.push(vec![name.clone(), "FAILED".into(), reason.clone()]);
        json.push(serde_json::json!({"name": name, "status": "failed", "reason": reason}));
    }
    match format {
        Format::Text if rows.is_empty() => NOTHING.to_owned(),
        Format::Text => columns(&rows),
        Format::Json => format!(
            "{}\n",
            serde_json::json!({"ok": errors.is_empty(), "variables": json})
        ),
    }
}
