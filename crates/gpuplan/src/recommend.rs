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
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::Instant;

use gpuplan_core::hardware::{Gpu, HardwareCatalog, Vendor};
use gpuplan_core::memory::{plan_memory, Engine, MemoryOverheads, MemoryRequest, Parallelism};
use gpuplan_core::model::Architecture;
use gpuplan_core::perf::bounds::{self, BoundViolation, TransferLink};
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
use crate::launch::{plan_launch, render, EmitTarget, LaunchInputs, LaunchPlan};
use crate::resolve::{resolve_model, ResolveOptions};
use crate::workload::{read_lengths, Dataset, LengthRow, RequestRate, Workload};

/// The memory overheads the search plans with: the catalog's embedded figures.
pub(crate) fn memory_overheads() -> &'static MemoryOverheads {
    gpuplan_catalog::memory::embedded_memory_overheads()
}

/// An error for a request field that makes no sense (the CLI maps it to exit code 2).
pub(crate) fn invalid_request(field: &str, message: impl Into<String>) -> Error {
    Error::invalid_request(field, message)
}

/// The weight formats of `--allow-quant`: `native` (or its synonym `none`) for the checkpoint's
/// own format only, else a comma-separated list of formats to try besides it (`fp8,nvfp4`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowQuant(pub Vec<WeightFormat>);

impl AllowQuant {
    /// The words that mean "the checkpoint's own format only".
    pub const NATIVE: [&'static str; 2] = ["native", "none"];
}

impl std::str::FromStr for AllowQuant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut formats = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if AllowQuant::NATIVE.contains(&part.to_ascii_lowercase().as_str()) {
                continue;
            }
            let format: WeightFormat = part.parse().map_err(|e| {
                format!("{e}; or `native` (synonym `none`) for the checkpoint's own format")
            })?;
            if !formats.contains(&format) {
                formats.push(format);
            }
        }
        Ok(AllowQuant(formats))
    }
}

/// Reads `allow_quant` as a list of format names where `native` / `none` add nothing, or as
/// one comma-separated string.
pub fn deserialize_allow_quant<'de, D>(deserializer: D) -> Result<Vec<WeightFormat>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        One(String),
        Many(Vec<String>),
    }
    let text = match Given::deserialize(deserializer)? {
        Given::One(s) => s,
        Given::Many(v) => v.join(","),
    };
    text.parse::<AllowQuant>()
        .map(|a| a.0)
        .map_err(serde::de::Error::custom)
}

/// Weight formats tried, besides those asked for, only to name in a note what requantizing
/// would save (never returned).
pub const REQUANT_PROBE_WEIGHTS: [WeightFormat; 1] = [WeightFormat::Fp8];

/// KV dtypes tried, besides those asked for, only for that note.
pub const REQUANT_PROBE_KV: [KvDtypeChoice; 1] = [KvDtypeChoice::Fp8];

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
    /// `--max-gpus`: most GPUs in one replica (default 8), both pools of a disaggregated one;
    /// counts beyond one node are whole nodes.
    pub max_gpus: u32,
    /// `--allow-quant`: weight formats to try besides the checkpoint's own, where the GPU runs
    /// them natively (fp8 needs native fp8, nvfp4 / mxfp4 native fp4; int4 runs everywhere).
    /// Default: empty, `native`: the checkpoint is planned as it is (see [`AllowQuant`]); the
    /// saving requantization would bring is then named in a note.
    #[serde(deserialize_with = "deserialize_allow_quant")]
    pub allow_quant: Vec<WeightFormat>,
    /// `--kv-dtype`: KV-cache dtypes to try (default: auto, the checkpoint's own).
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
            allow_quant: Vec::new(),
            kv_dtype: vec![KvDtypeChoice::Auto],
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
        if let Some(engine) = self.emit.and_then(EmitTarget::engine) {
            if !self.engine.contains(&engine) {
                return Err(invalid_request(
                    "emit",
                    format!(
                        "--emit {engine} renders a configuration planned for {engine}, but the \
                         search plans for {}: add --engine {engine}",
                        self.engine
                            .iter()
                            .map(|e| e.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
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
    /// Nodes the prefill pool of one replica spans (shared with the decode pool when the whole
    /// replica fits one node).
    pub prefill_nodes: u32,
    /// Nodes the decode pool of one replica spans.
    pub decode_nodes: u32,
    /// The link the KV cache crosses between the pools: `scale_up` (NVLink / Infinity Fabric,
    /// when the replica fits one scale-up domain) or `scale_out` (the per-GPU NIC).
    pub kv_transfer_link: TransferLink,
    /// Bandwidth of that link per GPU and direction, GB/s (every GPU sends its KV shard over
    /// its own link).
    pub kv_transfer_gb_s_per_gpu: f64,
    /// Time to move one request's KV cache from a prefill to a decode instance over that link,
    /// milliseconds (included in TTFT): the largest per-GPU shard / the per-GPU bandwidth.
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
    /// GPUs of one replica (both pools when disaggregated).
    pub gpus_per_replica: u32,
    /// Nodes one replica spans (`gpus_per_node` GPUs each in the catalog): tensor parallelism
    /// stays inside one scale-up domain, pipeline, data and expert parallelism and the
    /// disaggregated KV transfer cross nodes over the scale-out network.
    pub nodes_per_replica: u32,
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
    /// How to launch it, for the engine it was modelled for (commands per node and role,
    /// config files, environment, caveats); see [`crate::launch`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch: Option<LaunchPlan>,
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
                " disagg {}P{}D (prefill tp{} x{} GPUs, KV over {})",
                d.prefill_instances,
                d.decode_instances,
                d.prefill_tp,
                d.prefill_gpus_per_instance,
                d.kv_transfer_link.as_str()
            );
        }
        if self.nodes_per_replica > 1 {
            let _ = write!(s, " on {} nodes", self.nodes_per_replica);
        }
        if self.replicas > 1 {
            let _ = write!(s, " x{} replicas", self.replicas);
        }
        s
    }

    /// What a configuration is without its weight format and KV dtype: GPU, GPUs per replica,
    /// replicas, layout, engine, mode and disaggregated split. Configurations with the same key
    /// are variants of one deployment.
    pub fn deployment_key(&self) -> String {
        let mut key = format!(
            "{} {}x{} tp{} pp{} dp{} ep{} {} {}",
            self.gpu,
            self.gpus_per_replica,
            self.replicas,
            self.tp,
            self.pp,
            self.dp,
            self.ep,
            self.engine,
            self.mode
        );
        if let Some(d) = &self.disagg {
            let _ = write!(
                key,
                " {}P{}D tp{} pp{} dp{} ep{}",
                d.prefill_instances,
                d.decode_instances,
                d.prefill_tp,
                d.prefill_pp,
                d.prefill_dp,
                d.prefill_ep
            );
        }
        key
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

/// The configurations of the best `top` deployments, best first, with every lower-ranked variant
/// (another weight format or KV dtype) of those deployments kept.
fn keep_top(ranked: Vec<Configuration>, top: usize) -> Vec<Configuration> {
    let mut keys: Vec<String> = Vec::new();
    let mut kept = Vec::new();
    for c in ranked {
        let key = c.deployment_key();
        if keys.contains(&key) {
            kept.push(c);
        } else if keys.len() < top {
            keys.push(key);
            kept.push(c);
        }
    }
    kept
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
    /// The checkpoint's own weight format (a configuration with `requantized` differs from it).
    pub checkpoint_weight_quant: WeightFormat,
    /// The best configurations, best first: those of the best `top` deployments (see
    /// [`Configuration::deployment_key`]), each followed by its variants in weight format or KV
    /// dtype that ranked lower (front ends may fold those into one line).
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

/// Candidates beyond which a front end should warn before searching (the CLI prints the
/// search size and shows a progress bar; the server runs the search on its heavy-work pool).
pub const LARGE_SEARCH_CANDIDATES: usize = 20_000;

/// Most candidates one search of a shared server may evaluate; larger searches are refused
/// with [`Error::SearchTooLarge`] before any work is done.
pub const SERVER_MAX_CANDIDATES: usize = 250_000;

/// Bounds on one search: how many candidates it may evaluate, by when it must end, and a flag
/// another thread sets to stop it. The default has no bounds.
///
/// The flag and the deadline are checked before each candidate, so a stopped search ends
/// within one candidate's work per thread and returns [`Error::SearchStopped`].
#[derive(Debug, Clone, Default)]
pub struct SearchControl {
    /// Refuse searches with more candidates than this ([`Error::SearchTooLarge`]).
    pub max_candidates: Option<usize>,
    /// Stop when this instant passes.
    pub deadline: Option<Instant>,
    /// Stop when this becomes true (a server sets it when the client goes away).
    pub cancel: Option<Arc<AtomicBool>>,
    /// Incremented once per candidate evaluated (for a progress bar).
    pub progress: Option<Arc<AtomicUsize>>,
}

impl SearchControl {
    /// True once the search must stop: cancelled, or past its deadline.
    pub fn should_stop(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(AtomicOrdering::Relaxed))
            || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn tick(&self) {
        if let Some(p) = &self.progress {
            p.fetch_add(1, AtomicOrdering::Relaxed);
        }
    }

    fn check(&self, evaluated: usize, total: usize) -> Result<(), Error> {
        if !self.should_stop() {
            return Ok(());
        }
        let cancelled = self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(AtomicOrdering::Relaxed));
        Err(Error::SearchStopped {
            reason: if cancelled {
                "it was cancelled"
            } else {
                "it ran past its time limit"
            },
            evaluated,
            total,
        })
    }
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
    /// Evaluated only for the requantization note (a format or KV dtype not asked for).
    probe: Probe,
}

/// Which part of a probe candidate was not asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Probe {
    weights: bool,
    kv: bool,
}

impl Probe {
    fn any(self) -> bool {
        self.weights || self.kv
    }
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
    /// Whether probe candidates are evaluated for the requantization note.
    probing: bool,
    /// Configurations whose estimate broke a physical bound (dropped; reported in a note).
    bound_drops: std::sync::atomic::AtomicUsize,
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
    recommend_controlled(request, arch, hardware, profiles, &SearchControl::default())
}

/// [`recommend_with`] within the bounds of `control`: refused when the search is larger than
/// `control.max_candidates`, stopped ([`Error::SearchStopped`]) when cancelled or past its
/// deadline.
pub fn recommend_controlled(
    request: &RecommendRequest,
    arch: &Architecture,
    hardware: &HardwareCatalog,
    profiles: &Profiles,
    control: &SearchControl,
) -> Result<Recommendation, Error> {
    let searcher = Searcher::new(request, arch, hardware, profiles)?;
    if let Some(limit) = control.max_candidates {
        if searcher.candidate_count(limit) > limit {
            return Err(Error::SearchTooLarge { limit });
        }
    }
    searcher.run(control)
}

/// How many candidates [`recommend_with`] would evaluate for this request (GPU x format x
/// engine x KV dtype x count x layout; the disaggregated pairing comes on top), without
/// evaluating any, counted up to `cap + 1` (`usize::MAX - 1` for the exact size). Cheap: front
/// ends call it to decide how to run the search.
pub fn search_size(
    request: &RecommendRequest,
    arch: &Architecture,
    hardware: &HardwareCatalog,
    profiles: &Profiles,
    cap: usize,
) -> Result<usize, Error> {
    Ok(Searcher::new(request, arch, hardware, profiles)?.candidate_count(cap))
}

impl<'a> Searcher<'a> {
    fn new(
        request: &'a RecommendRequest,
        arch: &Architecture,
        hardware: &'a HardwareCatalog,
        profiles: &'a Profiles,
    ) -> Result<Searcher<'a>, Error> {
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
        // Probing costs a second pass over the formats; only worth it when estimating
        // performance.
        let probing = request.estimate_performance;
        let mut tried = request.allow_quant.clone();
        if probing {
            tried.extend(REQUANT_PROBE_WEIGHTS);
        }
        for g in &gpus {
            for f in weight_formats_for(checkpoint, &tried, g) {
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
            probing,
            bound_drops: std::sync::atomic::AtomicUsize::new(0),
            workload,
            file_rows,
        };
        Ok(searcher)
    }
}

impl Searcher<'_> {
    fn candidates(&self) -> Vec<Candidate> {
        let mut out = Vec::new();
        self.visit_candidates(&mut |c| {
            out.push(c);
            true
        });
        out
    }

    /// Candidates of the search, counted up to `cap + 1` (enumeration stops there).
    fn candidate_count(&self, cap: usize) -> usize {
        let mut n = 0usize;
        self.visit_candidates(&mut |_| {
            n += 1;
            n <= cap
        });
        n
    }

    /// Calls `out` with every candidate, in order, until it returns false.
    fn visit_candidates(&self, out: &mut dyn FnMut(Candidate) -> bool) {
        let asked_kv: Vec<KvDtypeChoice> = if self.request.kv_dtype.is_empty() {
            vec![KvDtypeChoice::Auto]
        } else {
            self.request.kv_dtype.clone()
        };
        // The KV dtypes asked for first, so that a probe dtype equal to one of them is dropped.
        let mut kv_choices: Vec<(KvDtypeChoice, bool)> =
            asked_kv.iter().map(|&choice| (choice, false)).collect();
        if self.probing {
            for &choice in &REQUANT_PROBE_KV {
                if !asked_kv.contains(&choice) {
                    kv_choices.push((choice, true));
                }
            }
        }
        for (gi, gpu) in self.gpus.iter().enumerate() {
            let asked = weight_formats_for(self.checkpoint, &self.request.allow_quant, gpu);
            let allowed = weight_formats_for(self.checkpoint, &self.probe_formats(), gpu);
            let counts = gpu_counts(gpu, self.request.max_gpus);
            // Layouts depend on the model's shape (heads, layers, experts), not on its weight
            // format: computed once per GPU.
            let layouts_by_count: Vec<Vec<Parallelism>> = counts
                .iter()
                .map(|&n| parallel_layouts(&self.formats[0].1, gpu, n))
                .collect();
            for (fi, (format, arch)) in self.formats.iter().enumerate() {
                if !allowed.contains(format) {
                    continue;
                }
                let probe_weights = !asked.contains(format);
                // Cheapest memory bound first: the weights alone must fit on the GPUs.
                let weights = arch.weight_bytes();
                let usable = gpu.memory_bytes() * self.request.gpu_memory_utilization;
                for &engine in &self.request.engine {
                    if !self.engine_runs_on(engine, gpu) {
                        continue;
                    }
                    let mut kvs: Vec<(KvDtypeChoice, KvDtype, bool)> = Vec::new();
                    for &(choice, probe_kv) in &kv_choices {
                        let kv = engine_default_kv(arch, engine, choice);
                        if !kvs.iter().any(|(_, k, _)| *k == kv) {
                            kvs.push((choice, kv, probe_kv));
                        }
                    }
                    // The largest count so far whose layouts include plain TP (no PP) and
                    // whose weights fit: pipeline-only layouts inside one scale-up domain on
                    // more GPUs than that are dominated (same node, slower, more GPUs).
                    let mut tp_count_that_fits = None;
                    for (&n, layouts) in counts.iter().zip(&layouts_by_count) {
                        let fits_at_all = weights / f64::from(n) < usable;
                        let plain_tp = layouts.iter().any(|p| p.pp == 1);
                        if !plain_tp && n <= search::max_tp(gpu) && tp_count_that_fits.is_some() {
                            continue;
                        }
                        if plain_tp && fits_at_all {
                            tp_count_that_fits = Some(n);
                        }
                        for &parallelism in layouts {
                            for &(kv, _, probe_kv) in &kvs {
                                let more = out(Candidate {
                                    gpu: gi,
                                    format: fi,
                                    engine,
                                    kv,
                                    num_gpus: if fits_at_all { n } else { 0 },
                                    parallelism,
                                    probe: Probe {
                                        weights: probe_weights,
                                        kv: probe_kv,
                                    },
                                });
                                if !more {
                                    return;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The weight formats asked for plus, when probing, the probe formats.
    fn probe_formats(&self) -> Vec<WeightFormat> {
        let mut formats = self.request.allow_quant.clone();
        if self.probing {
            for f in REQUANT_PROBE_WEIGHTS {
                if !formats.contains(&f) {
                    formats.push(f);
                }
            }
        }
        formats
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
            nodes_per_replica: bounds::nodes_for(gpu, p.num_gpus()),
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
            launch: None,
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
        let arch = &self
            .formats
            .iter()
            .find(|(f, _)| *f == cfg.weight_quant)
            .map(|(_, a)| a);
        let gpu = self.gpus.iter().find(|g| g.id == cfg.gpu);
        if let (Some(arch), Some(gpu)) = (arch, gpu) {
            let broken = physical_bound_violations(
                &cfg,
                arch,
                gpu,
                self.profiles,
                self.request.input_len,
                self.request.output_len,
            );
            if !broken.is_empty() {
                self.bound_drops
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Evaluated::NoFit;
            }
        }
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

    /// The ranking order: the objective, or with estimation off dollars per hour, then fewest
    /// GPUs, then the largest KV cache.
    fn rank(&self, a: &Configuration, b: &Configuration) -> std::cmp::Ordering {
        if self.request.estimate_performance {
            compare(self.request.objective, &a.metrics(), &b.metrics())
        } else {
            a.usd_per_hour
                .unwrap_or(f64::INFINITY)
                .total_cmp(&b.usd_per_hour.unwrap_or(f64::INFINITY))
                .then(a.num_gpus.cmp(&b.num_gpus))
                .then(b.kv_cache_tokens.cmp(&a.kv_cache_tokens))
        }
    }

    /// What requantizing would bring, when the best probe (a format or KV dtype not asked for)
    /// ranks ahead of the best configuration returned.
    fn requant_note(
        &self,
        best: Option<&Configuration>,
        probe: Option<&(Probe, Configuration)>,
    ) -> Option<String> {
        let (probe, alt) = probe?;
        let mut changes = Vec::new();
        let mut flags = Vec::new();
        if probe.weights {
            changes.push(format!(
                "{} weights (from the checkpoint's {})",
                alt.weight_quant, self.checkpoint
            ));
            flags.push(format!("--allow-quant {}", alt.weight_quant));
        }
        if probe.kv {
            changes.push(format!("an {} KV cache", alt.kv_dtype));
            let mut kv: Vec<String> = self
                .request
                .kv_dtype
                .iter()
                .map(|k| k.as_str().to_string())
                .collect();
            kv.push(alt.kv_dtype.to_string());
            flags.push(format!("--kv-dtype {}", kv.join(",")));
        }
        let what = changes.join(" and ");
        let opt_in = flags.join(" ");
        let Some(best) = best else {
            return Some(format!(
                "nothing in the checkpoint's own format meets the request; with {what}, {} would \
                 (opt in with {opt_in})",
                alt.label()
            ));
        };
        if self.rank(alt, best) != std::cmp::Ordering::Less {
            return None;
        }
        let change = |from: f64, to: f64| {
            let pct = (to / from - 1.0) * 100.0;
            format!("{pct:+.0}%")
        };
        let saving = match self.request.objective {
            _ if !self.request.estimate_performance => {
                let (a, b) = (best.usd_per_hour?, alt.usd_per_hour?);
                format!("${a:.2}/h to ${b:.2}/h ({})", change(a, b))
            }
            Objective::Cost => match (
                best.usd_per_million_output_tokens,
                alt.usd_per_million_output_tokens,
            ) {
                (Some(a), Some(b)) => {
                    format!(
                        "${a:.3} to ${b:.3} per million output tokens ({})",
                        change(a, b)
                    )
                }
                _ => {
                    let (a, b) = (
                        best.output_throughput_tok_s_per_gpu?,
                        alt.output_throughput_tok_s_per_gpu?,
                    );
                    format!("{a:.0} to {b:.0} output tok/s per GPU ({})", change(a, b))
                }
            },
            Objective::Throughput => {
                let (a, b) = (
                    best.output_throughput_tok_s_per_gpu?,
                    alt.output_throughput_tok_s_per_gpu?,
                );
                format!("{a:.0} to {b:.0} output tok/s per GPU ({})", change(a, b))
            }
            Objective::Latency => {
                let (a, b) = (best.end_to_end_latency_ms?, alt.end_to_end_latency_ms?);
                format!(
                    "{a:.0} ms to {b:.0} ms end-to-end latency ({})",
                    change(a, b)
                )
            }
        };
        Some(format!(
            "planned in the checkpoint's own format; {what} would take the best from {saving}: {} \
             (opt in with {opt_in})",
            alt.label()
        ))
    }

    /// Names the GPUs without a price that had a configuration fit, when ranking by cost.
    fn unpriced_note(
        &self,
        met: &[Configuration],
        missed: &[(Configuration, Vec<SloViolation>)],
    ) -> Option<String> {
        let by_cost =
            self.request.objective == Objective::Cost || !self.request.estimate_performance;
        if !by_cost {
            return None;
        }
        let mut unpriced: Vec<&str> = Vec::new();
        for c in met.iter().chain(missed.iter().map(|(c, _)| c)) {
            if c.usd_per_hour.is_none() && !unpriced.contains(&c.gpu.as_str()) {
                unpriced.push(&c.gpu);
            }
        }
        if unpriced.is_empty() {
            return None;
        }
        Some(format!(
            "no price for {}: ranked last by cost; give one with --price GPU=USD_PER_HOUR or a \
             catalog file",
            unpriced.join(", ")
        ))
    }

    fn run(&self, control: &SearchControl) -> Result<Recommendation, Error> {
        let candidates = self.candidates();
        let total = candidates.len();
        let mut notes = Vec::new();
        let mode = self.request.mode;
        let mut results: Vec<(Probe, Evaluated)> = Vec::new();
        if mode != ServingMode::Disagg {
            results = candidates
                .par_iter()
                .map(|c| {
                    if control.should_stop() {
                        return (c.probe, Evaluated::NoFit);
                    }
                    let e = self.evaluate_agg(c);
                    control.tick();
                    (c.probe, e)
                })
                .filter(|(_, e)| !matches!(e, Evaluated::NoFit))
                .collect();
            control.check(total, total)?;
        }
        let mut evaluated = if mode == ServingMode::Disagg {
            0
        } else {
            candidates.iter().filter(|c| !c.probe.any()).count()
        };
        if mode != ServingMode::Agg {
            if self.request.estimate_performance {
                let (n, disagg) = self.evaluate_disagg(&candidates, control);
                control.check(evaluated + n, total)?;
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
        let mut probes: Vec<(Probe, Configuration)> = Vec::new();
        for (probe, r) in results {
            match r {
                Evaluated::NoFit => {}
                Evaluated::Met(c) if probe.any() => probes.push((probe, *c)),
                Evaluated::Missed(..) if probe.any() => {}
                Evaluated::Met(c) => met.push(*c),
                Evaluated::Missed(c, v) => missed.push((*c, v)),
            }
        }
        let counts = SearchCounts {
            evaluated,
            fit: met.len() + missed.len(),
            met_slos: met.len(),
        };
        met.sort_by(|a, b| self.rank(a, b));
        probes.sort_by(|a, b| self.rank(&a.1, &b.1));
        if let Some(note) = self.requant_note(met.first(), probes.first()) {
            notes.push(note);
        }
        if let Some(note) = self.unpriced_note(&met, &missed) {
            notes.push(note);
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
        let drops = self.bound_drops.load(std::sync::atomic::Ordering::Relaxed);
        if drops > 0 {
            notes.push(format!(
                "{drops} configuration(s) dropped: their estimate broke a physical bound \
                 (docs/estimation.md, \"Physical bounds\")"
            ));
        }
        if counts.fit == 0 {
            notes.push(format!(
                "nothing fits in memory within {} GPUs per replica; raise --max-gpus or allow \
                 quantized weights",
                self.request.max_gpus
            ));
        }
        let mut met = keep_top(met, self.request.top.max(1));
        let outcome = if met.is_empty() {
            Outcome::NoConfiguration
        } else {
            Outcome::Satisfied
        };
        for &engine in &self.request.engine {
            let skipped: Vec<&str> = self
                .gpus
                .iter()
                .filter(|g| !self.engine_runs_on(engine, g))
                .map(|g| g.name.as_str())
                .collect();
            if !skipped.is_empty() {
                notes.push(format!(
                    "{engine} does not run on {}; not planned there",
                    skipped.join(", ")
                ));
            }
        }
        let mut frontier = frontier;
        let mut near_misses = near_misses;
        for cfg in met
            .iter_mut()
            .chain(frontier.iter_mut())
            .chain(near_misses.iter_mut().map(|m| &mut m.configuration))
        {
            cfg.launch = self.launch_plan(cfg);
        }
        let mut launch = None;
        if let Some(target) = self.request.emit {
            // The best configuration planned for the engine asked for (manifests: the best).
            let best = met
                .iter()
                .find(|c| target.engine().is_none_or(|e| c.engine == e.as_str()));
            if let Some(plan) = best.and_then(|c| c.launch.as_ref()) {
                match render(target, plan) {
                    Ok(text) => launch = Some(text),
                    Err(e) => notes.push(format!("--emit {target}: {e}")),
                }
            }
        }
        Ok(Recommendation {
            model: self.request.model.clone(),
            input_len: self.request.input_len,
            output_len: self.request.output_len,
            load: self.load,
            slo: self.slo,
            objective: self.request.objective,
            mode,
            outcome,
            checkpoint_weight_quant: self.checkpoint,
            configurations: met,
            frontier,
            near_misses,
            counts,
            launch,
            notes,
        })
    }
}

impl Searcher<'_> {
    /// Whether `engine` runs on `gpu` (the engine profile's `vendors`).
    fn engine_runs_on(&self, engine: Engine, gpu: &Gpu) -> bool {
        self.profiles
            .engine(engine.as_str())
            .is_none_or(|p| p.runs_on(gpu.vendor))
    }

    /// The launch plan of a configuration (None when its layout cannot be launched as planned).
    fn launch_plan(&self, cfg: &Configuration) -> Option<LaunchPlan> {
        let gpu = self.gpus.iter().find(|g| g.id == cfg.gpu)?;
        let profile = self.profiles.engine(&cfg.engine);
        let weights_gib = self.formats[0].1.weight_bytes() / f64::from(1u32 << 30);
        let inputs = LaunchInputs {
            model: self.request.model.clone(),
            checkpoint: self.checkpoint,
            gpus_per_node: gpu.gpus_per_node,
            gpu_memory_utilization: self.request.gpu_memory_utilization,
            max_num_seqs: profile.map_or(1024.0, |p| p.max_num_seqs) as u32,
            max_num_batched_tokens: profile.map_or(8192.0, |p| p.max_num_batched_tokens) as u32,
            // Room for the tokenizer, configs and a second revision.
            model_cache_gib: (weights_gib * 1.2 + 10.0).ceil() as u32,
        };
        plan_launch(cfg, &inputs).ok()
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
        let engine = self.profiles.engine(&c.engine.to_string())?;
        let max_seqs = engine.max_num_seqs * f64::from(c.parallelism.dp.max(1));
        // Prefill supply at the chunked-prefill token budget: every step full of prompt tokens
        // (on every attention-DP rank), timed by the estimator (so at its GEMM efficiency).
        let dep = self.deployment(c, full.kv_dtype)?;
        let budget = engine.max_num_batched_tokens.max(1.0);
        let i_f = i as f64;
        let full_step = dep
            .step_time(StepShape {
                decode_seqs: 0.0,
                decode_context: 0.0,
                prefill_tokens: budget,
                prefill_context: i_f / 2.0,
                prefill_seqs: budget / i_f,
            })
            .ok()?;
        let chunked_rps =
            budget / i_f / full_step.total_s.max(1e-12) * f64::from(c.parallelism.dp.max(1));
        Some(RoleProfile {
            candidate: *c,
            kv_dtype: full.kv_dtype,
            kv_tokens: full.memory.kv_cache_tokens,
            prefill_service_s: alone.time_to_first_token_ms / 1e3,
            prefill_capacity_rps: saturated.requests_per_s.min(chunked_rps).max(1e-9),
            decode_capacity: full.max_concurrent_requests.min(max_seqs),
        })
    }

    fn deployment(&self, c: &Candidate, kv_dtype: KvDtype) -> Option<Deployment<'_>> {
        let gpu = self.gpus[c.gpu];
        Some(Deployment {
            arch: &self.formats[c.format].1,
            gpu,
            parallelism: c.parallelism,
            kv_dtype,
            eff: self.profiles.arch(&gpu.arch)?,
            engine: self.profiles.engine(&c.engine.to_string())?,
        })
    }

    /// Decode step time of one decode-only instance running `batch` requests (no prefill
    /// interference), seconds.
    fn decode_step_s(&self, r: &RoleProfile, batch: f64) -> Option<perf::StepTime> {
        let c = &r.candidate;
        let dep = self.deployment(c, r.kv_dtype)?;
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
    fn evaluate_disagg(
        &self,
        candidates: &[Candidate],
        control: &SearchControl,
    ) -> (usize, Vec<(Probe, Evaluated)>) {
        let profiles: Vec<RoleProfile> = candidates
            .par_iter()
            .filter_map(|c| {
                if control.should_stop() {
                    return None;
                }
                let r = self.role_profile(c);
                control.tick();
                r
            })
            .collect();
        if control.should_stop() {
            return (0, Vec::new());
        }
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
            // --max-gpus bounds one replica: both pools together.
            let max_gpus = self.request.max_gpus;
            for p in prefill.iter().take(2) {
                for (_, d) in decode.iter().take(2) {
                    for y in [1u32, 2, 4, 8] {
                        if p.candidate.num_gpus + y * d.candidate.num_gpus <= max_gpus {
                            units.push((*p, *d, y));
                        }
                    }
                }
            }
        }
        let n = units
            .iter()
            .filter(|(_, d, _)| !d.candidate.probe.any())
            .count();
        let results = units
            .par_iter()
            .filter_map(|(p, d, y)| {
                if control.should_stop() {
                    return None;
                }
                Some((d.candidate.probe, self.evaluate_unit(p, d, *y)?))
            })
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
        let (pg, dg) = (p.candidate.num_gpus, d.candidate.num_gpus);
        // Enough prefill instances to feed the decode pool at its ITL-limited rate (xPyD
        // balanced), as many as fit beside the decode pool within --max-gpus.
        let room = (self.request.max_gpus.saturating_sub(y * dg) / pg.max(1)).max(1);
        let x = (((yf * decode_rate) / p.prefill_capacity_rps)
            .ceil()
            .max(1.0) as u32)
            .min(room);
        let xf = f64::from(x);
        let gpu = self.gpus[d.candidate.gpu];
        let unit_gpus = x * pg + y * dg;
        // The KV cache crosses NVLink when the replica fits one scale-up domain, else each GPU
        // sends its shard over its own scale-out NIC: the largest shard on either side sets
        // the time.
        let (link, link_bytes_per_s) = bounds::link_between(gpu, unit_gpus);
        let p_dep = self.deployment(&p.candidate, p.kv_dtype)?;
        let d_dep = self.deployment(&d.candidate, d.kv_dtype)?;
        let shard = p_dep
            .kv_bytes_per_gpu(i, d.kv_dtype)
            .max(d_dep.kv_bytes_per_gpu(i, d.kv_dtype));
        let kv_transfer_s = bounds::transfer_floor_s(shard, link_bytes_per_s);
        let supply = xf * p.prefill_capacity_rps;
        let max_c = (yf * d.decode_capacity).max(1.0) as u64;
        let eval = |c: u64| -> Option<EstimatePoint> {
            let cf = c as f64;
            let batch = cf / yf;
            if batch > d.decode_capacity.max(1.0) {
                return None;
            }
            let step = self.decode_step_s(d, batch)?;
            let itl = step.total_s;
            // TTFT = prefill queue + prefill + KV transfer + the first decode step.
            let base = p.prefill_service_s + kv_transfer_s + itl;
            let mut ttft = base;
            let mut rho = 0.0;
            for _ in 0..30 {
                let rps = cf / (ttft + (o - 1.0) * itl);
                // Prefill pool as a queue: M/M/1 wait at its utilization.
                rho = (rps / supply).min(0.99);
                let next = base + p.prefill_service_s * rho / (1.0 - rho);
                if (next - ttft).abs() < 1e-7 {
                    ttft = next;
                    break;
                }
                ttft = 0.5 * (ttft + next);
            }
            let mut rps = cf / (ttft + (o - 1.0) * itl);
            if rps > supply {
                // The prefill pool cannot keep up: requests wait for it (Little's law).
                rps = supply;
                ttft = cf / rps - (o - 1.0) * itl;
            }
            let e2e = ttft + (o - 1.0) * itl;
            let service_s = 1.0 / p.prefill_capacity_rps.max(1e-9);
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
        cfg.nodes_per_replica = bounds::nodes_for(gpu, unit_gpus);
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
            prefill_nodes: bounds::nodes_for(gpu, x * pg),
            decode_nodes: bounds::nodes_for(gpu, y * dg),
            kv_transfer_link: link,
            kv_transfer_gb_s_per_gpu: link_bytes_per_s / 1e9,
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

/// The physical bounds (`gpuplan_core::perf::bounds`) a configuration breaks, at the request's
/// `input_len`/`output_len`; empty when it is physically possible. `arch` is the model at the
/// configuration's weight format. The search drops any configuration this flags (and says so in
/// a note), so every recommended configuration passes it.
///
/// Checked per replica: prefill no faster than its FLOPs at the best GEMM rate, decode steps no
/// faster than their bytes at the best HBM bandwidth, the prefill and decode work of one second
/// within one second of each GPU (the prefill pool's GPUs when disaggregated), the KV transfer no
/// faster than its link, and Little's law on the requests in flight (closed loops).
pub fn physical_bound_violations(
    cfg: &Configuration,
    arch: &Architecture,
    gpu: &Gpu,
    profiles: &Profiles,
    input_len: u64,
    output_len: u64,
) -> Vec<BoundViolation> {
    let (Some(eff), Some(engine)) = (profiles.arch(&gpu.arch), profiles.engine(&cfg.engine)) else {
        return Vec::new();
    };
    let (Some(ttft_ms), Some(itl_ms), Some(e2e_ms), Some(rps), Some(conc)) = (
        cfg.time_to_first_token_ms,
        cfg.inter_token_latency_ms,
        cfg.end_to_end_latency_ms,
        cfg.requests_per_s,
        cfg.concurrency_per_replica,
    ) else {
        return Vec::new();
    };
    let replicas = f64::from(cfg.replicas.max(1));
    let rps = rps / replicas;
    let dep = Deployment {
        arch,
        gpu,
        parallelism: cfg.parallelism(),
        kv_dtype: cfg.kv_dtype,
        eff,
        engine,
    };
    let o = output_len as f64;
    let closed_loop = cfg.queue_wait_ms.unwrap_or(0.0) <= 0.0;
    let running = (conc as f64).min(cfg.max_concurrent_requests.unwrap_or(f64::INFINITY));
    let point = EstimatePoint {
        concurrency: conc,
        running_requests: running,
        time_to_first_token_ms: ttft_ms,
        inter_token_latency_ms: itl_ms,
        end_to_end_latency_ms: e2e_ms,
        output_throughput_tok_s: rps * o,
        total_throughput_tok_s: rps * (o + input_len as f64),
        output_throughput_tok_s_per_gpu: rps * o / f64::from(cfg.gpus_per_replica.max(1)),
        output_tok_s_per_user: 1e3 / itl_ms,
        requests_per_s: rps,
        prefill_bound: perf::Bound::Compute,
        decode_bound: perf::Bound::Memory,
        decode_step_breakdown_ms: perf::StepBreakdownMs {
            total_ms: itl_ms,
            compute_ms: 0.0,
            memory_ms: 0.0,
            communication_ms: 0.0,
            overhead_ms: 0.0,
        },
        ttft_ms: Percentiles::constant(ttft_ms),
        tpot_ms: Percentiles::constant(itl_ms),
        itl_ms: Percentiles::constant(itl_ms),
        e2e_ms: Percentiles::constant(e2e_ms),
        run_duration_s: None,
    };
    let Some(d) = &cfg.disagg else {
        let mut v = bounds::check_point(&dep, input_len, output_len, &point);
        if !closed_loop {
            v.retain(|b| b.bound != bounds::BoundKind::LittlesLaw);
        }
        return v;
    };
    let mut v = Vec::new();
    let slack = 1.0 + bounds::TOLERANCE;
    let p_dep = Deployment {
        parallelism: Parallelism {
            tp: d.prefill_tp,
            pp: d.prefill_pp,
            dp: d.prefill_dp,
            ep: d.prefill_ep,
        },
        ..dep
    };
    let i = input_len as f64;
    let prefill = p_dep.prefill_floor(i, i / 2.0);
    // KV transfer: the largest per-GPU shard over the link's per-GPU bandwidth.
    let shard = p_dep
        .kv_bytes_per_gpu(input_len, cfg.kv_dtype)
        .max(dep.kv_bytes_per_gpu(input_len, cfg.kv_dtype));
    let (_, link_bw) = bounds::link_between(gpu, cfg.gpus_per_replica);
    let kv_floor = bounds::transfer_floor_s(shard, link_bw);
    if d.kv_transfer_ms * 1e-3 * slack < kv_floor {
        v.push(BoundViolation {
            bound: bounds::BoundKind::Transfer,
            actual: d.kv_transfer_ms * 1e-3,
            limit: kv_floor,
        });
    }
    let ttft = ttft_ms * 1e-3;
    if ttft * slack < prefill.total_s() + kv_floor {
        v.push(BoundViolation {
            bound: bounds::BoundKind::PrefillCompute,
            actual: ttft,
            limit: prefill.total_s() + kv_floor,
        });
    }
    // Prefill pool: each instance's share of the requests within its GPUs' time.
    let per_instance = rps / f64::from(d.prefill_instances.max(1));
    let ranks = f64::from(d.prefill_dp.max(1));
    let busy = per_instance / ranks * prefill.per_rank_s + per_instance * prefill.shared_s;
    if busy > slack {
        v.push(BoundViolation {
            bound: bounds::BoundKind::GpuTime,
            actual: busy,
            limit: 1.0,
        });
    }
    // Decode pool: a step reads at least the bytes of its batch.
    let per_rank = running / f64::from(d.decode_instances.max(1)) / f64::from(cfg.dp.max(1));
    let decode_floor =
        dep.decode_floor_s((per_rank / f64::from(cfg.pp.max(1))).max(1.0), i + o / 2.0);
    if output_len > 1 && itl_ms * 1e-3 * slack < decode_floor {
        v.push(BoundViolation {
            bound: bounds::BoundKind::DecodeBandwidth,
            actual: itl_ms * 1e-3,
            limit: decode_floor,
        });
    }
    if closed_loop && rps * e2e_ms * 1e-3 > conc as f64 * slack + 1e-9 {
        v.push(BoundViolation {
            bound: bounds::BoundKind::LittlesLaw,
            actual: rps * e2e_ms * 1e-3,
            limit: conc as f64,
        });
    }
    v
}
