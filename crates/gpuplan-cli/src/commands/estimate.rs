//! `gpuplan estimate`: latency and throughput of one deployment at several concurrencies.

use std::io::Write;

use anyhow::anyhow;
use gpuplan::estimate::{estimate_workloads, DeploymentError, DeploymentSpec};
use gpuplan::workload::{
    read_lengths, Dataset, Workload, SHAREGPT_MEAN_INPUT_LEN, SHAREGPT_MEAN_OUTPUT_LEN,
};
use gpuplan_core::memory::{Engine, MemoryPlan, Parallelism};
use gpuplan_core::perf::{Bound, EstimatePoint};
use gpuplan_core::quant::{KvDtype, WeightFormat};
use serde::Serialize;

use super::deployment::{self, layout_label, DEFAULT_GPU_MEMORY_UTILIZATION};
use super::{write_json, write_table};
use crate::args::{ConcurrencyLevel, EstimateArgs};
use crate::render::{
    format_human, line_chart_svg, ChartPanel, Column, LineChart, LineSeries, OutputFormat, Table,
    ValueKind,
};
use crate::Context;

/// What `gpuplan estimate --json` prints. Units are in the field names.
#[derive(Debug, Clone, Serialize)]
pub struct EstimateReport {
    /// The model as named on the command line.
    pub model: String,
    /// Catalog id of the GPU.
    pub gpu: String,
    /// GPUs of the deployment: tp * pp * dp.
    pub num_gpus: u32,
    /// Tensor-parallel size.
    pub tp: u32,
    /// Pipeline-parallel size.
    pub pp: u32,
    /// Data-parallel size (engine instances).
    pub dp: u32,
    /// Expert-parallel size.
    pub ep: u32,
    /// Serving engine.
    pub engine: Engine,
    /// KV-cache dtype used.
    pub kv_dtype: KvDtype,
    /// Format of the bulk of the weights as served.
    pub weight_quant: WeightFormat,
    /// Prompt tokens per request.
    pub input_len: u64,
    /// Generated tokens per request.
    pub output_len: u64,
    /// The workload modelled, in one line.
    pub workload: String,
    /// Requests of input + output tokens that fit in the KV cache at once, whole deployment.
    pub max_concurrent_requests: f64,
    /// The per-GPU memory plan.
    pub memory: MemoryPlan,
    /// One point per requested concurrency, in the order given.
    pub points: Vec<EstimatePoint>,
}

/// Estimates one deployment and prints a row per concurrency.
pub fn run(args: &EstimateArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let resolved = deployment::resolve(ctx, &args.model, args.weight_quant)?;
    let arch = &resolved.arch;
    let catalog = ctx.hardware()?;
    let gpu = deployment::gpu(ctx, &catalog, args.gpu.as_deref())?;
    let (parallelism, num_gpus) = deployment::parallelism(&args.parallel, arch)?;
    let engine = deployment::engine(ctx, args.engine)?;
    let profiles = deployment::profiles(args.profile.as_deref())?;
    let dataset = args.workload.dataset.clone().unwrap_or_default();
    let (input_len, output_len) = match (&dataset, args.input_len, args.output_len) {
        (_, Some(i), Some(o)) => (i, o),
        (Dataset::Sharegpt, i, o) => (
            i.unwrap_or(SHAREGPT_MEAN_INPUT_LEN),
            o.unwrap_or(SHAREGPT_MEAN_OUTPUT_LEN),
        ),
        (Dataset::File(_), i, o) => (i.unwrap_or(0), o.unwrap_or(0)),
        _ => {
            return Err(anyhow!(
                "give --input-len and --output-len (or --dataset sharegpt, or --dataset FILE                  with per-request lengths)"
            ))
        }
    };
    let base = Workload {
        input_len,
        output_len,
        max_concurrency: None,
        request_rate: args.request_rate,
        num_prompts: args.workload.num_prompts,
        dataset,
        random_range_ratio: args.workload.random_range_ratio.unwrap_or(0.0),
    };
    base.validate()
        .map_err(|e| anyhow!("invalid workload: {e}"))?;
    let file_rows = match base.dataset_path(None) {
        Some(path) => read_lengths(&path).map_err(|e| anyhow!("{e}"))?,
        None => Vec::new(),
    };
    let request_len = input_len.saturating_add(output_len);
    if let Some(max_model_len) = args.max_model_len {
        if base.fixed_lengths() && max_model_len < request_len {
            return Err(anyhow!(
                "--max-model-len {max_model_len} is shorter than one request: input + output = {request_len} tokens"
            ));
        }
    }
    let mut concurrencies: Vec<Option<u64>> = Vec::new();
    for level in &args.concurrency {
        let requests = level.requests();
        if !concurrencies.contains(&requests) {
            concurrencies.push(requests);
        }
    }
    if concurrencies.is_empty() {
        if base.is_steady_closed_loop() {
            concurrencies = DEFAULT_CONCURRENCIES.iter().map(|c| c.requests()).collect();
        } else {
            concurrencies.push(ConcurrencyLevel::Max.requests());
        }
    }
    let workloads: Vec<Workload> = concurrencies
        .iter()
        .map(|c| Workload {
            max_concurrency: *c,
            ..base.clone()
        })
        .collect();
    let workload_line = match workloads.as_slice() {
        [one] => one.describe(&file_rows),
        _ if base.is_steady_closed_loop() => format!(
            "steady closed loop, one row per client count (each client sends its next request \
             when the last completes); {}",
            base.describe_lengths()
        ),
        _ => format!(
            "{}; one row per --max-concurrency",
            base.describe(&file_rows)
        ),
    };
    let spec = DeploymentSpec {
        arch,
        gpu,
        parallelism,
        engine,
        kv_dtype: args.kv_dtype,
        max_model_len: args.max_model_len,
        gpu_memory_utilization: args
            .gpu_memory_utilization
            .unwrap_or(DEFAULT_GPU_MEMORY_UTILIZATION),
    };
    let deployment_label = format!("{num_gpus}x {} ({})", gpu.id, layout_label(&parallelism));
    let estimate = estimate_workloads(
        &spec,
        &workloads,
        &file_rows,
        &profiles,
        gpuplan_catalog::memory::embedded_memory_overheads(),
    )
    .map_err(|e| match e {
        DeploymentError::DoesNotFit(advice) => anyhow::Error::from(gpuplan::Error::NoSolution {
            reason: format!(
                "{} does not fit on {deployment_label} with {engine} for {request_len}-token \
                 requests: {advice}\n(`gpuplan memory --model {} --gpu {} --tp {} --pp {} --dp {} \
                 --ep {} --max-model-len {}` shows the breakdown)",
                args.model,
                args.model,
                gpu.id,
                parallelism.tp,
                parallelism.pp,
                parallelism.dp,
                parallelism.ep,
                args.max_model_len.unwrap_or(request_len)
            ),
        }),
        other => anyhow!(
            "cannot estimate {} on {deployment_label}: {other}",
            args.model
        ),
    })?;
    let report = EstimateReport {
        model: args.model.clone(),
        gpu: gpu.id.clone(),
        num_gpus,
        tp: parallelism.tp,
        pp: parallelism.pp,
        dp: parallelism.dp,
        ep: parallelism.ep,
        engine,
        kv_dtype: estimate.kv_dtype,
        weight_quant: arch.precision.headline(arch.is_moe()),
        input_len,
        output_len,
        workload: workload_line,
        max_concurrent_requests: estimate.max_concurrent_requests,
        memory: estimate.memory,
        points: estimate.points,
    };
    if let Some(path) = &args.plot {
        deployment::write_file(
            path,
            &line_chart_svg(&latency_chart(&report, &concurrencies)),
            "latency chart",
        )?;
    }
    match ctx.format {
        OutputFormat::Json => write_json(&report, out),
        format => write_table(
            &points_table(&report, &concurrencies, format != OutputFormat::Csv),
            ctx,
            out,
        ),
    }
}

/// The client counts a steady closed loop is estimated at when none are given.
const DEFAULT_CONCURRENCIES: [ConcurrencyLevel; 5] = [
    ConcurrencyLevel::Requests(1),
    ConcurrencyLevel::Requests(8),
    ConcurrencyLevel::Requests(32),
    ConcurrencyLevel::Requests(128),
    ConcurrencyLevel::Max,
];

/// A one-line description of the deployment: "Llama-3.1-8B on 1x h100_sxm (tp1 pp1 dp1 ep1),
/// vllm, bf16 weights, bf16 KV, 1024 in / 256 out".
pub(crate) fn describe(
    model: &str,
    gpu: &str,
    num_gpus: u32,
    parallelism: &Parallelism,
    engine: Engine,
    weight_quant: WeightFormat,
    kv_dtype: KvDtype,
) -> String {
    format!(
        "{model} on {num_gpus}x {gpu} ({}), {engine}, {weight_quant} weights, {kv_dtype} KV",
        layout_label(parallelism)
    )
}

fn report_parallelism(report: &EstimateReport) -> Parallelism {
    Parallelism {
        tp: report.tp,
        pp: report.pp,
        dp: report.dp,
        ep: report.ep,
    }
}

fn bound_name(bound: Bound) -> &'static str {
    match bound {
        Bound::Compute => "compute",
        Bound::Memory => "memory",
        Bound::Communication => "communication",
        Bound::Overhead => "overhead",
    }
}

/// One row per point. `human` shows "max (243)" for saturation; machine formats keep the
/// requested value and the concurrency reached in separate columns.
fn points_table(report: &EstimateReport, requested: &[Option<u64>], human: bool) -> Table {
    let mut table = Table::new(vec![
        Column::new("requested", "Concurrency", ValueKind::Text).priority(100),
        Column::new("concurrency", "Clients", ValueKind::Count).priority(30),
        Column::new("running_requests", "Running", ValueKind::Number).priority(40),
        Column::new("time_to_first_token_ms", "TTFT", ValueKind::Ms).priority(95),
        Column::new("ttft_p50_ms", "TTFT p50", ValueKind::Ms).priority(25),
        Column::new("ttft_p90_ms", "TTFT p90", ValueKind::Ms).priority(26),
        Column::new("ttft_p99_ms", "TTFT p99", ValueKind::Ms).priority(75),
        Column::new("inter_token_latency_ms", "ITL", ValueKind::Ms).priority(95),
        Column::new("itl_p50_ms", "ITL p50", ValueKind::Ms).priority(21),
        Column::new("itl_p90_ms", "ITL p90", ValueKind::Ms).priority(22),
        Column::new("itl_p99_ms", "ITL p99", ValueKind::Ms).priority(65),
        Column::new("tpot_ms", "TPOT", ValueKind::Ms).priority(72),
        Column::new("tpot_p50_ms", "TPOT p50", ValueKind::Ms).priority(10),
        Column::new("tpot_p90_ms", "TPOT p90", ValueKind::Ms).priority(11),
        Column::new("tpot_p99_ms", "TPOT p99", ValueKind::Ms).priority(12),
        Column::new("end_to_end_latency_ms", "E2E", ValueKind::Ms).priority(80),
        Column::new("output_throughput_tok_s", "Output", ValueKind::TokS).priority(90),
        Column::new("total_throughput_tok_s", "Total", ValueKind::TokS).priority(50),
        Column::new(
            "output_throughput_tok_s_per_gpu",
            "Per GPU",
            ValueKind::TokS,
        )
        .priority(70),
        Column::new("output_tok_s_per_user", "Per user", ValueKind::TokS).priority(60),
        Column::new("requests_per_s", "Req/s", ValueKind::Number).priority(55),
        Column::new("bound", "Bound (prefill/decode)", ValueKind::Text).priority(20),
        Column::new("run_duration_s", "Run time", ValueKind::Seconds).priority(15),
    ])
    .with_title(format!(
        "{}, {} in / {} out",
        describe(
            &report.model,
            &report.gpu,
            report.num_gpus,
            &report_parallelism(report),
            report.engine,
            report.weight_quant,
            report.kv_dtype
        ),
        report.input_len,
        report.output_len
    ));
    for (point, asked) in report.points.iter().zip(requested) {
        let requested_cell = match asked {
            Some(n) => n.to_string(),
            None if point.run_duration_s.is_some() => "no cap".to_string(),
            None if human => format!("max ({})", point.concurrency),
            None => "max".to_string(),
        };
        table.push_row(vec![
            requested_cell.into(),
            point.concurrency.into(),
            point.running_requests.into(),
            point.time_to_first_token_ms.into(),
            point.ttft_ms.p50.into(),
            point.ttft_ms.p90.into(),
            point.ttft_ms.p99.into(),
            point.inter_token_latency_ms.into(),
            point.itl_ms.p50.into(),
            point.itl_ms.p90.into(),
            point.itl_ms.p99.into(),
            point.tpot_ms.mean.into(),
            point.tpot_ms.p50.into(),
            point.tpot_ms.p90.into(),
            point.tpot_ms.p99.into(),
            point.end_to_end_latency_ms.into(),
            point.output_throughput_tok_s.into(),
            point.total_throughput_tok_s.into(),
            point.output_throughput_tok_s_per_gpu.into(),
            point.output_tok_s_per_user.into(),
            point.requests_per_s.into(),
            format!(
                "{}/{}",
                bound_name(point.prefill_bound),
                bound_name(point.decode_bound)
            )
            .into(),
            point.run_duration_s.into(),
        ]);
    }
    let memory = &report.memory;
    table.push_note(format!("workload: {}", report.workload));
    table.push_note(format!(
        "KV cache: {} tokens per engine instance ({} per GPU); {} requests of {} tokens fit at once",
        format_human(memory.kv_cache_tokens as f64, ValueKind::Count),
        format_human(memory.kv_cache_gib_per_gpu, ValueKind::Gib),
        crate::render::format_significant(report.max_concurrent_requests),
        report.input_len + report.output_len
    ));
    if report.points.iter().any(|p| p.run_duration_s.is_some()) {
        table.push_note(
            "finite run: throughput is output tokens / run time (first request sent to last \
             token), the drain tail included, as vllm bench serve reports it",
        );
    }
    table.push_note(
        "concurrency: requests the clients keep in flight, whole deployment; max: saturation \
         (as many as the KV cache and scheduler admit); ITL excludes the first token",
    );
    table
}

/// TTFT, ITL and output throughput against concurrency, one panel each.
fn latency_chart(report: &EstimateReport, requested: &[Option<u64>]) -> LineChart {
    let mut points: Vec<&EstimatePoint> = report.points.iter().collect();
    points.sort_by_key(|p| p.concurrency);
    let name = format!(
        "{}x {} {}",
        report.num_gpus,
        report.gpu,
        layout_label(&report_parallelism(report))
    );
    let series = |f: fn(&EstimatePoint) -> f64| {
        vec![LineSeries {
            name: name.clone(),
            points: points
                .iter()
                .map(|p| (p.concurrency as f64, f(p)))
                .collect(),
        }]
    };
    let spread = points
        .first()
        .zip(points.last())
        .map_or(1, |(a, b)| b.concurrency.max(1) / a.concurrency.max(1));
    LineChart {
        title: format!(
            "{} on {}, {} in / {} out{}",
            report.model,
            name,
            report.input_len,
            report.output_len,
            if requested.contains(&None) {
                " (rightmost point: saturation)"
            } else {
                ""
            }
        ),
        x_label: "Concurrent requests".into(),
        log_x: spread >= 8,
        panels: vec![
            ChartPanel {
                y_label: "TTFT (ms)".into(),
                series: series(|p| p.time_to_first_token_ms),
                ..ChartPanel::default()
            },
            ChartPanel {
                y_label: "ITL (ms)".into(),
                series: series(|p| p.inter_token_latency_ms),
                ..ChartPanel::default()
            },
            ChartPanel {
                y_label: "Output throughput (tok/s)".into(),
                series: series(|p| p.output_throughput_tok_s),
                ..ChartPanel::default()
            },
        ],
    }
}
