//! Env-file text -> entries with line numbers, in the dotenv dialect that
//! `docker compose` reads (compose-go's `dotenv` parser is the reference), so
//! one file serves both.
//!
//! Pure: it takes the text and returns entries; reading the file and
//! interpolating values happen elsewhere. Values are never put in errors.

use crate::secret::Redacted;

/// How a value is to be treated once read.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    /// Unquoted or double-quoted: interpolated like every other value.
    /// Double-quote escapes are already applied (`\$` became `$$`).
    Template(String),
    /// Single-quoted: literal, never interpolated.
    Literal(String),
    /// A key alone on its line: taken from the process environment.
    Inherit,
}

// Values may be plaintext secrets: Debug shows their length only.
impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Template(t) => f.debug_tuple("Template").field(&Redacted(t.len())).finish(),
            Value::Literal(t) => f.debug_tuple("Literal").field(&Redacted(t.len())).finish(),
            Value::Inherit => f.write_str("Inherit"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: Value,
    /// 1-based line where the entry starts.
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub line: usize,
    pub message: String,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0b' | '\x0c' | '\r' | '\u{85}' | '\u{a0}')
}

/// `interpolate`: whether values will be expanded. When they will not,
/// `\$` in a double-quoted value is a plain `$` rather than the `$$` escape.
pub fn parse(text: &str, interpolate: bool) -> Result<Vec<Entry>, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut entries = Vec::new();
    let mut rest = text;
    let mut line = 1;
    loop {
        // Skip blank lines and comment lines.
        let trimmed = rest.trim_start_matches(is_space);
        if trimmed.is_empty() {
            break;
        }
        if let Some(after) = trimmed.strip_prefix('\n') {
            line += 1;
            rest = after;
            continue;
        }
        if trimmed.starts_with('#') {
            match trimmed.split_once('\n') {
                Some((_, after)) => {
                    line += 1;
                    rest = after;
                    continue;
                }
                None => break,
            }
        }
        let start_line = line;
        let (key, after_key, inherit) = locate_key(trimmed, line)?;
        if key.is_empty() {
            return Err(Error {
                line,
                message: "the variable name is empty".into(),
            });
        }
        if inherit {
            entries.push(Entry {
                key,
                value: Value::Inherit,
                line: start_line,
            });
            line += 1;
            rest = after_key;
            continue;
        }
        let (value, after_value, lines) = read_value(after_key, start_line, interpolate)?;
        line += lines;
        entries.push(Entry {
            key,
            value,
            line: start_line,
        });
        rest = after_value;
    }
    Ok(entries)
}

/// Returns the key, the text after `=` / `:` (leading spaces trimmed) or after
/// the newline for a key alone, and whether the key stands alone.
fn locate_key(src: &str, line: usize) -> Result<(String, &str, bool), Error> {
    let mut src = src;
    for prefix in ["export ", "export\t"] {
        if let Some(after) = src.strip_prefix(prefix) {
            src = after.trim_start_matches(is_space);
            break;
        }
    }
    // Messages give the line and column, never the line's text: a value
    // pasted without quotes (a PEM key, a password) must not be printed.
    let key_of = |end: usize| -> Result<String, Error> {
        let key = src[..end].trim_end_matches(char::is_whitespace);
        if key.contains(char::is_whitespace) {
            return Err(Error {
                line,
                message: "a variable name cannot contain a space (quote values that have spaces or span lines)".into(),
            });
        }
        Ok(key.to_owned())
    };
    for (i, c) in src.char_indices() {
        if is_space(c) {
            continue;
        }
        match c {
            '=' | ':' => return Ok((key_of(i)?, src[i + 1..].trim_start_matches(is_space), false)),
            '\n' => return Ok((key_of(i)?, &src[i + 1..], true)),
            '_' | '.' | '-' | '[' | ']' => {}
            c if c.is_alphanumeric() => {}
            _ => {
                let column = src[..i].chars().count() + 1;
                return Err(Error {
                    line,
                    message: format!(
                        "unexpected character in a variable name at column {column} (names are letters, digits, _ . - [ ]; quote values that span lines)"
                    ),
                });
            }
        }
    }
    // A key alone on the last line, without a newline.
    Ok((key_of(src.len())?, "", true))
}

/// Reads one value; returns it, the rest of the text, and how many newlines
/// were consumed.
fn read_value(src: &str, line: usize, interpolate: bool) -> Result<(Value, &str, usize), Error> {
    let quote = match src.chars().next() {
        Some(q @ ('"' | '\'')) => q,
        _ => {
            let (value, rest, newline) = match src.split_once('\n') {
                Some((v, r)) => (v, r, 1),
                None => (src, "", 0),
            };
            let value = value.split_once(" #").map_or(value, |(v, _)| v);
            let value = value.trim_end_matches(char::is_whitespace);
            return Ok((Value::Template(value.to_owned()), rest, newline));
        }
    };
    let mut chars = String::new();
    let mut escaped = false;
    let mut newlines = 0;
    for (i, c) in src.char_indices().skip(1) {
        if c == '\n' {
            newlines += 1;
        }
        if c != quote {
            if !escaped && c == '\\' {
                escaped = true;
                continue;
            }
            if escaped {
                escaped = false;
                chars.push('\\');
            }
            chars.push(c);
            continue;
        }
        if escaped {
            escaped = false;
            chars.push(c);
            continue;
        }
        // The closing quote: only spaces and a comment may follow on its line.
        let after = &src[i + 1..];
        let (tail, rest, nl) = match after.split_once('\n') {
            Some((t, r)) => (t, r, 1),
            None => (after, "", 0),
        };
        let tail = tail.trim_matches(is_space);
        if !(tail.is_empty() || tail.starts_with('#')) {
            return Err(Error {
                line: line + newlines,
                message: format!("unexpected text after the closing {quote} quote"),
            });
        }
        let value = if quote == '"' {
            Value::Template(unescape(&chars, interpolate))
        } else {
            Value::Literal(chars)
        };
        return Ok((value, rest, newlines + nl));
    }
    Err(Error {
        line,
        message: format!("unterminated {quote}-quoted value"),
    })
}

/// Double-quote escapes: `\a \b \f \n \r \t \v \\ \"`, octal `\0NNN` (exactly
/// three digits, as compose-go reads them), and `\$`, which becomes `$$` so
/// that interpolation leaves a literal `$` (a plain `$` when values are not
/// interpolated). Any other backslash is kept as written.
fn unescape(s: &str, interpolate: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(&next) = it.peek() else {
            out.push('\\');
            break;
        };
        let simple = match next {
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            '\\' => Some('\\'),
            '"' => Some('"'),
            _ => None,
        };
        if let Some(e) = simple {
            out.push(e);
            it.next();
        } else if next == '$' {
            out.push_str(if interpolate { "$$" } else { "$" });
            it.next();
        } else if next == '0' {
            let ahead: String = it.clone().skip(1).take(3).collect();
            let octal = ahead.len() == 3 && ahead.chars().all(|d| ('0'..='7').contains(&d));
            match u32::from_str_radix(&ahead, 8).ok().and_then(char::from_u32) {
                Some(ch) if octal && (ch as u32) < 256 => {
                    out.push(ch);
                    for _ in 0..4 {
                        it.next();
                    }
                }
                _ => out.push('\\'),
            }
        } else {
            out.push('\\');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> (String, Value) {
        let entries = parse_i(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
        assert_eq!(entries.len(), 1, "{text:?}: {entries:?}");
        (entries[0].key.clone(), entries[0].value.clone())
    }

    fn parse_i(text: &str) -> Result<Vec<Entry>, Error> {
        parse(text, true)
    }

    fn t(s: &str) -> Value {
        Value::Template(s.into())
    }

    #[test]
    fn compose_syntax_table() {
        let cases = [
            ("KEY=VALUE", "KEY", t("VALUE")),
            ("export KEY=v", "KEY", t("v")),
            ("export\tKEY=v", "KEY", t("v")),
            ("KEY=", "KEY", t("")),
            ("KEY: VALUE", "KEY", t("VALUE")),
            ("KEY:VALUE", "KEY", t("VALUE")),
            ("  KEY = spaced  ", "KEY", t("spaced")),
            ("KEY=val # comment", "KEY", t("val")),
            ("KEY=VAL#x", "KEY", t("VAL#x")),
            ("KEY=a=b", "KEY", t("a=b")),
            ("URL=http://x:1/y", "URL", t("http://x:1/y")),
            ("app.name=x", "app.name", t("x")),
            ("my-key=x", "my-key", t("x")),
            ("CLÉ=x", "CLÉ", t("x")),
            (
                "KEY='lit $x \\n'",
                "KEY",
                Value::Literal("lit $x \\n".into()),
            ),
            ("KEY='it\\'s'", "KEY", Value::Literal("it's".into())),
            ("KEY=\"a\\nb\\tc\\\\d\\\"e\"", "KEY", t("a\nb\tc\\d\"e")),
            ("KEY=\"\\$HOME\"", "KEY", t("$$HOME")),
            ("KEY=\"\\0101\"", "KEY", t("A")),
            ("KEY=\"a\\0b\"", "KEY", t("a\\0b")),
            ("KEY=\"\\012\"", "KEY", t("\\012")),
            ("KEY=\"\\q\"", "KEY", t("\\q")),
            ("KEY=\"v\" # comment", "KEY", t("v")),
            ("KEY=\"multi\nline\"", "KEY", t("multi\nline")),
            (
                "KEY='multi\nline'",
                "KEY",
                Value::Literal("multi\nline".into()),
            ),
            ("\u{feff}KEY=bom", "KEY", t("bom")),
            ("KEY=crlf\r\n", "KEY", t("crlf")),
            ("KEY", "KEY", Value::Inherit),
        ];
        for (text, key, value) in cases {
            assert_eq!(one(text), (key.to_owned(), value), "{text:?}");
        }
    }

    #[test]
    fn line_numbers_follow_comments_blanks_and_multiline_values() {
        let text = "# c\n\nA=1\nB=\"x\ny\"\n  # indented comment\nC\nD='q'\n";
        let entries = parse_i(text).unwrap_or_default();
        let lines: Vec<_> = entries.iter().map(|e| (e.key.as_str(), e.line)).collect();
        assert_eq!(lines, [("A", 3), ("B", 4), ("C", 7), ("D", 8)]);
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse_i("A=1\nB=\"open\nC=3\n").err();
        assert_eq!(e.as_ref().map(|e| e.line), Some(2));
        assert!(e
            .map(|e| e.message)
            .unwrap_or_default()
            .contains("unterminated"));
        assert_eq!(parse_i("A=1\n=value\n").err().map(|e| e.line), Some(2));
        let e = parse_i("OK=1\nBAD KEY!=x\n").err();
        assert_eq!(e.as_ref().map(|e| e.line), Some(2));
        assert_eq!(parse_i("A=\"x\" trailing\n").err().map(|e| e.line), Some(1));
    }

    #[test]
    fn error_messages_never_carry_the_value() {
        for text in [
            "TOKEN=\"hunter2-unterminated\n",
            "TOKEN!: hunter2\n",
            "PASSWORD hunter2\n",
            "KEY=x\nMIIEvQIBADAN+hunter2/abc\n",
        ] {
            let e = parse_i(text).err().map(|e| e.message);
            assert!(
                e.as_ref().is_some_and(|m| !m.contains("hunter2")),
                "{text:?}: {e:?}"
            );
        }
    }

    #[test]
    fn dollar_escape_without_interpolation_is_a_plain_dollar() {
        let e = parse("K=\"\\$HOME\"", false).unwrap_or_default();
        assert_eq!(e[0].value, t("$HOME"));
    }
}
