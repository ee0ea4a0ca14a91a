//! `gpuplan recommend`: which GPUs, how many, and how to split the model across them to meet
//! the latency limits at the lowest cost. The search is [`gpuplan::recommend_with`]; this module
//! turns flags into a [`RecommendRequest`] and renders the [`Recommendation`] (table, JSON,
//! Pareto SVG, HTML report).

use std::collections::BTreeMap;
use std::io::Write;

use gpuplan::estimate::{estimate_deployment, DeploymentSpec};
use gpuplan::{Configuration, EmitTarget, RecommendRequest, Recommendation};
use gpuplan_core::hardware::HardwareCatalog;
use gpuplan_core::memory::{plan_memory, Engine, MemoryRequest};
use gpuplan_core::model::Architecture;
use gpuplan_core::perf::Profiles;
use gpuplan_core::quant::{KvDtype, KvDtypeChoice};
use gpuplan_core::search::{Load, Objective};

use super::deployment::{self, DEFAULT_GPU_MEMORY_UTILIZATION};
use super::{write_json, write_table};
use crate::args::RecommendArgs;
use crate::render::{
    format_human, html_report, pareto_svg, BarCategory, Cell, ChartPanel, Column, LineChart,
    LineSeries, OutputFormat, ParetoPlot, PlotPoint, Report, StackedBar, StackedBars, Table,
    ValueKind,
};
use crate::Context;

/// Configurations whose memory the HTML report draws.
const REPORT_MEMORY_BARS: usize = 5;

/// Largest concurrency of the report's latency curve (the curve then ends at saturation).
const REPORT_MAX_CONCURRENCY: u64 = 4096;

/// Runs the search and prints the ranking (exit code 1 when nothing meets the limits).
pub fn run(args: &RecommendArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let request = request(args, ctx)?;
    let resolved = deployment::resolve(ctx, &args.model, None)?;
    let hardware = ctx.hardware()?;
    let profiles = deployment::profiles(args.profile.as_deref())?;
    let recommendation = search(&request, &resolved.arch, &hardware, &profiles)?;
    let view = View {
        engine_column: request.engine.len() > 1,
        all_variants: args.all_variants,
    };

    if let Some(path) = &args.plot {
        deployment::write_file(
            path,
            &pareto_svg(&pareto_plot(&recommendation)),
            "Pareto plot",
        )?;
    }
    if let Some(path) = &args.report {
        let report = html(
            &recommendation,
            &request,
            &resolved.arch,
            &hardware,
            &profiles,
            view,
        );
        deployment::write_file(path, &html_report(&report), "HTML report")?;
    }

    match ctx.format {
        OutputFormat::Json => write_json(&recommendation, out)?,
        format => {
            let human = format != OutputFormat::Csv;
            if recommendation.is_satisfied() {
                write_table(&ranked_table(&recommendation, human, view), ctx, out)?;
            }
            if !recommendation.is_satisfied() {
                write_table(&near_miss_table(&recommendation, human, view), ctx, out)?;
            }
            if human {
                if let Some(launch) = &recommendation.launch {
                    let target = args.emit.map_or("launch", |t| t.as_str());
                    writeln!(out, "\nLaunch command ({target}):\n{}", launch.trim_end())?;
                }
            }
        }
    }
    if recommendation.is_satisfied() {
        Ok(())
    } else {
        Err(gpuplan::Error::NoSolution {
            reason: no_solution_reason(&recommendation),
        }
        .into())
    }
}

/// Runs the search. A large one (over [`gpuplan::LARGE_SEARCH_CANDIDATES`] candidates) is
/// announced on stderr with its size, and shows a progress bar when stderr is a terminal.
fn search(
    request: &RecommendRequest,
    arch: &Architecture,
    hardware: &HardwareCatalog,
    profiles: &Profiles,
) -> anyhow::Result<Recommendation> {
    use std::io::IsTerminal;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    let size = gpuplan::search_size(request, arch, hardware, profiles, usize::MAX - 1)?;
    if size <= gpuplan::LARGE_SEARCH_CANDIDATES {
        return Ok(gpuplan::recommend_with(request, arch, hardware, profiles)?);
    }
    // Agg and disagg each visit every candidate once.
    let passes = if request.mode == gpuplan_core::search::ServingMode::Auto {
        2
    } else {
        1
    };
    eprintln!(
        "searching {size} candidates (GPU x weight format x engine x KV dtype x GPU count x \
         layout); narrow --gpus or --max-gpus for a faster answer"
    );
    let progress = Arc::new(AtomicUsize::new(0));
    let control = gpuplan::SearchControl {
        progress: Some(Arc::clone(&progress)),
        ..gpuplan::SearchControl::default()
    };
    let done = Arc::new(AtomicBool::new(false));
    let bar_thread = std::io::stderr().is_terminal().then(|| {
        let progress = Arc::clone(&progress);
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let bar = indicatif::ProgressBar::new((size * passes) as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} candidates, {eta} left",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            while !done.load(Ordering::Relaxed) {
                bar.set_position(progress.load(Ordering::Relaxed) as u64);
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            bar.finish_and_clear();
        })
    });
    let result = gpuplan::recommend_controlled(request, arch, hardware, profiles, &control);
    done.store(true, Ordering::Relaxed);
    if let Some(thread) = bar_thread {
        let _ = thread.join();
    }
    Ok(result?)
}

/// The validated request: flags, then the user config's GPUs and engine, then the defaults.
fn request(args: &RecommendArgs, ctx: &Context) -> anyhow::Result<RecommendRequest> {
    let defaults = RecommendRequest::default();
    let engines: Vec<Engine> = if args.engine.is_empty() {
        // `--emit ENGINE` without --engine plans for that engine (the command it prints must
        // launch what was ranked).
        match (
            args.emit.and_then(gpuplan::EmitTarget::engine),
            &ctx.config.engine,
        ) {
            (Some(engine), _) => vec![engine],
            (None, Some(_)) => vec![deployment::engine(ctx, None)?],
            (None, None) => defaults.engine.clone(),
        }
    } else {
        args.engine.clone()
    };
    Ok(RecommendRequest {
        model: args.model.clone(),
        input_len: args.input_len,
        output_len: args.output_len,
        concurrency: args.concurrency,
        request_rate: args.request_rate,
        max_ttft_ms: args.max_ttft_ms,
        max_itl_ms: args.max_itl_ms,
        max_e2e_ms: args.max_e2e_ms,
        min_throughput_tok_s: args.min_throughput_tok_s,
        slo_percentile: args.slo_percentile.unwrap_or(defaults.slo_percentile),
        max_ttft_p99_ms: args.max_ttft_p99_ms,
        max_itl_p99_ms: args.max_itl_p99_ms,
        dataset: args.workload.dataset.clone().unwrap_or_default(),
        random_range_ratio: args
            .workload
            .random_range_ratio
            .unwrap_or(defaults.random_range_ratio),
        num_prompts: args.workload.num_prompts,
        gpus: if args.gpus.is_empty() {
            ctx.config.gpus.clone()
        } else {
            args.gpus.clone()
        },
        max_gpus: args.max_gpus,
        allow_quant: args
            .allow_quant
            .clone()
            .map_or_else(|| defaults.allow_quant.clone(), |a| a.0),
        kv_dtype: if args.kv_dtype.is_empty() {
            defaults.kv_dtype.clone()
        } else {
            args.kv_dtype.clone()
        },
        engine: engines,
        mode: args.mode,
        objective: args.objective,
        price: args.price.iter().cloned().collect::<BTreeMap<_, _>>(),
        top: usize::try_from(args.top).unwrap_or(defaults.top),
        emit: args.emit,
        estimate_performance: !args.no_perf,
        gpu_memory_utilization: args
            .gpu_memory_utilization
            .unwrap_or(defaults.gpu_memory_utilization),
        max_model_len: args.max_model_len,
        resolve: ctx.resolve_options(),
    })
}

/// Why nothing was recommended, for the error line: the closest miss and its constraint.
fn no_solution_reason(rec: &Recommendation) -> String {
    match rec.near_misses.first() {
        Some(miss) => {
            let worst = miss.violations.first();
            format!(
                "{} of {} candidates fit in memory, none meets the limits; closest: {} (excluded by \
                 {}{})",
                rec.counts.fit,
                rec.counts.evaluated,
                miss.configuration.label(),
                miss.excluded_by,
                worst.map_or_else(String::new, |v| {
                    let kind = constraint_kind(v.constraint.as_str());
                    format!(
                        ": {} against a limit of {}",
                        format_human(v.actual, kind),
                        format_human(v.limit, kind)
                    )
                })
            )
        }
        None if rec.counts.fit == 0 => format!(
            "none of the {} candidates fits in GPU memory; allow more GPUs (--max-gpus), \
             quantization (--allow-quant fp8,nvfp4) or an fp8 KV cache",
            rec.counts.evaluated
        ),
        None => "no configuration meets the limits".to_string(),
    }
}

/// The unit of a constraint's values: tokens/s for the throughput minimum, else ms.
fn constraint_kind(constraint: &str) -> ValueKind {
    if constraint.starts_with("min_") {
        ValueKind::TokS
    } else {
        ValueKind::Ms
    }
}

/// A compact parallel layout for people: "tp4", "tp2 pp2", "tp8 ep8", "tp1 dp8 ep8".
fn layout_text(c: &Configuration) -> String {
    let mut parts = vec![format!("tp{}", c.tp)];
    for (name, value) in [("pp", c.pp), ("dp", c.dp), ("ep", c.ep)] {
        if value > 1 {
            parts.push(format!("{name}{value}"));
        }
    }
    if let Some(d) = &c.disagg {
        parts.push(format!(
            "{}P{}D (prefill tp{}, KV over {})",
            d.prefill_instances,
            d.decode_instances,
            d.prefill_tp,
            d.kv_transfer_link.as_str()
        ));
    }
    if c.nodes_per_replica > 1 {
        parts.push(format!("{} nodes", c.nodes_per_replica));
    }
    parts.join(" ")
}

/// Reads one headroom figure of a configuration.
type HeadroomOf = fn(&Configuration) -> Option<f64>;

/// The headroom columns of the limits that were set.
fn headroom_columns(rec: &Recommendation) -> Vec<(Column, HeadroomOf)> {
    let mut columns: Vec<(Column, HeadroomOf)> = Vec::new();
    if rec.slo.max_ttft_ms.is_some() {
        columns.push((
            Column::new("ttft_headroom", "TTFT room", ValueKind::Ratio).priority(70),
            |c| c.headroom.ttft_headroom,
        ));
    }
    if rec.slo.max_itl_ms.is_some() {
        columns.push((
            Column::new("itl_headroom", "ITL room", ValueKind::Ratio).priority(66),
            |c| c.headroom.itl_headroom,
        ));
    }
    if rec.slo.max_e2e_ms.is_some() {
        columns.push((
            Column::new("e2e_headroom", "E2E room", ValueKind::Ratio).priority(69),
            |c| c.headroom.e2e_headroom,
        ));
    }
    if rec.slo.min_throughput_tok_s.is_some() {
        columns.push((
            Column::new("throughput_headroom", "Tput room", ValueKind::Ratio).priority(65),
            |c| c.headroom.throughput_headroom,
        ));
    }
    columns
}

/// How the tables show a recommendation to people.
#[derive(Debug, Clone, Copy, Default)]
struct View {
    /// An engine column (more than one engine was searched).
    engine_column: bool,
    /// Every variant of a deployment on its own row (else folded into the best).
    all_variants: bool,
}

/// The rows of a human table: the configurations, with the variants of a deployment (same
/// [`Configuration::deployment_key`], another weight format or KV dtype) folded into the best
/// one unless `all_variants`; and how many were folded.
fn shown_configurations(rec: &Recommendation, view: View) -> (Vec<&Configuration>, usize) {
    if view.all_variants {
        return (rec.configurations.iter().collect(), 0);
    }
    let mut keys: Vec<String> = Vec::new();
    let mut shown = Vec::new();
    for c in &rec.configurations {
        let key = c.deployment_key();
        if !keys.contains(&key) {
            keys.push(key);
            shown.push(c);
        }
    }
    let folded = rec.configurations.len() - shown.len();
    (shown, folded)
}

/// "bf16/bf16", or "fp8*/fp8" when the weights are requantized from the checkpoint's format.
fn quant_text(c: &Configuration) -> String {
    let mark = if c.requantized { "*" } else { "" };
    format!("{}{mark}/{}", c.weight_quant, c.kv_dtype)
}

/// The columns describing a configuration, human (`layout` and `quant` as text) or machine
/// (every size and dtype in its own column).
fn configuration_columns(human: bool, view: View) -> Vec<Column> {
    let mut columns = vec![
        Column::new("gpu", "GPU", ValueKind::Text).priority(100),
        Column::new("num_gpus", "GPUs", ValueKind::Count).priority(100),
    ];
    if human {
        columns.push(Column::new("layout", "Layout", ValueKind::Text).priority(95));
        if view.engine_column {
            columns.push(Column::new("engine", "Engine", ValueKind::Text).priority(94));
        }
        columns.push(Column::new("quant", "Weights/KV", ValueKind::Text).priority(87));
        columns.push(Column::new("concurrency", "Concurrency", ValueKind::Count).priority(86));
    } else {
        for key in ["tp", "pp", "dp", "ep"] {
            columns.push(Column::new(key, key.to_uppercase(), ValueKind::Count));
        }
        columns.push(Column::new("weight_quant", "Weights", ValueKind::Text));
        columns.push(Column::new("kv_dtype", "KV", ValueKind::Text));
        columns.push(Column::new("requantized", "Requantized", ValueKind::Text));
        columns.push(Column::new("engine", "Engine", ValueKind::Text));
        columns.push(Column::new("mode", "Mode", ValueKind::Text));
        columns.push(Column::new(
            "concurrency_per_replica",
            "Concurrency/replica",
            ValueKind::Count,
        ));
    }
    columns.extend([
        Column::new("replicas", "Replicas", ValueKind::Count).priority(50),
        Column::new("time_to_first_token_ms", "TTFT", ValueKind::Ms).priority(90),
        Column::new("inter_token_latency_ms", "ITL", ValueKind::Ms).priority(90),
        Column::new("output_throughput_tok_s", "Output", ValueKind::TokS).priority(80),
        Column::new(
            "output_throughput_tok_s_per_gpu",
            "Per GPU",
            ValueKind::TokS,
        )
        .priority(55),
        Column::new("usd_per_hour", "$/h", ValueKind::UsdPerHour).priority(61),
        Column::new(
            "usd_per_million_output_tokens",
            "$/Mtok",
            ValueKind::UsdPerMillionTokens,
        )
        .priority(85),
    ]);
    columns
}

fn configuration_cells(c: &Configuration, human: bool, view: View) -> Vec<Cell> {
    let mut cells: Vec<Cell> = vec![c.gpu.clone().into(), c.num_gpus.into()];
    if human {
        cells.push(layout_text(c).into());
        if view.engine_column {
            cells.push(c.engine.clone().into());
        }
        cells.push(quant_text(c).into());
        cells.push(
            c.concurrency_per_replica
                .map(|per_replica| per_replica * u64::from(c.replicas))
                .into(),
        );
    } else {
        cells.extend([c.tp.into(), c.pp.into(), c.dp.into(), c.ep.into()]);
        cells.push(c.weight_quant.as_str().into());
        cells.push(c.kv_dtype.as_str().into());
        cells.push(c.requantized.into());
        cells.push(c.engine.clone().into());
        cells.push(c.mode.as_str().into());
        cells.push(c.concurrency_per_replica.into());
    }
    cells.extend([
        c.replicas.into(),
        c.time_to_first_token_ms.into(),
        c.inter_token_latency_ms.into(),
        c.output_throughput_tok_s.into(),
        c.output_throughput_tok_s_per_gpu.into(),
        c.usd_per_hour.into(),
        c.usd_per_million_output_tokens.into(),
    ]);
    cells
}

/// "meta-llama/Llama-3.1-70B: 2048 in / 512 out, concurrency 32, TTFT ≤ 1 s, ITL ≤ 50 ms".
fn request_line(rec: &Recommendation) -> String {
    let mut parts = vec![format!(
        "{}: {} in / {} out",
        rec.model, rec.input_len, rec.output_len
    )];
    parts.push(load_text(&rec.load));
    let slo = &rec.slo;
    for (name, limit, kind, sign) in [
        ("TTFT", slo.max_ttft_ms, ValueKind::Ms, "≤"),
        ("ITL", slo.max_itl_ms, ValueKind::Ms, "≤"),
        ("E2E", slo.max_e2e_ms, ValueKind::Ms, "≤"),
        ("output", slo.min_throughput_tok_s, ValueKind::TokS, "≥"),
    ] {
        if let Some(limit) = limit {
            parts.push(format!("{name} {sign} {}", format_human(limit, kind)));
        }
    }
    parts.push(format!("ranked by {}", rec.objective));
    parts.join(", ")
}

fn load_text(load: &Load) -> String {
    match load {
        Load::Concurrency(c) => format!("concurrency {c}"),
        Load::RequestRate(r) => format!("{} requests/s", crate::render::format_significant(*r)),
        Load::BestThroughput => "best throughput".to_string(),
    }
}

/// The note on requantized rows, when a shown row is requantized.
fn requantized_note<'a>(
    rec: &Recommendation,
    mut shown: impl Iterator<Item = &'a Configuration>,
) -> Option<String> {
    shown.any(|c| c.requantized).then(|| {
        format!(
            "*: weights requantized from the checkpoint's {} (the engine quantizes at load time, \
             or a quantized checkpoint is needed)",
            rec.checkpoint_weight_quant
        )
    })
}

/// The top configurations, best first.
fn ranked_table(rec: &Recommendation, human: bool, view: View) -> Table {
    let headroom = headroom_columns(rec);
    let mut columns = vec![Column::new("rank", "#", ValueKind::Count).priority(100)];
    columns.extend(configuration_columns(human, view));
    columns.extend(headroom.iter().map(|(column, _)| column.clone()));
    let mut table = Table::new(columns).with_title(request_line(rec));
    let (shown, folded) = if human {
        shown_configurations(rec, view)
    } else {
        (rec.configurations.iter().collect(), 0)
    };
    for (rank, c) in shown.iter().enumerate() {
        let mut row: Vec<Cell> = vec![(rank + 1).into()];
        row.extend(configuration_cells(c, human, view));
        row.extend(headroom.iter().map(|(_, value)| Cell::from(value(c))));
        table.push_row(row);
    }
    table.push_note(format!(
        "{} candidates evaluated, {} fit in memory, {} met the limits; concurrency: requests in \
         flight at the operating point; room: spare share of each limit",
        rec.counts.evaluated, rec.counts.fit, rec.counts.met_slos
    ));
    if human {
        if let Some(note) = requantized_note(rec, shown.iter().copied()) {
            table.push_note(note);
        }
    }
    if folded > 0 {
        table.push_note(format!(
            "{folded} row(s) that differ from a row above only in weight format or KV dtype are \
             folded into it (--all-variants shows them; JSON has them all)"
        ));
    }
    for note in &rec.notes {
        table.push_note(note.clone());
    }
    table
}

/// The configurations that came closest, with the limit that excluded each.
fn near_miss_table(rec: &Recommendation, human: bool, view: View) -> Table {
    // For people, what was missed matters more than prices and sizes: those are left out so
    // that the misses have room.
    const HUMAN_LEFT_OUT: [&str; 5] = [
        "replicas",
        "concurrency",
        "output_throughput_tok_s_per_gpu",
        "usd_per_hour",
        "usd_per_million_output_tokens",
    ];
    let keep: Vec<bool> = configuration_columns(human, view)
        .iter()
        .map(|column| !human || !HUMAN_LEFT_OUT.contains(&column.key.as_str()))
        .collect();
    let mut columns = vec![Column::new("rank", "#", ValueKind::Count).priority(100)];
    columns.extend(
        configuration_columns(human, view)
            .into_iter()
            .zip(&keep)
            .filter_map(|(column, keep)| keep.then_some(column)),
    );
    if !human {
        columns.push(Column::new("excluded_by", "Excluded by", ValueKind::Text));
    }
    columns.push(Column::new("misses", "Misses (worst first)", ValueKind::Text).priority(98));
    let title = if rec.is_satisfied() {
        "Closest configurations that miss a limit".to_string()
    } else {
        format!(
            "No configuration meets the limits ({}). Closest misses:",
            request_line(rec)
        )
    };
    let mut table = Table::new(columns).with_title(title);
    for (rank, miss) in rec.near_misses.iter().enumerate() {
        let mut row: Vec<Cell> = vec![(rank + 1).into()];
        row.extend(
            configuration_cells(&miss.configuration, human, view)
                .into_iter()
                .zip(&keep)
                .filter_map(|(cell, keep)| keep.then_some(cell)),
        );
        if !human {
            row.push(miss.excluded_by.as_str().into());
        }
        let misses: Vec<String> = miss
            .violations
            .iter()
            .map(|v| {
                let kind = constraint_kind(v.constraint.as_str());
                let relation = if kind == ValueKind::TokS { "<" } else { ">" };
                format!(
                    "{}: {} {relation} {}",
                    v.constraint,
                    format_human(v.actual, kind),
                    format_human(v.limit, kind)
                )
            })
            .collect();
        row.push(misses.join("; ").into());
        table.push_row(row);
    }
    if !rec.is_satisfied() {
        table.push_note(format!(
            "{} candidates evaluated, {} fit in memory, none met the limits: relax the limit each row \
             misses first, allow more GPUs (--max-gpus) or quantization (--allow-quant)",
            rec.counts.evaluated, rec.counts.fit
        ));
        for note in &rec.notes {
            table.push_note(note.clone());
        }
    }
    table
}

/// Tokens/s per GPU against tokens/s per user for every configuration the recommendation
/// carries (top K, frontier, near misses), one colour per GPU type.
fn pareto_plot(rec: &Recommendation) -> ParetoPlot {
    let chosen = rec
        .is_satisfied()
        .then(|| rec.configurations.first())
        .flatten()
        .map(Configuration::label);
    let frontier: Vec<String> = rec.frontier.iter().map(Configuration::label).collect();
    let mut seen: Vec<String> = Vec::new();
    let mut points = Vec::new();
    let all = rec
        .configurations
        .iter()
        .chain(&rec.frontier)
        .chain(rec.near_misses.iter().map(|m| &m.configuration));
    for c in all {
        let label = c.label();
        if seen.contains(&label) {
            continue;
        }
        let (Some(x), Some(y)) = (c.output_tok_s_per_user, c.output_throughput_tok_s_per_gpu)
        else {
            continue;
        };
        seen.push(label.clone());
        points.push(PlotPoint {
            x,
            y,
            series: c.gpu.clone(),
            on_frontier: frontier.contains(&label),
            chosen: chosen.as_deref() == Some(label.as_str()),
            label,
        });
    }
    let mut vlines = Vec::new();
    if let Some(itl) = rec.slo.max_itl_ms {
        vlines.push((
            1000.0 / itl,
            format!("ITL limit {}", format_human(itl, ValueKind::Ms)),
        ));
    }
    ParetoPlot {
        title: format!(
            "{}: {} in / {} out, {}",
            rec.model,
            rec.input_len,
            rec.output_len,
            load_text(&rec.load)
        ),
        x_label: "Output tokens/s per user".into(),
        y_label: "Output tokens/s per GPU".into(),
        points,
        vlines,
        hlines: Vec::new(),
        log_x: false,
        log_y: false,
    }
}

/// The architecture a configuration serves (its weight format applied).
fn served_arch(arch: &Architecture, c: &Configuration) -> Architecture {
    if c.requantized {
        arch.with_weight_format(c.weight_quant)
    } else {
        arch.clone()
    }
}

fn kv_choice(kv: KvDtype) -> KvDtypeChoice {
    match kv {
        KvDtype::Fp8 => KvDtypeChoice::Fp8,
        KvDtype::Bf16 | KvDtype::F32 => KvDtypeChoice::Bf16,
    }
}

/// Memory of one GPU of each of the top configurations.
fn memory_bars(
    rec: &Recommendation,
    request: &RecommendRequest,
    arch: &Architecture,
    hardware: &HardwareCatalog,
    view: View,
) -> Option<StackedBars> {
    let categories = [
        "Weights",
        "Activations",
        "Overheads (non-torch, CUDA graphs)",
        "KV cache pool",
        "Free",
    ];
    let mut bars: Vec<StackedBar> = Vec::new();
    let (shown, _) = shown_configurations(rec, view);
    for (rank, c) in shown.into_iter().enumerate().take(REPORT_MEMORY_BARS) {
        let (Ok(gpu), Ok(engine)) = (hardware.resolve(&c.gpu), c.engine.parse::<Engine>()) else {
            continue;
        };
        let served = served_arch(arch, c);
        let memory_request = MemoryRequest {
            arch: &served,
            gpu,
            parallelism: c.parallelism(),
            kv_dtype: c.kv_dtype,
            max_model_len: c.max_model_len.max(1),
            gpu_memory_utilization: request.gpu_memory_utilization,
            engine,
            engine_version: None,
        };
        let Ok(plan) = plan_memory(
            &memory_request,
            gpuplan_catalog::memory::embedded_memory_overheads(),
        ) else {
            continue;
        };
        let overheads = plan.non_torch_gib_per_gpu + plan.cuda_graph_gib_per_gpu;
        let used = plan.weights_gib_per_gpu
            + plan.activation_gib_per_gpu
            + overheads
            + plan.kv_cache_gib_per_gpu;
        // Rank, layout, engine and formats: every bar's label is its own.
        let mut label = format!(
            "#{} {}x {} {} {}",
            rank + 1,
            c.gpus_per_replica,
            c.gpu,
            layout_text(c),
            quant_text(c)
        );
        if view.engine_column {
            label.push(' ');
            label.push_str(&c.engine);
        }
        bars.push(StackedBar {
            label,
            values: vec![
                plan.weights_gib_per_gpu,
                plan.activation_gib_per_gpu,
                overheads,
                plan.kv_cache_gib_per_gpu,
                (plan.gpu_memory_gib - used).max(0.0),
            ],
            capacity: Some(plan.gpu_memory_gib),
        });
    }
    (!bars.is_empty()).then(|| StackedBars {
        title: "Memory per GPU of the top configurations".into(),
        x_label: "Memory per GPU (GiB)".into(),
        unit: "GiB".into(),
        categories: categories
            .iter()
            .map(|name| BarCategory {
                name: (*name).to_string(),
                muted: *name == "Free",
            })
            .collect(),
        bars,
    })
}

/// TTFT, ITL and throughput of the winner at 1, 2, 4, ... requests up to saturation.
fn winner_curve(
    rec: &Recommendation,
    request: &RecommendRequest,
    arch: &Architecture,
    hardware: &HardwareCatalog,
    profiles: &Profiles,
) -> Option<LineChart> {
    let c = rec.configurations.first().filter(|_| rec.is_satisfied())?;
    let gpu = hardware.resolve(&c.gpu).ok()?;
    let engine: Engine = c.engine.parse().ok()?;
    let served = served_arch(arch, c);
    let capacity = c
        .max_concurrent_requests
        .filter(|m| m.is_finite() && *m >= 1.0)
        .map_or(REPORT_MAX_CONCURRENCY, |m| m.floor() as u64)
        .min(REPORT_MAX_CONCURRENCY);
    let mut concurrencies: Vec<Option<u64>> =
        std::iter::successors(Some(1u64), |n| n.checked_mul(2))
            .take_while(|n| *n <= capacity)
            .map(Some)
            .collect();
    concurrencies.push(None);
    let spec = DeploymentSpec {
        arch: &served,
        gpu,
        parallelism: c.parallelism(),
        engine,
        kv_dtype: kv_choice(c.kv_dtype),
        max_model_len: Some(c.max_model_len),
        gpu_memory_utilization: if request.gpu_memory_utilization > 0.0 {
            request.gpu_memory_utilization
        } else {
            DEFAULT_GPU_MEMORY_UTILIZATION
        },
    };
    let estimate = estimate_deployment(
        &spec,
        rec.input_len,
        rec.output_len,
        &concurrencies,
        profiles,
        gpuplan_catalog::memory::embedded_memory_overheads(),
    )
    .ok()?;
    let mut points = estimate.points;
    points.sort_by_key(|p| p.concurrency);
    let name = format!("{}x {} {}", c.gpus_per_replica, c.gpu, layout_text(c));
    let series = |f: fn(&gpuplan_core::perf::EstimatePoint) -> f64| {
        vec![LineSeries {
            name: name.clone(),
            points: points
                .iter()
                .map(|p| (p.concurrency as f64, f(p)))
                .collect(),
        }]
    };
    let limit = |value: Option<f64>, what: &str| {
        value
            .map(|v| vec![(v, format!("{what} limit"))])
            .unwrap_or_default()
    };
    Some(LineChart {
        title: format!("{name}: latency and throughput against concurrency (one replica)"),
        x_label: "Concurrent requests".into(),
        log_x: true,
        panels: vec![
            ChartPanel {
                y_label: "TTFT (ms)".into(),
                series: series(|p| p.time_to_first_token_ms),
                hlines: limit(rec.slo.max_ttft_ms, "TTFT"),
                log_y: false,
            },
            ChartPanel {
                y_label: "ITL (ms)".into(),
                series: series(|p| p.inter_token_latency_ms),
                hlines: limit(rec.slo.max_itl_ms, "ITL"),
                log_y: false,
            },
            ChartPanel {
                y_label: "Output throughput (tok/s)".into(),
                series: series(|p| p.output_throughput_tok_s),
                hlines: Vec::new(),
                log_y: false,
            },
        ],
    })
}

/// The column the ranking is by, for an objective.
fn objective_column(objective: Objective) -> &'static str {
    match objective {
        Objective::Cost => "usd_per_million_output_tokens",
        Objective::Throughput => "output_throughput_tok_s_per_gpu",
        Objective::Latency => "time_to_first_token_ms",
    }
}

/// The table with the column it is ranked by moved right after the configuration (GPU, layout,
/// engine, formats), so that it is in view on a narrow page without scrolling, its header
/// marked "(ranked)".
fn ranked_first(mut table: Table, objective: Objective) -> Table {
    let key = objective_column(objective);
    let Some(from) = table.columns.iter().position(|c| c.key == key) else {
        return table;
    };
    let to = table
        .columns
        .iter()
        .position(|c| c.key == "quant")
        .map_or(1, |quant| quant + 1)
        .min(from);
    let mut column = table.columns.remove(from);
    column.header = format!("{} (ranked)", column.header);
    table.columns.insert(to, column);
    for row in &mut table.rows {
        if from < row.len() {
            let cell = row.remove(from);
            row.insert(to.min(row.len()), cell);
        }
    }
    table
}

/// The launch command the report shows: `--emit`'s, else the best configuration's own engine.
fn report_launch(rec: &Recommendation) -> Option<String> {
    if rec.launch.is_some() {
        return rec.launch.clone();
    }
    // The best configuration's commands for its own engine.
    let best = rec.configurations.first().filter(|_| rec.is_satisfied())?;
    let plan = best.launch.as_ref()?;
    let target: EmitTarget = plan.engine.as_str().parse().ok()?;
    gpuplan::render(target, plan).ok()
}

/// The HTML report: inputs, ranking, Pareto plot, memory bars, the winner's curve and launch
/// command.
fn html(
    rec: &Recommendation,
    request: &RecommendRequest,
    arch: &Architecture,
    hardware: &HardwareCatalog,
    profiles: &Profiles,
    view: View,
) -> Report {
    let mut inputs = vec![
        ("Model".to_string(), rec.model.clone()),
        (
            "Request".to_string(),
            format!("{} in / {} out tokens", rec.input_len, rec.output_len),
        ),
        ("Load".to_string(), load_text(&rec.load)),
    ];
    let slo = &rec.slo;
    for (name, limit, kind) in [
        ("Max TTFT", slo.max_ttft_ms, ValueKind::Ms),
        ("Max ITL", slo.max_itl_ms, ValueKind::Ms),
        ("Max E2E latency", slo.max_e2e_ms, ValueKind::Ms),
        (
            "Min output throughput",
            slo.min_throughput_tok_s,
            ValueKind::TokS,
        ),
    ] {
        if let Some(limit) = limit {
            inputs.push((name.to_string(), format_human(limit, kind)));
        }
    }
    inputs.extend([
        (
            "GPUs considered".to_string(),
            if request.gpus.is_empty() {
                "every GPU of the catalog".to_string()
            } else {
                request.gpus.join(", ")
            },
        ),
        (
            "Max GPUs per replica".to_string(),
            request.max_gpus.to_string(),
        ),
        (
            "Engines".to_string(),
            request
                .engine
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("Mode".to_string(), rec.mode.to_string()),
        ("Objective".to_string(), rec.objective.to_string()),
        (
            "Search".to_string(),
            format!(
                "{} candidates, {} fit in memory, {} met the limits",
                rec.counts.evaluated, rec.counts.fit, rec.counts.met_slos
            ),
        ),
    ]);
    let ranked = if rec.is_satisfied() {
        ranked_first(ranked_table(rec, true, view), rec.objective)
    } else {
        near_miss_table(rec, true, view)
    };
    let mut notes = rec.notes.clone();
    if rec
        .configurations
        .first()
        .is_some_and(|c| c.disagg.is_some())
    {
        notes.push(
            "the latency curve is of the decode instances' layout served aggregated".to_string(),
        );
    }
    Report {
        title: format!("gpuplan: {}", rec.model),
        subtitle: Some(format!(
            "Generated by gpuplan {}; {}",
            env!("CARGO_PKG_VERSION"),
            request_line(rec)
        )),
        inputs,
        ranked,
        pareto: Some(pareto_plot(rec)),
        memory: memory_bars(rec, request, arch, hardware, view),
        latency: winner_curve(rec, request, arch, hardware, profiles),
        launch_command: report_launch(rec),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ranked_by_column_follows_the_configuration() {
        let columns = vec![
            Column::new("rank", "#", ValueKind::Count),
            Column::new("gpu", "GPU", ValueKind::Text),
            Column::new("quant", "Weights/KV", ValueKind::Text),
            Column::new("time_to_first_token_ms", "TTFT", ValueKind::Ms),
            Column::new(
                "usd_per_million_output_tokens",
                "$/Mtok",
                ValueKind::UsdPerMillionTokens,
            ),
        ];
        let mut table = Table::new(columns);
        table.push_row(vec![
            1.into(),
            "h100".into(),
            "bf16/bf16".into(),
            500.0.into(),
            0.25.into(),
        ]);
        let table = ranked_first(table, Objective::Cost);
        let keys: Vec<&str> = table.columns.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "rank",
                "gpu",
                "quant",
                "usd_per_million_output_tokens",
                "time_to_first_token_ms"
            ]
        );
        assert_eq!(table.columns[3].header, "$/Mtok (ranked)");
        assert_eq!(table.rows[0][3], Cell::from(0.25));
        assert_eq!(table.rows[0][4], Cell::from(500.0));
    }
}
