//! Performance estimator: time of one forward step from every operator's FLOPs and bytes on one
//! GPU of the deployment, communication per layer, and a closed-loop serving model on top
//! (continuous batching, chunked prefill, KV-capacity limits, queueing).
//!
//! Everything here is a pure function of the architecture, the GPU, the parallelism, the engine
//! profile and the workload. docs/estimation.md explains each formula.

pub mod bounds;
mod profile;
mod run;
mod serving;

pub use profile::{ArchEfficiency, ArchLimits, EngineProfile, Profiles, PEAK_LIMITS};
pub use run::{estimate_run, poisson_arrivals, RunRequest, SplitMix64, MAX_RUN_REQUESTS};
pub use serving::{
    estimate, mm1_wait_quantile_s, Estimate, EstimateError, EstimatePoint, Percentiles, Statistic,
    StepBreakdownMs, Workload,
};

use crate::hardware::{ComputeDtype, Gpu, LinkKind};
use crate::memory::Parallelism;
use crate::model::{Architecture, AttentionSpan, Ffn, Mixer};
use crate::quant::{KvDtype, WeightFormat};
use serde::{Deserialize, Serialize};

/// What limits a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// Tensor-core FLOPs.
    Compute,
    /// HBM bandwidth (weights and KV cache).
    Memory,
    /// Collective communication between GPUs.
    Communication,
    /// Fixed per-kernel and per-step overheads.
    Overhead,
}

/// Time of one forward step on the busiest GPU, split by cause (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct StepTime {
    /// Whole step (one pass through every pipeline stage).
    pub total_s: f64,
    /// Operators limited by FLOPs.
    pub compute_s: f64,
    /// Operators limited by HBM bytes.
    pub memory_s: f64,
    /// Collectives (all-reduce, all-to-all, pipeline hops).
    pub communication_s: f64,
    /// Fixed kernel floors and host overheads.
    pub overhead_s: f64,
}

impl StepTime {
    /// The dominant cause.
    pub fn bound(&self) -> Bound {
        let v = [
            (self.compute_s, Bound::Compute),
            (self.memory_s, Bound::Memory),
            (self.communication_s, Bound::Communication),
            (self.overhead_s, Bound::Overhead),
        ];
        v.iter()
            .copied()
            .fold(
                (f64::MIN, Bound::Memory),
                |a, b| if b.0 > a.0 { b } else { a },
            )
            .1
    }
}

/// The tokens one forward step carries on one attention-DP rank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepShape {
    /// Decoding sequences (one token each).
    pub decode_seqs: f64,
    /// Mean context of the decoding sequences (tokens already cached).
    pub decode_context: f64,
    /// Prefill tokens in the step.
    pub prefill_tokens: f64,
    /// Mean number of earlier tokens each prefill token attends to.
    pub prefill_context: f64,
    /// Prefilling sequences that finish in this step (they produce a logit).
    pub prefill_seqs: f64,
}

/// A deployment the estimator can time.
#[derive(Debug, Clone, Copy)]
pub struct Deployment<'a> {
    /// The model.
    pub arch: &'a Architecture,
    /// The GPU.
    pub gpu: &'a Gpu,
    /// Parallelism.
    pub parallelism: Parallelism,
    /// KV-cache element type.
    pub kv_dtype: KvDtype,
    /// Kernel efficiencies of the GPU's architecture.
    pub eff: &'a ArchEfficiency,
    /// The engine's profile.
    pub engine: &'a EngineProfile,
}

/// Error when the GPU lacks a number the estimator needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("GPU '{gpu}' has no {what} in the catalog; add it with --catalog FILE")]
pub struct MissingHardwareFact {
    /// GPU id.
    pub gpu: String,
    /// The missing figure.
    pub what: String,
}

/// The compute dtype a weight format runs at on `gpu`: native fp8/fp4 where the tensor cores have
/// it, else weight-only (dequantized to 16 bits) at the bf16 rate.
pub fn compute_dtype(format: WeightFormat, gpu: &Gpu) -> ComputeDtype {
    match format {
        WeightFormat::Fp8 | WeightFormat::Fp8Block if gpu.native_fp8 => ComputeDtype::Fp8,
        WeightFormat::Nvfp4 | WeightFormat::Mxfp4 if gpu.native_fp4 => ComputeDtype::Fp4,
        WeightFormat::Int8 if gpu.peak.int8_tops.is_some() => ComputeDtype::Int8,
        _ => ComputeDtype::Bf16,
    }
}

impl Deployment<'_> {
    /// Peak FLOP/s for a dtype (falls back to bf16 when the dtype has no figure).
    fn peak_flops(&self, dtype: ComputeDtype) -> Result<f64, MissingHardwareFact> {
        self.gpu
            .peak_tflops(dtype)
            .or_else(|| self.gpu.peak_tflops(ComputeDtype::Bf16))
            .map(|t| t * 1e12)
            .ok_or_else(|| MissingHardwareFact {
                gpu: self.gpu.id.clone(),
                what: "bf16 tensor rate".into(),
            })
    }

    fn gemm_eff(&self, dtype: ComputeDtype) -> f64 {
        match dtype {
            ComputeDtype::Fp8 | ComputeDtype::Int8 => self.eff.gemm_fp8,
            ComputeDtype::Fp4 => self.eff.gemm_fp4,
            _ => self.eff.gemm_bf16,
        }
    }

    /// Time of one weight-bearing operator: max(FLOPs / achieved peak, bytes / achieved BW) + floor.
    #[allow(clippy::too_many_arguments)]
    fn linear_time(
        &self,
        flops: f64,
        bytes: f64,
        tokens: f64,
        format: WeightFormat,
        floor_us: f64,
        relative: f64,
        acc: &mut StepTime,
    ) -> Result<(), MissingHardwareFact> {
        if flops <= 0.0 && bytes <= 0.0 {
            return Ok(());
        }
        let dtype = compute_dtype(format, self.gpu);
        let m_eff = tokens / (tokens + self.eff.gemm_m_half);
        let rate = self.peak_flops(dtype)? * self.gemm_eff(dtype) * relative * m_eff.max(1e-3);
        let bw = self.gpu.memory_bandwidth_bytes_per_s() * self.eff.bandwidth;
        // Fitted scales never take a kernel below the architecture's best measured rates.
        let peak_rate = self.max_tensor_flops(dtype).unwrap_or(f64::INFINITY);
        let peak_bw = self.max_hbm_bytes_per_s();
        let tc = (flops / rate * self.engine.compute_time_scale).max(flops / peak_rate);
        let tm = (bytes / bw * self.engine.kernel_time_scale).max(bytes / peak_bw);
        if tc >= tm {
            acc.compute_s += tc;
        } else {
            acc.memory_s += tm;
        }
        acc.overhead_s += floor_us * 1e-6;
        Ok(())
    }

    fn floor_for(&self, format: WeightFormat) -> f64 {
        match format {
            WeightFormat::Bf16 | WeightFormat::Fp16 | WeightFormat::F32 => self.eff.gemm_floor_us,
            _ => self.eff.quant_gemm_floor_us,
        }
    }

    /// All-reduce time of `bytes` over `n` GPUs of this deployment.
    fn allreduce_s(&self, bytes: f64, n: u32) -> f64 {
        if n <= 1 {
            return 0.0;
        }
        let (link_bw, floor_us) = self.link_for(n);
        let n = n as f64;
        floor_us * 1e-6 * (1.0 + (n / 8.0).log2().max(0.0))
            + bytes * 2.0 * (n - 1.0) / n / (link_bw * self.engine.allreduce_bandwidth.min(1.0))
    }

    /// Bandwidth (bytes/s per direction) and fixed latency for a group of `n` GPUs: the
    /// scale-up fabric inside its domain, PCIe inside a node, the scale-out NIC across nodes
    /// ([`bounds::link_between`]).
    fn link_for(&self, n: u32) -> (f64, f64) {
        let su = &self.gpu.scale_up;
        let (link, bw) = bounds::link_between(self.gpu, n);
        let floor = match link {
            bounds::TransferLink::ScaleUp if su.kind == LinkKind::NvLink => {
                self.engine.allreduce_floor_us
            }
            bounds::TransferLink::ScaleUp => {
                self.engine.allreduce_floor_us.max(su.latency_us) * 2.0
            }
            _ => self.engine.allreduce_floor_us.max(su.latency_us) * 3.0,
        };
        (bw, floor)
    }

    /// Time of one forward step on one attention-DP rank (all pipeline stages in sequence).
    pub fn step_time(&self, s: StepShape) -> Result<StepTime, MissingHardwareFact> {
        let p = self.parallelism;
        let tp = p.tp.max(1) as f64;
        let pp = p.pp.max(1) as f64;
        let dp = p.dp.max(1) as f64;
        let ep = p.ep.max(1) as f64;
        let arch = self.arch;
        let prec = &arch.precision;
        let h = arch.hidden_size as f64;
        let tokens = s.decode_seqs + s.prefill_tokens;
        let mut acc = StepTime::default();
        if tokens <= 0.0 {
            return Ok(acc);
        }
        let kv_b = self.kv_dtype.bytes();
        let act_bytes = 2.0; // bf16 activations
        let bf16_peak = self.peak_flops(ComputeDtype::Bf16)?;
        let attn_peak = if self.kv_dtype == KvDtype::Fp8 && self.engine.engine == "trtllm" {
            self.peak_flops(ComputeDtype::Fp8)?
        } else {
            bf16_peak
        };
        let hbm = self.gpu.memory_bandwidth_bytes_per_s();
        // MoE layers see the tokens of every attention-DP rank.
        let moe_tokens = tokens * dp;
        let moe_tp = (tp * dp / ep).max(1.0);

        // Identical layers are timed once and counted (see `Architecture::layer_groups`).
        for (layer, count) in arch.layer_groups() {
            let mut layer_acc = StepTime::default();
            let mut collectives = 0.0;
            match &layer.mixer {
                Mixer::Attention(a) => {
                    let f = prec.attention;
                    let params = a.params as f64 / tp;
                    self.linear_time(
                        2.0 * params * tokens,
                        params * f.bytes_per_param(),
                        tokens,
                        f,
                        2.0 * self.floor_for(f),
                        1.0,
                        &mut layer_acc,
                    )?;
                    let heads = (a.q_heads as f64 / tp).max(1.0);
                    let kv_heads = (a.kv_heads as f64 / tp).ceil().max(1.0);
                    let per_tok = if a.k_eq_v {
                        kv_heads * a.qk_head_dim as f64
                    } else {
                        kv_heads * (a.qk_head_dim + a.v_head_dim) as f64
                    } * kv_b;
                    let dctx = a.span.attended_tokens(s.decode_context);
                    let pctx = match a.span {
                        AttentionSpan::Full => s.prefill_context,
                        other => other.attended_tokens(s.prefill_context),
                    };
                    let flops_per = 2.0 * heads * (a.qk_head_dim + a.v_head_dim) as f64;
                    let dec_bytes =
                        s.decode_seqs * a.span.cached_tokens(s.decode_context) * per_tok;
                    let flops = flops_per * (s.decode_seqs * dctx + s.prefill_tokens * pctx);
                    self.attention_time(flops, dec_bytes, attn_peak, hbm, &mut layer_acc);
                    collectives += 1.0;
                }
                Mixer::Mla(m) => {
                    let f = prec.attention;
                    let params = m.params as f64 / tp;
                    self.linear_time(
                        2.0 * params * tokens,
                        params * f.bytes_per_param(),
                        tokens,
                        f,
                        4.0 * self.floor_for(f),
                        1.0,
                        &mut layer_acc,
                    )?;
                    let heads = (m.heads as f64 / tp).max(1.0);
                    let latent = (m.kv_lora_rank + m.qk_rope_head_dim) as f64;
                    // Decode: absorbed (MQA-like) form over the latent, replicated per TP rank.
                    let dec_flops = s.decode_seqs
                        * s.decode_context
                        * 2.0
                        * heads
                        * (latent + m.kv_lora_rank as f64);
                    let absorb = s.decode_seqs
                        * 4.0
                        * heads
                        * m.qk_nope_head_dim as f64
                        * m.kv_lora_rank as f64;
                    let dec_bytes = s.decode_seqs * s.decode_context * latent * kv_b;
                    // Prefill: MHA form.
                    let pre_flops = s.prefill_tokens
                        * s.prefill_context
                        * 2.0
                        * heads
                        * (m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim) as f64;
                    let mut flops = dec_flops + absorb + pre_flops;
                    if let Some(ix) = &m.indexer {
                        // DSA: the indexer scores every cached token, attention only top-k.
                        let sel = (ix.topk as f64).min(s.decode_context);
                        flops = flops * (sel / s.decode_context.max(1.0)).min(1.0)
                            + s.decode_seqs
                                * s.decode_context
                                * 2.0
                                * ix.heads as f64
                                * ix.head_dim as f64;
                    }
                    self.attention_time(flops, dec_bytes, attn_peak, hbm, &mut layer_acc);
                    collectives += 1.0;
                }
                Mixer::Ssm(st) => {
                    let f = prec.attention;
                    let params = st.params as f64 / tp;
                    self.linear_time(
                        2.0 * params * tokens + st.state_flops_per_token * tokens / tp,
                        params * f.bytes_per_param()
                            + 2.0 * s.decode_seqs * st.state_bytes_per_sequence / tp,
                        tokens,
                        f,
                        3.0 * self.floor_for(f),
                        1.0,
                        &mut layer_acc,
                    )?;
                    collectives += 1.0;
                }
                Mixer::None => {}
            }
            match &layer.ffn {
                Ffn::Dense(d) => {
                    let f = prec.dense_mlp;
                    let params = d.params as f64 / tp;
                    self.linear_time(
                        2.0 * params * tokens,
                        params * f.bytes_per_param(),
                        tokens,
                        f,
                        2.0 * self.floor_for(f),
                        1.0,
                        &mut layer_acc,
                    )?;
                    collectives += 1.0;
                }
                Ffn::Moe(m) => {
                    // Always-active parts, sharded by TP.
                    let shared = (m.shared_params + m.dense_params) as f64 / tp;
                    if shared > 0.0 {
                        let f = prec.shared_experts;
                        self.linear_time(
                            2.0 * shared * tokens,
                            shared * f.bytes_per_param(),
                            tokens,
                            f,
                            2.0 * self.floor_for(f),
                            1.0,
                            &mut layer_acc,
                        )?;
                    }
                    let router = m.router_params as f64;
                    self.linear_time(
                        2.0 * router * tokens,
                        router * prec.router.bytes_per_param(),
                        tokens,
                        prec.router,
                        0.0,
                        1.0,
                        &mut layer_acc,
                    )?;
                    // Routed experts: weight traffic follows the experts actually touched.
                    let e = m.num_experts as f64;
                    let k = (m.top_k as f64).min(e);
                    let touched = e * (1.0 - (1.0 - k / e).powf(moe_tokens));
                    let local_touched = (touched / ep).max(1.0_f64.min(touched));
                    let f = prec.routed_experts;
                    let expert_bytes = m.params_per_expert as f64 * f.bytes_per_param();
                    let bytes = local_touched * expert_bytes / moe_tp;
                    // Busiest rank: routing skew grows with tokens per expert.
                    let tokens_per_expert = moe_tokens * k / e;
                    let skew =
                        1.0 + 0.25 * (tokens_per_expert / 64.0).min(1.0) * (ep > 1.0) as u8 as f64;
                    let flops =
                        2.0 * moe_tokens * k * m.params_per_expert as f64 / (tp * dp) * skew;
                    let m_per_expert = (moe_tokens * k / touched.max(1.0)).max(1.0);
                    self.linear_time(
                        flops,
                        bytes,
                        m_per_expert,
                        f,
                        self.eff.moe_floor_us,
                        match f {
                            WeightFormat::Bf16 | WeightFormat::Fp16 | WeightFormat::F32 => {
                                self.eff.moe_relative
                            }
                            _ => self.eff.moe_relative_quantized,
                        },
                        &mut layer_acc,
                    )?;
                    if ep > 1.0 && dp > 1.0 {
                        // Attention data-parallel: tokens live on their DP rank and must be
                        // dispatched to the experts' ranks and combined back (all-to-all).
                        let payload = tokens * k * h * (1.0 + act_bytes);
                        let (bw, _) = self.link_for(p.ep);
                        layer_acc.communication_s +=
                            2.0 * self.engine.alltoall_floor_us * 1e-6 + payload / (bw * 0.7);
                    } else {
                        // Attention TP: every rank already holds every token; each computes its
                        // local experts (EP) or expert slices (TP) and one all-reduce combines.
                        collectives += 1.0;
                    }
                }
                Ffn::None => {}
            }
            if p.tp > 1 {
                layer_acc.communication_s +=
                    collectives * self.allreduce_s(tokens * h * act_bytes, p.tp);
            }
            let n = count as f64;
            acc.compute_s += n * layer_acc.compute_s;
            acc.memory_s += n * layer_acc.memory_s;
            acc.communication_s += n * layer_acc.communication_s;
            acc.overhead_s += n * layer_acc.overhead_s;
        }
        // LM head on the last stage: logits for decodes and finishing prefills.
        let logits = s.decode_seqs
            + s.prefill_seqs
                .max(if s.prefill_tokens > 0.0 { 1.0 } else { 0.0 });
        let head_params = (arch.hidden_size * arch.vocab_size) as f64 / tp;
        self.linear_time(
            2.0 * head_params * logits,
            head_params * prec.lm_head.bytes_per_param(),
            logits.max(1.0),
            prec.lm_head,
            self.eff.gemm_floor_us,
            1.0,
            &mut acc,
        )?;
        // Pipeline hops: hidden states and residual between stages.
        if p.pp > 1 {
            let (bw, lat) = self.link_for(p.pp * p.tp);
            acc.communication_s += (pp - 1.0) * (lat * 1e-6 + 2.0 * tokens * h * act_bytes / bw);
        }
        acc.overhead_s += self.engine.step_overhead_us * 1e-6;
        // Physical bound (see `bounds`): the step reads at least its bytes at the best HBM
        // bandwidth and computes its prefill tokens at the best GEMM rate.
        let floor = self.decode_floor_s(s.decode_seqs, s.decode_context)
            + self
                .prefill_floor(s.prefill_tokens, s.prefill_context)
                .total_s();
        let work = acc.compute_s + acc.memory_s;
        if work < floor {
            if s.prefill_tokens > 0.0 && s.decode_seqs <= 0.0 {
                acc.compute_s += floor - work;
            } else {
                acc.memory_s += floor - work;
            }
        }
        acc.total_s = acc.compute_s + acc.memory_s + acc.communication_s + acc.overhead_s;
        Ok(acc)
    }

    fn attention_time(&self, flops: f64, bytes: f64, peak: f64, hbm: f64, acc: &mut StepTime) {
        if flops <= 0.0 && bytes <= 0.0 {
            return;
        }
        let scale = self.engine.attention_time_scale;
        let l = self.eff.limits();
        let tc =
            (flops / (peak * self.eff.attention_compute) * scale * self.engine.compute_time_scale)
                .max(flops / (peak * l.max_gemm_bf16.max(l.max_gemm_fp8)));
        let tm = (bytes / (hbm * self.eff.attention_bandwidth) * scale)
            .max(bytes / (hbm * l.max_bandwidth));
        if tc >= tm {
            acc.compute_s += tc;
        } else {
            acc.memory_s += tm;
        }
        acc.overhead_s += self.eff.attention_floor_us * 1e-6;
    }

    /// Bytes one GPU of each pipeline stage reads, summed over the stages, in one decode step of
    /// `seqs` sequences at `context` tokens: weights (experts actually touched) and KV cache. No
    /// decode step can be faster than these bytes over the peak HBM bandwidth.
    pub fn min_decode_bytes_per_gpu(&self, seqs: f64, context: f64) -> f64 {
        let p = self.parallelism;
        let tp = p.tp.max(1) as f64;
        let pp = p.pp.max(1) as f64;
        let dp = p.dp.max(1) as f64;
        let ep = p.ep.max(1) as f64;
        let arch = self.arch;
        let prec = &arch.precision;
        let mut bytes = 0.0;
        for layer in &arch.layers {
            bytes += match &layer.mixer {
                Mixer::Attention(a) => a.params as f64 * prec.attention.bytes_per_param() / tp,
                Mixer::Mla(m) => m.params as f64 * prec.attention.bytes_per_param() / tp,
                Mixer::Ssm(s) => s.params as f64 * prec.attention.bytes_per_param() / tp,
                Mixer::None => 0.0,
            };
            bytes += match &layer.ffn {
                Ffn::Dense(d) => d.params as f64 * prec.dense_mlp.bytes_per_param() / tp,
                Ffn::Moe(m) => {
                    let e = m.num_experts as f64;
                    let k = (m.top_k as f64).min(e);
                    let touched = e * (1.0 - (1.0 - k / e).powf(seqs * dp));
                    (m.shared_params + m.dense_params) as f64
                        * prec.shared_experts.bytes_per_param()
                        / tp
                        + (touched / ep).max(1.0_f64.min(touched))
                            * m.params_per_expert as f64
                            * prec.routed_experts.bytes_per_param()
                            / (tp * dp / ep).max(1.0)
                }
                Ffn::None => 0.0,
            };
        }
        let kv = arch.kv_cache_bytes_per_sequence(context as u64, self.kv_dtype) * seqs
            / pp
            / if arch.attention == crate::model::AttentionKind::Mla {
                1.0
            } else {
                tp.min(arch.num_kv_heads.max(1) as f64)
            };
        bytes + kv * pp
    }
}
