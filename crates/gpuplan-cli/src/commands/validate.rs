//! `gpuplan validate FILE.csv`: predict every measured row and score the predictions.

use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, Context as _};
use gpuplan::validate::ValidationReport;
use gpuplan::validate::{
    parse_measurements, resolve_datasets, validate_rows, MeasuredRow, MetricSummary, Summary,
};

use super::deployment;
use super::{write_json, write_table};
use crate::args::ValidateArgs;
use crate::render::{Cell, Column, OutputFormat, Table, ValueKind};
use crate::Context;

/// Row errors listed under the table (all of them are in `--json`).
const MAX_LISTED_ERRORS: usize = 10;

/// Reads and parses a measurement CSV; errors name the file (and the row for malformed ones).
pub(crate) fn read_measurements(path: &Path) -> anyhow::Result<Vec<MeasuredRow>> {
    let name = path.display().to_string();
    let text = gpuplan_catalog::read_user_file(path, gpuplan_catalog::MAX_USER_FILE_BYTES)
        .with_context(|| format!("cannot read {name}"))?;
    let mut rows = parse_measurements(&name, &text).map_err(|e| anyhow!("malformed CSV {e}"))?;
    // A row's `dataset` file is relative to the CSV.
    resolve_datasets(&mut rows, path.parent().unwrap_or(Path::new(".")));
    if rows.is_empty() {
        return Err(anyhow!(
            "{name}: no measurement rows (only a header, or empty)"
        ));
    }
    Ok(rows)
}

/// Predicts every row of the file and prints the error statistics.
pub fn run(args: &ValidateArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let rows = read_measurements(&args.file)?;
    let hardware = ctx.hardware()?;
    let profiles = deployment::profiles(args.profile.as_deref())?;
    let report = validate_rows(
        &rows,
        args.models_dir.as_deref(),
        &hardware,
        &profiles,
        gpuplan_catalog::memory::embedded_memory_overheads(),
    );
    match ctx.format {
        OutputFormat::Json => write_json(&report, out),
        _ => write_table(&summary_table(&report, &args.file), ctx, out),
    }
}

/// The columns of a summary table: a scope, then n / median APE / within 25% per metric.
pub(crate) fn metric_columns(first: Column) -> Vec<Column> {
    let mut columns = vec![first];
    for (key, name) in [("ttft", "TTFT"), ("itl", "ITL"), ("output_tok_s", "Tok/s")] {
        columns.push(Column::new(
            format!("{key}_n"),
            format!("{name} n"),
            ValueKind::Count,
        ));
        columns.push(Column::new(
            format!("{key}_median_ape"),
            format!("{name} MdAPE"),
            ValueKind::Ratio,
        ));
        columns.push(Column::new(
            format!("{key}_within_25pct"),
            format!("{name} ≤25%"),
            ValueKind::Ratio,
        ));
    }
    columns
}

/// The cells of one summary (missing where no row scored the metric).
pub(crate) fn metric_cells(summary: &Summary) -> Vec<Cell> {
    let mut cells = Vec::with_capacity(9);
    for metric in [summary.ttft, summary.itl, summary.output_tok_s] {
        let MetricSummary {
            n,
            median_ape,
            within_25pct,
        } = metric;
        cells.push(n.into());
        if n == 0 {
            cells.extend([Cell::Missing, Cell::Missing]);
        } else {
            cells.extend([median_ape.into(), within_25pct.into()]);
        }
    }
    cells
}

fn summary_table(report: &ValidationReport, file: &Path) -> Table {
    // TPOT is scored only when the file measures it (the `tpot_ms` column).
    let tpot = report.summary.tpot.n > 0;
    let mut columns = metric_columns(Column::new("scope", "Scope", ValueKind::Text));
    if tpot {
        columns.extend([
            Column::new("tpot_n", "TPOT n", ValueKind::Count),
            Column::new("tpot_median_ape", "TPOT MdAPE", ValueKind::Ratio),
            Column::new("tpot_within_25pct", "TPOT ≤25%", ValueKind::Ratio),
        ]);
    }
    let mut table = Table::new(columns).with_title(format!(
        "{}: {} of {} rows predicted",
        file.display(),
        report.rows_predicted,
        report.rows_total
    ));
    let mut push = |scope: String, summary: &Summary| {
        let mut row: Vec<Cell> = vec![scope.into()];
        row.extend(metric_cells(summary));
        if tpot {
            let m = summary.tpot;
            row.push(m.n.into());
            if m.n == 0 {
                row.extend([Cell::Missing, Cell::Missing]);
            } else {
                row.extend([m.median_ape.into(), m.within_25pct.into()]);
            }
        }
        table.push_row(row);
    };
    push("all".into(), &report.summary);
    for (kind, groups) in [
        ("engine", &report.by_engine),
        ("gpu", &report.by_gpu),
        ("model", &report.by_model),
    ] {
        for (key, summary) in groups {
            push(format!("{kind} {key}"), summary);
        }
    }
    table.push_note(
        "MdAPE: median absolute percentage error; ≤25%: share of rows within 25% of the \
         measurement; empty measurement cells are not scored",
    );
    let failed: Vec<_> = report
        .rows
        .iter()
        .filter_map(|r| r.error.as_ref().map(|e| (r, e)))
        .collect();
    for (row, error) in failed.iter().take(MAX_LISTED_ERRORS) {
        table.push_note(format!("row {} not predicted: {error}", row.id));
    }
    if failed.len() > MAX_LISTED_ERRORS {
        table.push_note(format!(
            "... and {} more rows not predicted (see --json)",
            failed.len() - MAX_LISTED_ERRORS
        ));
    }
    table
}
