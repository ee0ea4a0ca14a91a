//! Engine profiles: achieved efficiencies per GPU architecture, scheduler defaults and overheads
//! per engine. The numbers live in a data file (`engine_profiles.toml` in gpuplan-catalog), each
//! with its source; this module holds only their shape.

use serde::{Deserialize, Serialize};

/// Achieved fractions of peak for one GPU architecture (hopper, blackwell, ampere, cdna3 ...).
///
/// These are kernel facts (measured GEMM, attention and copy efficiencies), not fitted per model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchEfficiency {
    /// Architecture name as in the GPU catalog's `arch` field ("default" for the fallback).
    pub arch: String,
    /// Large-GEMM achieved fraction of the dense bf16 peak.
    pub gemm_bf16: f64,
    /// Large-GEMM achieved fraction of the dense fp8 peak.
    pub gemm_fp8: f64,
    /// Large-GEMM achieved fraction of the dense fp4 peak.
    pub gemm_fp4: f64,
    /// Tokens (GEMM M) at which a GEMM reaches half its large-M efficiency.
    pub gemm_m_half: f64,
    /// Achieved fraction of the HBM bandwidth when streaming weights.
    pub bandwidth: f64,
    /// Fixed time of one 16-bit GEMM kernel (microseconds).
    pub gemm_floor_us: f64,
    /// Fixed time of one quantized GEMM kernel, activation quantization included (microseconds).
    pub quant_gemm_floor_us: f64,
    /// Grouped (MoE) GEMM achieved fraction of the GEMM efficiency at large M.
    pub moe_relative: f64,
    /// Grouped (MoE) GEMM achieved fraction of the GEMM efficiency at large M for quantized
    /// (fp8-block, fp4, int4) experts, whose scale handling costs more than in dense GEMMs.
    pub moe_relative_quantized: f64,
    /// Fixed time of one fused-MoE call (microseconds).
    pub moe_floor_us: f64,
    /// Attention (prefill) achieved fraction of the bf16 peak.
    pub attention_compute: f64,
    /// Decode attention achieved fraction of HBM bandwidth (large batch x context).
    pub attention_bandwidth: f64,
    /// Fixed time of one attention call (microseconds).
    pub attention_floor_us: f64,
    /// Where the numbers come from.
    pub source: String,
    /// Physical limits of the architecture (best measured kernels), used by
    /// [`super::bounds`]; `None` falls back to the raw peak (fraction 1.0).
    #[serde(default)]
    pub limits: Option<ArchLimits>,
}

/// The best any measured kernel reaches on one GPU architecture: no estimated operator may run
/// faster. Fractions of the catalog's dense peaks; unlike [`ArchEfficiency`]'s typical
/// efficiencies these are maxima (the best measured GEMM, the best STREAM-like copy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchLimits {
    /// Best measured GEMM fraction of the dense bf16 peak.
    pub max_gemm_bf16: f64,
    /// Best measured GEMM fraction of the dense fp8 (and int8) peak.
    pub max_gemm_fp8: f64,
    /// Best measured GEMM fraction of the dense fp4 peak.
    pub max_gemm_fp4: f64,
    /// Best measured fraction of the HBM bandwidth (STREAM-like copy or the best
    /// memory-bound kernel).
    pub max_bandwidth: f64,
    /// Where the maxima come from.
    pub source: String,
}

/// No measurement: the raw peaks (a profile without `limits`).
pub static PEAK_LIMITS: ArchLimits = ArchLimits {
    max_gemm_bf16: 1.0,
    max_gemm_fp8: 1.0,
    max_gemm_fp4: 1.0,
    max_bandwidth: 1.0,
    source: String::new(),
};

impl ArchEfficiency {
    /// The architecture's physical limits, or the raw peaks when the profile has none.
    pub fn limits(&self) -> &ArchLimits {
        self.limits.as_ref().unwrap_or(&PEAK_LIMITS)
    }
}

/// Scheduler defaults, overheads and communication constants of one serving engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineProfile {
    /// `vllm`, `sglang` or `trtllm`.
    pub engine: String,
    /// Token budget of one step (chunked-prefill chunk size).
    pub max_num_batched_tokens: f64,
    /// Most sequences in one step.
    pub max_num_seqs: f64,
    /// Prefill chunks ride in the same forward pass as decodes (vLLM, TRT-LLM) or run as
    /// separate passes (SGLang's default).
    pub mixed_prefill: bool,
    /// Host-side time per forward step not hidden by overlap/async scheduling (microseconds).
    pub step_overhead_us: f64,
    /// Fixed time a request spends before its first prefill step and after its first token
    /// (HTTP, tokenization, scheduling, detokenization), in milliseconds.
    pub ttft_overhead_ms: f64,
    /// Multiplier on bandwidth-bound kernel time relative to the architecture's measured
    /// efficiency (1.0 = as measured).
    pub kernel_time_scale: f64,
    /// Multiplier on FLOP-bound kernel time (prefill GEMMs) relative to the architecture's
    /// measured efficiency.
    pub compute_time_scale: f64,
    /// How much of the prefill work mixed into (or interleaved with) decode steps shows up in
    /// the inter-token latency: 1.0 = fully serialised, lower when the engine overlaps it.
    pub prefill_interference: f64,
    /// Decode steps of latency a request's first token carries beyond its prefill (overlap or
    /// async scheduling emits it one step late; the step in flight at arrival).
    pub ttft_steps: f64,
    /// Multiplier on attention time (FlashAttention/FlashInfer/TRT-LLM kernels differ).
    pub attention_time_scale: f64,
    /// Fixed latency of one tensor-parallel all-reduce inside an NVLink domain (microseconds).
    pub allreduce_floor_us: f64,
    /// Achieved fraction of the link bandwidth for all-reduce payloads.
    pub allreduce_bandwidth: f64,
    /// Fixed latency of one expert-parallel dispatch or combine (microseconds).
    pub alltoall_floor_us: f64,
    /// Mean share of a closed-loop benchmark's requests that arrive in the initial burst (all
    /// clients start at once), whose prefills queue behind each other.
    pub burst_share: f64,
    /// Accelerator vendors the engine runs on (empty: every vendor).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vendors: Vec<crate::hardware::Vendor>,
    /// Where the numbers come from.
    pub source: String,
}

impl EngineProfile {
    /// Whether the engine runs on `vendor`'s accelerators.
    pub fn runs_on(&self, vendor: crate::hardware::Vendor) -> bool {
        self.vendors.is_empty() || self.vendors.contains(&vendor)
    }
}

/// Every profile the estimator needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profiles {
    /// Per-architecture kernel efficiencies (one named `default`).
    #[serde(rename = "arch")]
    pub archs: Vec<ArchEfficiency>,
    /// Per-engine profiles.
    #[serde(rename = "engine")]
    pub engines: Vec<EngineProfile>,
}

impl Profiles {
    /// The efficiency entry for `arch`, else the `default` one, else the first.
    pub fn arch(&self, arch: &str) -> Option<&ArchEfficiency> {
        let a = arch.to_ascii_lowercase();
        self.archs
            .iter()
            .find(|x| x.arch == a)
            .or_else(|| self.archs.iter().find(|x| x.arch == "default"))
            .or_else(|| self.archs.first())
    }

    /// The profile of `engine`.
    pub fn engine(&self, engine: &str) -> Option<&EngineProfile> {
        self.engines.iter().find(|e| e.engine == engine)
    }

    /// Replace the entries that `other` defines (a user's calibrated profile over the embedded one).
    pub fn merge(&mut self, other: Profiles) {
        for a in other.archs {
            match self.archs.iter_mut().find(|x| x.arch == a.arch) {
                Some(x) => *x = a,
                None => self.archs.push(a),
            }
        }
        for e in other.engines {
            match self.engines.iter_mut().find(|x| x.engine == e.engine) {
                Some(x) => *x = e,
                None => self.engines.push(e),
            }
        }
    }

    /// Check every value is finite and in range.
    pub fn validate(&self) -> Result<(), String> {
        for a in &self.archs {
            for (n, v) in [
                ("gemm_bf16", a.gemm_bf16),
                ("gemm_fp8", a.gemm_fp8),
                ("gemm_fp4", a.gemm_fp4),
                ("bandwidth", a.bandwidth),
                ("moe_relative", a.moe_relative),
                ("moe_relative_quantized", a.moe_relative_quantized),
                ("attention_compute", a.attention_compute),
                ("attention_bandwidth", a.attention_bandwidth),
            ] {
                if !(v.is_finite() && v > 0.0 && v <= 1.0) {
                    return Err(format!("arch '{}': {n} must be in (0, 1], got {v}", a.arch));
                }
            }
            let l = a.limits();
            for (n, v) in [
                ("limits.max_gemm_bf16", l.max_gemm_bf16),
                ("limits.max_gemm_fp8", l.max_gemm_fp8),
                ("limits.max_gemm_fp4", l.max_gemm_fp4),
                ("limits.max_bandwidth", l.max_bandwidth),
            ] {
                if !(v.is_finite() && v > 0.0 && v <= 1.0) {
                    return Err(format!("arch '{}': {n} must be in (0, 1], got {v}", a.arch));
                }
            }
            for (n, v) in [
                ("gemm_m_half", a.gemm_m_half),
                ("gemm_floor_us", a.gemm_floor_us),
                ("quant_gemm_floor_us", a.quant_gemm_floor_us),
                ("moe_floor_us", a.moe_floor_us),
                ("attention_floor_us", a.attention_floor_us),
            ] {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(format!("arch '{}': {n} must be >= 0, got {v}", a.arch));
                }
            }
        }
        for e in &self.engines {
            for (n, v) in [
                ("max_num_batched_tokens", e.max_num_batched_tokens),
                ("max_num_seqs", e.max_num_seqs),
                ("kernel_time_scale", e.kernel_time_scale),
                ("compute_time_scale", e.compute_time_scale),
                ("attention_time_scale", e.attention_time_scale),
                ("allreduce_bandwidth", e.allreduce_bandwidth),
            ] {
                if !(v.is_finite() && v > 0.0) {
                    return Err(format!("engine '{}': {n} must be > 0, got {v}", e.engine));
                }
            }
            for (n, v) in [
                ("step_overhead_us", e.step_overhead_us),
                ("ttft_overhead_ms", e.ttft_overhead_ms),
                ("allreduce_floor_us", e.allreduce_floor_us),
                ("alltoall_floor_us", e.alltoall_floor_us),
                ("burst_share", e.burst_share),
                ("ttft_steps", e.ttft_steps),
                ("prefill_interference", e.prefill_interference),
            ] {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(format!("engine '{}': {n} must be >= 0, got {v}", e.engine));
                }
            }
        }
        Ok(())
    }
}
