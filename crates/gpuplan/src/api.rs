//! Single-configuration estimates, the interface of the Python recommender this library
//! replaces (`estimate_performance`, `estimate_performance_batch`): every estimate carries its
//! own error instead of failing the call, so one bad configuration never aborts a batch.
//!
//! ```
//! use gpuplan::{estimate_performance, estimate_performance_batch, PerformanceRequest};
//!
//! let one = estimate_performance(
//!     &PerformanceRequest::new("meta-llama/Llama-3.1-8B", "H100", 1).batch_size(8),
//! );
//! assert!(one.error.is_none(), "{:?}", one.error);
//! assert!(one.inter_token_latency_ms.unwrap_or(0.0) > 0.0);
//!
//! let base = PerformanceRequest::default().input_length(2048).output_length(512);
//! let batch = estimate_performance_batch(
//!     "meta-llama/Llama-3.1-8B",
//!     &[("H100", 1), ("H100", 2), ("A100", 4)],
//!     &base,
//! );
//! assert_eq!(batch.len(), 3);
//! ```

use gpuplan_core::memory::Engine;
use gpuplan_core::model::Architecture;
use gpuplan_core::quant::{KvDtypeChoice, WeightFormat};
use serde::{Deserialize, Serialize};

use crate::estimate::{estimate_workloads, DeploymentSpec};
use crate::recommend::memory_overheads;
use crate::resolve::{resolve_model, ResolveOptions};
use crate::workload::{Dataset, RequestRate, Workload};
use gpuplan_core::perf::Percentiles;

/// One configuration to estimate (`estimate_performance` of the Python API).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PerformanceRequest {
    /// Catalog id, Hugging Face repo id or local `config.json` path.
    pub model: String,
    /// GPU name (catalog id, name or alias).
    pub gpu: String,
    /// GPUs of the deployment.
    pub num_gpus: u32,
    /// Tensor-parallel size (default: `num_gpus / pipeline_parallel_size`; the rest is data
    /// parallelism).
    pub tensor_parallel_size: Option<u32>,
    /// Pipeline-parallel size (default 1).
    pub pipeline_parallel_size: u32,
    /// Expert-parallel size for MoE models (default 1).
    pub expert_parallel_size: u32,
    /// Prompt tokens per request (default 2048).
    pub input_length: u64,
    /// Generated tokens per request (default 512).
    pub output_length: u64,
    /// Concurrent requests kept in flight (default 1): the benchmark's max concurrency.
    pub batch_size: u64,
    /// Most requests in flight in a run (the benchmark's max concurrency). Default:
    /// `batch_size`, or no cap when `request_rate` is given.
    pub max_concurrency: Option<u64>,
    /// Poisson arrivals (requests/s) or `inf` (all at t=0): a finite run of `num_prompts`.
    pub request_rate: Option<RequestRate>,
    /// Requests of a finite run (default 1000 when the run is finite).
    pub num_prompts: Option<u64>,
    /// Request lengths: random (default), sharegpt, or a per-request length file.
    pub dataset: Dataset,
    /// Spread of random lengths, [0, 1) (default 0: fixed).
    pub random_range_ratio: f64,
    /// Serving engine (default vLLM).
    pub engine: Engine,
    /// KV-cache dtype (default auto).
    pub kv_dtype: KvDtypeChoice,
    /// Serve the weights in this format instead of the checkpoint's.
    pub weight_quant: Option<WeightFormat>,
    /// Fraction of GPU memory the engine may use (default 0.9).
    pub gpu_memory_utilization: f64,
    /// How to resolve `model`.
    #[serde(skip)]
    pub resolve: ResolveOptions,
}

impl Default for PerformanceRequest {
    fn default() -> Self {
        PerformanceRequest {
            model: String::new(),
            gpu: String::new(),
            num_gpus: 1,
            tensor_parallel_size: None,
            pipeline_parallel_size: 1,
            expert_parallel_size: 1,
            input_length: 2048,
            output_length: 512,
            batch_size: 1,
            max_concurrency: None,
            request_rate: None,
            num_prompts: None,
            dataset: Dataset::Random,
            random_range_ratio: 0.0,
            engine: Engine::Vllm,
            kv_dtype: KvDtypeChoice::Auto,
            weight_quant: None,
            gpu_memory_utilization: 0.9,
            resolve: ResolveOptions::default(),
        }
    }
}

impl PerformanceRequest {
    /// `num_gpus` of `gpu` serving `model`, everything else at its default.
    pub fn new(model: impl Into<String>, gpu: impl Into<String>, num_gpus: u32) -> Self {
        PerformanceRequest {
            model: model.into(),
            gpu: gpu.into(),
            num_gpus,
            ..PerformanceRequest::default()
        }
    }
    /// Sets the tensor-parallel size.
    pub fn tensor_parallel_size(mut self, tp: u32) -> Self {
        self.tensor_parallel_size = Some(tp);
        self
    }
    /// Sets the prompt tokens per request.
    pub fn input_length(mut self, tokens: u64) -> Self {
        self.input_length = tokens;
        self
    }
    /// Sets the generated tokens per request.
    pub fn output_length(mut self, tokens: u64) -> Self {
        self.output_length = tokens;
        self
    }
    /// Sets the concurrent requests.
    pub fn batch_size(mut self, requests: u64) -> Self {
        self.batch_size = requests;
        self
    }
    /// Sets the engine.
    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }
    /// Sets the KV dtype.
    pub fn kv_dtype(mut self, kv: KvDtypeChoice) -> Self {
        self.kv_dtype = kv;
        self
    }
    /// Sets the served weight format.
    pub fn weight_quant(mut self, format: WeightFormat) -> Self {
        self.weight_quant = Some(format);
        self
    }
}

/// The estimate for one configuration; on failure the figures are `None` and `error` says why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PerformanceEstimate {
    /// The model as requested.
    pub model: String,
    /// The GPU as requested.
    pub gpu: String,
    /// GPUs of the deployment.
    pub num_gpus: u32,
    /// Tensor-parallel size used.
    pub tensor_parallel_size: u32,
    /// Pipeline-parallel size used.
    pub pipeline_parallel_size: u32,
    /// Data-parallel size used (`num_gpus / (tp x pp)`).
    pub data_parallel_size: u32,
    /// Mean time to first token, milliseconds.
    pub time_to_first_token_ms: Option<f64>,
    /// Mean inter-token latency (first token excluded), milliseconds.
    pub inter_token_latency_ms: Option<f64>,
    /// Mean end-to-end request latency, milliseconds.
    pub end_to_end_latency_ms: Option<f64>,
    /// Output tokens per second of the deployment.
    pub throughput_tokens_per_sec: Option<f64>,
    /// Requests that fit in the KV cache at once (input + output tokens each).
    pub max_concurrent_requests: Option<f64>,
    /// Time to first token: mean, p50, p90, p99 (ms).
    pub ttft_ms: Option<Percentiles>,
    /// Time per output token of each request: mean, p50, p90, p99 (ms).
    pub tpot_ms: Option<Percentiles>,
    /// Inter-token latency over tokens: mean, p50, p90, p99 (ms).
    pub itl_ms: Option<Percentiles>,
    /// The workload modelled, in one line.
    pub workload: Option<String>,
    /// Why the configuration could not be estimated (invalid layout, unknown GPU, does not fit).
    pub error: Option<String>,
}

/// Estimates one configuration; never fails: errors go into [`PerformanceEstimate::error`].
pub fn estimate_performance(request: &PerformanceRequest) -> PerformanceEstimate {
    match resolve_model(&request.model, &request.resolve) {
        Ok(resolved) => estimate_with_arch(&resolved.arch, request),
        Err(e) => failed(request, e.to_string()),
    }
}

/// Estimates `model` on each `(gpu, num_gpus)` of `gpu_configs`, with every other setting from
/// `base` (its `model`, `gpu` and `num_gpus` are ignored). The model is resolved once; each
/// result carries its own error.
pub fn estimate_performance_batch(
    model: &str,
    gpu_configs: &[(&str, u32)],
    base: &PerformanceRequest,
) -> Vec<PerformanceEstimate> {
    let requests: Vec<PerformanceRequest> = gpu_configs
        .iter()
        .map(|(gpu, n)| PerformanceRequest {
            model: model.to_string(),
            gpu: (*gpu).to_string(),
            num_gpus: *n,
            ..base.clone()
        })
        .collect();
    match resolve_model(model, &base.resolve) {
        Ok(resolved) => requests
            .iter()
            .map(|r| estimate_with_arch(&resolved.arch, r))
            .collect(),
        Err(e) => requests.iter().map(|r| failed(r, e.to_string())).collect(),
    }
}

fn failed(request: &PerformanceRequest, error: String) -> PerformanceEstimate {
    PerformanceEstimate {
        model: request.model.clone(),
        gpu: request.gpu.clone(),
        num_gpus: request.num_gpus,
        error: Some(error),
        ..PerformanceEstimate::default()
    }
}

fn estimate_with_arch(arch: &Architecture, request: &PerformanceRequest) -> PerformanceEstimate {
    let mut out = failed(request, String::new());
    out.error = None;
    out.pipeline_parallel_size = request.pipeline_parallel_size;
    let fail = |mut out: PerformanceEstimate, e: String| {
        out.error = Some(e);
        out
    };
    let layout = crate::limits::resolve_parallelism(
        request.tensor_parallel_size,
        Some(request.pipeline_parallel_size),
        None,
        Some(request.expert_parallel_size),
        Some(request.num_gpus),
        arch,
    );
    let (parallelism, _) = match layout {
        Ok(layout) => layout,
        Err(e) => return fail(out, e.to_string()),
    };
    out.tensor_parallel_size = parallelism.tp;
    out.data_parallel_size = parallelism.dp;
    if request.batch_size == 0 {
        return fail(out, "batch_size must be at least 1".into());
    }
    let hardware = gpuplan_catalog::hardware::embedded_hardware();
    let gpu = match hardware.resolve(&request.gpu) {
        Ok(g) => g,
        Err(e) => return fail(out, e.to_string()),
    };
    let quantized;
    let arch = match request.weight_quant {
        Some(f) => {
            quantized = arch.with_weight_format(f);
            &quantized
        }
        None => arch,
    };
    let spec = DeploymentSpec {
        arch,
        gpu,
        parallelism,
        engine: request.engine,
        kv_dtype: request.kv_dtype,
        max_model_len: None,
        gpu_memory_utilization: request.gpu_memory_utilization,
    };
    let workload = Workload {
        input_len: request.input_length,
        output_len: request.output_length,
        max_concurrency: request
            .max_concurrency
            .or(if request.request_rate.is_some() {
                None
            } else {
                Some(request.batch_size)
            }),
        request_rate: request.request_rate,
        num_prompts: request.num_prompts,
        dataset: request.dataset.clone(),
        random_range_ratio: request.random_range_ratio,
    };
    let file_rows = match workload.dataset_path(None) {
        Some(path) => match crate::workload::read_lengths(&path) {
            Ok(rows) => rows,
            Err(e) => return fail(out, e.to_string()),
        },
        None => Vec::new(),
    };
    out.workload = Some(workload.describe(&file_rows));
    match estimate_workloads(
        &spec,
        std::slice::from_ref(&workload),
        &file_rows,
        gpuplan_catalog::profiles::embedded_profiles(),
        memory_overheads(),
    ) {
        Ok(e) => {
            out.max_concurrent_requests = Some(e.max_concurrent_requests);
            if let Some(p) = e.points.first() {
                out.ttft_ms = Some(p.ttft_ms);
                out.tpot_ms = Some(p.tpot_ms);
                out.itl_ms = Some(p.itl_ms);
                out.time_to_first_token_ms = Some(p.time_to_first_token_ms);
                out.inter_token_latency_ms = Some(p.inter_token_latency_ms);
                out.end_to_end_latency_ms = Some(p.end_to_end_latency_ms);
                out.throughput_tokens_per_sec = Some(p.output_throughput_tok_s);
            }
            out
        }
        Err(e) => fail(out, e.to_string()),
    }
}
