//! Physical lower bounds of a deployment: what no estimate may beat.
//!
//! Each bound is counted independently of the estimator's timing model (its own FLOP and byte
//! count from the architecture) and uses the architecture's best measured kernels
//! ([`ArchLimits`](super::ArchLimits): best GEMM fraction of the tensor peak, best fraction of
//! the HBM bandwidth), never the typical efficiencies the estimator times with:
//!
//! - prefill: FLOPs of the prompt (every linear layer at its weight format, attention scores
//!   included) / (GPUs x peak tensor rate at that format x best GEMM fraction);
//! - decode step: bytes it must read (weights, MoE experts touched at that batch, KV cache) /
//!   (best fraction x HBM bandwidth), plus the prefill work carried in the same step;
//! - transfers: bytes / the link's bandwidth (scale-up inside the NVLink domain, the per-GPU
//!   scale-out NIC between nodes);
//! - throughput: Little's law on the requests in flight, and the GPU time the prefills and decode
//!   steps of one second need fits in that second.
//!
//! The estimator clamps its timings to these bounds ([`Deployment::step_time`] and the serving
//! model) and [`check_point`] states them as checks; docs/estimation.md ("Physical bounds")
//! explains each.

use super::{compute_dtype, Deployment, EstimatePoint};
use crate::hardware::{ComputeDtype, Gpu, LinkKind};
use crate::model::{AttentionKind, Ffn, Mixer};
use crate::quant::{KvDtype, WeightFormat};
use serde::{Deserialize, Serialize};

/// Relative slack of the checks (floating-point noise, not modelling slack).
pub const TOLERANCE: f64 = 1e-6;

/// Which bound a value breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundKind {
    /// A prefill faster than its FLOPs at the best GEMM rate.
    PrefillCompute,
    /// A decode step faster than its bytes at the best HBM bandwidth.
    DecodeBandwidth,
    /// More prefill and decode work per second than the GPUs have seconds.
    GpuTime,
    /// A transfer faster than its link.
    Transfer,
    /// Throughput above Little's law for the requests in flight.
    LittlesLaw,
}

/// One broken bound.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundViolation {
    /// The bound.
    pub bound: BoundKind,
    /// The value the estimate reports (seconds, or requests for Little's law / GPU time share).
    pub actual: f64,
    /// The bound it breaks (same unit; `actual` must be >= `limit`, except for `GpuTime` and
    /// `LittlesLaw`, where it must be <=).
    pub limit: f64,
}

/// The link a transfer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferLink {
    /// The scale-up fabric (NVLink / Infinity Fabric) inside one scale-up domain.
    ScaleUp,
    /// PCIe through the host, inside one node beyond its scale-up domain.
    Host,
    /// The per-GPU scale-out NIC between nodes (or PCIe where the GPUs have nothing faster).
    ScaleOut,
}

impl TransferLink {
    /// `scale_up` or `scale_out`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferLink::ScaleUp => "scale_up",
            TransferLink::Host => "host",
            TransferLink::ScaleOut => "scale_out",
        }
    }
}

/// The link between GPUs of one group spanning `gpus` GPUs, and its bandwidth per GPU and
/// direction (bytes/s): the scale-up fabric when the group fits one scale-up domain, the host's
/// PCIe when it fits one node without peer-to-peer between all of them, else the per-GPU
/// scale-out NIC.
pub fn link_between(gpu: &Gpu, gpus: u32) -> (TransferLink, f64) {
    if gpus <= gpu.scale_up_domain.max(1) && gpu.scale_up.kind != LinkKind::None {
        (
            TransferLink::ScaleUp,
            gpu.scale_up.bandwidth_gb_s_per_direction * 1e9,
        )
    } else if gpus <= gpu.gpus_per_node.max(1) {
        (
            TransferLink::Host,
            gpu.host_link_gb_s_per_direction.max(1e-3) * 1e9,
        )
    } else {
        (
            TransferLink::ScaleOut,
            gpu.scale_out_gb_s_per_gpu.max(1e-3) * 1e9,
        )
    }
}

/// Nodes a group of `gpus` GPUs spans (`gpus_per_node` each, at least one).
pub fn nodes_for(gpu: &Gpu, gpus: u32) -> u32 {
    gpus.div_ceil(gpu.gpus_per_node.max(1)).max(1)
}

/// Shortest time to move `bytes` over a link of `bytes_per_s`.
pub fn transfer_floor_s(bytes: f64, bytes_per_s: f64) -> f64 {
    if bytes <= 0.0 {
        0.0
    } else {
        bytes / bytes_per_s.max(1e-9)
    }
}

/// Most requests per second `in_flight` requests can complete when each takes `latency_s`
/// (Little's law, X = N / R).
pub fn littles_law_max_rps(in_flight: f64, latency_s: f64) -> f64 {
    if latency_s > 0.0 {
        in_flight / latency_s
    } else {
        f64::INFINITY
    }
}

/// Minimum GPU time of a prefill, split by where the work runs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PrefillFloor {
    /// Work on the request's own attention-DP rank (attention, dense layers, always-active MoE
    /// parts), seconds on one GPU of that rank.
    pub per_rank_s: f64,
    /// Routed-expert work spread over every GPU of the instance, seconds on each.
    pub shared_s: f64,
}

impl PrefillFloor {
    /// The time one prefill takes at least.
    pub fn total_s(&self) -> f64 {
        self.per_rank_s + self.shared_s
    }
}

fn kv_shards(dep: &Deployment<'_>) -> f64 {
    if dep.arch.attention == AttentionKind::Mla {
        1.0
    } else {
        (dep.parallelism.tp.max(1) as f64).min(dep.arch.num_kv_heads.max(1) as f64)
    }
}

impl Deployment<'_> {
    /// Best tensor rate one GPU reaches for `dtype` (FLOP/s): peak x best measured GEMM
    /// fraction. `None` when the GPU has no rate at all.
    pub fn max_tensor_flops(&self, dtype: ComputeDtype) -> Option<f64> {
        let l = self.eff.limits();
        let frac = match dtype {
            ComputeDtype::Fp8 | ComputeDtype::Int8 => l.max_gemm_fp8,
            ComputeDtype::Fp4 => l.max_gemm_fp4,
            _ => l.max_gemm_bf16,
        };
        self.gpu
            .peak_tflops(dtype)
            .or_else(|| self.gpu.peak_tflops(ComputeDtype::Bf16))
            .map(|t| t * 1e12 * frac)
    }

    /// Best HBM bandwidth one GPU reaches (bytes/s): peak x best measured fraction.
    pub fn max_hbm_bytes_per_s(&self) -> f64 {
        self.gpu.memory_bandwidth_bytes_per_s() * self.eff.limits().max_bandwidth
    }

    fn max_rate_for(&self, format: WeightFormat) -> f64 {
        self.max_tensor_flops(compute_dtype(format, self.gpu))
            .unwrap_or(f64::INFINITY)
    }

    /// The shortest a prefill of `tokens` tokens (each attending to `context` earlier tokens on
    /// average) can take on this deployment, from its FLOPs at the best GEMM rates: every
    /// layer's weights (active experts only) and attention scores, all pipeline stages in turn.
    pub fn prefill_floor(&self, tokens: f64, context: f64) -> PrefillFloor {
        let p = self.parallelism;
        let tp = p.tp.max(1) as f64;
        let shard = (p.tp.max(1) * p.dp.max(1)) as f64;
        let prec = &self.arch.precision;
        let attn_rate = self
            .max_tensor_flops(ComputeDtype::Fp8)
            .into_iter()
            .chain(self.max_tensor_flops(ComputeDtype::Bf16))
            .fold(0.0, f64::max);
        let mut f = PrefillFloor::default();
        if tokens <= 0.0 {
            return f;
        }
        let attn_rate = if attn_rate > 0.0 {
            attn_rate
        } else {
            f64::INFINITY
        };
        let linear =
            |params: f64, format: WeightFormat| 2.0 * params * tokens / self.max_rate_for(format);
        for layer in &self.arch.layers {
            match &layer.mixer {
                Mixer::Attention(a) => {
                    f.per_rank_s += linear(a.params as f64 / tp, prec.attention);
                    let ctx = match a.span {
                        crate::model::AttentionSpan::Full => context,
                        other => other.attended_tokens(context),
                    };
                    // QK^T and PV: 2 FLOPs per multiply-add over both head dimensions.
                    let flops = 2.0
                        * (a.q_heads as f64 / tp)
                        * (a.qk_head_dim + a.v_head_dim) as f64
                        * tokens
                        * ctx;
                    f.per_rank_s += flops / attn_rate;
                }
                Mixer::Mla(m) => {
                    f.per_rank_s += linear(m.params as f64 / tp, prec.attention);
                    let flops = 2.0
                        * (m.heads as f64 / tp)
                        * (m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim) as f64
                        * tokens
                        * context;
                    // DSA attends to top-k tokens only.
                    let sel = m
                        .indexer
                        .as_ref()
                        .map_or(1.0, |ix| (ix.topk as f64 / context.max(1.0)).min(1.0));
                    f.per_rank_s += flops * sel / attn_rate;
                }
                Mixer::Ssm(s) => {
                    f.per_rank_s += linear(s.params as f64 / tp, prec.attention);
                }
                Mixer::None => {}
            }
            match &layer.ffn {
                Ffn::Dense(d) => f.per_rank_s += linear(d.params as f64 / tp, prec.dense_mlp),
                Ffn::Moe(m) => {
                    f.per_rank_s += linear(
                        (m.shared_params + m.dense_params) as f64 / tp,
                        prec.shared_experts,
                    );
                    let k = (m.top_k as f64).min(m.num_experts as f64);
                    f.shared_s +=
                        linear(k * m.params_per_expert as f64 / shard, prec.routed_experts);
                }
                Ffn::None => {}
            }
        }
        // LM head: one logit row per finished prompt.
        let head = (self.arch.hidden_size * self.arch.vocab_size) as f64 / tp;
        f.per_rank_s += 2.0 * head / self.max_rate_for(prec.lm_head);
        f
    }

    /// The shortest a decode step of `seqs` sequences per pipeline stage and attention-DP rank
    /// at mean `context` can take: the bytes it must read (weights, experts touched, KV cache) at
    /// the best HBM bandwidth.
    pub fn decode_floor_s(&self, seqs: f64, context: f64) -> f64 {
        if seqs <= 0.0 {
            return 0.0;
        }
        self.min_decode_bytes_per_gpu(seqs, context) / self.max_hbm_bytes_per_s()
    }

    /// Bytes of one request's KV cache (`tokens` tokens) each GPU of this deployment holds: the
    /// cache is split over pipeline stages and over TP ranks up to the KV heads (MLA's latent
    /// is replicated on every rank).
    pub fn kv_bytes_per_gpu(&self, tokens: u64, kv_dtype: KvDtype) -> f64 {
        self.arch.kv_cache_bytes_per_sequence(tokens, kv_dtype)
            / self.parallelism.pp.max(1) as f64
            / kv_shards(self)
    }
}

/// Checks one estimated point of `dep` (a closed loop of `input_len`/`output_len` requests)
/// against every bound; empty when physically possible.
pub fn check_point(
    dep: &Deployment<'_>,
    input_len: u64,
    output_len: u64,
    p: &EstimatePoint,
) -> Vec<BoundViolation> {
    let mut v = Vec::new();
    let i = input_len as f64;
    let o = output_len as f64;
    let par = dep.parallelism;
    let dp = par.dp.max(1) as f64;
    let pp = par.pp.max(1) as f64;
    let ttft = p.time_to_first_token_ms * 1e-3;
    let itl = p.inter_token_latency_ms * 1e-3;
    let e2e = p.end_to_end_latency_ms * 1e-3;
    let slack = 1.0 + TOLERANCE;
    let prefill = dep.prefill_floor(i, i / 2.0);
    if ttft * slack < prefill.total_s() {
        v.push(BoundViolation {
            bound: BoundKind::PrefillCompute,
            actual: ttft,
            limit: prefill.total_s(),
        });
    }
    // Ranks that hold at least one request.
    let ranks = dp.min(p.running_requests.ceil()).max(1.0);
    let per_rank = p.running_requests / ranks;
    // Mean decoding sequences per rank: the share of a request's life spent decoding.
    let decoding = if o > 1.0 && e2e > 0.0 {
        (per_rank * (o - 1.0) * itl / e2e).max(1.0)
    } else {
        0.0
    };
    let decode_floor = dep.decode_floor_s((decoding / pp).max(1.0), i + o / 2.0);
    if o > 1.0 && itl * slack < decode_floor {
        v.push(BoundViolation {
            bound: BoundKind::DecodeBandwidth,
            actual: itl,
            limit: decode_floor,
        });
    }
    // One second of one GPU: its share of the prefills plus the decode steps (one every ITL
    // while any request decodes, never more than the decode tokens asked for).
    let x = p.requests_per_s;
    let steps = if o > 1.0 {
        (1.0 / itl).min(x / ranks * (o - 1.0))
    } else {
        0.0
    };
    let busy = x / ranks * prefill.per_rank_s + x * prefill.shared_s + steps * decode_floor;
    if busy > slack {
        v.push(BoundViolation {
            bound: BoundKind::GpuTime,
            actual: busy,
            limit: 1.0,
        });
    }
    if x * e2e > p.concurrency as f64 * slack + 1e-9 {
        v.push(BoundViolation {
            bound: BoundKind::LittlesLaw,
            actual: x * e2e,
            limit: p.concurrency as f64,
        });
    }
    v
}
