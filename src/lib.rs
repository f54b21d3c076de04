//! secrun's modules, as a library for the `secrun` binary (src/main.rs) and
//! for the fuzz targets under fuzz/. The pure modules (reference, template,
//! dotenv, plan, assemble, check, policy) take values and return values;
//! provider/, resolve and process/ are the shell around them.

pub mod assemble;
pub mod check;
pub mod cli;
pub mod commands;
pub mod dotenv;
pub mod error;
pub mod fetched;
pub mod log;
pub mod plan;
pub mod policy;
pub mod process;
pub mod provider;
pub mod reference;
pub mod report;
pub mod resolve;
pub mod secret;
pub mod template;
pub mod watch;
