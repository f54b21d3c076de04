//! Deployment files -> environment entries, with the container and, where
//! the input is text, the line. Pure: text in, entries out.
//!
//! Auto-detected: `aws ecs describe-task-definition` output, task
//! definitions (register input), bare container-definition arrays,
//! `terraform show -json` plans and state (module nesting, with
//! `container_definitions` as a JSON string), docker compose YAML
//! (`environment` as a map or a list, anchors and `<<` merges), and dotenv
//! files. Errors say what was expected, never what a value was.

use std::collections::HashMap;

use serde_json::Value;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use crate::dotenv;

/// A variable name as `check` may print it: a name that is not a name (a
/// value pasted into the key, say) is replaced by where it is.
fn shown_name(key: &str, place: impl FnOnce() -> String) -> String {
    let valid = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if valid {
        key.to_owned()
    } else {
        format!("(the entry {})", place())
    }
}

/// One `environment` entry.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvEntry {
    pub container: Option<String>,
    pub name: String,
    pub value: String,
    pub line: Option<usize>,
}

// The value may be a plaintext secret: Debug shows its length only.
impl std::fmt::Debug for EnvEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvEntry")
            .field("container", &self.container)
            .field("name", &self.name)
            .field("value", &crate::secret::Redacted(self.value.len()))
            .field("line", &self.line)
            .finish()
    }
}

// The value is meant to be an S3 ARN, but a presigned URL carries a
// credential: Debug shows its length only.
impl std::fmt::Debug for EnvFileEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvFileEntry")
            .field("container", &self.container)
            .field("value", &crate::secret::Redacted(self.value.len()))
            .field("line", &self.line)
            .finish()
    }
}

/// A `secrets` entry: ECS resolves `value_from` itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretEntry {
    pub container: Option<String>,
    pub name: String,
    pub value_from: String,
}

/// An `environmentFiles` entry (an S3 object of plaintext variables).
#[derive(Clone, PartialEq, Eq)]
pub struct EnvFileEntry {
    pub container: Option<String>,
    pub value: String,
    pub line: Option<usize>,
}

#[derive(Clone, Debug, Default)]
pub struct Extracted {
    pub entries: Vec<EnvEntry>,
    pub secrets: Vec<SecretEntry>,
    pub env_files: Vec<EnvFileEntry>,
    /// Task definitions of a Terraform plan whose `container_definitions`
    /// is not known until apply: their addresses.
    pub unknown: Vec<String>,
    /// How the input was read tolerantly, for a warning.
    pub tolerated: Vec<String>,
}

/// Read one input; `name` is its path (for the extension) or `-`.
pub fn read(name: &str, text: &str) -> Result<Extracted, String> {
    let lower = name.to_ascii_lowercase();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    if lower.ends_with(".json") || trimmed.starts_with('{') || trimmed.starts_with('[') {
        return match serde_json::from_str::<Value>(text) {
            Ok(json) => read_json(&json, text),
            Err(strict) => {
                // Task definitions and Terraform templates as committed: a
                // trailing comma, an unquoted `${fargate_cpu}`. Read where
                // the reading is unambiguous, and say so.
                let (tolerant, what) = tolerate_json(text);
                let json: Value = serde_json::from_str(&tolerant)
                    .map_err(|_| format!("not valid JSON ({strict})"))?;
                let mut out = read_json(&json, &tolerant)?;
                out.tolerated = what;
                Ok(out)
            }
        };
    }
    let looks_like_compose = text.lines().any(|l| l.starts_with("services:"));
    if lower.ends_with(".yml") || lower.ends_with(".yaml") || looks_like_compose {
        return read_compose(text);
    }
    read_dotenv(text)
}

/// JSON as a template engine leaves it before rendering, made strict
/// without moving a line or column: a template expression outside a
/// string (`${fargate_cpu}`, `${jsonencode(x)}`) becomes a string, and a
/// comma before `]` or `}` becomes a space. Also what was changed.
fn tolerate_json(text: &str) -> (String, Vec<String>) {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 16);
    let (mut expressions, mut commas) = (0, 0);
    let mut i = 0;
    let mut in_string = false;
    while i < b.len() {
        let c = b[i];
        if in_string {
            if c == b'\\' && i + 1 < b.len() {
                out.push_str(&text[i..i + 2]);
                i += 2;
                continue;
            }
            if c == b'"' {
                in_string = false;
            }
            out.push(c as char);
            i += 1;
            continue;
        }
        match c {
            b'"' => {
                in_string = true;
                out.push('"');
                i += 1;
            }
            b'$' if b.get(i + 1) == Some(&b'{') => {
                // The expression up to its matching brace, as a string.
                let mut depth = 0;
                let mut j = i + 1;
                while j < b.len() {
                    match b[j] {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        b'\n' => break,
                        _ => {}
                    }
                    j += 1;
                }
                let end = (j + 1).min(b.len());
                let expr = &text[i..end];
                out.push('"');
                out.push_str(&expr.replace('\\', "\\\\").replace('"', "\\\""));
                out.push('"');
                expressions += 1;
                i = end;
            }
            b',' => {
                let next = text[i + 1..].trim_start();
                if next.starts_with(']') || next.starts_with('}') {
                    out.push(' ');
                    commas += 1;
                } else {
                    out.push(',');
                }
                i += 1;
            }
            _ => {
                // Whole characters, so multi-byte text stays intact.
                let ch = text[i..].chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    let mut what = Vec::new();
    if expressions > 0 {
        what.push(format!(
            "{expressions} template expressions outside strings read as strings"
        ));
    }
    if commas > 0 {
        what.push(format!("{commas} trailing commas ignored"));
    }
    (out, what)
}

/// An env file, as `check` reads it: a line that is no entry (a `//`
/// comment, a stray word) is skipped with a warning rather than making the
/// whole file unreadable; `check` is a gate, not the file's consumer.
fn read_dotenv(text: &str) -> Result<Extracted, String> {
    let mut lines: Vec<&str> = text.split('\n').collect();
    let mut skipped = Vec::new();
    let entries = loop {
        match dotenv::parse(&lines.join("\n"), true) {
            Ok(entries) => break entries,
            Err(e) if skipped.len() < 100 && e.line >= 1 && e.line <= lines.len() => {
                skipped.push(format!("line {} skipped: {}", e.line, e.message));
                lines[e.line - 1] = "";
            }
            Err(e) => return Err(format!("line {}: {}", e.line, e.message)),
        }
    };
    let mut out = Extracted {
        tolerated: skipped,
        ..Extracted::default()
    };
    for e in entries {
        let value = match e.value {
            dotenv::Value::Template(v) | dotenv::Value::Literal(v) => v,
            dotenv::Value::Inherit => continue,
        };
        out.entries.push(EnvEntry {
            container: None,
            name: shown_name(&e.key, || format!("on line {}", e.line)),
            value,
            line: Some(e.line),
        });
    }
    Ok(out)
}

fn read_json(json: &Value, text: &str) -> Result<Extracted, String> {
    let mut out = Extracted::default();
    let mut locator = Locator::new(text);
    if let Some(td) = json.get("taskDefinition") {
        containers(td.get("containerDefinitions"), &mut locator, &mut out)?;
    } else if json.get("containerDefinitions").is_some() {
        containers(json.get("containerDefinitions"), &mut locator, &mut out)?;
    } else if let Some(items) = json.as_array() {
        let has_any = |v: &Value, keys: &[&str]| keys.iter().any(|k| v.get(k).is_some());
        let container_keys = [
            "image",
            "environment",
            "secrets",
            "essential",
            "portMappings",
            "environmentFiles",
        ];
        if !items.is_empty()
            && items
                .iter()
                .all(|i| i.get("name").is_some() && has_any(i, &container_keys))
        {
            containers(Some(json), &mut locator, &mut out)?;
        } else if !items.is_empty()
            && items
                .iter()
                .all(|i| i.get("name").is_some() && i.get("value").is_some())
        {
            // A bare `environment` list.
            let wrapped = serde_json::json!([{ "environment": json }]);
            containers(Some(&wrapped), &mut locator, &mut out)?;
        } else {
            return Err(
                "a JSON array that is neither container definitions nor an environment list".into(),
            );
        }
    } else if [
        "format_version",
        "planned_values",
        "values",
        "resource_changes",
    ]
    .iter()
    .any(|k| json.get(k).is_some())
    {
        terraform(json, &mut locator, &mut out)?;
    } else {
        return Err("not a task definition, a container-definitions array, or `terraform show -json` output".into());
    }
    Ok(out)
}

fn containers(
    defs: Option<&Value>,
    locator: &mut Locator,
    out: &mut Extracted,
) -> Result<(), String> {
    let Some(defs) = defs.and_then(Value::as_array) else {
        return Err("containerDefinitions is not an array".into());
    };
    for def in defs {
        let container = def.get("name").and_then(Value::as_str).map(str::to_owned);
        for e in def
            .get("environment")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(name), Some(value)) = (e.get("name").and_then(Value::as_str), e.get("value"))
            else {
                continue;
            };
            let value = match value {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            let line = locator.find(name);
            out.entries.push(EnvEntry {
                container: container.clone(),
                name: shown_name(name, || {
                    line.map_or("with an invalid name".to_owned(), |l| {
                        format!("on line {l}")
                    })
                }),
                value,
                line,
            });
        }
        for s in def
            .get("secrets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(name), Some(from)) = (
                s.get("name").and_then(Value::as_str),
                s.get("valueFrom").and_then(Value::as_str),
            ) {
                out.secrets.push(SecretEntry {
                    container: container.clone(),
                    name: name.to_owned(),
                    value_from: from.to_owned(),
                });
            }
        }
        for f in def
            .get("environmentFiles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(value) = f.get("value").and_then(Value::as_str) {
                out.env_files.push(EnvFileEntry {
                    container: container.clone(),
                    value: value.to_owned(),
                    line: locator.find(value),
                });
            }
        }
    }
    Ok(())
}

/// `terraform show -json`: the plan's planned values, or the state's values,
/// every module; `aws_ecs_task_definition.container_definitions` is a JSON
/// string.
fn terraform(json: &Value, locator: &mut Locator, out: &mut Extracted) -> Result<(), String> {
    let root = json
        .pointer("/planned_values/root_module")
        .or_else(|| json.pointer("/values/root_module"));
    let mut resources = Vec::new();
    if let Some(root) = root {
        collect_modules(root, &mut resources);
    } else {
        // A plan with only resource_changes: take what each change leads to.
        for rc in json
            .get("resource_changes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if is_task_definition(rc) {
                if let Some(after) = rc.pointer("/change/after") {
                    resources.push((address(rc), after));
                }
            }
        }
    }
    for (address, values) in resources {
        let defs = match values.get("container_definitions") {
            // Known only after apply: nothing to check here (the caller
            // warns), which must not fail every first deploy's plan gate.
            Some(Value::Null) | None => {
                out.unknown.push(address);
                continue;
            }
            Some(d) => d,
        };
        let parsed: Value = match defs {
            Value::String(s) => serde_json::from_str(s)
                .map_err(|e| format!("container_definitions is not valid JSON ({e})"))?,
            other => other.clone(),
        };
        containers(Some(&parsed), locator, out)?;
    }
    Ok(())
}

fn is_task_definition(resource: &Value) -> bool {
    resource.get("type").and_then(Value::as_str) == Some("aws_ecs_task_definition")
}

/// A resource's address (`module.app.aws_ecs_task_definition.web`).
fn address(resource: &Value) -> String {
    resource
        .get("address")
        .and_then(Value::as_str)
        .unwrap_or("an aws_ecs_task_definition")
        .to_owned()
}

fn collect_modules<'a>(module: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    for r in module
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if is_task_definition(r) {
            if let Some(values) = r.get("values") {
                out.push((address(r), values));
            }
        }
    }
    for child in module
        .get("child_modules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_modules(child, out);
    }
}

/// Finds lines in JSON text: the n-th time a variable is asked for, its
/// n-th occurrence as `"NAME"` or, inside a JSON string (Terraform's
/// `container_definitions`), `\"NAME\"`. Containers come in text order;
/// within one, the name may stand before or after its environment (Terraform
/// sorts keys), so occurrences are counted rather than searched for after
/// the container's name.
struct Locator<'t> {
    text: &'t str,
    used: std::collections::HashMap<String, usize>,
}

impl<'t> Locator<'t> {
    fn new(text: &'t str) -> Self {
        Locator {
            text,
            used: std::collections::HashMap::new(),
        }
    }

    fn positions(&self, needle: &str) -> Vec<usize> {
        let Ok(quoted) = serde_json::to_string(needle) else {
            return Vec::new();
        };
        let escaped = quoted.replace('\\', "\\\\").replace('"', "\\\"");
        let mut at: Vec<usize> = [quoted, escaped]
            .iter()
            .flat_map(|n| self.text.match_indices(n.as_str()).map(|(p, _)| p))
            .collect();
        at.sort_unstable();
        at.dedup();
        at
    }

    fn line_at(&self, pos: usize) -> usize {
        self.text[..pos].bytes().filter(|&b| b == b'\n').count() + 1
    }

    /// The line of `needle`'s next occurrence.
    fn find(&mut self, needle: &str) -> Option<usize> {
        let n = self.used.entry(needle.to_owned()).or_insert(0);
        let k = *n;
        *n += 1;
        let at = *self.positions(needle).get(k)?;
        Some(self.line_at(at))
    }
}

/// A YAML node with the line it starts on.
#[derive(Clone)]
struct Node {
    line: usize,
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    /// Keys and values alternate.
    Map(Vec<Node>),
    Seq(Vec<Node>),
    Scalar(String),
    Other,
}

struct Builder {
    stack: Vec<(Node, usize)>,
    anchors: HashMap<usize, Node>,
    roots: Vec<Node>,
    /// Nodes that aliases may still copy: a file of nested aliases (a
    /// "billion laughs") must not exhaust memory.
    budget: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            stack: Vec::new(),
            anchors: HashMap::new(),
            roots: Vec::new(),
            budget: 1_000_000,
        }
    }
}

impl Builder {
    fn add(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            Some((
                Node {
                    kind: Kind::Map(v) | Kind::Seq(v),
                    ..
                },
                _,
            )) => v.push(node),
            _ => self.roots.push(node),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line();
        match ev {
            Event::MappingStart(anchor, _) => self.stack.push((
                Node {
                    line,
                    kind: Kind::Map(Vec::new()),
                },
                anchor,
            )),
            Event::SequenceStart(anchor, _) => self.stack.push((
                Node {
                    line,
                    kind: Kind::Seq(Vec::new()),
                },
                anchor,
            )),
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some((node, anchor)) = self.stack.pop() {
                    self.add(node, anchor);
                }
            }
            Event::Scalar(s, _, anchor, _) => self.add(
                Node {
                    line,
                    kind: Kind::Scalar(s),
                },
                anchor,
            ),
            Event::Alias(id) => {
                let cost = self.anchors.get(&id).map_or(1, size);
                let node = if cost <= self.budget {
                    self.budget -= cost;
                    self.anchors.get(&id).cloned().unwrap_or(Node {
                        line,
                        kind: Kind::Other,
                    })
                } else {
                    self.budget = 0;
                    Node {
                        line,
                        kind: Kind::Other,
                    }
                };
                self.add(node, 0);
            }
            _ => {}
        }
    }
}

fn get<'n>(map: &'n Node, key: &str) -> Option<&'n Node> {
    let Kind::Map(items) = &map.kind else {
        return None;
    };
    items
        .chunks(2)
        .find_map(|kv| match (&kv[0].kind, kv.get(1)) {
            (Kind::Scalar(k), Some(v)) if k == key => Some(v),
            _ => None,
        })
}

fn scalar(node: &Node) -> Option<&str> {
    match &node.kind {
        Kind::Scalar(s) => Some(s),
        _ => None,
    }
}

fn read_compose(text: &str) -> Result<Extracted, String> {
    let mut builder = Builder::default();
    Parser::new_from_str(text)
        .load(&mut builder, true)
        .map_err(|e| {
            format!(
                "not valid YAML (line {}, column {})",
                e.marker().line(),
                e.marker().col() + 1
            )
        })?;
    if builder.budget == 0 {
        return Err("its aliases expand to more than a million nodes".into());
    }
    let mut out = Extracted::default();
    let mut found = false;
    // Every document of the file; services and environments may come from
    // `<<` merges.
    for root in &builder.roots {
        let Some(services) = get_merged(root, "services") else {
            continue;
        };
        found = true;
        let Kind::Map(items) = &services.kind else {
            return Err("`services:` is not a map".into());
        };
        for kv in items.chunks(2) {
            let (Some(service), Some(body)) = (scalar(&kv[0]), kv.get(1)) else {
                continue;
            };
            if let Some(env) = get_merged(body, "environment") {
                compose_env(Some(service), env, &mut out);
            }
        }
    }
    if !found {
        // The version-1 layout: services at the top level, no `services:`.
        for root in &builder.roots {
            let Kind::Map(items) = &root.kind else {
                continue;
            };
            for kv in items.chunks(2) {
                let (Some(service), Some(body)) = (scalar(&kv[0]), kv.get(1)) else {
                    continue;
                };
                let is_service = ["image", "build", "environment"]
                    .iter()
                    .any(|k| get_merged(body, k).is_some());
                if !is_service {
                    continue;
                }
                found = true;
                if let Some(env) = get_merged(body, "environment") {
                    compose_env(Some(service), env, &mut out);
                }
            }
        }
    }
    if !found {
        return Err("a YAML file without `services:` and no service at its top level".into());
    }
    Ok(out)
}

/// `key` of a map, or of the maps merged into it with `<<`.
fn get_merged<'n>(map: &'n Node, key: &str) -> Option<&'n Node> {
    if let Some(v) = get(map, key) {
        return Some(v);
    }
    let merged = get(map, "<<")?;
    match &merged.kind {
        Kind::Map(_) => get(merged, key),
        Kind::Seq(maps) => maps.iter().find_map(|m| get(m, key)),
        _ => None,
    }
}

fn size(node: &Node) -> usize {
    match &node.kind {
        Kind::Map(v) | Kind::Seq(v) => 1 + v.iter().map(size).sum::<usize>(),
        _ => 1,
    }
}

fn compose_env(service: Option<&str>, env: &Node, out: &mut Extracted) {
    let container = service.map(str::to_owned);
    match &env.kind {
        Kind::Map(items) => {
            for kv in items.chunks(2) {
                let (Some(key), Some(value)) = (scalar(&kv[0]), kv.get(1)) else {
                    continue;
                };
                if key == "<<" {
                    // A merge: one map, or a list of maps.
                    match &value.kind {
                        Kind::Seq(maps) => maps.iter().for_each(|m| compose_env(service, m, out)),
                        _ => compose_env(service, value, out),
                    }
                    continue;
                }
                // `KEY:` with no value takes it from the shell: nothing here.
                let Some(v) = scalar(value).filter(|v| !v.is_empty() && *v != "~" && *v != "null")
                else {
                    continue;
                };
                out.entries.push(EnvEntry {
                    container: container.clone(),
                    name: shown_name(key, || format!("on line {}", kv[0].line)),
                    // Compose turns `$$` into `$` before the container sees it.
                    value: v.replace("$$", "$"),
                    line: Some(kv[0].line),
                });
            }
        }
        Kind::Seq(items) => {
            for item in items {
                let Some((key, value)) = scalar(item).and_then(|s| s.split_once('=')) else {
                    continue;
                };
                // A name that is not a name may be part of a value: never
                // echo it.
                let name = shown_name(key.trim(), || format!("on line {}", item.line));
                out.entries.push(EnvEntry {
                    container: container.clone(),
                    name,
                    value: value.replace("$$", "$"),
                    line: Some(item.line),
                });
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(x: &Extracted) -> Vec<(Option<&str>, &str, Option<usize>)> {
        x.entries
            .iter()
            .map(|e| (e.container.as_deref(), e.name.as_str(), e.line))
            .collect()
    }

    #[test]
    fn describe_output_register_input_and_bare_array() {
        let def = r#"{"name": "web", "environment": [{"name": "A", "value": "1"}], "secrets": [{"name": "S", "valueFrom": "arn:aws:ssm:us-east-1:111122223333:parameter/s"}], "environmentFiles": [{"value": "arn:aws:s3:::b/app.env", "type": "s3"}]}"#;
        for text in [
            format!(r#"{{"taskDefinition": {{"containerDefinitions": [{def}]}}}}"#),
            format!(r#"{{"family": "x", "containerDefinitions": [{def}]}}"#),
            format!("[{def}]"),
        ] {
            let x = read("x.json", &text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(names(&x), [(Some("web"), "A", Some(1))]);
            assert_eq!(x.secrets.len(), 1);
            assert_eq!(x.env_files.len(), 1);
        }
    }

    #[test]
    fn terraform_plan_with_modules_and_json_strings() {
        let defs = r#"[{"name":"api","environment":[{"name":"TOKEN","value":"v"}]}]"#;
        let plan = serde_json::json!({
            "format_version": "1.2",
            "planned_values": {"root_module": {
                "resources": [{"type": "aws_ecs_task_definition", "values": {"container_definitions": defs}}],
                "child_modules": [{"resources": [{"type": "aws_ecs_task_definition", "values": {"container_definitions": defs.replace("api", "worker")}}]}]
            }}
        });
        let text = serde_json::to_string_pretty(&plan).unwrap_or_default();
        let x = read("plan.json", &text).unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<_> = names(&x).into_iter().map(|(c, n, _)| (c, n)).collect();
        assert_eq!(got, [(Some("api"), "TOKEN"), (Some("worker"), "TOKEN")]);
        assert!(x.entries[0].line.is_some());
    }

    #[test]
    fn templates_as_committed_are_read_tolerantly_and_say_so() {
        let text = "[\n  {\n    \"name\": \"web\",\n    \"cpu\": ${fargate_cpu},\n    \"environment\": [\n      {\"name\": \"DB_PASSWORD\", \"value\": \"Zk29fj3KqP\"},\n    ],\n  }\n]\n";
        let x = read("web.json.tpl", text).unwrap_or_default();
        assert_eq!(x.entries.len(), 1);
        assert_eq!(x.entries[0].line, Some(6), "lines stay where they were");
        assert_eq!(
            x.tolerated,
            [
                "1 template expressions outside strings read as strings",
                "2 trailing commas ignored"
            ]
        );
        // Still refused, with line and column, where nothing is unambiguous.
        let e = read(
            "broken.json",
            "{\"containerDefinitions\": [ {\n  \"name\": }",
        )
        .err()
        .unwrap_or_default();
        assert!(e.contains("line 2 column"), "{e}");
    }

    #[test]
    fn version_1_compose_and_env_files_with_stray_lines() {
        let v1 = "web:\n  image: app\n  environment:\n    DB_PASSWORD: Zk29fj3KqP\nredis:\n  image: redis\n";
        let x = read("docker-compose.yml", v1).unwrap_or_default();
        assert_eq!(x.entries.len(), 1);
        assert_eq!(x.entries[0].container.as_deref(), Some("web"));
        assert!(read("c.yml", "just: a\nmap: of\nscalars: x\n").is_err());
        let env = "// keys for the shop\nJWT_SECRET=Zk29fj3KqP\n";
        let x = read(".env.local", env).unwrap_or_default();
        assert_eq!(x.entries.len(), 1);
        assert_eq!(x.tolerated.len(), 1);
        assert!(
            x.tolerated[0].starts_with("line 1 skipped"),
            "{:?}",
            x.tolerated
        );
    }

    #[test]
    fn compose_maps_lists_anchors_and_lines() {
        let text = "x-env: &common\n  SHARED: one\nservices:\n  web:\n    image: app\n    environment:\n      <<: *common\n      SECRET_KEY: abc\n      EMPTY:\n  worker:\n    environment:\n      - TOKEN=xyz\n      - FROM_SHELL\n";
        let x = read("compose.yaml", text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            names(&x),
            [
                (Some("web"), "SHARED", Some(2)),
                (Some("web"), "SECRET_KEY", Some(8)),
                (Some("worker"), "TOKEN", Some(12))
            ]
        );
    }

    #[test]
    fn dotenv_and_errors() {
        let x = read(".env", "# c\nA=1\nexport B='2'\nC\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(names(&x), [(None, "A", Some(2)), (None, "B", Some(3))]);
        assert!(read("x.json", "{").is_err());
        assert!(read("x.json", r#"{"other": 1}"#).is_err());
        assert!(read("c.yaml", "services: [").is_err());
    }
}
