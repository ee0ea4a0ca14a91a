//! `gpuplan validate`: predict every row of a measurement file and score the predictions;
//! `gpuplan calibrate`: fit the engine profiles' overhead and scale constants to such a file.
//!
//! The file has the schema of `data/measurements/perf_calibration.csv` (see its README).

use crate::estimate::{estimate_workloads, DeploymentSpec};
use crate::workload::{read_lengths, Dataset, LengthRow, RequestRate, Workload};
use gpuplan_catalog::{find_model, hardware::embedded_hardware};
use gpuplan_core::hardware::HardwareCatalog;
use gpuplan_core::memory::{Engine, MemoryOverheads, Parallelism};
use gpuplan_core::model::{parse_config, Architecture};
use gpuplan_core::perf::{EstimatePoint, Percentiles, Profiles};
use gpuplan_core::quant::{KvDtypeChoice, WeightFormat};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One measured serving run.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MeasuredRow {
    /// Unique id.
    pub id: String,
    /// Served checkpoint (Hugging Face id).
    #[serde(default)]
    pub model: String,
    /// config.json file name describing the architecture.
    #[serde(default)]
    pub config: String,
    /// Weight quantization (`bf16`, `fp8`, `fp8_block`, `nvfp4`, `mxfp4`, `int4_wo`, `native`).
    #[serde(default)]
    pub weight_quant: String,
    /// KV dtype (empty = engine default).
    #[serde(default)]
    pub kv_dtype: String,
    /// GPU id or name.
    pub gpu: String,
    /// Tensor parallel degree.
    #[serde(default)]
    pub tp: Option<u32>,
    /// Pipeline parallel degree.
    #[serde(default)]
    pub pp: Option<u32>,
    /// Attention data-parallel degree.
    #[serde(default)]
    pub dp: Option<u32>,
    /// Expert parallel degree.
    #[serde(default)]
    pub ep: Option<u32>,
    /// Engine.
    pub engine: String,
    /// Input tokens (the mean for `dataset=sharegpt`; blank = 0 for a length file).
    #[serde(default, deserialize_with = "blank_as_zero")]
    pub isl: u64,
    /// Output tokens (as `isl`).
    #[serde(default, deserialize_with = "blank_as_zero")]
    pub osl: u64,
    /// Concurrency or `max`.
    #[serde(default)]
    pub concurrency: String,
    /// `vllm bench serve --request-rate`: Poisson requests per second, or `inf` (all at t=0).
    /// Empty: a closed loop.
    #[serde(default)]
    pub request_rate: String,
    /// `--num-prompts`: requests in the run (empty: 1000 for a finite run).
    #[serde(default)]
    pub num_prompts: Option<u64>,
    /// `--max-concurrency`: most requests in flight (wins over `concurrency`).
    #[serde(default)]
    pub max_concurrency: Option<u64>,
    /// `--dataset-name`: `random` (default), `sharegpt`, or a per-request length file
    /// (`input_len,output_len[,arrival_s]`, CSV or JSON lines) relative to the CSV.
    #[serde(default)]
    pub dataset: String,
    /// Measured mean TTFT (ms).
    #[serde(default)]
    pub ttft_ms: Option<f64>,
    /// Measured mean ITL (ms).
    #[serde(default)]
    pub itl_ms: Option<f64>,
    /// Measured output tokens/s of the deployment.
    #[serde(default)]
    pub output_tok_s: Option<f64>,
    /// Measured mean TPOT per request (ms).
    #[serde(default)]
    pub tpot_ms: Option<f64>,
    /// Measured median TTFT (ms).
    #[serde(default)]
    pub ttft_p50_ms: Option<f64>,
    /// Measured 99th-percentile TTFT (ms).
    #[serde(default)]
    pub ttft_p99_ms: Option<f64>,
    /// Measured median TPOT (ms).
    #[serde(default)]
    pub tpot_p50_ms: Option<f64>,
    /// Measured 99th-percentile TPOT (ms).
    #[serde(default)]
    pub tpot_p99_ms: Option<f64>,
    /// Measured median ITL (ms).
    #[serde(default)]
    pub itl_p50_ms: Option<f64>,
    /// Measured 99th-percentile ITL (ms).
    #[serde(default)]
    pub itl_p99_ms: Option<f64>,
    /// Free-form notes (`gemm=... moe=...`).
    #[serde(default)]
    pub notes: String,
}

fn blank_as_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let s = String::deserialize(d)?;
    let t = s.trim();
    if t.is_empty() {
        return Ok(0);
    }
    t.parse::<u64>().map_err(|_| {
        serde::de::Error::custom(format!(
            "isl/osl: '{t}' is not a token count (a whole number, or blank with a dataset file)"
        ))
    })
}

/// Makes every relative `dataset` file of `rows` relative to `dir` (the CSV's folder).
pub fn resolve_datasets(rows: &mut [MeasuredRow], dir: &Path) {
    for row in rows {
        if let Ok(Dataset::File(p)) = row.dataset.parse::<Dataset>() {
            if p.is_relative() {
                row.dataset = dir.join(p).display().to_string();
            }
        }
    }
}

/// True when a row's dataset names a file (which a server does not read).
pub fn row_reads_a_file(row: &MeasuredRow) -> bool {
    matches!(row.dataset.parse::<Dataset>(), Ok(Dataset::File(_)))
}

/// A row's prediction and errors.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RowResult {
    /// Row id.
    pub id: String,
    /// Model (config) of the row.
    pub model: String,
    /// GPU of the row.
    pub gpu: String,
    /// Engine of the row.
    pub engine: String,
    /// Predicted TTFT (ms).
    pub predicted_ttft_ms: Option<f64>,
    /// Predicted ITL (ms).
    pub predicted_itl_ms: Option<f64>,
    /// Predicted output tokens/s.
    pub predicted_output_tok_s: Option<f64>,
    /// Measured TTFT (ms).
    pub measured_ttft_ms: Option<f64>,
    /// Measured ITL (ms).
    pub measured_itl_ms: Option<f64>,
    /// Measured output tokens/s.
    pub measured_output_tok_s: Option<f64>,
    /// Signed relative error of TTFT (predicted / measured - 1).
    pub ttft_error: Option<f64>,
    /// Signed relative error of ITL.
    pub itl_error: Option<f64>,
    /// Signed relative error of output tokens/s.
    pub output_tok_s_error: Option<f64>,
    /// The workload the row was predicted under, in words.
    #[serde(default)]
    pub workload: String,
    /// Predicted mean TPOT per request (ms).
    #[serde(default)]
    pub predicted_tpot_ms: Option<f64>,
    /// Measured mean TPOT (ms).
    #[serde(default)]
    pub measured_tpot_ms: Option<f64>,
    /// Signed relative error of TPOT.
    #[serde(default)]
    pub tpot_error: Option<f64>,
    /// Predicted TTFT distribution (ms).
    #[serde(default)]
    pub predicted_ttft_percentiles_ms: Option<Percentiles>,
    /// Predicted TPOT distribution (ms).
    #[serde(default)]
    pub predicted_tpot_percentiles_ms: Option<Percentiles>,
    /// Predicted ITL distribution (ms).
    #[serde(default)]
    pub predicted_itl_percentiles_ms: Option<Percentiles>,
    /// Signed relative errors of the measured percentiles the row has, by name
    /// (`ttft_p50`, `ttft_p99`, `tpot_p50`, `tpot_p99`, `itl_p50`, `itl_p99`).
    #[serde(default)]
    pub percentile_errors: BTreeMap<String, f64>,
    /// Why the row could not be predicted.
    pub error: Option<String>,
}

/// Error statistics of one metric.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, PartialEq)]
pub struct MetricSummary {
    /// Scored rows.
    pub n: usize,
    /// Median absolute percentage error (a fraction: 0.12 = 12%).
    pub median_ape: f64,
    /// Share of rows within 25% (a fraction).
    pub within_25pct: f64,
}

/// Error statistics of the three metrics.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, PartialEq)]
pub struct Summary {
    /// Time to first token.
    pub ttft: MetricSummary,
    /// Inter-token latency.
    pub itl: MetricSummary,
    /// Output tokens per second.
    pub output_tok_s: MetricSummary,
    /// Time per output token (rows with `tpot_ms`).
    #[serde(default)]
    pub tpot: MetricSummary,
}

/// The validation report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidationReport {
    /// Rows in the file.
    pub rows_total: usize,
    /// Rows predicted.
    pub rows_predicted: usize,
    /// Overall statistics.
    pub summary: Summary,
    /// Statistics per engine.
    pub by_engine: BTreeMap<String, Summary>,
    /// Statistics per GPU.
    pub by_gpu: BTreeMap<String, Summary>,
    /// Statistics per model.
    pub by_model: BTreeMap<String, Summary>,
    /// Every row.
    pub rows: Vec<RowResult>,
}

/// Error reading a measurement file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ValidateError {
    /// The file.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Parse a measurement CSV text.
pub fn parse_measurements(name: &str, text: &str) -> Result<Vec<MeasuredRow>, ValidateError> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in rdr.deserialize::<MeasuredRow>().enumerate() {
        let row = rec.map_err(|e| ValidateError {
            path: name.to_string(),
            message: csv_error_message(&e, i),
        })?;
        rows.push(row);
    }
    Ok(rows)
}

/// One numbering for a bad CSV record: its line in the file (the header is line 1), then what
/// is wrong, without csv's own "record N (line: ...)" prefix (records count from 0 there).
fn csv_error_message(e: &csv::Error, data_row: usize) -> String {
    let line = e.position().map_or(data_row as u64 + 2, |p| p.line());
    let detail = match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => match err.field() {
            Some(field) => format!("column {}: {}", field + 1, err.kind()),
            None => err.kind().to_string(),
        },
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields, but the header has {expected_len}"),
        _ => e.to_string(),
    };
    format!("line {line}: {detail}")
}

fn quant_of(s: &str) -> Option<WeightFormat> {
    match s.trim() {
        "" | "native" => None,
        "int4_wo" | "int4" | "w4a16" => Some(WeightFormat::Int4),
        other => other.parse().ok(),
    }
}

fn note_value<'a>(notes: &'a str, key: &str) -> Option<&'a str> {
    notes
        .split_whitespace()
        .find_map(|t| t.strip_prefix(key))
        .filter(|v| !v.is_empty())
}

/// Apply a row's weight quantization (`weight_quant`, and `gemm=`/`moe=` in its notes).
pub fn apply_row_quant(arch: &Architecture, weight_quant: &str, notes: &str) -> Architecture {
    let headline = quant_of(weight_quant);
    let gemm = note_value(notes, "gemm=").and_then(quant_of);
    let moe = note_value(notes, "moe=").and_then(quant_of);
    if headline.is_none() && gemm.is_none() && moe.is_none() {
        return arch.clone();
    }
    let dense = gemm.or(headline);
    let experts = moe.or(headline);
    let mut a = match dense {
        Some(f) => arch.with_weight_format(f),
        None => arch.clone(),
    };
    if let Some(f) = experts {
        if arch.is_moe() {
            a.precision.routed_experts = f;
            if dense.is_none() {
                a.precision.shared_experts = f;
            }
        }
    }
    a
}

/// Where a row's architecture comes from.
fn row_arch(row: &MeasuredRow, models_dir: Option<&Path>) -> Result<Architecture, String> {
    if let Some(dir) = models_dir {
        if !row.config.is_empty() && !row.config.starts_with('(') {
            let path: PathBuf = dir.join(&row.config);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let stem = row.config.trim_end_matches(".json");
            let hfq =
                std::fs::read_to_string(dir.join(format!("{stem}.hf_quant_config.json"))).ok();
            return parse_config(&path.display().to_string(), &text, hfq.as_deref())
                .map_err(|e| e.to_string());
        }
    }
    let stem = row.config.trim_end_matches(".json");
    find_model(stem)
        .or_else(|| find_model(&row.model))
        .ok_or_else(|| {
            format!(
                "model '{}' ({}) is not in the catalog",
                row.model, row.config
            )
        })?
        .architecture()
        .map_err(|e| e.to_string())
}

/// Predict one row.
pub fn predict_row(
    row: &MeasuredRow,
    models_dir: Option<&Path>,
    hardware: &HardwareCatalog,
    profiles: &Profiles,
    overheads: &MemoryOverheads,
) -> RowResult {
    let mut out = RowResult {
        id: row.id.clone(),
        model: row.config.trim_end_matches(".json").to_string(),
        gpu: row.gpu.clone(),
        engine: row.engine.clone(),
        predicted_ttft_ms: None,
        predicted_itl_ms: None,
        predicted_output_tok_s: None,
        measured_ttft_ms: row.ttft_ms,
        measured_itl_ms: row.itl_ms,
        measured_output_tok_s: row.output_tok_s,
        ttft_error: None,
        itl_error: None,
        output_tok_s_error: None,
        workload: String::new(),
        predicted_tpot_ms: None,
        measured_tpot_ms: row.tpot_ms,
        tpot_error: None,
        predicted_ttft_percentiles_ms: None,
        predicted_tpot_percentiles_ms: None,
        predicted_itl_percentiles_ms: None,
        percentile_errors: BTreeMap::new(),
        error: None,
    };
    match predict_inner(row, models_dir, hardware, profiles, overheads) {
        Ok((p, workload)) => {
            let (ttft, itl, tok_s) = (
                p.time_to_first_token_ms,
                p.inter_token_latency_ms,
                p.output_throughput_tok_s,
            );
            out.workload = workload;
            out.predicted_ttft_ms = Some(ttft);
            out.predicted_itl_ms = Some(itl);
            out.predicted_output_tok_s = Some(tok_s);
            out.predicted_tpot_ms = Some(p.tpot_ms.mean);
            out.predicted_ttft_percentiles_ms = Some(p.ttft_ms);
            out.predicted_tpot_percentiles_ms = Some(p.tpot_ms);
            out.predicted_itl_percentiles_ms = Some(p.itl_ms);
            let rel = |p: f64, m: Option<f64>| m.filter(|m| *m > 0.0).map(|m| p / m - 1.0);
            out.ttft_error = rel(ttft, row.ttft_ms);
            out.itl_error = rel(itl, row.itl_ms);
            out.output_tok_s_error = rel(tok_s, row.output_tok_s);
            out.tpot_error = rel(p.tpot_ms.mean, row.tpot_ms);
            let measured = [
                ("ttft_p50", p.ttft_ms.p50, row.ttft_p50_ms),
                ("ttft_p99", p.ttft_ms.p99, row.ttft_p99_ms),
                ("tpot_p50", p.tpot_ms.p50, row.tpot_p50_ms),
                ("tpot_p99", p.tpot_ms.p99, row.tpot_p99_ms),
                ("itl_p50", p.itl_ms.p50, row.itl_p50_ms),
                ("itl_p99", p.itl_ms.p99, row.itl_p99_ms),
            ];
            for (name, predicted, m) in measured {
                if let Some(e) = rel(predicted, m) {
                    out.percentile_errors.insert(name.to_string(), e);
                }
            }
        }
        Err(e) => out.error = Some(e),
    }
    out
}

/// The workload a row describes: a closed loop at `concurrency` unless it names a request
/// rate, a number of prompts or a length distribution.
pub fn row_workload(row: &MeasuredRow) -> Result<Workload, String> {
    let concurrency = match row.max_concurrency {
        Some(c) => Some(c),
        None => match row.concurrency.trim() {
            "max" | "" => None,
            c => Some(
                c.parse::<u64>()
                    .map_err(|_| format!("invalid concurrency '{c}'"))?,
            ),
        },
    };
    let request_rate = match row.request_rate.trim() {
        "" => None,
        r => Some(r.parse::<RequestRate>()?),
    };
    let dataset = match row.dataset.trim() {
        "" => Dataset::Random,
        d => d.parse::<Dataset>()?,
    };
    let w = Workload {
        input_len: row.isl,
        output_len: row.osl,
        max_concurrency: concurrency,
        request_rate,
        num_prompts: row.num_prompts,
        dataset,
        random_range_ratio: 0.0,
    };
    w.validate().map_err(|e| e.to_string())?;
    Ok(w)
}

fn predict_inner(
    row: &MeasuredRow,
    models_dir: Option<&Path>,
    hardware: &HardwareCatalog,
    profiles: &Profiles,
    overheads: &MemoryOverheads,
) -> Result<(EstimatePoint, String), String> {
    let workload = row_workload(row)?;
    let file_rows: Vec<LengthRow> = match workload.dataset_path(None) {
        Some(path) => read_lengths(&path).map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    let base = row_arch(row, models_dir)?;
    let arch = apply_row_quant(&base, &row.weight_quant, &row.notes);
    let gpu = hardware.resolve(&row.gpu).map_err(|e| e.to_string())?;
    let engine: Engine = row.engine.parse().map_err(|e| format!("{e}"))?;
    let nz = |v: Option<u32>| v.filter(|x| *x > 0).unwrap_or(1);
    let parallelism = Parallelism {
        tp: nz(row.tp),
        pp: nz(row.pp),
        dp: nz(row.dp),
        ep: nz(row.ep),
    };
    let kv_dtype: KvDtypeChoice = if row.kv_dtype.trim().is_empty() {
        KvDtypeChoice::Auto
    } else {
        row.kv_dtype.parse().map_err(|e| format!("{e}"))?
    };
    let spec = DeploymentSpec {
        arch: &arch,
        gpu,
        parallelism,
        engine,
        kv_dtype,
        max_model_len: None,
        gpu_memory_utilization: 0.9,
    };
    let est = estimate_workloads(
        &spec,
        std::slice::from_ref(&workload),
        &file_rows,
        profiles,
        overheads,
    )
    .map_err(|e| e.to_string())?;
    let p = est.points.into_iter().next().ok_or("no estimate point")?;
    Ok((p, workload.describe(&file_rows)))
}

fn summarize<'a>(rows: impl Iterator<Item = &'a RowResult> + Clone) -> Summary {
    let metric = |f: &dyn Fn(&RowResult) -> Option<f64>| {
        let mut errs: Vec<f64> = rows.clone().filter_map(f).map(f64::abs).collect();
        if errs.is_empty() {
            return MetricSummary::default();
        }
        errs.sort_by(f64::total_cmp);
        let n = errs.len();
        let median = if n % 2 == 1 {
            errs[n / 2]
        } else {
            (errs[n / 2 - 1] + errs[n / 2]) / 2.0
        };
        MetricSummary {
            n,
            median_ape: median,
            within_25pct: errs.iter().filter(|e| **e <= 0.25).count() as f64 / n as f64,
        }
    };
    Summary {
        ttft: metric(&|r| r.ttft_error),
        itl: metric(&|r| r.itl_error),
        output_tok_s: metric(&|r| r.output_tok_s_error),
        tpot: metric(&|r| r.tpot_error),
    }
}

/// Predict every row and score the predictions. A row that cannot be predicted carries its error
/// and never stops the run.
pub fn validate_rows(
    rows: &[MeasuredRow],
    models_dir: Option<&Path>,
    hardware: &HardwareCatalog,
    profiles: &Profiles,
    overheads: &MemoryOverheads,
) -> ValidationReport {
    let results: Vec<RowResult> = rows
        .par_iter()
        .map(|r| predict_row(r, models_dir, hardware, profiles, overheads))
        .collect();
    let group = |key: &dyn Fn(&RowResult) -> &str| {
        let mut keys: Vec<&str> = results.iter().map(key).collect();
        keys.sort_unstable();
        keys.dedup();
        keys.into_iter()
            .map(|k| {
                (
                    k.to_string(),
                    summarize(results.iter().filter(|r| key(r) == k)),
                )
            })
            .collect::<BTreeMap<_, _>>()
    };
    ValidationReport {
        rows_total: results.len(),
        rows_predicted: results.iter().filter(|r| r.error.is_none()).count(),
        summary: summarize(results.iter()),
        by_engine: group(&|r| r.engine.as_str()),
        by_gpu: group(&|r| r.gpu.as_str()),
        by_model: group(&|r| r.model.as_str()),
        rows: results,
    }
}

/// Validate with the embedded GPU catalog.
pub fn validate_with_catalog(
    rows: &[MeasuredRow],
    models_dir: Option<&Path>,
    profiles: &Profiles,
    overheads: &MemoryOverheads,
) -> ValidationReport {
    validate_rows(rows, models_dir, embedded_hardware(), profiles, overheads)
}

/// The fitted constants of one engine.
const FITTED: [&str; 8] = [
    "step_overhead_us",
    "ttft_overhead_ms",
    "kernel_time_scale",
    "attention_time_scale",
    "burst_share",
    "compute_time_scale",
    "ttft_steps",
    "prefill_interference",
];

fn get_param(p: &Profiles, engine: &str, k: usize) -> f64 {
    let e = p.engine(engine).expect("engine present");
    match k {
        0 => e.step_overhead_us,
        1 => e.ttft_overhead_ms,
        2 => e.kernel_time_scale,
        3 => e.attention_time_scale,
        4 => e.burst_share,
        5 => e.compute_time_scale,
        6 => e.ttft_steps,
        _ => e.prefill_interference,
    }
}

fn set_param(p: &mut Profiles, engine: &str, k: usize, v: f64) {
    if let Some(e) = p.engines.iter_mut().find(|e| e.engine == engine) {
        match k {
            0 => e.step_overhead_us = v.clamp(0.0, 20_000.0),
            1 => e.ttft_overhead_ms = v.clamp(0.0, 2_000.0),
            2 => e.kernel_time_scale = v.clamp(0.5, 3.0),
            3 => e.attention_time_scale = v.clamp(0.5, 4.0),
            4 => e.burst_share = v.clamp(0.0, 2.0),
            5 => e.compute_time_scale = v.clamp(0.5, 4.0),
            6 => e.ttft_steps = v.clamp(0.0, 4.0),
            _ => e.prefill_interference = v.clamp(0.1, 1.5),
        }
    }
}

/// Robust loss of a report: mean over scored metrics of the median |log(pred/meas)| plus a small
/// mean term so every row counts.
fn loss(report: &ValidationReport) -> f64 {
    let mut total = 0.0;
    for f in [
        |r: &RowResult| r.ttft_error,
        |r: &RowResult| r.itl_error,
        |r: &RowResult| r.output_tok_s_error,
    ] {
        let mut v: Vec<f64> = report
            .rows
            .iter()
            .filter_map(f)
            .map(|e| (1.0 + e).max(1e-6).ln().abs())
            .collect();
        if v.is_empty() {
            continue;
        }
        v.sort_by(f64::total_cmp);
        let median = v[v.len() / 2];
        let mean = v.iter().map(|x| x.min(2.0)).sum::<f64>() / v.len() as f64;
        total += median + 0.5 * mean;
    }
    let unpredicted = report.rows_total - report.rows_predicted;
    total + unpredicted as f64 * 0.01
}

/// Fit the engines' overhead and scale constants (those named in the profile file as fitted) to
/// measured rows, by coordinate search on a robust log-error loss. Kernel efficiencies per GPU
/// architecture are left as measured. Returns the fitted profiles and the final report.
pub fn calibrate(
    rows: &[MeasuredRow],
    models_dir: Option<&Path>,
    start: &Profiles,
    overheads: &MemoryOverheads,
    rounds: usize,
) -> (Profiles, ValidationReport) {
    let hw = embedded_hardware();
    let mut best = start.clone();
    let engines: Vec<String> = {
        let mut e: Vec<String> = rows.iter().map(|r| r.engine.clone()).collect();
        e.sort();
        e.dedup();
        e.into_iter()
            .filter(|e| start.engine(e).is_some())
            .collect()
    };
    for engine in &engines {
        let subset: Vec<MeasuredRow> = rows
            .iter()
            .filter(|r| &r.engine == engine)
            .cloned()
            .collect();
        let mut cur = loss(&validate_rows(&subset, models_dir, hw, &best, overheads));
        let mut step = 0.5f64;
        for _ in 0..rounds {
            let mut improved = false;
            for k in 0..FITTED.len() {
                for dir in [1.0 + step, 1.0 / (1.0 + step)] {
                    let mut cand = best.clone();
                    let v = get_param(&cand, engine, k);
                    let nv = if v == 0.0 { step * 0.1 } else { v * dir };
                    set_param(&mut cand, engine, k, nv);
                    let l = loss(&validate_rows(&subset, models_dir, hw, &cand, overheads));
                    if l < cur - 1e-6 {
                        cur = l;
                        best = cand;
                        improved = true;
                        break;
                    }
                }
            }
            if !improved {
                step *= 0.5;
                if step < 0.02 {
                    break;
                }
            }
        }
    }
    let report = validate_rows(rows, models_dir, hw, &best, overheads);
    (best, report)
}
