//! `gpuplan calibrate FILE.csv -o PROFILE.toml`: fit the engine-profile constants to the
//! user's measurements and write a profile that `--profile` loads.

use std::io::Write;
use std::path::PathBuf;

use anyhow::anyhow;
use gpuplan::validate::{calibrate, validate_rows, Summary};
use serde::Serialize;

use super::deployment;
use super::validate::{metric_cells, metric_columns, read_measurements};
use super::{write_json, write_table};
use crate::args::CalibrateArgs;
use crate::render::{Cell, Column, OutputFormat, Table, ValueKind};
use crate::Context;

/// What `gpuplan calibrate --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationReport {
    /// The measurement file.
    pub input: PathBuf,
    /// The profile file written.
    pub output: PathBuf,
    /// Rows in the file.
    pub rows_total: usize,
    /// Rows predicted with the fitted profile.
    pub rows_predicted: usize,
    /// Engines whose constants were fitted (those with rows and a profile).
    pub engines_fitted: Vec<String>,
    /// Coordinate-search rounds per engine.
    pub rounds: u64,
    /// Error statistics with the starting profiles.
    pub before: Summary,
    /// Error statistics with the fitted profiles.
    pub after: Summary,
}

/// Fits the profiles, writes them, and prints the errors before and after.
pub fn run(args: &CalibrateArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let rows = read_measurements(&args.file)?;
    let start = deployment::profiles(args.profile.as_deref())?;
    let overheads = gpuplan_catalog::memory::embedded_memory_overheads();
    let models_dir = args.models_dir.as_deref();
    // The fit runs on the embedded GPU catalog; score "before" on the same one.
    let hardware = gpuplan_catalog::hardware::embedded_hardware();
    let before = validate_rows(&rows, models_dir, hardware, &start, overheads);
    let rounds = usize::try_from(args.rounds).unwrap_or(usize::MAX);
    let (fitted, after) = calibrate(&rows, models_dir, &start, overheads, rounds);
    let mut engines_fitted: Vec<String> = rows
        .iter()
        .map(|r| r.engine.clone())
        .filter(|e| start.engine(e).is_some())
        .collect();
    engines_fitted.sort();
    engines_fitted.dedup();
    if engines_fitted.is_empty() {
        return Err(anyhow!(
            "{}: no row names an engine with a profile (vllm, sglang, trtllm); nothing to fit",
            args.file.display()
        ));
    }
    let body = toml::to_string_pretty(&fitted)
        .map_err(|e| anyhow!("cannot serialise the fitted profile: {e}"))?;
    let text = format!(
        "# Engine profiles fitted by `gpuplan calibrate` to {} ({} rows; engines: {}).\n\
         # Use with --profile on estimate, validate and recommend.\n\n{body}",
        args.file.display(),
        rows.len(),
        engines_fitted.join(", ")
    );
    // Refuse to write a file that --profile would then reject.
    gpuplan_catalog::profiles::parse_profiles(&args.output.display().to_string(), &text)?;
    deployment::write_file(&args.output, &text, "engine profile")?;
    let report = CalibrationReport {
        input: args.file.clone(),
        output: args.output.clone(),
        rows_total: after.rows_total,
        rows_predicted: after.rows_predicted,
        engines_fitted,
        rounds: args.rounds,
        before: before.summary,
        after: after.summary,
    };
    match ctx.format {
        OutputFormat::Json => write_json(&report, out),
        _ => write_table(&table(&report), ctx, out),
    }
}

fn table(report: &CalibrationReport) -> Table {
    let mut table = Table::new(metric_columns(Column::new(
        "profile",
        "Profile",
        ValueKind::Text,
    )))
    .with_title(format!(
        "Calibrated {} on {} ({} of {} rows predicted)",
        report.engines_fitted.join(", "),
        report.input.display(),
        report.rows_predicted,
        report.rows_total
    ));
    for (name, summary) in [("before", &report.before), ("after", &report.after)] {
        let mut row: Vec<Cell> = vec![name.into()];
        row.extend(metric_cells(summary));
        table.push_row(row);
    }
    table.push_note(format!(
        "wrote {}; load it with --profile {}",
        report.output.display(),
        report.output.display()
    ));
    table
}
