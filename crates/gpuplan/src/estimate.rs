//! Performance estimates for one deployment: memory plan (KV capacity) + estimator.

use gpuplan_core::hardware::Gpu;
use gpuplan_core::memory::{
    plan_memory, Engine, MemoryOverheads, MemoryPlan, MemoryRequest, Parallelism,
};
use gpuplan_core::model::Architecture;
use gpuplan_core::perf::{
    self, ArchEfficiency, Deployment, EngineProfile, EstimatePoint, Profiles,
};
use gpuplan_core::quant::{KvDtype, KvDtypeChoice, WeightFormat};
use serde::{Deserialize, Serialize};

use crate::workload::{LengthRow, Workload, WorkloadError};

/// Everything that defines one deployment to estimate.
#[derive(Debug, Clone)]
pub struct DeploymentSpec<'a> {
    /// The model (already at the weight precision to serve).
    pub arch: &'a Architecture,
    /// The GPU.
    pub gpu: &'a Gpu,
    /// Parallelism.
    pub parallelism: Parallelism,
    /// Serving engine.
    pub engine: Engine,
    /// KV dtype choice.
    pub kv_dtype: KvDtypeChoice,
    /// Longest request the engine is configured for (None: input + output).
    pub max_model_len: Option<u64>,
    /// Fraction of GPU memory the engine may use.
    pub gpu_memory_utilization: f64,
}

/// The KV dtype an engine uses when left at its default: TensorRT-LLM serves fp8/fp4 checkpoints
/// with an fp8 KV cache; vLLM and SGLang keep the activation dtype (bf16) unless told otherwise.
pub fn engine_default_kv(arch: &Architecture, engine: Engine, choice: KvDtypeChoice) -> KvDtype {
    match choice {
        KvDtypeChoice::Auto => {
            let quantized = arch.precision.headline(arch.is_moe()) != WeightFormat::Bf16
                && arch.precision.headline(arch.is_moe()) != WeightFormat::Fp16;
            if engine == Engine::Trtllm
                && (quantized || arch.checkpoint_kv_dtype == Some(KvDtype::Fp8))
            {
                KvDtype::Fp8
            } else {
                arch.native_kv_dtype
            }
        }
        other => other.resolve(arch.native_kv_dtype),
    }
}

/// Result of estimating one deployment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeploymentEstimate {
    /// KV dtype used.
    pub kv_dtype: KvDtype,
    /// The memory plan per GPU.
    pub memory: MemoryPlan,
    /// Requests that fit at once at input+output tokens, whole deployment.
    pub max_concurrent_requests: f64,
    /// One point per concurrency.
    pub points: Vec<EstimatePoint>,
}

/// Why a deployment could not be estimated.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    /// The memory plan failed (invalid parallelism ...).
    #[error(transparent)]
    Memory(#[from] gpuplan_core::memory::MemoryError),
    /// The model does not fit.
    #[error("the model does not fit: {0}")]
    DoesNotFit(String),
    /// The estimator failed.
    #[error(transparent)]
    Estimate(#[from] perf::EstimateError),
    /// No profile for the engine or GPU architecture.
    #[error("no engine profile for '{0}'")]
    NoProfile(String),
    /// The workload is invalid.
    #[error("invalid workload: {0}")]
    Workload(#[from] WorkloadError),
}

/// Plan memory and estimate performance at each concurrency (`None` = saturation).
pub fn estimate_deployment(
    spec: &DeploymentSpec<'_>,
    input_len: u64,
    output_len: u64,
    concurrencies: &[Option<u64>],
    profiles: &Profiles,
    overheads: &MemoryOverheads,
) -> Result<DeploymentEstimate, DeploymentError> {
    let (kv_dtype, memory, engine, eff) = prepare(
        spec,
        input_len.saturating_add(output_len),
        profiles,
        overheads,
    )?;
    let dep = Deployment {
        arch: spec.arch,
        gpu: spec.gpu,
        parallelism: spec.parallelism,
        kv_dtype,
        eff,
        engine,
    };
    let est = perf::estimate(
        &dep,
        memory.kv_cache_tokens as f64,
        input_len,
        output_len,
        concurrencies,
    )?;
    Ok(DeploymentEstimate {
        kv_dtype,
        max_concurrent_requests: est.max_concurrent_requests,
        points: est.points,
        memory,
    })
}

/// Plans memory for requests of up to `longest` tokens (unless the spec fixes max_model_len)
/// and finds the profiles.
fn prepare<'p>(
    spec: &DeploymentSpec<'_>,
    longest: u64,
    profiles: &'p Profiles,
    overheads: &MemoryOverheads,
) -> Result<(KvDtype, MemoryPlan, &'p EngineProfile, &'p ArchEfficiency), DeploymentError> {
    let kv_dtype = engine_default_kv(spec.arch, spec.engine, spec.kv_dtype);
    let max_model_len = spec.max_model_len.unwrap_or(longest).max(1);
    let req = MemoryRequest {
        arch: spec.arch,
        gpu: spec.gpu,
        parallelism: spec.parallelism,
        kv_dtype,
        max_model_len,
        gpu_memory_utilization: spec.gpu_memory_utilization,
        engine: spec.engine,
        engine_version: None,
    };
    let memory = plan_memory(&req, overheads)?;
    if !memory.fits {
        return Err(DeploymentError::DoesNotFit(memory.advice.join("; ")));
    }
    let engine_name = spec.engine.to_string();
    let engine = profiles
        .engine(&engine_name)
        .ok_or_else(|| DeploymentError::NoProfile(engine_name.clone()))?;
    let eff = profiles
        .arch(&spec.gpu.arch)
        .ok_or_else(|| DeploymentError::NoProfile(spec.gpu.arch.clone()))?;
    Ok((kv_dtype, memory, engine, eff))
}

/// Plans memory and estimates one point per workload: a steady closed loop with fixed lengths
/// analytically (as [`estimate_deployment`]), every other workload as a simulated finite run.
/// `file_rows` are the rows of the workloads' length file, when their dataset is a file.
pub fn estimate_workloads(
    spec: &DeploymentSpec<'_>,
    workloads: &[Workload],
    file_rows: &[LengthRow],
    profiles: &Profiles,
    overheads: &MemoryOverheads,
) -> Result<DeploymentEstimate, DeploymentError> {
    let mut runs = Vec::with_capacity(workloads.len());
    let mut longest = 1u64;
    let (mut tokens, mut count) = (0.0, 0.0);
    for w in workloads {
        w.validate()?;
        if w.is_steady_closed_loop() {
            longest = longest.max(w.input_len.saturating_add(w.output_len));
            tokens += (w.input_len + w.output_len) as f64;
            count += 1.0;
            runs.push(None);
        } else {
            let reqs = w.run_requests(file_rows)?;
            for r in &reqs {
                longest = longest.max(r.input_len.saturating_add(r.output_len));
                tokens += (r.input_len + r.output_len) as f64;
                count += 1.0;
            }
            runs.push(Some(reqs));
        }
    }
    let (kv_dtype, memory, engine, eff) = prepare(spec, longest, profiles, overheads)?;
    let dep = Deployment {
        arch: spec.arch,
        gpu: spec.gpu,
        parallelism: spec.parallelism,
        kv_dtype,
        eff,
        engine,
    };
    let kv = memory.kv_cache_tokens as f64;
    let mut points = Vec::with_capacity(workloads.len());
    for (w, run) in workloads.iter().zip(&runs) {
        let point = match run {
            None => perf::estimate(&dep, kv, w.input_len, w.output_len, &[w.max_concurrency])?
                .points
                .into_iter()
                .next()
                .ok_or_else(|| perf::EstimateError::Workload("no estimate point".into()))?,
            Some(reqs) => perf::estimate_run(&dep, kv, reqs, w.max_concurrency)?,
        };
        points.push(point);
    }
    let mean_request = if count > 0.0 { tokens / count } else { 1.0 };
    Ok(DeploymentEstimate {
        kv_dtype,
        max_concurrent_requests: (kv / mean_request.max(1.0)).floor()
            * f64::from(spec.parallelism.dp.max(1)),
        points,
        memory,
    })
}

/// The memory-overhead constants shipped in the binary (vLLM/SGLang/TRT-LLM, calibrated on
/// measured vLLM memory reports; see `gpuplan-catalog/data/memory_overheads.toml`).
pub fn memory_overheads() -> &'static MemoryOverheads {
    gpuplan_catalog::memory::embedded_memory_overheads()
}
