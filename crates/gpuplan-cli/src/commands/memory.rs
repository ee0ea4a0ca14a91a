//! `gpuplan memory`: how one GPU's memory splits between weights, activations, runtime buffers
//! and the KV cache, and how many tokens and requests that KV cache holds.

use std::io::Write;

use gpuplan::estimate::engine_default_kv;
use gpuplan_core::memory::{plan_memory, MemoryPlan, MemoryRequest};
use gpuplan_core::quant::WeightFormat;
use serde::Serialize;

use super::deployment::{self, layout_label, DEFAULT_GPU_MEMORY_UTILIZATION};
use super::{write_json, write_table};
use crate::args::MemoryArgs;
use crate::render::{
    format_human, format_significant, Cell, Column, OutputFormat, Table, ValueKind,
};
use crate::Context;

/// What `gpuplan memory --json` prints: the deployment and its per-GPU [`MemoryPlan`].
#[derive(Debug, Clone, Serialize)]
pub struct MemoryReport {
    /// The model as named on the command line (catalog id, repo id or path).
    pub model: String,
    /// Catalog id of the GPU.
    pub gpu: String,
    /// GPUs of the deployment: tp * pp * dp.
    pub num_gpus: u32,
    /// Format of the bulk of the weights as served.
    pub weight_quant: WeightFormat,
    /// The per-GPU plan (`parallelism`, `weights_gib_per_gpu`, ..., `fits`, `advice`).
    #[serde(flatten)]
    pub plan: MemoryPlan,
}

/// Plans the memory of one deployment and prints the breakdown.
pub fn run(args: &MemoryArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let resolved = deployment::resolve(ctx, &args.model, args.weight_quant)?;
    let arch = &resolved.arch;
    let catalog = ctx.hardware()?;
    let gpu = deployment::gpu(ctx, &catalog, args.gpu.as_deref())?;
    let (parallelism, num_gpus) = deployment::parallelism(&args.parallel, arch)?;
    let engine = deployment::engine(ctx, args.engine)?;
    let request = MemoryRequest {
        arch,
        gpu,
        parallelism,
        kv_dtype: engine_default_kv(arch, engine, args.kv_dtype),
        max_model_len: args
            .max_model_len
            .unwrap_or(arch.max_position_embeddings)
            .max(1),
        gpu_memory_utilization: args
            .gpu_memory_utilization
            .unwrap_or(DEFAULT_GPU_MEMORY_UTILIZATION),
        engine,
        engine_version: None,
    };
    let plan = plan_memory(
        &request,
        gpuplan_catalog::memory::embedded_memory_overheads(),
    )
    .map_err(|e| anyhow::anyhow!("cannot plan memory: {e}"))?;
    let report = MemoryReport {
        model: args.model.clone(),
        gpu: gpu.id.clone(),
        num_gpus,
        weight_quant: arch.precision.headline(arch.is_moe()),
        plan,
    };
    match ctx.format {
        OutputFormat::Json => write_json(&report, out)?,
        OutputFormat::Csv => write_table(&flat_table(&report), ctx, out)?,
        OutputFormat::Table | OutputFormat::Markdown => {
            write_table(&breakdown_table(&report), ctx, out)?;
            out.write_all(b"\n")?;
            write_table(&capacity_table(&report), ctx, out)?;
        }
    }
    if report.plan.fits {
        Ok(())
    } else {
        // The plan is printed (it shows why); the exit code says it does not fit, as for every
        // command whose valid request no configuration satisfies.
        Err(gpuplan::Error::NoSolution {
            reason: format!(
                "{} does not fit on {}x {}: {}",
                report.model,
                report.num_gpus,
                report.gpu,
                report.plan.advice.join("; ")
            ),
        }
        .into())
    }
}

/// Memory the plan leaves unused on one GPU (the part of the engine's headroom that CUDA
/// graphs do not take), never negative.
fn unused_gib(plan: &MemoryPlan) -> f64 {
    let used = plan.weights_gib_per_gpu
        + plan.activation_gib_per_gpu
        + plan.non_torch_gib_per_gpu
        + plan.cuda_graph_gib_per_gpu
        + plan.kv_cache_gib_per_gpu;
    (plan.gpu_memory_gib - used).max(0.0)
}

fn title(report: &MemoryReport) -> String {
    let plan = &report.plan;
    format!(
        "{} on {}x {} ({}), {}, {} weights, {} KV cache",
        report.model,
        report.num_gpus,
        report.gpu,
        layout_label(&plan.parallelism),
        plan.engine,
        report.weight_quant,
        plan.kv_dtype
    )
}

/// Where one GPU's memory goes.
fn breakdown_table(report: &MemoryReport) -> Table {
    let plan = &report.plan;
    let mut table = Table::new(vec![
        Column::new("component", "Memory per GPU", ValueKind::Text),
        Column::new("gib_per_gpu", "Size", ValueKind::Gib),
        Column::new("share_of_gpu", "Share", ValueKind::Ratio),
    ])
    .with_title(title(report));
    let share = |gib: f64| {
        if plan.gpu_memory_gib > 0.0 {
            Cell::from(gib / plan.gpu_memory_gib)
        } else {
            Cell::Missing
        }
    };
    let rows = [
        ("Weights", plan.weights_gib_per_gpu),
        ("Activations (peak)", plan.activation_gib_per_gpu),
        ("Non-torch buffers", plan.non_torch_gib_per_gpu),
        ("CUDA graphs", plan.cuda_graph_gib_per_gpu),
        ("KV cache pool", plan.kv_cache_gib_per_gpu),
        ("Free", unused_gib(plan)),
        ("GPU memory", plan.gpu_memory_gib),
    ];
    for (name, gib) in rows {
        table.push_row(vec![name.into(), gib.into(), share(gib)]);
    }
    table.push_note(format!(
        "engine memory fraction {} of {}",
        plan.gpu_memory_utilization,
        format_human(plan.gpu_memory_gib, ValueKind::Gib)
    ));
    table
}

/// What the KV cache holds, and whether the deployment fits.
fn capacity_table(report: &MemoryReport) -> Table {
    let plan = &report.plan;
    let mut table = Table::new(vec![
        Column::new("field", "KV cache", ValueKind::Text),
        Column::new("value", "Value", ValueKind::Text),
    ]);
    let count = |n: f64| format_human(n, ValueKind::Count);
    let rows: Vec<(&str, String)> = vec![
        (
            "Bytes per token (per GPU)",
            format!(
                "{} ({})",
                format_human(plan.kv_cache_bytes_per_token, ValueKind::Bytes),
                plan.kv_dtype
            ),
        ),
        (
            "Tokens per engine instance",
            format!(
                "{} (blocks of {})",
                count(plan.kv_cache_tokens as f64),
                plan.kv_block_size
            ),
        ),
        (
            "Max concurrent requests",
            format!(
                "{} of {} tokens",
                format_significant(plan.max_concurrent_requests),
                count(plan.max_model_len as f64)
            ),
        ),
        (
            "Largest max_model_len that fits",
            format!("{} tokens", count(plan.max_model_len_fit as f64)),
        ),
        (
            "Fits",
            if plan.fits {
                "yes".to_string()
            } else {
                format!(
                    "NO: short by {} per GPU",
                    format_human(plan.shortfall_gib, ValueKind::Gib)
                )
            },
        ),
    ];
    for (field, value) in rows {
        table.push_row(vec![field.into(), value.into()]);
    }
    if !plan.fits {
        for advice in &plan.advice {
            table.push_note(format!("fix: {advice}"));
        }
    }
    for note in &plan.notes {
        table.push_note(note.clone());
    }
    table
}

/// One row with every scalar of the plan, raw numbers (CSV).
fn flat_table(report: &MemoryReport) -> Table {
    let plan = &report.plan;
    let p = plan.parallelism;
    let fields: Vec<(&str, ValueKind, Cell)> = vec![
        ("model", ValueKind::Text, report.model.clone().into()),
        ("gpu", ValueKind::Text, report.gpu.clone().into()),
        ("num_gpus", ValueKind::Count, report.num_gpus.into()),
        ("tp", ValueKind::Count, p.tp.into()),
        ("pp", ValueKind::Count, p.pp.into()),
        ("dp", ValueKind::Count, p.dp.into()),
        ("ep", ValueKind::Count, p.ep.into()),
        ("engine", ValueKind::Text, plan.engine.as_str().into()),
        (
            "weight_quant",
            ValueKind::Text,
            report.weight_quant.as_str().into(),
        ),
        ("kv_dtype", ValueKind::Text, plan.kv_dtype.as_str().into()),
        ("gpu_memory_gib", ValueKind::Gib, plan.gpu_memory_gib.into()),
        (
            "gpu_memory_utilization",
            ValueKind::Ratio,
            plan.gpu_memory_utilization.into(),
        ),
        (
            "weights_gib_per_gpu",
            ValueKind::Gib,
            plan.weights_gib_per_gpu.into(),
        ),
        (
            "activation_gib_per_gpu",
            ValueKind::Gib,
            plan.activation_gib_per_gpu.into(),
        ),
        (
            "non_torch_gib_per_gpu",
            ValueKind::Gib,
            plan.non_torch_gib_per_gpu.into(),
        ),
        (
            "cuda_graph_gib_per_gpu",
            ValueKind::Gib,
            plan.cuda_graph_gib_per_gpu.into(),
        ),
        (
            "kv_cache_gib_per_gpu",
            ValueKind::Gib,
            plan.kv_cache_gib_per_gpu.into(),
        ),
        (
            "free_gib_per_gpu",
            ValueKind::Gib,
            plan.free_gib_per_gpu.into(),
        ),
        (
            "kv_cache_bytes_per_token",
            ValueKind::Bytes,
            plan.kv_cache_bytes_per_token.into(),
        ),
        (
            "kv_cache_tokens",
            ValueKind::Count,
            plan.kv_cache_tokens.into(),
        ),
        (
            "max_concurrent_requests",
            ValueKind::Number,
            plan.max_concurrent_requests.into(),
        ),
        ("max_model_len", ValueKind::Count, plan.max_model_len.into()),
        (
            "max_model_len_fit",
            ValueKind::Count,
            plan.max_model_len_fit.into(),
        ),
        ("fits", ValueKind::Text, plan.fits.to_string().into()),
        ("shortfall_gib", ValueKind::Gib, plan.shortfall_gib.into()),
    ];
    let mut table = Table::new(
        fields
            .iter()
            .map(|(key, kind, _)| Column::new(*key, *key, *kind))
            .collect(),
    );
    table.push_row(fields.into_iter().map(|(_, _, cell)| cell).collect());
    table
}
