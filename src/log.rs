//! secrun's own lines on stderr: `secrun: ...` text, or JSON lines for
//! CloudWatch. Callers pass messages that name variables and references,
//! never values; this module adds nothing of its own.

use std::io::Write;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Quiet,
    Info,
    Debug,
}

static SETTINGS: OnceLock<(LogFormat, LogLevel)> = OnceLock::new();

/// Set once, as early as possible; later calls are ignored.
pub fn init(format: LogFormat, level: LogLevel) {
    let _ = SETTINGS.set((format, level));
}

fn settings() -> (LogFormat, LogLevel) {
    SETTINGS
        .get()
        .copied()
        .unwrap_or((LogFormat::Text, LogLevel::Info))
}

pub fn enabled(level: LogLevel) -> bool {
    settings().1 >= level
}

fn emit(level: &str, message: &str) {
    let line = match settings().0 {
        LogFormat::Text => format!("secrun: {message}\n"),
        LogFormat::Json => {
            let obj = serde_json::json!({"source": "secrun", "level": level, "message": message});
            format!("{obj}\n")
        }
    };
    // One write per line, so lines from several processes do not interleave.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

pub fn error(message: &str) {
    emit("error", message);
}

pub fn warn(message: &str) {
    emit("warning", &format!("warning: {message}"));
}

pub fn info(message: &str) {
    if enabled(LogLevel::Info) {
        emit("info", message);
    }
}

pub fn debug(message: &str) {
    if enabled(LogLevel::Debug) {
        emit("debug", message);
    }
}
