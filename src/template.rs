//! `${...}` interpolation with docker compose's grammar and secrun's safer
//! differences (SPEC section 2, "Interpolation").
//!
//! Pure: a value's bytes are parsed into [`Piece`]s once, and expanded against
//! a [`Scope`] that supplies variables and inline references. This module
//! never looks at the environment and never prints: messages it builds name
//! variables, never values.
//!
//! Differences from compose, all on the side of safety:
//! - an unset `${NAME}` with no default is an error, not an empty string;
//! - a bare `$NAME` is left as written, so passwords with `$` survive;
//! - anything else starting with `${` that is not a name or a reference, or
//!   is never closed, is left as written (compose rejects it).

use crate::error::{is_name_byte, is_name_start};
use crate::reference::{self, Reference};
use crate::secret::Redacted;

#[derive(Clone, PartialEq, Eq)]
pub enum Piece {
    Text(Vec<u8>),
    Var { name: String, op: Option<Op> },
    Ref(Reference),
}

#[derive(Clone, PartialEq, Eq)]
pub struct Op {
    pub kind: OpKind,
    /// `:-` rather than `-`: empty counts as unset.
    pub colon: bool,
    pub word: Vec<Piece>,
    /// The word as written, for `${NAME?message}` errors.
    pub written: String,
}

// Values as written may be plaintext secrets: Debug shows lengths only.
impl std::fmt::Debug for Piece {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Piece::Text(t) => f.debug_tuple("Text").field(&Redacted(t.len())).finish(),
            Piece::Var { name, op } => f
                .debug_struct("Var")
                .field("name", name)
                .field("op", op)
                .finish(),
            Piece::Ref(r) => f.debug_tuple("Ref").field(r).finish(),
        }
    }
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Op")
            .field("kind", &self.kind)
            .field("colon", &self.colon)
            .field("word", &self.word)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Default,
    Required,
    Alternative,
}

/// An inline reference that starts like one but is malformed, or `${...}`
/// nested deeper than [`MAX_DEPTH`].
#[derive(Clone, PartialEq, Eq)]
pub struct BadReference {
    pub written: String,
    pub error: reference::ParseError,
}

/// What was written may be a pasted value: its length only.
impl std::fmt::Debug for BadReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BadReference")
            .field("written", &Redacted(self.written.len()))
            .field("error", &self.error)
            .finish()
    }
}

/// How deeply `${...}` may nest in defaults, messages and replacements: far
/// beyond any real value, and a bound on the parser's stack and time.
pub const MAX_DEPTH: usize = 32;

/// Parser state: the input, and the `${` positions already known not to
/// parse, so that each is tried once (an unclosed `${A:-${A:-...` would
/// otherwise be re-read from every level, in exponential time).
struct Parser<'s> {
    s: &'s [u8],
    not_ours: Vec<bool>,
    /// For each position, where the next `}` is (`s.len()` if none): found
    /// once, not scanned for from every unclosed inline reference.
    next_close: Vec<usize>,
}

pub fn parse(input: &[u8]) -> Result<Vec<Piece>, BadReference> {
    let mut next_close = vec![input.len(); input.len() + 1];
    for i in (0..input.len()).rev() {
        next_close[i] = if input[i] == b'}' {
            i
        } else {
            next_close[i + 1]
        };
    }
    let mut parser = Parser {
        s: input,
        not_ours: vec![false; input.len()],
        next_close,
    };
    let mut pos = 0;
    let (pieces, _) = parser.seq(&mut pos, 0)?;
    Ok(pieces)
}

/// True when expansion could change the value at all.
pub fn is_plain(pieces: &[Piece]) -> bool {
    pieces.iter().all(|p| matches!(p, Piece::Text(_)))
}

fn push_text(pieces: &mut Vec<Piece>, bytes: &[u8]) {
    if let Some(Piece::Text(t)) = pieces.last_mut() {
        t.extend_from_slice(bytes);
    } else {
        pieces.push(Piece::Text(bytes.to_vec()));
    }
}

fn too_deep() -> BadReference {
    BadReference {
        written: "${...}".into(),
        error: reference::ParseError(format!(
            "${{...}} is nested more than {MAX_DEPTH} levels deep"
        )),
    }
}

impl Parser<'_> {
    /// Parse until the end of input or, inside a word (`depth > 0`), an
    /// unmatched `}`. Returns the pieces and whether the `}` was found.
    fn seq(&mut self, pos: &mut usize, depth: usize) -> Result<(Vec<Piece>, bool), BadReference> {
        let s = self.s;
        let mut pieces = Vec::new();
        while *pos < s.len() {
            let c = s[*pos];
            if depth > 0 && c == b'}' {
                *pos += 1;
                return Ok((pieces, true));
            }
            if c == b'$' && s.get(*pos + 1) == Some(&b'$') {
                push_text(&mut pieces, b"$");
                *pos += 2;
                continue;
            }
            if c == b'$' && s.get(*pos + 1) == Some(&b'{') && !self.not_ours[*pos] {
                if let Some((piece, end)) = self.braced(*pos, depth)? {
                    pieces.push(piece);
                    *pos = end;
                    continue;
                }
                self.not_ours[*pos] = true;
            }
            if c == b'$' && s.get(*pos + 1) == Some(&b'{') {
                // Not ours: keep `${` as written and read on.
                push_text(&mut pieces, b"${");
                *pos += 2;
                continue;
            }
            push_text(&mut pieces, &s[*pos..*pos + 1]);
            *pos += 1;
        }
        Ok((pieces, false))
    }

    /// `s[start..]` begins with `${`. `None` when the text is to be kept as
    /// written.
    fn braced(
        &mut self,
        start: usize,
        depth: usize,
    ) -> Result<Option<(Piece, usize)>, BadReference> {
        let s = self.s;
        let name_start = start + 2;
        let mut j = name_start;
        if j < s.len() && is_name_start(s[j]) {
            while j < s.len() && is_name_byte(s[j]) {
                j += 1;
            }
        }
        if j == name_start {
            return Ok(None);
        }
        let name = String::from_utf8_lossy(&s[name_start..j]).into_owned();
        match s.get(j) {
            Some(b'}') => return Ok(Some((Piece::Var { name, op: None }, j + 1))),
            None => return Ok(None),
            _ => {}
        }
        let (colon, op_at) = if s[j] == b':' {
            (true, j + 1)
        } else {
            (false, j)
        };
        let kind = match s.get(op_at) {
            Some(b'-') => Some(OpKind::Default),
            Some(b'?') => Some(OpKind::Required),
            Some(b'+') => Some(OpKind::Alternative),
            _ => None,
        };
        if let Some(kind) = kind {
            if depth >= MAX_DEPTH {
                return Err(too_deep());
            }
            let word_start = op_at + 1;
            let mut pos = word_start;
            let (word, closed) = self.seq(&mut pos, depth + 1)?;
            if !closed {
                return Ok(None);
            }
            let written = String::from_utf8_lossy(&s[word_start..pos - 1]).into_owned();
            let op = Op {
                kind,
                colon,
                word,
                written,
            };
            return Ok(Some((Piece::Var { name, op: Some(op) }, pos)));
        }
        // An inline reference: `${secretsmanager:...}`, `${ssm:...}`, `${arn:...}`.
        let close_at = self.next_close[name_start];
        if close_at == s.len() {
            return Ok(None);
        }
        let close = close_at - name_start;
        let Ok(content) = std::str::from_utf8(&s[name_start..name_start + close]) else {
            return Ok(None);
        };
        match reference::parse(content) {
            None => Ok(None),
            Some(Ok(r)) => Ok(Some((Piece::Ref(r), name_start + close + 1))),
            Some(Err(error)) => Err(BadReference {
                written: content.to_owned(),
                error,
            }),
        }
    }
}

/// Every variable name a template mentions, in defaults too.
pub fn variables(pieces: &[Piece], out: &mut Vec<String>) {
    for p in pieces {
        if let Piece::Var { name, op } = p {
            out.push(name.clone());
            if let Some(op) = op {
                variables(&op.word, out);
            }
        }
    }
}

/// Every inline reference a template holds, in defaults too.
pub fn references<'a>(pieces: &'a [Piece], out: &mut Vec<&'a Reference>) {
    for p in pieces {
        match p {
            Piece::Ref(r) => out.push(r),
            Piece::Var { op: Some(op), .. } => references(&op.word, out),
            _ => {}
        }
    }
}

/// Why a variable could not be expanded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Missing {
    /// `${NAME}` with NAME unset and no default.
    Unset(String),
    /// `${NAME?message}` / `${NAME:?message}`.
    Required { name: String, message: String },
}

/// What expansion reads: the final value of a variable (`None` if unset) and
/// the value of an inline reference.
pub trait Scope {
    type Error: From<Missing>;
    fn var(&mut self, name: &str) -> Result<Option<Vec<u8>>, Self::Error>;
    fn reference(&mut self, r: &Reference) -> Result<Vec<u8>, Self::Error>;
}

pub fn expand<S: Scope>(pieces: &[Piece], scope: &mut S) -> Result<Vec<u8>, S::Error> {
    let mut out = Vec::new();
    expand_into(pieces, scope, &mut out)?;
    Ok(out)
}

fn expand_into<S: Scope>(
    pieces: &[Piece],
    scope: &mut S,
    out: &mut Vec<u8>,
) -> Result<(), S::Error> {
    for p in pieces {
        match p {
            Piece::Text(t) => out.extend_from_slice(t),
            Piece::Ref(r) => out.extend_from_slice(&scope.reference(r)?),
            Piece::Var { name, op } => {
                let value = scope.var(name)?;
                let Some(op) = op else {
                    match value {
                        Some(v) => out.extend_from_slice(&v),
                        None => return Err(Missing::Unset(name.clone()).into()),
                    }
                    continue;
                };
                let present = match &value {
                    Some(v) => !(op.colon && v.is_empty()),
                    None => false,
                };
                match (op.kind, present) {
                    (OpKind::Default, true) | (OpKind::Required, true) => {
                        out.extend_from_slice(value.as_deref().unwrap_or_default())
                    }
                    (OpKind::Default, false) | (OpKind::Alternative, true) => {
                        expand_into(&op.word, scope, out)?
                    }
                    (OpKind::Alternative, false) => {}
                    (OpKind::Required, false) => {
                        return Err(Missing::Required {
                            name: name.clone(),
                            message: op.written.clone(),
                        }
                        .into())
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Map(HashMap<&'static str, &'static str>);

    #[derive(Debug, PartialEq)]
    enum E {
        Missing(Missing),
    }
    impl From<Missing> for E {
        fn from(m: Missing) -> Self {
            E::Missing(m)
        }
    }
    impl Scope for Map {
        type Error = E;
        fn var(&mut self, name: &str) -> Result<Option<Vec<u8>>, E> {
            Ok(self.0.get(name).map(|v| v.as_bytes().to_vec()))
        }
        fn reference(&mut self, r: &Reference) -> Result<Vec<u8>, E> {
            Ok(format!("<{}>", r.aws_id()).into_bytes())
        }
    }

    fn run(input: &str) -> Result<String, E> {
        let mut scope = Map(HashMap::from([("A", "a"), ("EMPTY", ""), ("PORT", "80")]));
        let pieces = parse(input.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
        expand(&pieces, &mut scope).map(|v| String::from_utf8(v).unwrap_or_default())
    }

    #[test]
    fn expansion_table() {
        let cases = [
            ("plain", "plain"),
            ("${A}", "a"),
            ("x${A}y", "xay"),
            ("${EMPTY:-d}", "d"),
            ("${EMPTY-d}", ""),
            ("${UNSET-d}", "d"),
            ("${UNSET:-d}", "d"),
            ("${A:-d}", "a"),
            ("${A:+r}", "r"),
            ("${EMPTY:+r}", ""),
            ("${EMPTY+r}", "r"),
            ("${UNSET+r}", ""),
            ("${UNSET:-${A}-${PORT}}", "a-80"),
            ("${UNSET:-${UNSET2:-deep}}", "deep"),
            ("$$", "$"),
            ("$${A}", "${A}"),
            ("pa$word", "pa$word"),
            ("$A", "$A"),
            ("$", "$"),
            ("end$", "end$"),
            ("${#x}", "${#x}"),
            ("${a b}", "${a b}"),
            ("${HOME", "${HOME"),
            ("${A:-open", "${A:-open"),
            ("${1}", "${1}"),
            ("${}", "${}"),
            ("${A:=x}", "${A:=x}"),
            (
                "pg://app:${secretsmanager:rds/sims:password}@db",
                "pg://app:<rds/sims>@db",
            ),
            ("${ssm:/x/y}", "</x/y>"),
            ("${UNSET:-${ssm:/fallback}}", "</fallback>"),
        ];
        for (input, want) in cases {
            assert_eq!(run(input), Ok(want.to_owned()), "{input}");
        }
    }

    #[test]
    fn unset_and_required_are_errors() {
        assert_eq!(
            run("${NOPE}"),
            Err(E::Missing(Missing::Unset("NOPE".into())))
        );
        assert_eq!(
            run("${EMPTY:?must be set}"),
            Err(E::Missing(Missing::Required {
                name: "EMPTY".into(),
                message: "must be set".into()
            }))
        );
        assert_eq!(run("${EMPTY?x}"), Ok(String::new()));
        assert!(run("${UNSET?x}").is_err());
        // A default that is not used is not evaluated.
        assert_eq!(run("${A:-${NOPE}}"), Ok("a".into()));
    }

    /// Regression (found by fuzzing): an unclosed `${A:-${A:-...` was re-read
    /// from every level, in exponential time, and nesting was unbounded.
    #[test]
    fn unclosed_nesting_is_text_and_deep_nesting_an_error() {
        let unclosed = "${A:-".repeat(30);
        assert_eq!(run(&unclosed), Ok(unclosed.clone()));
        // Thousands of levels: an error at level 33, at once, with no
        // stack overflow.
        let long_unclosed = format!("{}x", "${A:-${B".repeat(4000));
        assert!(parse(long_unclosed.as_bytes()).is_err());
        let deep = format!(
            "{}x{}",
            "${UNSET:-".repeat(MAX_DEPTH + 1),
            "}".repeat(MAX_DEPTH + 1)
        );
        assert!(parse(deep.as_bytes()).is_err_and(|e| e.error.0.contains("nested more than")));
        let ok = format!(
            "{}x{}",
            "${UNSET:-".repeat(MAX_DEPTH),
            "}".repeat(MAX_DEPTH)
        );
        assert_eq!(run(&ok), Ok("x".into()));
    }

    #[test]
    fn malformed_inline_reference_is_an_error() {
        let e = parse(b"x${secretsmanager:}y").err();
        assert_eq!(e.map(|e| e.written), Some("secretsmanager:".to_owned()));
    }

    #[test]
    fn non_utf8_bytes_survive() {
        let input = b"\xff${A}\xfe";
        let pieces = parse(input).map_err(|_| ()).unwrap_or_default();
        let mut scope = Map(HashMap::from([("A", "a")]));
        assert_eq!(expand(&pieces, &mut scope), Ok(b"\xffa\xfe".to_vec()));
    }

    #[test]
    fn variables_and_references_are_listed() {
        let pieces = parse(b"${A}${B:-${C}${ssm:/p}}").unwrap_or_default();
        let mut vars = Vec::new();
        variables(&pieces, &mut vars);
        assert_eq!(vars, ["A", "B", "C"]);
        let mut refs = Vec::new();
        references(&pieces, &mut refs);
        assert_eq!(refs.len(), 1);
    }
}
