//! `recommend`: which GPUs, how many, and how to split a model across them to meet latency SLOs
//! at the lowest cost.
//!
//! The search space is GPU type x GPU count x parallel layout (TP, PP, DP, EP) x weight format x
//! KV dtype x engine x serving mode. Memory fit comes from the memory planner and performance
//! from the estimator (both through [`estimate_deployment`]); what to try, the SLO filter, the
//! ranking and the Pareto frontier live in [`gpuplan_core::search`].
//!
//! ```
//! use gpuplan::{recommend, RecommendRequest};
//!
//! let request = RecommendRequest::new("meta-llama/Llama-3.1-8B")
//!     .gpus(["H100"])
//!     .concurrency(16)
//!     .max_itl_ms(50.0);
//! let recommendation = recommend(&request)?;
//! assert!(recommendation.is_satisfied());
//! println!("{}", recommendation.summary());
//! # Ok::<(), gpuplan::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use gpuplan_core::hardware::{Gpu, HardwareCatalog, Vendor};
use gpuplan_core::memory::{plan_memory, Engine, MemoryOverheads, MemoryRequest, Parallelism};
use gpuplan_core::model::{Architecture, ModelError};
use gpuplan_core::perf::{
    self, mm1_wait_quantile_s, Deployment, EstimatePoint, Percentiles, Profiles, Statistic,
    StepShape,
};
use gpuplan_core::quant::{KvDtype, KvDtypeChoice, WeightFormat};
use gpuplan_core::search::{
    self, compare, fit_load, gpu_counts, parallel_layouts, pareto_frontier, weight_formats_for,
    worst_miss, Headroom, Load, LoadFit, Metrics, Objective, ServingMode, Slo, SloConstraint,
    SloViolation,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::estimate::{engine_default_kv, estimate_deployment, estimate_workloads, DeploymentSpec};
use crate::launch::{launch_command, EmitTarget};
use crate::resolve::{resolve_model, ResolveOptions};
use crate::workload::{read_lengths, Dataset, LengthRow, RequestRate, Workload};

/// The memory overheads the search plans with: the catalog's embedded figures.
pub(crate) fn memory_overheads() -> &'static MemoryOverheads {
    gpuplan_catalog::memory::embedded_memory_overheads()
}

/// An error for a request field that makes no sense (the CLI maps it to exit code 2).
pub(crate) fn invalid_request(field: &str, message: impl Into<String>) -> Error {
    // The library error has no request variant yet; a ModelError names the field and maps to
    // the usage exit code.
    Error::Model(ModelError {
        source_name: "request".into(),
        field: Some(field.into()),
        message: message.into(),
    })
}

/// What to search for. Fields map 1:1 to the `gpuplan recommend` flags; [`Default`] and the
/// builder methods give the documented defaults.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RecommendRequest {
    /// `--model`: catalog id, Hugging Face repo id or local `config.json` path.
    pub model: String,
    /// `--input-len`: prompt tokens per request (default 2048).
    pub input_len: u64,
    /// `--output-len`: generated tokens per request (default 512).
    pub output_len: u64,
    /// `--max-concurrency` (alias `--concurrency`): requests in flight at all times, whole
    /// deployment (closed loop).
    #[serde(alias = "max_concurrency")]
    pub concurrency: Option<u64>,
    /// `--request-rate`: Poisson arrivals, requests per second, whole deployment.
    pub request_rate: Option<f64>,
    /// `--max-ttft-ms`: largest mean time to first token, milliseconds.
    pub max_ttft_ms: Option<f64>,
    /// `--max-itl-ms`: largest mean inter-token latency (first token excluded), milliseconds.
    pub max_itl_ms: Option<f64>,
    /// `--max-e2e-ms`: largest mean end-to-end request latency, milliseconds.
    pub max_e2e_ms: Option<f64>,
    /// `--min-throughput-tok-s`: smallest output throughput of the deployment, tokens/s.
    pub min_throughput_tok_s: Option<f64>,
    /// `--slo-percentile`: the statistic `max_ttft_ms`, `max_itl_ms` and `max_e2e_ms` limit
    /// (mean, p50, p90, p99; default mean).
    pub slo_percentile: Statistic,
    /// `--max-ttft-p99-ms`: largest 99th-percentile time to first token, milliseconds.
    pub max_ttft_p99_ms: Option<f64>,
    /// `--max-itl-p99-ms`: largest 99th-percentile inter-token latency, milliseconds.
    pub max_itl_p99_ms: Option<f64>,
    /// `--dataset`: request lengths (random, sharegpt, or a per-request length file; see
    /// [`Workload`]).
    pub dataset: Dataset,
    /// `--random-range-ratio`: spread of random lengths (default 0: fixed).
    pub random_range_ratio: f64,
    /// `--num-prompts`: requests of a finite benchmark run; with a length distribution, the
    /// run each closed-loop point is simulated over (default: max(8 x concurrency, 256)).
    pub num_prompts: Option<u64>,
    /// `--gpus`: GPU names to consider (any catalog id, name or alias); empty = every GPU.
    pub gpus: Vec<String>,
    /// `--max-gpus`: most GPUs in one replica (default 8); counts beyond one node are whole
    /// nodes.
    pub max_gpus: u32,
    /// `--allow-quant`: weight formats to try besides the checkpoint's own, where the GPU runs
    /// them natively (fp8 needs native fp8, nvfp4 / mxfp4 native fp4; int4 runs everywhere).
    /// Default: fp8.
    pub allow_quant: Vec<WeightFormat>,
    /// `--kv-dtype`: KV-cache dtypes to try (default: auto and fp8).
    pub kv_dtype: Vec<KvDtypeChoice>,
    /// `--engine`: serving engines to try (default: vllm).
    pub engine: Vec<Engine>,
    /// `--mode`: aggregated, disaggregated prefill/decode, or both (default agg).
    pub mode: ServingMode,
    /// `--objective`: what to rank by (default cost).
    pub objective: Objective,
    /// `--price GPU=USD_PER_HOUR`: hourly prices per GPU that replace the catalog's.
    pub price: BTreeMap<String, f64>,
    /// `--top`: configurations to return (default 5).
    pub top: usize,
    /// `--emit`: also render the launch command (or Kubernetes manifest) of the best
    /// configuration into [`Recommendation::launch`].
    pub emit: Option<EmitTarget>,
    /// Estimate performance (default true). When false, configurations come from memory fit
    /// alone, ranked by dollars per hour and then fewest GPUs, and SLOs are not checked.
    pub estimate_performance: bool,
    /// Fraction of GPU memory the engine may use (default 0.9).
    pub gpu_memory_utilization: f64,
    /// Longest request the engine is configured for, tokens (default input + output).
    pub max_model_len: Option<u64>,
    /// How to resolve `model` (offline, revision, ...).
    #[serde(skip)]
    pub resolve: ResolveOptions,
}

impl Default for RecommendRequest {
    fn default() -> Self {
        RecommendRequest {
            model: String::new(),
            input_len: 2048,
            output_len: 512,
            concurrency: None,
            request_rate: None,
            max_ttft_ms: None,
            max_itl_ms: None,
            max_e2e_ms: None,
            min_throughput_tok_s: None,
            slo_percentile: Statistic::Mean,
            max_ttft_p99_ms: None,
            max_itl_p99_ms: None,
            dataset: Dataset::Random,
            random_range_ratio: 0.0,
            num_prompts: None,
            gpus: Vec::new(),
            max_gpus: 8,
            allow_quant: vec![WeightFormat::Fp8],
            kv_dtype: vec![KvDtypeChoice::Auto, KvDtypeChoice::Fp8],
            engine: vec![Engine::Vllm],
            mode: ServingMode::Agg,
            objective: Objective::Cost,
            price: BTreeMap::new(),
            top: 5,
            emit: None,
            estimate_performance: true,
            gpu_memory_utilization: 0.9,
            max_model_len: None,
            resolve: ResolveOptions::default(),
        }
    }
}

impl RecommendRequest {
    /// A request for `model` with every other field at its default.
    pub fn new(model: impl Into<String>) -> Self {
        RecommendRequest {
            model: model.into(),
            ..RecommendRequest::default()
        }
    }
    /// Sets the prompt tokens per request.
    pub fn input_len(mut self, tokens: u64) -> Self {
        self.input_len = tokens;
        self
    }
    /// Sets the generated tokens per request.
    pub fn output_len(mut self, tokens: u64) -> Self {
        self.output_len = tokens;
        self
    }
    /// Sets the closed-loop concurrency (requests in flight, whole deployment).
    pub fn concurrency(mut self, requests: u64) -> Self {
        self.concurrency = Some(requests);
        self
    }
    /// Sets the Poisson request rate, requests per second.
    pub fn request_rate(mut self, requests_per_s: f64) -> Self {
        self.request_rate = Some(requests_per_s);
        self
    }
    /// Sets the TTFT limit, milliseconds.
    pub fn max_ttft_ms(mut self, ms: f64) -> Self {
        self.max_ttft_ms = Some(ms);
        self
    }
    /// Sets the ITL limit, milliseconds.
    pub fn max_itl_ms(mut self, ms: f64) -> Self {
        self.max_itl_ms = Some(ms);
        self
    }
    /// Sets the end-to-end latency limit, milliseconds.
    pub fn max_e2e_ms(mut self, ms: f64) -> Self {
        self.max_e2e_ms = Some(ms);
        self
    }
    /// Sets the minimum output throughput, tokens per second.
    pub fn min_throughput_tok_s(mut self, tok_s: f64) -> Self {
        self.min_throughput_tok_s = Some(tok_s);
        self
    }
    /// Sets the statistic the latency limits apply to (mean, p50, p90, p99).
    pub fn slo_percentile(mut self, stat: Statistic) -> Self {
        self.slo_percentile = stat;
        self
    }
    /// Sets the 99th-percentile TTFT limit, milliseconds.
    pub fn max_ttft_p99_ms(mut self, ms: f64) -> Self {
        self.max_ttft_p99_ms = Some(ms);
        self
    }
    /// Sets the request-length dataset.
    pub fn dataset(mut self, dataset: Dataset) -> Self {
        self.dataset = dataset;
        self
    }
    /// Restricts the search to these GPUs.
    pub fn gpus<I, S>(mut self, gpus: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.gpus = gpus.into_iter().map(Into::into).collect();
        self
    }
    /// Sets the most GPUs per replica.
    pub fn max_gpus(mut self, gpus: u32) -> Self {
        self.max_gpus = gpus;
        self
    }
    /// Sets the extra weight formats to try (empty: the checkpoint's own only).
    pub fn allow_quant(mut self, formats: impl IntoIterator<Item = WeightFormat>) -> Self {
        self.allow_quant = formats.into_iter().collect();
        self
    }
    /// Sets the KV dtypes to try.
    pub fn kv_dtype(mut self, choices: impl IntoIterator<Item = KvDtypeChoice>) -> Self {
        self.kv_dtype = choices.into_iter().collect();
        self
    }
    /// Sets the engines to try.
    pub fn engine(mut self, engines: impl IntoIterator<Item = Engine>) -> Self {
        self.engine = engines.into_iter().collect();
        self
    }
    /// Sets the serving mode.
    pub fn mode(mut self, mode: ServingMode) -> Self {
        self.mode = mode;
        self
    }
    /// Sets the ranking objective.
    pub fn objective(mut self, objective: Objective) -> Self {
        self.objective = objective;
        self
    }
    /// Overrides the hourly price of one GPU, US dollars per GPU-hour.
    pub fn price(mut self, gpu: impl Into<String>, usd_per_hour: f64) -> Self {
        self.price.insert(gpu.into(), usd_per_hour);
        self
    }
    /// Sets how many configurations to return.
    pub fn top(mut self, n: usize) -> Self {
        self.top = n;
        self
    }
    /// Renders the launch command of the best configuration for `target`.
    pub fn emit(mut self, target: EmitTarget) -> Self {
        self.emit = Some(target);
        self
    }
    /// Turns performance estimation on or off (off: memory fit only).
    pub fn estimate_performance(mut self, on: bool) -> Self {
        self.estimate_performance = on;
        self
    }
    /// Sets how the model is resolved (offline, revision, ...).
    pub fn resolve_options(mut self, options: ResolveOptions) -> Self {
        self.resolve = options;
        self
    }

    /// The SLOs of the request.
    pub fn slo(&self) -> Slo {
        Slo {
            max_ttft_ms: self.max_ttft_ms,
            max_itl_ms: self.max_itl_ms,
            max_e2e_ms: self.max_e2e_ms,
            min_throughput_tok_s: self.min_throughput_tok_s,
            percentile: self.slo_percentile,
            max_ttft_p99_ms: self.max_ttft_p99_ms,
            max_itl_p99_ms: self.max_itl_p99_ms,
        }
    }

    /// The workload of the request (its load shape and request lengths).
    pub fn workload(&self) -> Workload {
        Workload {
            input_len: self.input_len,
            output_len: self.output_len,
            max_concurrency: self.concurrency,
            request_rate: self.request_rate.map(RequestRate),
            num_prompts: self.num_prompts,
            dataset: self.dataset.clone(),
            random_range_ratio: self.random_range_ratio,
        }
    }

    /// The load of the request.
    pub fn load(&self) -> Load {
        match (self.concurrency, self.request_rate) {
            (Some(c), _) => Load::Concurrency(c),
            (None, Some(r)) => Load::RequestRate(r),
            (None, None) => Load::BestThroughput,
        }
    }

    /// Checks the fields that no search could satisfy as given.
    pub fn validate(&self) -> Result<(), Error> {
        if self.input_len == 0 {
            return Err(invalid_request("input_len", "must be at least 1 token"));
        }
        if self.output_len == 0 {
            return Err(invalid_request("output_len", "must be at least 1 token"));
        }
        if self.concurrency.is_some() && self.request_rate.is_some() {
            return Err(invalid_request(
                "concurrency",
                "give either a concurrency or a request rate, not both",
            ));
        }
        if self.concurrency == Some(0) {
            return Err(invalid_request("concurrency", "must be at least 1"));
        }
        if let Some(r) = self.request_rate {
            if !(r.is_finite() && r > 0.0) {
                return Err(invalid_request("request_rate", "must be a number > 0"));
            }
        }
        if let Err(e) = self.workload().validate() {
            return Err(invalid_request(&e.field, e.message));
        }
        let limits = [
            ("max_ttft_p99_ms", self.max_ttft_p99_ms),
            ("max_itl_p99_ms", self.max_itl_p99_ms),
            ("max_ttft_ms", self.max_ttft_ms),
            ("max_itl_ms", self.max_itl_ms),
            ("max_e2e_ms", self.max_e2e_ms),
            ("min_throughput_tok_s", self.min_throughput_tok_s),
        ];
        for (field, value) in limits {
            if let Some(v) = value {
                if !(v.is_finite() && v > 0.0) {
                    return Err(invalid_request(field, "must be a number > 0"));
                }
            }
        }
        if self.max_gpus == 0 || self.max_gpus > 4096 {
            return Err(invalid_request("max_gpus", "must be between 1 and 4096"));
        }
        if self.engine.is_empty() {
            return Err(invalid_request("engine", "give at least one engine"));
        }
        if !(self.gpu_memory_utilization > 0.0 && self.gpu_memory_utilization <= 1.0) {
            return Err(invalid_request(
                "gpu_memory_utilization",
                "must be in (0, 1]",
            ));
        }
        Ok(())
    }
}

/// Whether any configuration met every SLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// At least one configuration meets every SLO; `configurations` holds the best.
    Satisfied,
    /// Nothing meets the SLOs (or nothing fits in memory); `near_misses` holds the closest
    /// configurations and the constraint that excluded each. The CLI exits with code 1.
    NoConfiguration,
}

/// How a disaggregated configuration splits prefill and decode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisaggLayout {
    /// Prefill engine instances per replica (the x of xPyD).
    pub prefill_instances: u32,
    /// Decode engine instances per replica (the y of xPyD).
    pub decode_instances: u32,
    /// GPUs of one prefill instance.
    pub prefill_gpus_per_instance: u32,
    /// Tensor-parallel size of a prefill instance.
    pub prefill_tp: u32,
    /// Pipeline-parallel size of a prefill instance.
    pub prefill_pp: u32,
    /// Data-parallel size of a prefill instance.
    pub prefill_dp: u32,
    /// Expert-parallel size of a prefill instance.
    pub prefill_ep: u32,
    /// GPUs of one decode instance (its layout is the configuration's tp/pp/dp/ep).
    pub decode_gpus_per_instance: u32,
    /// Time to move one request's KV cache from a prefill to a decode instance over the
    /// scale-out network, milliseconds (included in TTFT).
    pub kv_transfer_ms: f64,
}

/// One configuration the search evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Configuration {
    /// Catalog id of the GPU.
    pub gpu: String,
    /// Display name of the GPU.
    pub gpu_name: String,
    /// The GPU's vendor (decides the Kubernetes resource name).
    pub gpu_vendor: Vendor,
    /// GPUs of the whole deployment (all replicas).
    pub num_gpus: u32,
    /// GPUs of one replica.
    pub gpus_per_replica: u32,
    /// Identical replicas behind a load balancer.
    pub replicas: u32,
    /// Tensor-parallel size (of the decode instances when disaggregated).
    pub tp: u32,
    /// Pipeline-parallel size.
    pub pp: u32,
    /// Data-parallel (attention-DP) size inside one engine instance.
    pub dp: u32,
    /// Expert-parallel size (1 = experts split by tensor parallelism).
    pub ep: u32,
    /// Weight format served.
    pub weight_quant: WeightFormat,
    /// True when `weight_quant` differs from the checkpoint's own format (the engine
    /// quantizes at load time, or a quantized checkpoint is needed).
    pub requantized: bool,
    /// KV-cache dtype.
    pub kv_dtype: KvDtype,
    /// Serving engine (`vllm`, `sglang`, `trtllm`).
    pub engine: String,
    /// `agg` or `disagg`.
    pub mode: ServingMode,
    /// The prefill/decode split, for disaggregated configurations.
    pub disagg: Option<DisaggLayout>,
    /// Longest request the engine is configured for, tokens.
    pub max_model_len: u64,
    /// KV-cache capacity of one engine instance (one DP rank), tokens.
    pub kv_cache_tokens: u64,
    /// Requests that fit in memory at once per replica (input + output tokens each).
    pub max_concurrent_requests: Option<f64>,
    /// Requests in flight per replica at the operating point.
    pub concurrency_per_replica: Option<u64>,
    /// Mean time to first token, milliseconds (queueing and KV transfer included).
    pub time_to_first_token_ms: Option<f64>,
    /// Mean inter-token latency (first token excluded), milliseconds.
    pub inter_token_latency_ms: Option<f64>,
    /// Mean end-to-end request latency, milliseconds.
    pub end_to_end_latency_ms: Option<f64>,
    /// Output tokens per second of the whole deployment.
    pub output_throughput_tok_s: Option<f64>,
    /// Output tokens per second per GPU.
    pub output_throughput_tok_s_per_gpu: Option<f64>,
    /// Output tokens per second one user sees.
    pub output_tok_s_per_user: Option<f64>,
    /// Completed requests per second, whole deployment.
    pub requests_per_s: Option<f64>,
    /// Mean wait for a free slot under Poisson arrivals, milliseconds (0 for closed loops).
    pub queue_wait_ms: Option<f64>,
    /// Time to first token over requests: mean, p50, p90, p99 (ms).
    pub ttft_ms: Option<Percentiles>,
    /// Time per output token of each request: mean, p50, p90, p99 (ms).
    pub tpot_ms: Option<Percentiles>,
    /// Inter-token latency over tokens: mean, p50, p90, p99 (ms).
    pub itl_ms: Option<Percentiles>,
    /// End-to-end latency over requests: mean, p50, p90, p99 (ms).
    pub e2e_ms: Option<Percentiles>,
    /// Price of the whole deployment, US dollars per hour (None when the GPU has no price).
    pub usd_per_hour: Option<f64>,
    /// US dollars per million output tokens at the achieved throughput.
    pub usd_per_million_output_tokens: Option<f64>,
    /// Spare room on each SLO as a fraction of its limit.
    #[serde(flatten)]
    pub headroom: Headroom,
}

impl Configuration {
    /// The parallel layout of one engine instance.
    pub fn parallelism(&self) -> Parallelism {
        Parallelism {
            tp: self.tp,
            pp: self.pp,
            dp: self.dp,
            ep: self.ep,
        }
    }

    /// A one-line label, e.g. `4x h100_sxm tp4 pp1 dp1 ep1 fp8/kv-fp8 vllm`.
    pub fn label(&self) -> String {
        let mut s = format!(
            "{}x {} tp{} pp{} dp{} ep{} {}/kv-{} {}",
            self.gpus_per_replica,
            self.gpu,
            self.tp,
            self.pp,
            self.dp,
            self.ep,
            self.weight_quant,
            self.kv_dtype,
            self.engine
        );
        if let Some(d) = &self.disagg {
            let _ = write!(
                s,
                " disagg {}P{}D (prefill tp{} x{} GPUs)",
                d.prefill_instances, d.decode_instances, d.prefill_tp, d.prefill_gpus_per_instance
            );
        }
        if self.replicas > 1 {
            let _ = write!(s, " x{} replicas", self.replicas);
        }
        s
    }

    fn metrics(&self) -> Metrics {
        Metrics {
            time_to_first_token_ms: self.time_to_first_token_ms.unwrap_or(f64::INFINITY),
            inter_token_latency_ms: self.inter_token_latency_ms.unwrap_or(f64::INFINITY),
            end_to_end_latency_ms: self.end_to_end_latency_ms.unwrap_or(f64::INFINITY),
            output_throughput_tok_s: self.output_throughput_tok_s.unwrap_or(0.0),
            output_throughput_tok_s_per_gpu: self.output_throughput_tok_s_per_gpu.unwrap_or(0.0),
            output_tok_s_per_user: self.output_tok_s_per_user.unwrap_or(0.0),
            num_gpus: self.num_gpus,
            usd_per_hour: self.usd_per_hour,
            ttft_ms: self.ttft_ms.unwrap_or(Percentiles::constant(f64::INFINITY)),
            itl_ms: self.itl_ms.unwrap_or(Percentiles::constant(f64::INFINITY)),
            e2e_ms: self.e2e_ms.unwrap_or(Percentiles::constant(f64::INFINITY)),
        }
    }
}

/// A configuration excluded by an SLO, with what excluded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NearMiss {
    /// The configuration at its closest operating point.
    pub configuration: Configuration,
    /// The constraint it misses worst.
    pub excluded_by: SloConstraint,
    /// Every constraint it misses, worst first.
    pub violations: Vec<SloViolation>,
}

/// How many candidates the search looked at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchCounts {
    /// Candidates enumerated (valid layouts x formats x KV dtypes x engines x modes).
    pub evaluated: usize,
    /// Candidates that fit in GPU memory.
    pub fit: usize,
    /// Candidates that also met every SLO.
    pub met_slos: usize,
}

/// The answer of [`recommend`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The model as requested.
    pub model: String,
    /// Prompt tokens per request.
    pub input_len: u64,
    /// Generated tokens per request.
    pub output_len: u64,
    /// The load searched for.
    pub load: Load,
    /// The SLOs applied.
    pub slo: Slo,
    /// The ranking objective.
    pub objective: Objective,
    /// The serving modes searched.
    pub mode: ServingMode,
    /// Whether anything met the SLOs.
    pub outcome: Outcome,
    /// The best configurations, best first (at most `top`).
    pub configurations: Vec<Configuration>,
    /// Pareto frontier of output tokens/s per GPU against tokens/s per user among the
    /// configurations that met the SLOs (or all that fit, when none did), highest throughput
    /// per GPU first.
    pub frontier: Vec<Configuration>,
    /// Configurations excluded by an SLO that came closest, closest first.
    pub near_misses: Vec<NearMiss>,
    /// Candidate counts.
    pub counts: SearchCounts,
    /// The launch command (or manifest) of the best configuration, when `emit` was asked for.
    pub launch: Option<String>,
    /// Caveats about the search (GPUs skipped, estimation off, ...).
    pub notes: Vec<String>,
}

impl Recommendation {
    /// True when at least one configuration meets every SLO.
    pub fn is_satisfied(&self) -> bool {
        self.outcome == Outcome::Satisfied
    }

    /// The process exit code for this result: 0 when satisfied, 1 when no configuration is.
    pub fn exit_code(&self) -> u8 {
        match self.outcome {
            Outcome::Satisfied => crate::EXIT_OK,
            Outcome::NoConfiguration => crate::EXIT_NO_SOLUTION,
        }
    }

    /// A human-readable table of the result.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let load = match self.load {
            Load::Concurrency(c) => format!("concurrency {c}"),
            Load::RequestRate(r) => format!("{r} requests/s"),
            Load::BestThroughput => "best throughput".into(),
        };
        let _ = writeln!(
            s,
            "{}: input {} / output {} tokens, {load}, objective {}, mode {}",
            self.model, self.input_len, self.output_len, self.objective, self.mode
        );
        let _ = writeln!(
            s,
            "evaluated {} candidates, {} fit in memory, {} met the SLOs",
            self.counts.evaluated, self.counts.fit, self.counts.met_slos
        );
        let fmt = |v: Option<f64>, digits: usize| {
            v.map_or_else(|| "-".to_string(), |v| format!("{v:.digits$}"))
        };
        let table = |s: &mut String, rows: &[&Configuration]| {
            let _ = writeln!(
                s,
                "  {:<58} {:>9} {:>8} {:>10} {:>10} {:>9} {:>8}",
                "configuration", "TTFT ms", "ITL ms", "tok/s", "tok/s/GPU", "$/h", "$/Mtok"
            );
            for c in rows {
                let _ = writeln!(
                    s,
                    "  {:<58} {:>9} {:>8} {:>10} {:>10} {:>9} {:>8}",
                    c.label(),
                    fmt(c.time_to_first_token_ms, 1),
                    fmt(c.inter_token_latency_ms, 2),
                    fmt(c.output_throughput_tok_s, 0),
                    fmt(c.output_throughput_tok_s_per_gpu, 0),
                    fmt(c.usd_per_hour, 2),
                    fmt(c.usd_per_million_output_tokens, 3),
                );
            }
        };
        if self.is_satisfied() {
            let rows: Vec<&Configuration> = self.configurations.iter().collect();
            table(&mut s, &rows);
            if !self.frontier.is_empty() {
                let _ = writeln!(s, "Pareto frontier (tok/s per GPU vs tok/s per user):");
                for c in &self.frontier {
                    let _ = writeln!(
                        s,
                        "  {:>8} tok/s/GPU  {:>7} tok/s/user  {}",
                        fmt(c.output_throughput_tok_s_per_gpu, 0),
                        fmt(c.output_tok_s_per_user, 1),
                        c.label()
                    );
                }
            }
        } else {
            let _ = writeln!(s, "no configuration satisfies the request");
        }
        if !self.near_misses.is_empty() {
            let _ = writeln!(s, "closest misses:");
            for m in &self.near_misses {
                let why: Vec<String> = m
                    .violations
                    .iter()
                    .map(|v| format!("{} {:.1} > limit {:.1}", v.constraint, v.actual, v.limit))
                    .map(|t| {
                        if t.starts_with("min_") {
                            t.replace(" > ", " < ")
                        } else {
                            t
                        }
                    })
                    .collect();
                let _ = writeln!(s, "  {}: {}", m.configuration.label(), why.join(", "));
            }
        }
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        if let Some(l) = &self.launch {
            let _ = writeln!(s, "launch:\n{l}");
        }
        s
    }
}

/// Resolves the model and searches with the embedded hardware catalog and engine profiles.
///
/// Errors are input errors (unknown model or GPU, invalid field); "nothing meets the SLOs" is a
/// successful [`Recommendation`] with [`Outcome::NoConfiguration`].
pub fn recommend(request: &RecommendRequest) -> Result<Recommendation, Error> {
    request.validate()?;
    let resolved = resolve_model(&request.model, &request.resolve)?;
    recommend_with(
        request,
        &resolved.arch,
        gpuplan_catalog::hardware::embedded_hardware(),
        gpuplan_catalog::profiles::embedded_profiles(),
    )
}

/// One point of the search space.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    gpu: usize,
    format: usize,
    engine: Engine,
    kv: KvDtypeChoice,
    num_gpus: u32,
    parallelism: Parallelism,
}

/// What evaluating a candidate gave.
enum Evaluated {
    NoFit,
    Met(Box<Configuration>),
    Missed(Box<Configuration>, Vec<SloViolation>),
}

struct Searcher<'a> {
    request: &'a RecommendRequest,
    slo: Slo,
    load: Load,
    gpus: Vec<&'a Gpu>,
    prices: Vec<Option<f64>>,
    checkpoint: WeightFormat,
    formats: Vec<(WeightFormat, Architecture)>,
    profiles: &'a Profiles,
    overheads: &'a MemoryOverheads,
    max_model_len: u64,
    /// The request's workload, and the rows of its length file.
    workload: Workload,
    file_rows: Vec<LengthRow>,
}

/// Searches with a resolved architecture and explicit catalogs (for front ends that load user
/// catalog or profile files).
pub fn recommend_with(
    request: &RecommendRequest,
    arch: &Architecture,
    hardware: &HardwareCatalog,
    profiles: &Profiles,
) -> Result<Recommendation, Error> {
    request.validate()?;
    let gpus: Vec<&Gpu> = if request.gpus.is_empty() {
        hardware.gpus.iter().collect()
    } else {
        let mut v: Vec<&Gpu> = Vec::new();
        for name in &request.gpus {
            let g = hardware.resolve(name)?;
            if !v.iter().any(|x| x.id == g.id) {
                v.push(g);
            }
        }
        v
    };
    let mut overrides: Vec<(&str, f64)> = Vec::new();
    for (name, usd) in &request.price {
        if !(usd.is_finite() && *usd >= 0.0) {
            return Err(invalid_request(
                "price",
                format!("{name}={usd} is not a price"),
            ));
        }
        overrides.push((hardware.resolve(name)?.id.as_str(), *usd));
    }
    let prices = gpus
        .iter()
        .map(|g| {
            overrides
                .iter()
                .find(|(id, _)| *id == g.id)
                .map(|(_, p)| *p)
                .or_else(|| hardware.price(&g.id).map(|p| p.usd_per_hour))
        })
        .collect();
    let checkpoint = arch.precision.headline(arch.is_moe());
    // One architecture per weight format, built once (not per candidate).
    let mut formats: Vec<(WeightFormat, Architecture)> = vec![(checkpoint, arch.clone())];
    for g in &gpus {
        for f in weight_formats_for(checkpoint, &request.allow_quant, g) {
            if !formats.iter().any(|(x, _)| *x == f) {
                formats.push((f, arch.with_weight_format(f)));
            }
        }
    }
    let workload = request.workload();
    let file_rows = match workload.dataset_path(None) {
        Some(path) => read_lengths(&path).map_err(|e| invalid_request(&e.field, e.message))?,
        None => Vec::new(),
    };
    // With a length distribution the engine is configured for the longest request sampled.
    let longest = if workload.fixed_lengths() {
        request.input_len.saturating_add(request.output_len)
    } else {
        workload
            .run_requests(&file_rows)
            .map_err(|e| invalid_request(&e.field, e.message))?
            .iter()
            .map(|r| r.input_len + r.output_len)
            .max()
            .unwrap_or(1)
    };
    let searcher = Searcher {
        request,
        slo: request.slo(),
        load: request.load(),
        gpus,
        prices,
        checkpoint,
        formats,
        profiles,
        overheads: memory_overheads(),
        max_model_len: request.max_model_len.unwrap_or(longest),
        workload,
        file_rows,
    };
    Ok(searcher.run())
}

impl Searcher<'_> {
    fn candidates(&self) -> Vec<Candidate> {
        let mut out = Vec::new();
        let kv_choices: &[KvDtypeChoice] = if self.request.kv_dtype.is_empty() {
            &[KvDtypeChoice::Auto]
        } else {
            &self.request.kv_dtype
        };
        for (gi, gpu) in self.gpus.iter().enumerate() {
            let allowed = weight_formats_for(self.checkpoint, &self.request.allow_quant, gpu);
            let counts = gpu_counts(gpu, self.request.max_gpus);
            for (fi, (format, arch)) in self.formats.iter().enumerate() {
                if !allowed.contains(format) {
                    continue;
                }
                // Cheapest memory bound first: the weights alone must fit on the GPUs.
                let weights = arch.weight_bytes();
                let usable = gpu.memory_bytes() * self.request.gpu_memory_utilization;
                for &engine in &self.request.engine {
                    let mut kvs: Vec<(KvDtypeChoice, KvDtype)> = Vec::new();
                    for &choice in kv_choices {
                        let kv = engine_default_kv(arch, engine, choice);
                        if !kvs.iter().any(|(_, k)| *k == kv) {
                            kvs.push((choice, kv));
                        }
                    }
                    // The largest count so far whose layouts include plain TP (no PP) and
                    // whose weights fit: pipeline-only layouts inside one scale-up domain on
                    // more GPUs than that are dominated (same node, slower, more GPUs).
                    let mut tp_count_that_fits = None;
                    for &n in &counts {
                        let fits_at_all = weights / f64::from(n) < usable;
                        let layouts = parallel_layouts(arch, gpu, n);
                        let plain_tp = layouts.iter().any(|p| p.pp == 1);
                        if !plain_tp && n <= search::max_tp(gpu) && tp_count_that_fits.is_some() {
                            continue;
                        }
                        if plain_tp && fits_at_all {
                            tp_count_that_fits = Some(n);
                        }
                        for parallelism in layouts {
                            for &(kv, _) in &kvs {
                                out.push(Candidate {
                                    gpu: gi,
                                    format: fi,
                                    engine,
                                    kv,
                                    num_gpus: if fits_at_all { n } else { 0 },
                                    parallelism,
                                });
                            }
                        }
                    }
                }
            }
        }
        out
    }

    fn spec(&self, c: &Candidate) -> DeploymentSpec<'_> {
        DeploymentSpec {
            arch: &self.formats[c.format].1,
            gpu: self.gpus[c.gpu],
            parallelism: c.parallelism,
            engine: c.engine,
            kv_dtype: c.kv,
            max_model_len: Some(self.max_model_len),
            gpu_memory_utilization: self.request.gpu_memory_utilization,
        }
    }

    fn base_configuration(
        &self,
        c: &Candidate,
        kv_dtype: KvDtype,
        kv_tokens: u64,
    ) -> Configuration {
        let gpu = self.gpus[c.gpu];
        let format = self.formats[c.format].0;
        let p = c.parallelism;
        Configuration {
            gpu: gpu.id.clone(),
            gpu_name: gpu.name.clone(),
            gpu_vendor: gpu.vendor,
            num_gpus: p.num_gpus(),
            gpus_per_replica: p.num_gpus(),
            replicas: 1,
            tp: p.tp,
            pp: p.pp,
            dp: p.dp,
            ep: p.ep,
            weight_quant: format,
            requantized: format != self.checkpoint,
            kv_dtype,
            engine: c.engine.to_string(),
            mode: ServingMode::Agg,
            disagg: None,
            max_model_len: self.max_model_len,
            kv_cache_tokens: kv_tokens,
            max_concurrent_requests: None,
            concurrency_per_replica: None,
            time_to_first_token_ms: None,
            inter_token_latency_ms: None,
            end_to_end_latency_ms: None,
            output_throughput_tok_s: None,
            output_throughput_tok_s_per_gpu: None,
            output_tok_s_per_user: None,
            requests_per_s: None,
            queue_wait_ms: None,
            ttft_ms: None,
            tpot_ms: None,
            itl_ms: None,
            e2e_ms: None,
            usd_per_hour: self.prices[c.gpu].map(|usd| usd * f64::from(p.num_gpus())),
            usd_per_million_output_tokens: None,
            headroom: Headroom::default(),
        }
    }

    /// Fills the performance fields from a load fit and judges the SLOs.
    fn finish(&self, mut cfg: Configuration, fit: &LoadFit) -> Evaluated {
        let p = &fit.point;
        cfg.replicas = fit.replicas;
        cfg.num_gpus = cfg.gpus_per_replica * fit.replicas;
        cfg.usd_per_hour = cfg
            .usd_per_hour
            .map(|per_replica| per_replica * f64::from(fit.replicas));
        cfg.concurrency_per_replica = Some(fit.concurrency_per_replica);
        cfg.time_to_first_token_ms = Some(p.time_to_first_token_ms);
        cfg.inter_token_latency_ms = Some(p.inter_token_latency_ms);
        cfg.end_to_end_latency_ms = Some(p.end_to_end_latency_ms);
        cfg.output_throughput_tok_s = Some(p.output_throughput_tok_s * f64::from(fit.replicas));
        cfg.output_throughput_tok_s_per_gpu =
            Some(p.output_throughput_tok_s * f64::from(fit.replicas) / f64::from(cfg.num_gpus));
        cfg.output_tok_s_per_user = Some(p.output_tok_s_per_user);
        cfg.requests_per_s = Some(p.requests_per_s * f64::from(fit.replicas));
        cfg.queue_wait_ms = Some(fit.queue_wait_ms);
        cfg.ttft_ms = Some(p.ttft_ms);
        cfg.tpot_ms = Some(p.tpot_ms);
        cfg.itl_ms = Some(p.itl_ms);
        cfg.e2e_ms = Some(p.e2e_ms);
        let m = cfg.metrics();
        cfg.usd_per_million_output_tokens = m.usd_per_million_output_tokens();
        cfg.headroom = self.slo.headroom(&m);
        let violations = self.slo.violations(&m);
        if violations.is_empty() {
            Evaluated::Met(Box::new(cfg))
        } else {
            Evaluated::Missed(Box::new(cfg), violations)
        }
    }

    /// A configuration whose closest point missed the SLOs even on one replica.
    fn missed_at(&self, cfg: Configuration, point: &EstimatePoint) -> Evaluated {
        let fit = LoadFit {
            replicas: 1,
            concurrency_per_replica: point.concurrency,
            point: point.clone(),
            queue_wait_ms: 0.0,
        };
        match self.finish(cfg, &fit) {
            Evaluated::Met(cfg) => {
                // The point passes SLOs on its own but the load could not be placed: report
                // the throughput constraint (the only one a bigger deployment would fix).
                let m = cfg.metrics();
                let v = SloViolation {
                    constraint: SloConstraint::MinThroughputTokS,
                    limit: self.slo.min_throughput_tok_s.unwrap_or(0.0),
                    actual: m.output_throughput_tok_s,
                    miss_factor: f64::INFINITY,
                };
                Evaluated::Missed(cfg, vec![v])
            }
            other => other,
        }
    }

    fn evaluate_agg(&self, c: &Candidate) -> Evaluated {
        if c.num_gpus == 0 {
            return Evaluated::NoFit;
        }
        let spec = self.spec(c);
        let (i, o) = (self.request.input_len, self.request.output_len);
        if !self.request.estimate_performance {
            let kv = engine_default_kv(spec.arch, spec.engine, spec.kv_dtype);
            let req = MemoryRequest {
                arch: spec.arch,
                gpu: spec.gpu,
                parallelism: spec.parallelism,
                kv_dtype: kv,
                max_model_len: self.max_model_len.max(1),
                gpu_memory_utilization: spec.gpu_memory_utilization,
                engine: spec.engine,
                engine_version: None,
            };
            return match plan_memory(&req, self.overheads) {
                Ok(plan) if plan.fits && plan.kv_cache_tokens >= i + o => Evaluated::Met(Box::new(
                    self.base_configuration(c, kv, plan.kv_cache_tokens),
                )),
                _ => Evaluated::NoFit,
            };
        }
        // The first call plans memory and estimates the concurrency the load fit asks for first
        // (saturation when only throughput matters), so no point is estimated twice.
        let first_concurrency = match self.load {
            Load::Concurrency(c) => Some(c.max(1)),
            _ if !self.slo.has_latency_limits() => None,
            _ => Some(1),
        };
        // A steady closed loop with fixed lengths is estimated analytically; a length
        // distribution (or a finite run) by simulating a run of the request's lengths at each
        // closed-loop concurrency.
        let steady = self.workload.fixed_lengths() && self.request.num_prompts.is_none();
        let estimate_at = |conc: Option<u64>| {
            if steady {
                estimate_deployment(&spec, i, o, &[conc], self.profiles, self.overheads)
            } else {
                let prompts = self
                    .request
                    .num_prompts
                    .unwrap_or_else(|| conc.map_or(1000, |c| c.saturating_mul(8).clamp(256, 4000)));
                let w = Workload {
                    max_concurrency: conc,
                    request_rate: None,
                    num_prompts: Some(prompts),
                    ..self.workload.clone()
                };
                estimate_workloads(&spec, &[w], &self.file_rows, self.profiles, self.overheads)
            }
        };
        let first = match estimate_at(first_concurrency) {
            Ok(e) => e,
            Err(_) => return Evaluated::NoFit,
        };
        let Some(p1) = first.points.first().cloned() else {
            return Evaluated::NoFit;
        };
        let mut cfg = self.base_configuration(c, first.kv_dtype, first.memory.kv_cache_tokens);
        cfg.max_concurrent_requests = Some(first.max_concurrent_requests);
        let max_seqs = self
            .profiles
            .engine(&c.engine.to_string())
            .map_or(1024.0, |e| e.max_num_seqs)
            * f64::from(c.parallelism.dp.max(1));
        let max_c = first.max_concurrent_requests.min(max_seqs).max(1.0) as u64;
        let eval = |conc: u64| -> Option<EstimatePoint> {
            if conc == p1.concurrency {
                return Some(p1.clone());
            }
            estimate_at(Some(conc))
                .ok()
                .and_then(|e| e.points.into_iter().next())
        };
        match fit_load(self.load, &self.slo, max_c, eval) {
            Ok(fit) => self.finish(cfg, &fit),
            Err(Some(point)) => self.missed_at(cfg, &point),
            Err(None) => self.missed_at(cfg, &p1),
        }
    }

    fn run(&self) -> Recommendation {
        let candidates = self.candidates();
        let mut notes = Vec::new();
        let mode = self.request.mode;
        let mut results: Vec<Evaluated> = Vec::new();
        if mode != ServingMode::Disagg {
            results = candidates
                .par_iter()
                .map(|c| self.evaluate_agg(c))
                .collect();
        }
        let mut evaluated = if mode == ServingMode::Disagg {
            0
        } else {
            candidates.len()
        };
        if mode != ServingMode::Agg {
            if self.request.estimate_performance {
                let (n, disagg) = self.evaluate_disagg(&candidates);
                evaluated += n;
                results.extend(disagg);
            } else {
                notes.push("disaggregated serving needs performance estimation; skipped".into());
            }
        }
        if !self.request.estimate_performance {
            notes.push(
                "performance estimation is off: ranked by memory fit, dollars per hour and GPU \
                 count; SLOs were not checked"
                    .into(),
            );
        }
        let mut met: Vec<Configuration> = Vec::new();
        let mut missed: Vec<(Configuration, Vec<SloViolation>)> = Vec::new();
        for r in results {
            match r {
                Evaluated::NoFit => {}
                Evaluated::Met(c) => met.push(*c),
                Evaluated::Missed(c, v) => missed.push((*c, v)),
            }
        }
        let counts = SearchCounts {
            evaluated,
            fit: met.len() + missed.len(),
            met_slos: met.len(),
        };
        if self.request.estimate_performance {
            let objective = self.request.objective;
            met.sort_by(|a, b| compare(objective, &a.metrics(), &b.metrics()));
        } else {
            met.sort_by(|a, b| {
                a.usd_per_hour
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&b.usd_per_hour.unwrap_or(f64::INFINITY))
                    .then(a.num_gpus.cmp(&b.num_gpus))
                    .then(b.kv_cache_tokens.cmp(&a.kv_cache_tokens))
            });
        }
        let frontier = if self.request.estimate_performance {
            let pool: Vec<&Configuration> = if met.is_empty() {
                missed.iter().map(|(c, _)| c).collect()
            } else {
                met.iter().collect()
            };
            let pts: Vec<(f64, f64)> = pool
                .iter()
                .map(|c| {
                    let m = c.metrics();
                    (m.output_throughput_tok_s_per_gpu, m.output_tok_s_per_user)
                })
                .collect();
            pareto_frontier(&pts)
                .into_iter()
                .map(|i| pool[i].clone())
                .collect()
        } else {
            Vec::new()
        };
        missed.sort_by(|a, b| {
            worst_miss(&a.1).total_cmp(&worst_miss(&b.1)).then(compare(
                self.request.objective,
                &a.0.metrics(),
                &b.0.metrics(),
            ))
        });
        let near_misses: Vec<NearMiss> = missed
            .into_iter()
            .take(self.request.top.max(5))
            .map(|(configuration, violations)| NearMiss {
                excluded_by: violations
                    .first()
                    .map_or(SloConstraint::MaxTtftMs, |v| v.constraint),
                configuration,
                violations,
            })
            .collect();
        if counts.fit == 0 {
            notes.push(format!(
                "nothing fits in memory within {} GPUs per replica; raise --max-gpus or allow \
                 quantized weights",
                self.request.max_gpus
            ));
        }
        met.truncate(self.request.top.max(1));
        let outcome = if met.is_empty() {
            Outcome::NoConfiguration
        } else {
            Outcome::Satisfied
        };
        let launch = match (self.request.emit, met.first()) {
            (Some(target), Some(best)) => Some(launch_command(target, &self.request.model, best)),
            _ => None,
        };
        Recommendation {
            model: self.request.model.clone(),
            input_len: self.request.input_len,
            output_len: self.request.output_len,
            load: self.load,
            slo: self.slo,
            objective: self.request.objective,
            mode,
            outcome,
            configurations: met,
            frontier,
            near_misses,
            counts,
            launch,
            notes,
        }
    }
}

/// One engine instance evaluated in the prefill role and in the decode role.
struct RoleProfile {
    candidate: Candidate,
    kv_dtype: KvDtype,
    kv_tokens: u64,
    /// TTFT of one request alone on a prefill-only instance, seconds.
    prefill_service_s: f64,
    /// Requests per second a prefill-only instance completes at saturation.
    prefill_capacity_rps: f64,
    /// Requests one decode instance holds at once (KV and scheduler limits).
    decode_capacity: f64,
}

impl Searcher<'_> {
    fn role_profile(&self, c: &Candidate) -> Option<RoleProfile> {
        if c.num_gpus == 0 {
            return None;
        }
        let spec = self.spec(c);
        let (i, o) = (self.request.input_len, self.request.output_len);
        // Prefill-only instance: output of one token, so no decode runs there.
        let prefill =
            estimate_deployment(&spec, i, 1, &[Some(1), None], self.profiles, self.overheads)
                .ok()?;
        let alone = prefill.points.first()?;
        let saturated = prefill.points.get(1)?;
        let full =
            estimate_deployment(&spec, i, o, &[Some(1)], self.profiles, self.overheads).ok()?;
        let max_seqs = self
            .profiles
            .engine(&c.engine.to_string())
            .map_or(1024.0, |e| e.max_num_seqs)
            * f64::from(c.parallelism.dp.max(1));
        Some(RoleProfile {
            candidate: *c,
            kv_dtype: full.kv_dtype,
            kv_tokens: full.memory.kv_cache_tokens,
            prefill_service_s: alone.time_to_first_token_ms / 1e3,
            prefill_capacity_rps: saturated.requests_per_s.max(1e-9),
            decode_capacity: full.max_concurrent_requests.min(max_seqs),
        })
    }

    /// Decode step time of one decode-only instance running `batch` requests (no prefill
    /// interference), seconds.
    fn decode_step_s(&self, r: &RoleProfile, batch: f64) -> Option<perf::StepTime> {
        let c = &r.candidate;
        let gpu = self.gpus[c.gpu];
        let engine = self.profiles.engine(&c.engine.to_string())?;
        let eff = self.profiles.arch(&gpu.arch)?;
        let dep = Deployment {
            arch: &self.formats[c.format].1,
            gpu,
            parallelism: c.parallelism,
            kv_dtype: r.kv_dtype,
            eff,
            engine,
        };
        let per_rank = (batch / f64::from(c.parallelism.dp.max(1))).max(1.0);
        let pp = f64::from(c.parallelism.pp.max(1));
        let i = self.request.input_len as f64;
        let o = self.request.output_len as f64;
        dep.step_time(StepShape {
            decode_seqs: (per_rank / pp).max(1.0),
            decode_context: i + o / 2.0,
            prefill_tokens: 0.0,
            prefill_context: 0.0,
            prefill_seqs: 0.0,
        })
        .ok()
    }

    /// Disaggregated candidates: for each GPU, format, KV dtype and engine, the prefill layouts
    /// with the most requests/s per GPU within the TTFT limit and the decode layouts with the
    /// most tokens/s per GPU, combined as xPyD units sized so both pools carry the same rate.
    fn evaluate_disagg(&self, candidates: &[Candidate]) -> (usize, Vec<Evaluated>) {
        let profiles: Vec<RoleProfile> = candidates
            .par_iter()
            .filter_map(|c| self.role_profile(c))
            .collect();
        let mut groups: BTreeMap<(usize, usize, String, String), Vec<&RoleProfile>> =
            BTreeMap::new();
        for r in &profiles {
            let c = &r.candidate;
            groups
                .entry((
                    c.gpu,
                    c.format,
                    c.engine.to_string(),
                    r.kv_dtype.to_string(),
                ))
                .or_default()
                .push(r);
        }
        let mut units = Vec::new();
        for group in groups.values() {
            let mut prefill: Vec<&RoleProfile> = group
                .iter()
                .copied()
                .filter(|r| {
                    self.slo
                        .max_ttft_ms
                        .is_none_or(|l| r.prefill_service_s * 1e3 <= l)
                })
                .collect();
            prefill.sort_by(|a, b| {
                let ea = a.prefill_capacity_rps / f64::from(a.candidate.num_gpus);
                let eb = b.prefill_capacity_rps / f64::from(b.candidate.num_gpus);
                eb.total_cmp(&ea)
            });
            let mut decode: Vec<(f64, &RoleProfile)> = group
                .iter()
                .filter_map(|r| {
                    let rate = self.decode_rate_within_itl(r)?;
                    Some((rate / f64::from(r.candidate.num_gpus), *r))
                })
                .collect();
            decode.sort_by(|a, b| b.0.total_cmp(&a.0));
            for p in prefill.iter().take(2) {
                for (_, d) in decode.iter().take(2) {
                    for y in [1u32, 2, 4] {
                        units.push((*p, *d, y));
                    }
                }
            }
        }
        let n = units.len();
        let results = units
            .par_iter()
            .filter_map(|(p, d, y)| self.evaluate_unit(p, d, *y))
            .collect();
        (n, results)
    }

    /// Decode requests/s of one decode instance at the largest batch within the ITL limit.
    fn decode_rate_within_itl(&self, r: &RoleProfile) -> Option<f64> {
        let o = self.request.output_len as f64;
        let mut best = None;
        let mut b = 1.0;
        while b <= r.decode_capacity.max(1.0) {
            let step = self.decode_step_s(r, b)?;
            if self.slo.max_itl_ms.is_some_and(|l| step.total_s * 1e3 > l) {
                break;
            }
            best = Some(b / (step.total_s * (o - 1.0).max(1.0)));
            b *= 2.0;
        }
        best
    }

    fn evaluate_unit(&self, p: &RoleProfile, d: &RoleProfile, y: u32) -> Option<Evaluated> {
        let o = self.request.output_len as f64;
        let i = self.request.input_len;
        let yf = f64::from(y);
        let decode_rate = self.decode_rate_within_itl(d)?;
        // Enough prefill instances to feed the decode pool at its ITL-limited rate.
        let x = ((yf * decode_rate) / p.prefill_capacity_rps)
            .ceil()
            .clamp(1.0, 64.0) as u32;
        let xf = f64::from(x);
        let gpu = self.gpus[d.candidate.gpu];
        let unit_gpus = x * p.candidate.num_gpus + y * d.candidate.num_gpus;
        // Each GPU of the prefill instance sends its shard of the KV cache in parallel.
        let kv_bytes = self.formats[d.candidate.format]
            .1
            .kv_cache_bytes_per_sequence(i, d.kv_dtype);
        let senders = f64::from(p.candidate.num_gpus.min(d.candidate.num_gpus).max(1));
        let kv_transfer_s = kv_bytes / (gpu.scale_out_gb_s_per_gpu.max(1.0) * 1e9 * senders);
        let max_c = (yf * d.decode_capacity).max(1.0) as u64;
        let eval = |c: u64| -> Option<EstimatePoint> {
            let cf = c as f64;
            let batch = cf / yf;
            if batch > d.decode_capacity.max(1.0) {
                return None;
            }
            let step = self.decode_step_s(d, batch)?;
            let itl = step.total_s;
            let mut ttft = p.prefill_service_s + kv_transfer_s;
            let mut rps = 0.0;
            let mut rho = 0.0;
            for _ in 0..30 {
                rps = cf / (ttft + (o - 1.0) * itl);
                // Prefill pool as a queue: M/M/1 wait at its utilization.
                rho = (rps / xf / p.prefill_capacity_rps).min(0.99);
                let next = p.prefill_service_s / (1.0 - rho) + kv_transfer_s;
                if (next - ttft).abs() < 1e-7 {
                    ttft = next;
                    break;
                }
                ttft = 0.5 * (ttft + next);
            }
            let e2e = ttft + (o - 1.0) * itl;
            let service_s = 1.0 / p.prefill_capacity_rps.max(1e-9);
            let base = p.prefill_service_s + kv_transfer_s;
            let ttft_p = Percentiles {
                mean: ttft,
                p50: base + mm1_wait_quantile_s(rho, service_s, 0.5),
                p90: base + mm1_wait_quantile_s(rho, service_s, 0.9),
                p99: base + mm1_wait_quantile_s(rho, service_s, 0.99),
            }
            .scaled(1e3);
            Some(EstimatePoint {
                concurrency: c,
                running_requests: cf,
                time_to_first_token_ms: ttft * 1e3,
                inter_token_latency_ms: itl * 1e3,
                end_to_end_latency_ms: e2e * 1e3,
                output_throughput_tok_s: rps * o,
                total_throughput_tok_s: rps * (o + i as f64),
                output_throughput_tok_s_per_gpu: rps * o / f64::from(unit_gpus),
                output_tok_s_per_user: 1.0 / itl,
                requests_per_s: rps,
                prefill_bound: perf::Bound::Compute,
                decode_bound: step.bound(),
                decode_step_breakdown_ms: step.into(),
                ttft_ms: ttft_p,
                tpot_ms: Percentiles::constant(itl * 1e3),
                itl_ms: Percentiles::constant(itl * 1e3),
                e2e_ms: ttft_p.shifted((o - 1.0) * itl * 1e3),
                run_duration_s: None,
            })
        };
        let mut cfg = self.base_configuration(&d.candidate, d.kv_dtype, d.kv_tokens);
        cfg.mode = ServingMode::Disagg;
        cfg.gpus_per_replica = unit_gpus;
        cfg.num_gpus = unit_gpus;
        cfg.usd_per_hour = self.prices[d.candidate.gpu].map(|usd| usd * f64::from(unit_gpus));
        cfg.max_concurrent_requests = Some(yf * d.decode_capacity);
        let pp = p.candidate.parallelism;
        cfg.disagg = Some(DisaggLayout {
            prefill_instances: x,
            decode_instances: y,
            prefill_gpus_per_instance: p.candidate.num_gpus,
            prefill_tp: pp.tp,
            prefill_pp: pp.pp,
            prefill_dp: pp.dp,
            prefill_ep: pp.ep,
            decode_gpus_per_instance: d.candidate.num_gpus,
            kv_transfer_ms: kv_transfer_s * 1e3,
        });
        Some(match fit_load(self.load, &self.slo, max_c, eval) {
            Ok(fit) => self.finish(cfg, &fit),
            Err(Some(point)) => self.missed_at(cfg, &point),
            Err(None) => return None,
        })
    }
}

/// The weight formats [`recommend`] would try for `arch` on `gpu` (the checkpoint's own first).
pub fn candidate_weight_formats(
    arch: &Architecture,
    allow_quant: &[WeightFormat],
    gpu: &Gpu,
) -> Vec<WeightFormat> {
    search::weight_formats_for(arch.precision.headline(arch.is_moe()), allow_quant, gpu)
}
