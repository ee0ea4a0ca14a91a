//! The `gpuplan` command-line tool as a library: argument definitions, commands, rendering and the
//! HTTP server. `main.rs` only parses arguments, dispatches and maps errors to exit codes.
//!
//! Adding a command: its clap `Args` struct and a [`args::Command`] variant in `args.rs`, a
//! module in `commands/` with `pub fn run(args, &Context, out) -> anyhow::Result<()>`, and one
//! match arm in [`run`].

// The command-line front end: printing to the terminal is its job (the libraries never print).
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod args;
pub mod commands;
pub mod config;
pub mod render;
pub mod serve;

use std::io::Write;
use std::path::PathBuf;

use gpuplan::ResolveOptions;
use gpuplan_core::hardware::{GpuPrice, HardwareCatalog};

use crate::args::{Cli, Command};
use crate::config::{ConfigError, UserConfig};
use crate::render::{OutputFormat, RenderOptions};

/// Everything a command needs besides its own arguments: the validated global flags, the user
/// config and the output settings.
#[derive(Debug, Clone)]
pub struct Context {
    /// Output format (`--format`, `--json`).
    pub format: OutputFormat,
    /// Width and colour of human formats.
    pub render: RenderOptions,
    /// `--offline`.
    pub offline: bool,
    /// `--revision`.
    pub revision: Option<String>,
    /// The user config file's defaults.
    pub config: UserConfig,
    /// GPU / price overrides: `--catalog`, else the config's `catalog`.
    pub catalog_path: Option<PathBuf>,
}

impl Context {
    /// Validates the global flags and reads the user config.
    pub fn new(global: &args::GlobalArgs) -> Result<Context, ConfigError> {
        let config = UserConfig::load(global.config.as_deref())?;
        let catalog_path = global.catalog.clone().or_else(|| config.catalog.clone());
        Ok(Context {
            format: global.output_format(),
            render: RenderOptions::detect(),
            offline: global.offline,
            revision: global.revision.clone(),
            config,
            catalog_path,
        })
    }

    /// How to resolve models: `--offline`, `--revision`, Hub settings from the environment.
    pub fn resolve_options(&self) -> ResolveOptions {
        ResolveOptions {
            revision: self.revision.clone(),
            offline: self.offline,
            hub: None,
            progress: true,
            weight_quant: None,
        }
    }

    /// The GPU catalog: embedded, then the default user catalog file, then `--catalog` (or the
    /// config's `catalog`), then the config's `[prices]`.
    pub fn hardware(&self) -> Result<HardwareCatalog, gpuplan::Error> {
        let default = gpuplan_catalog::hardware::default_user_catalog_path();
        // The default path may itself come from $GPUPLAN_CATALOG, which also feeds --catalog:
        // apply the file once.
        let explicit = self
            .catalog_path
            .as_deref()
            .filter(|p| default.as_deref() != Some(*p));
        let mut catalog = gpuplan_catalog::hardware::hardware_with_user_overrides(explicit)?;
        let source = self
            .config
            .path
            .as_deref()
            .map_or_else(|| "user config".to_string(), |p| p.display().to_string());
        for (name, usd_per_hour) in &self.config.prices {
            let gpu_id = catalog.resolve(name)?.id.clone();
            catalog.prices.retain(|p| p.gpu_id != gpu_id);
            catalog.prices.push(GpuPrice {
                gpu_id,
                usd_per_hour: *usd_per_hour,
                source: source.clone(),
                as_of: String::new(),
            });
        }
        Ok(catalog)
    }
}

/// Runs a parsed command line, writing its output to `out`.
pub fn run(cli: &Cli, out: &mut dyn Write) -> anyhow::Result<()> {
    let ctx = Context::new(&cli.global)?;
    match &cli.command {
        Command::Models(args) => commands::models::run(args, &ctx, out),
        Command::Model(args) => commands::model::run(args, &ctx, out),
        Command::Gpus(args) => commands::gpus::run(args, &ctx, out),
        Command::Memory(args) => commands::memory::run(args, &ctx, out),
        Command::Estimate(args) => commands::estimate::run(args, &ctx, out),
        Command::Recommend(args) => commands::recommend::run(args, &ctx, out),
        Command::Validate(args) => commands::validate::run(args, &ctx, out),
        Command::Calibrate(args) => commands::calibrate::run(args, &ctx, out),
        Command::Serve(args) => commands::serve::run(args, &ctx, out),
        Command::Completions(args) => commands::completions::run(args, out),
    }
}

/// The exit code for an error returned by [`run`]: the library's own code for a
/// [`gpuplan::Error`] (1 when no configuration satisfies the request, else 2), 0 for a closed
/// output pipe (`gpuplan models | head`), 2 for anything else.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    if let Some(e) = error.downcast_ref::<gpuplan::Error>() {
        return e.exit_code();
    }
    if is_broken_pipe(error) {
        return gpuplan::EXIT_OK;
    }
    gpuplan::EXIT_USAGE
}

/// Whether the error is a write to a closed pipe, which is not worth reporting.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Longest error message printed, characters; the rest is cut (a 1M-element list in a flag
/// must not print megabytes).
pub const MAX_ERROR_CHARS: usize = 2000;

/// The error as one line for stderr: each cause once (a cause whose text its parent already
/// quotes, such as an OS error, is not repeated), at most [`MAX_ERROR_CHARS`] characters.
pub fn error_report(error: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if text.is_empty() || out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    bound_message(&out, MAX_ERROR_CHARS)
}

/// `text` cut to at most `max` characters, saying how much was left out.
pub fn bound_message(text: &str, max: usize) -> String {
    if text.len() <= max || text.chars().nth(max).is_none() {
        return text.to_string();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept}… ({} more characters)", text.chars().count() - max)
}

#[cfg(test)]
mod report_tests {
    use super::*;

    #[test]
    fn os_errors_are_not_repeated_and_reports_are_bounded() {
        let os = std::io::Error::from(std::io::ErrorKind::NotFound);
        let text = os.to_string();
        let error = anyhow::Error::new(os).context(format!("cannot read x.json: {text}"));
        assert_eq!(error_report(&error), format!("cannot read x.json: {text}"));
        let error = anyhow::anyhow!("{}", "y".repeat(10 * MAX_ERROR_CHARS));
        assert!(error_report(&error).chars().count() < MAX_ERROR_CHARS + 40);
    }
}
