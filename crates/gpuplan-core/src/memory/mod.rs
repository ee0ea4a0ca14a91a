//! Memory planner: how an inference engine splits one GPU's memory between weights, activations,
//! runtime buffers and the KV cache, and how many tokens and requests that KV cache holds.
//!
//! The arithmetic is pure; the overhead constants (activation peak, non-torch buffers, CUDA-graph
//! memory, default memory fractions, block sizes) come in as data ([`MemoryOverheads`], parsed by
//! `gpuplan-catalog` from `memory_overheads.toml`, each value with its source and the engine
//! versions it holds for).
//!
//! How the engines size their KV pool (per GPU, `M` = device memory as the runtime reports it):
//! - vLLM: `M * gpu_memory_utilization - weights - activation_peak - non_torch`; CUDA graphs are
//!   captured after the pool is sized and come out of the `1 - utilization` headroom.
//! - SGLang: `M * mem_fraction_static - weights - non_torch`; activations and CUDA graphs live in
//!   the `1 - mem_fraction_static` remainder.
//! - TensorRT-LLM: `kv_cache_free_gpu_memory_fraction * (M - weights - activation - buffers)`.
//!
//! The single knob [`MemoryRequest::gpu_memory_utilization`] is each engine's own fraction.

mod overheads;
mod parallel;
#[cfg(test)]
mod tests;

pub use overheads::{
    EngineOverheads, EngineVersion, KvPoolRule, MemoryOverheads, OverheadRule, VersionError,
};
pub use parallel::{Parallelism, ParallelismError};

use crate::hardware::{Gpu, BYTES_PER_GIB};
use crate::model::{Architecture, AttentionSpan, Ffn, Layer, Mixer, TensorClass};
use crate::quant::{KvDtype, WeightFormat};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A serving engine whose memory rules the planner knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// vLLM (V1 engine).
    Vllm,
    /// SGLang.
    Sglang,
    /// TensorRT-LLM (PyTorch backend).
    Trtllm,
}

impl Engine {
    /// Every engine.
    pub const ALL: [Engine; 3] = [Engine::Vllm, Engine::Sglang, Engine::Trtllm];

    /// Canonical lower-case name (`vllm`, `sglang`, `trtllm`).
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Vllm => "vllm",
            Engine::Sglang => "sglang",
            Engine::Trtllm => "trtllm",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an unknown engine name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown engine '{0}'; expected one of: vllm, sglang, trtllm")]
pub struct UnknownEngine(pub String);

impl FromStr for Engine {
    type Err = UnknownEngine;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '_', ' '], "")
            .as_str()
        {
            "vllm" => Ok(Engine::Vllm),
            "sglang" => Ok(Engine::Sglang),
            "trtllm" | "tensorrtllm" | "tensorrt" => Ok(Engine::Trtllm),
            _ => Err(UnknownEngine(s.to_string())),
        }
    }
}

/// Everything the memory plan depends on.
#[derive(Debug, Clone)]
pub struct MemoryRequest<'a> {
    /// The model (its `precision` says how weights are stored).
    pub arch: &'a Architecture,
    /// The GPU (every GPU of the deployment is of this kind).
    pub gpu: &'a Gpu,
    /// Tensor, pipeline, data and expert parallelism.
    pub parallelism: Parallelism,
    /// Element type of the KV cache.
    pub kv_dtype: KvDtype,
    /// Longest sequence (prompt + output) one request may have, in tokens.
    pub max_model_len: u64,
    /// The engine's memory fraction in (0, 1]: vLLM `gpu_memory_utilization` (default 0.9),
    /// SGLang `mem_fraction_static`, TensorRT-LLM `kv_cache_free_gpu_memory_fraction` (0.9).
    /// [`MemoryOverheads::default_memory_fraction`] gives each engine's default.
    pub gpu_memory_utilization: f64,
    /// Serving engine.
    pub engine: Engine,
    /// Engine version such as "0.19.0" (None: the newest version the overhead data describes).
    pub engine_version: Option<String>,
}

/// KV bytes per cached token of the layers sharing one look-back span, on one GPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KvSpanBytes {
    /// How far back these layers look.
    pub span: AttentionSpan,
    /// Bytes per cached token of all these layers together, on one GPU.
    pub bytes_per_cached_token: f64,
}

/// The KV cache of one pipeline stage, as one GPU of that stage stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageMemory {
    /// Pipeline stage index (0 = first).
    pub stage: u32,
    /// Decoder layers on this stage.
    pub num_layers: u32,
    /// Weights on one GPU of this stage, GiB.
    pub weights_gib: f64,
    /// KV pool on one GPU of this stage, GiB (0 when weights and overheads leave no room).
    pub kv_pool_gib: f64,
    /// How far weights and overheads alone exceed the engine's budget on one GPU of this
    /// stage, GiB (0 when they fit; then the rest is the KV pool).
    pub kv_pool_shortfall_gib: f64,
    /// KV bytes per token if every caching layer kept every token (what vLLM divides the pool by
    /// to report "GPU KV cache size"), on one GPU.
    pub kv_cache_bytes_per_token: f64,
    /// Per-token KV bytes grouped by look-back span, on one GPU.
    pub kv_by_span: Vec<KvSpanBytes>,
    /// Fixed recurrent state (Mamba / linear attention) per request, bytes on one GPU.
    pub state_bytes_per_request: f64,
}

impl StageMemory {
    /// KV bytes one request of `context` tokens holds on one GPU of this stage, every layer's
    /// cached tokens rounded up to whole blocks of `block_size` tokens.
    pub fn kv_bytes_per_request(&self, context: u64, block_size: u32) -> f64 {
        let block = f64::from(block_size.max(1));
        let ctx = context as f64;
        self.kv_by_span
            .iter()
            .map(|s| {
                let cached = (s.span.cached_tokens(ctx) / block).ceil() * block;
                s.bytes_per_cached_token * cached
            })
            .sum::<f64>()
            + self.state_bytes_per_request
    }
}

/// Per-GPU memory plan of one deployment. Every `_gib` is GiB (2^30 bytes) on one GPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryPlan {
    /// Engine the plan is for.
    pub engine: Engine,
    /// Engine version whose overhead constants were used.
    pub engine_version: String,
    /// Parallelism the plan is for.
    pub parallelism: Parallelism,
    /// KV-cache element type.
    pub kv_dtype: KvDtype,
    /// Device memory as the runtime reports it.
    pub gpu_memory_gib: f64,
    /// The engine memory fraction used (see [`MemoryRequest::gpu_memory_utilization`]).
    pub gpu_memory_utilization: f64,
    /// Memory the engine plans to use: weights + activation + non-torch + KV pool (+ CUDA graphs
    /// where the engine subtracts them first).
    pub usable_gib: f64,
    /// Memory left unused by design (`gpu_memory_gib - usable_gib`); vLLM's CUDA graphs live here.
    pub free_gib_per_gpu: f64,
    /// Weights on the GPU of the largest pipeline stage.
    pub weights_gib_per_gpu: f64,
    /// Weight bytes per tensor class on the GPU of the largest pipeline stage.
    pub weight_bytes_per_gpu_by_class: BTreeMap<TensorClass, f64>,
    /// Peak activation memory of the profiling forward pass.
    pub activation_gib_per_gpu: f64,
    /// Memory outside the torch allocator: NCCL / custom all-reduce buffers, CUDA context growth.
    pub non_torch_gib_per_gpu: f64,
    /// CUDA-graph memory (vLLM and SGLang: not taken from the KV pool; TRT-LLM: taken first).
    pub cuda_graph_gib_per_gpu: f64,
    /// KV-cache pool on the GPU of the largest pipeline stage (0 when nothing is left).
    pub kv_cache_gib_per_gpu: f64,
    /// KV bytes one token takes on one GPU, as every caching layer of the stage stores it
    /// (KV heads split by TP, replicated when TP exceeds them; MLA latent on every TP rank).
    pub kv_cache_bytes_per_token: f64,
    /// Tokens the KV cache of one engine instance (one DP replica) holds, rounded down to whole
    /// blocks: vLLM's "GPU KV cache size: N tokens". 0 when no layer caches per-token KV.
    pub kv_cache_tokens: u64,
    /// Tokens per KV block (vLLM 16, SGLang 1, TensorRT-LLM 32).
    pub kv_block_size: u32,
    /// Requests of `max_model_len` tokens the KV cache holds at once, per engine instance:
    /// vLLM's "Maximum concurrency for L tokens per request: X".
    pub max_concurrent_requests: f64,
    /// The requested maximum sequence length, tokens.
    pub max_model_len: u64,
    /// Longest sequence one request can have with this KV pool (capped at the model's
    /// `max_position_embeddings`), tokens.
    pub max_model_len_fit: u64,
    /// True when weights and overheads fit and one request of `max_model_len` fits the KV pool.
    pub fits: bool,
    /// Memory missing per GPU for one request of `max_model_len`, GiB (0 when it fits).
    pub shortfall_gib: f64,
    /// When it does not fit: how much is missing and what would fix it.
    pub advice: Vec<String>,
    /// Each pipeline stage (one entry without PP).
    pub stages: Vec<StageMemory>,
    /// Assumptions and caveats.
    pub notes: Vec<String>,
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MemoryError {
    /// The parallelism breaks a rule.
    #[error(transparent)]
    Parallelism(#[from] ParallelismError),
    /// A request value is out of range.
    #[error("invalid {field}: {reason}")]
    InvalidRequest {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The engine version string could not be read.
    #[error(transparent)]
    Version(#[from] VersionError),
    /// The overhead data has no entry that applies.
    #[error("memory overhead data: {0}")]
    Overheads(String),
}

/// How many requests of `context_len` tokens the plan's KV cache holds at once, per engine
/// instance (fractional, like vLLM's "Maximum concurrency"); 0 when the pool is empty, infinite
/// when the model caches nothing per request.
pub fn kv_capacity_requests(plan: &MemoryPlan, context_len: u64) -> f64 {
    plan.stages
        .iter()
        .map(|s| {
            let pool = rounded_pool_bytes(s, plan.kv_block_size);
            let need = s.kv_bytes_per_request(context_len, plan.kv_block_size);
            if pool <= 0.0 {
                0.0
            } else if need <= 0.0 {
                f64::INFINITY
            } else {
                pool / need
            }
        })
        .fold(f64::INFINITY, f64::min)
}

/// The stage's pool rounded down to whole blocks (of all its caching layers).
fn rounded_pool_bytes(s: &StageMemory, block_size: u32) -> f64 {
    let pool = s.kv_pool_gib * BYTES_PER_GIB;
    if pool <= 0.0 {
        return 0.0;
    }
    let block_bytes = s.kv_cache_bytes_per_token * f64::from(block_size.max(1));
    if block_bytes <= 0.0 {
        return pool;
    }
    (pool / block_bytes).floor() * block_bytes
}

/// Plans one GPU's memory for a deployment.
///
/// Errors: invalid parallelism (naming the rule and the valid values), out-of-range request
/// values, an unreadable engine version, or overhead data with no applicable entry. Never panics.
pub fn plan_memory(
    req: &MemoryRequest,
    overheads: &MemoryOverheads,
) -> Result<MemoryPlan, MemoryError> {
    let mut plan = plan_without_advice(req, overheads)?;
    if !plan.fits {
        plan.advice = advise(req, overheads, &plan);
    }
    Ok(plan)
}

fn check_request(req: &MemoryRequest) -> Result<(), MemoryError> {
    let invalid = |field, reason: String| Err(MemoryError::InvalidRequest { field, reason });
    let u = req.gpu_memory_utilization;
    if !(u.is_finite() && u > 0.0 && u <= 1.0) {
        return invalid(
            "gpu_memory_utilization",
            format!("must be in (0, 1], got {u}"),
        );
    }
    if req.max_model_len == 0 {
        return invalid("max_model_len", "must be at least 1 token".into());
    }
    let m = req.gpu.memory_gib;
    if !(m.is_finite() && m > 0.0) {
        return invalid(
            "gpu.memory_gib",
            format!("must be positive, got {m} ({})", req.gpu.id),
        );
    }
    if req.arch.layers.is_empty() {
        return invalid("arch", format!("{} has no decoder layers", req.arch.name));
    }
    Ok(())
}

fn plan_without_advice(
    req: &MemoryRequest,
    overheads: &MemoryOverheads,
) -> Result<MemoryPlan, MemoryError> {
    check_request(req)?;
    let par = req.parallelism;
    par.validate(req.arch, par.num_gpus())?;
    let profile = overheads
        .engine(req.engine)
        .ok_or_else(|| MemoryError::Overheads(format!("no entry for engine '{}'", req.engine)))?;
    let version = match &req.engine_version {
        Some(v) => EngineVersion::parse(v)?,
        None => EngineVersion::parse(&profile.default_version)?,
    };
    let arch = req.arch;
    let moe = arch.is_moe();
    let model_type = normalized_model_type(&arch.model_type);
    let mut notes = Vec::new();

    let activation_rule = profile
        .activation_gib
        .iter()
        .find(|r| r.matches(&version, &model_type, moe, par, req.gpu.memory_gib))
        .ok_or_else(|| missing("activation_gib", req.engine, &version))?;
    let pp_scale = profile
        .activation_pp_scale
        .iter()
        .find(|r| r.matches(&version, &model_type, moe, par, req.gpu.memory_gib))
        .map_or(1.0, |r| r.value);
    let activation_gib = activation_rule.value * pp_scale;
    if activation_rule.model_types.is_empty() {
        notes.push(format!(
            "activation peak {:.2} GiB is the {} default for {} models (no measurement for model_type '{}')",
            activation_rule.value,
            req.engine,
            if moe { "MoE" } else { "dense" },
            arch.model_type
        ));
    }
    let non_torch_gib = profile
        .non_torch_gib
        .iter()
        .find(|r| r.matches(&version, &model_type, moe, par, req.gpu.memory_gib))
        .ok_or_else(|| missing("non_torch_gib", req.engine, &version))?
        .value;
    let cuda_graph_gib = profile
        .cuda_graph_gib
        .iter()
        .find(|r| r.matches(&version, &model_type, moe, par, req.gpu.memory_gib))
        .map_or(0.0, |r| r.value);
    let expert_pad = profile
        .expert_intermediate_padding
        .iter()
        .find(|r| {
            r.matches(&version, &model_type, moe, par, req.gpu.memory_gib)
                && r.weight_formats
                    .iter()
                    .any(|f| f == arch.precision.routed_experts.as_str())
        })
        .map_or(1, |r| r.value.max(1.0) as u64);

    let total_gib = req.gpu.memory_gib;
    let frac = req.gpu_memory_utilization;
    let block_size = profile.kv_block_size.max(1);

    // Stages: weights and KV layout of one GPU of each pipeline stage.
    let ranges = stage_layer_ranges(arch.layers.len(), par.pp as usize);
    let mut stages = Vec::with_capacity(ranges.len());
    let mut by_class_worst = BTreeMap::new();
    let mut worst_weights = -1.0;
    for (i, range) in ranges.iter().enumerate() {
        let first = i == 0;
        let last = i + 1 == ranges.len();
        let by_class = stage_weight_bytes(arch, range.clone(), first, last, par, expert_pad);
        let weights: f64 = by_class.values().sum();
        let (kv_by_span, state) = stage_kv_layout(arch, range.clone(), par.tp, req.kv_dtype);
        let per_token: f64 = kv_by_span.iter().map(|s| s.bytes_per_cached_token).sum();
        let weights_gib = weights / BYTES_PER_GIB;
        let pool_gib = match profile.kv_pool_rule {
            KvPoolRule::FractionOfTotal => {
                total_gib * frac - weights_gib - activation_gib - non_torch_gib
            }
            KvPoolRule::StaticFractionOfTotal => total_gib * frac - weights_gib - non_torch_gib,
            KvPoolRule::FractionOfFree => {
                frac * (total_gib - weights_gib - activation_gib - non_torch_gib - cuda_graph_gib)
            }
        };
        if weights > worst_weights {
            worst_weights = weights;
            by_class_worst = by_class;
        }
        stages.push(StageMemory {
            stage: i as u32,
            num_layers: range.len() as u32,
            weights_gib,
            kv_pool_gib: pool_gib.max(0.0),
            kv_pool_shortfall_gib: (-pool_gib).max(0.0),
            kv_cache_bytes_per_token: per_token,
            kv_by_span,
            state_bytes_per_request: state,
        });
    }
    let worst = stages
        .iter()
        .max_by(|a, b| a.weights_gib.total_cmp(&b.weights_gib))
        .cloned()
        .ok_or_else(|| MemoryError::Overheads("no pipeline stage".into()))?;

    // Tokens: every stage allocates the same number of blocks (the smallest any stage affords).
    let kv_cache_tokens = stages
        .iter()
        .filter(|s| s.kv_cache_bytes_per_token > 0.0)
        .map(|s| {
            let pool = s.kv_pool_gib.max(0.0) * BYTES_PER_GIB;
            let blocks = (pool / (s.kv_cache_bytes_per_token * f64::from(block_size))).floor();
            blocks.max(0.0) * f64::from(block_size)
        })
        .fold(None, |acc: Option<f64>, t| {
            Some(acc.map_or(t, |a| a.min(t)))
        })
        .map_or(0, |t| t.min(u64::MAX as f64) as u64);
    let kv_cache_bytes_per_token = stages
        .iter()
        .map(|s| s.kv_cache_bytes_per_token)
        .fold(0.0, f64::max);

    let (usable_gib, free_gib) = match profile.kv_pool_rule {
        KvPoolRule::FractionOfTotal | KvPoolRule::StaticFractionOfTotal => {
            (total_gib * frac, total_gib * (1.0 - frac))
        }
        KvPoolRule::FractionOfFree => {
            let left =
                (total_gib - worst.weights_gib - activation_gib - non_torch_gib - cuda_graph_gib)
                    .max(0.0);
            let free = (1.0 - frac) * left;
            (total_gib - free, free)
        }
    };
    if profile.kv_pool_rule == KvPoolRule::StaticFractionOfTotal
        && free_gib < activation_gib + cuda_graph_gib
    {
        notes.push(format!(
            "{} keeps {:.2} GiB outside its static pool, less than the estimated activation \
             ({activation_gib:.2} GiB) plus CUDA graphs ({cuda_graph_gib:.2} GiB): expect an \
             out-of-memory error at run time; lower the memory fraction",
            req.engine, free_gib
        ));
    }

    let plan_stub = MemoryPlan {
        engine: req.engine,
        engine_version: version.to_string(),
        parallelism: par,
        kv_dtype: req.kv_dtype,
        gpu_memory_gib: total_gib,
        gpu_memory_utilization: frac,
        usable_gib,
        free_gib_per_gpu: free_gib.max(0.0),
        weights_gib_per_gpu: worst.weights_gib,
        weight_bytes_per_gpu_by_class: by_class_worst,
        activation_gib_per_gpu: activation_gib,
        non_torch_gib_per_gpu: non_torch_gib,
        cuda_graph_gib_per_gpu: cuda_graph_gib,
        kv_cache_gib_per_gpu: worst.kv_pool_gib.max(0.0),
        kv_cache_bytes_per_token,
        kv_cache_tokens,
        kv_block_size: block_size,
        max_concurrent_requests: 0.0,
        max_model_len: req.max_model_len,
        max_model_len_fit: 0,
        fits: false,
        shortfall_gib: 0.0,
        advice: Vec::new(),
        stages,
        notes,
    };
    Ok(finish(plan_stub, arch))
}

/// Fills concurrency, longest fitting context, fit and shortfall.
fn finish(mut plan: MemoryPlan, arch: &Architecture) -> MemoryPlan {
    let block = plan.kv_block_size;
    let concurrency = kv_capacity_requests(&plan, plan.max_model_len);
    plan.max_concurrent_requests = if concurrency.is_finite() {
        concurrency
    } else {
        // A model without per-token KV or state: memory does not limit concurrency.
        f64::MAX
    };
    let fits_len = |len: u64| {
        plan.stages.iter().all(|s| {
            let pool = rounded_pool_bytes(s, block);
            pool > 0.0 && s.kv_bytes_per_request(len, block) <= pool
        })
    };
    let cap = if arch.max_position_embeddings > 0 {
        arch.max_position_embeddings
    } else {
        plan.max_model_len.max(1 << 20)
    };
    plan.max_model_len_fit = if !fits_len(1) {
        0
    } else if fits_len(cap) {
        cap
    } else {
        let (mut lo, mut hi) = (1u64, cap);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if fits_len(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    };
    plan.fits = fits_len(plan.max_model_len);
    plan.shortfall_gib = plan
        .stages
        .iter()
        .map(|s| {
            let need = s.kv_bytes_per_request(plan.max_model_len, block) / BYTES_PER_GIB;
            let have = rounded_pool_bytes(s, block) / BYTES_PER_GIB;
            if s.kv_pool_gib <= 0.0 {
                need + s.kv_pool_shortfall_gib
            } else {
                (need - have).max(0.0)
            }
        })
        .fold(0.0, f64::max);
    if plan.fits {
        plan.shortfall_gib = 0.0;
    }
    if plan.max_model_len > arch.max_position_embeddings && arch.max_position_embeddings > 0 {
        plan.notes.push(format!(
            "max_model_len {} exceeds the model's max_position_embeddings {}; engines refuse it \
             unless told to override",
            plan.max_model_len, arch.max_position_embeddings
        ));
    }
    plan
}

fn missing(what: &str, engine: Engine, version: &EngineVersion) -> MemoryError {
    MemoryError::Overheads(format!(
        "no {what} entry applies to {engine} {version}; add a catch-all entry"
    ))
}

/// `model_type` as the overhead data names it: lower case, without a `_text` suffix
/// (multimodal wrappers report their language model as `<family>_text`).
fn normalized_model_type(model_type: &str) -> String {
    let m = model_type.trim().to_ascii_lowercase();
    m.strip_suffix("_text").map(str::to_string).unwrap_or(m)
}

/// Decoder layers of each pipeline stage, split as vLLM's `get_pp_indices` does: an even share,
/// the remainder going to the stages just before the last one.
pub fn stage_layer_ranges(num_layers: usize, pp: usize) -> Vec<std::ops::Range<usize>> {
    let pp = pp.max(1);
    let mut sizes = vec![num_layers / pp; pp];
    let rem = num_layers % pp;
    for i in 2..rem + 2 {
        if let Some(idx) = pp.checked_sub(i) {
            sizes[idx] += 1;
        }
    }
    let mut start = 0;
    sizes
        .into_iter()
        .map(|n| {
            let r = start..start + n;
            start += n;
            r
        })
        .collect()
}

/// vLLM pads the vocabulary of embedding and LM head to a multiple of 64 before splitting it
/// over TP ranks (`DEFAULT_VOCAB_PADDING_SIZE`).
const VOCAB_PADDING: u64 = 64;

/// Weight bytes per tensor class on one GPU of a stage.
fn stage_weight_bytes(
    arch: &Architecture,
    layers: std::ops::Range<usize>,
    first: bool,
    last: bool,
    par: Parallelism,
    expert_intermediate_padding: u64,
) -> BTreeMap<TensorClass, f64> {
    let tp = f64::from(par.tp.max(1));
    let ep = f64::from(par.ep.max(1));
    let p = &arch.precision;
    let mut by: BTreeMap<TensorClass, f64> = BTreeMap::new();
    let mut add = |class: TensorClass, params: f64| {
        if params > 0.0 {
            *by.entry(class).or_insert(0.0) += params * p.get(class).bytes_per_param();
        }
    };
    let padded_vocab = arch.vocab_size.div_ceil(VOCAB_PADDING) * VOCAB_PADDING;
    let embedding = (padded_vocab as f64) * arch.hidden_size as f64 / tp;
    // The first stage embeds tokens; the last projects to the vocabulary. With tied weights and
    // one stage both are one tensor; with PP the last stage keeps its own copy.
    if first {
        add(TensorClass::Embedding, embedding);
    }
    if last {
        if !arch.tie_word_embeddings {
            add(TensorClass::LmHead, embedding);
        } else if !first {
            add(TensorClass::Embedding, embedding);
        }
        add(TensorClass::Norm, arch.final_norm_params as f64);
    }
    let hidden = arch.hidden_size as f64;
    for layer in arch.layers.get(layers).unwrap_or(&[]) {
        add(TensorClass::Norm, layer.norm_params as f64);
        match &layer.mixer {
            Mixer::Attention(a) => {
                let per_head = (a.qk_head_dim + if a.k_eq_v { 0 } else { a.v_head_dim }) as f64;
                let kv_proj = (hidden * a.kv_heads as f64 * per_head).min(a.params as f64);
                let kv_heads_per_rank = (a.kv_heads as f64 / tp).max(1.0);
                add(
                    TensorClass::Attention,
                    (a.params as f64 - kv_proj) / tp + hidden * per_head * kv_heads_per_rank,
                );
            }
            Mixer::Mla(m) => {
                // The down-projections to the query and KV latents are replicated on every rank.
                let replicated = (hidden
                    * (m.q_lora_rank.unwrap_or(0) + m.kv_lora_rank + m.qk_rope_head_dim) as f64)
                    .min(m.params as f64);
                add(
                    TensorClass::Attention,
                    replicated + (m.params as f64 - replicated) / tp,
                );
            }
            Mixer::Ssm(s) => add(TensorClass::Attention, s.params as f64 / tp),
            Mixer::None => {}
        }
        match &layer.ffn {
            Ffn::Dense(d) => add(TensorClass::DenseMlp, d.params as f64 / tp),
            Ffn::Moe(m) => {
                add(TensorClass::Router, m.router_params as f64);
                add(TensorClass::SharedExperts, m.shared_params as f64 / tp);
                add(TensorClass::DenseMlp, m.dense_params as f64 / tp);
                // Without EP each expert's intermediate dim is split over TP; with EP whole
                // experts are spread over EP ranks (further split by TP when EP < TP).
                let shards = tp.max(ep);
                let pad =
                    padded_fraction(m.expert_intermediate, shards, expert_intermediate_padding);
                add(
                    TensorClass::RoutedExperts,
                    m.routed_params() as f64 / shards * pad,
                );
            }
            Ffn::None => {}
        }
    }
    by
}

/// Growth of an expert's intermediate dim when its per-rank share is padded to a multiple.
fn padded_fraction(intermediate: u64, shards: f64, multiple: u64) -> f64 {
    if multiple <= 1 || intermediate == 0 {
        return 1.0;
    }
    let per_rank = (intermediate as f64 / shards).ceil().max(1.0) as u64;
    let padded = per_rank.div_ceil(multiple) * multiple;
    padded as f64 / per_rank as f64
}

/// KV bytes per cached token of one layer on one TP rank.
fn layer_kv_bytes_per_rank(layer: &Layer, tp: u32, dtype: KvDtype) -> f64 {
    let full = Architecture::layer_kv_bytes_per_cached_token(layer, dtype);
    match &layer.mixer {
        Mixer::Attention(a) if a.kv_heads > 0 => {
            let per_rank = (a.kv_heads as f64 / f64::from(tp.max(1))).max(1.0);
            full / a.kv_heads as f64 * per_rank
        }
        // MLA keeps the whole latent on every TP rank.
        _ => full,
    }
}

/// Per-token KV bytes by span and recurrent state bytes of one GPU of a stage.
fn stage_kv_layout(
    arch: &Architecture,
    layers: std::ops::Range<usize>,
    tp: u32,
    dtype: KvDtype,
) -> (Vec<KvSpanBytes>, f64) {
    let mut spans: Vec<KvSpanBytes> = Vec::new();
    let mut state = 0.0;
    for layer in arch.layers.get(layers).unwrap_or(&[]) {
        let span = match &layer.mixer {
            Mixer::Attention(a) => a.span,
            Mixer::Mla(_) => AttentionSpan::Full,
            Mixer::Ssm(s) => {
                // Recurrent heads are split over TP ranks like attention heads.
                state += s.state_bytes_per_sequence / f64::from(tp.max(1));
                continue;
            }
            Mixer::None => continue,
        };
        let bytes = layer_kv_bytes_per_rank(layer, tp, dtype);
        if bytes <= 0.0 {
            continue;
        }
        match spans.iter_mut().find(|s| s.span == span) {
            Some(s) => s.bytes_per_cached_token += bytes,
            None => spans.push(KvSpanBytes {
                span,
                bytes_per_cached_token: bytes,
            }),
        }
    }
    (spans, state)
}

/// What would make a plan that does not fit fit.
fn advise(req: &MemoryRequest, overheads: &MemoryOverheads, plan: &MemoryPlan) -> Vec<String> {
    let mut advice = Vec::new();
    let worst_pool = plan
        .stages
        .iter()
        .map(|s| s.kv_pool_gib - s.kv_pool_shortfall_gib)
        .fold(f64::INFINITY, f64::min);
    if worst_pool <= 0.0 {
        advice.push(format!(
            "weights ({:.2} GiB) plus activation ({:.2}) and non-torch ({:.2}) leave no KV cache \
             on {} ({:.2} GiB usable): short by {:.2} GiB per GPU for one {}-token request",
            plan.weights_gib_per_gpu,
            plan.activation_gib_per_gpu,
            plan.non_torch_gib_per_gpu,
            req.gpu.id,
            plan.usable_gib,
            plan.shortfall_gib,
            plan.max_model_len
        ));
    } else {
        advice.push(format!(
            "one {}-token request needs {:.2} GiB more KV cache per GPU than the {:.2} GiB pool",
            plan.max_model_len, plan.shortfall_gib, plan.kv_cache_gib_per_gpu
        ));
    }
    let try_plan = |r: &MemoryRequest| plan_without_advice(r, overheads).ok();
    // More tensor parallelism.
    let mut p = req.parallelism;
    let heads = req.arch.attention_heads_for_tp().0.min(1024) as u32;
    for tp in (p.tp + 1)..=heads.max(p.tp) {
        p.tp = tp;
        if p.validate(req.arch, p.num_gpus()).is_err() {
            continue;
        }
        let r = MemoryRequest {
            parallelism: p,
            ..req.clone()
        };
        if let Some(alt) = try_plan(&r).filter(|a| a.fits) {
            advice.push(format!(
                "tensor parallel size {tp} ({} GPUs) fits: {:.2} GiB KV per GPU, {:.1} requests of {} tokens",
                p.num_gpus(),
                alt.kv_cache_gib_per_gpu,
                alt.max_concurrent_requests,
                alt.max_model_len
            ));
            break;
        }
    }
    if req.kv_dtype != KvDtype::Fp8 {
        let r = MemoryRequest {
            kv_dtype: KvDtype::Fp8,
            ..req.clone()
        };
        if let Some(alt) = try_plan(&r) {
            if alt.fits {
                advice.push(format!(
                    "an fp8 KV cache halves bytes per token and fits: {:.1} requests of {} tokens",
                    alt.max_concurrent_requests, alt.max_model_len
                ));
            } else if alt.max_model_len_fit > plan.max_model_len_fit {
                advice.push(format!(
                    "an fp8 KV cache alone raises the longest fitting context to {} tokens",
                    alt.max_model_len_fit
                ));
            }
        }
    }
    if plan.max_model_len_fit > 0 {
        advice.push(format!(
            "a shorter context fits: max_model_len up to {} tokens",
            plan.max_model_len_fit
        ));
    }
    let sixteen_bit = req
        .arch
        .precision
        .get(TensorClass::DenseMlp)
        .bytes_per_param()
        >= 2.0
        || req
            .arch
            .precision
            .get(TensorClass::RoutedExperts)
            .bytes_per_param()
            >= 2.0;
    if sixteen_bit {
        let fp8 = req.arch.with_weight_format(WeightFormat::Fp8);
        let r = MemoryRequest {
            arch: &fp8,
            ..req.clone()
        };
        if let Some(alt) = try_plan(&r) {
            if alt.fits {
                advice.push(format!(
                    "fp8 weights ({:.2} GiB per GPU instead of {:.2}) fit: {:.1} requests of {} tokens",
                    alt.weights_gib_per_gpu,
                    plan.weights_gib_per_gpu,
                    alt.max_concurrent_requests,
                    alt.max_model_len
                ));
            }
        }
    }
    if req.engine == Engine::Vllm && req.gpu_memory_utilization < 0.95 {
        let r = MemoryRequest {
            gpu_memory_utilization: 0.95,
            ..req.clone()
        };
        if let Some(alt) = try_plan(&r).filter(|a| a.fits) {
            advice.push(format!(
                "gpu_memory_utilization 0.95 fits: {:.1} requests of {} tokens",
                alt.max_concurrent_requests, alt.max_model_len
            ));
        }
    }
    advice
}
