//! Parallelism of a deployment and the rules engines impose on it.

use crate::model::Architecture;
use serde::{Deserialize, Serialize};

/// How a model is spread over GPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Parallelism {
    /// Tensor-parallel size: GPUs that split every layer.
    pub tp: u32,
    /// Pipeline-parallel size: stages that hold consecutive layers.
    pub pp: u32,
    /// Data-parallel size: independent replicas (engine instances).
    pub dp: u32,
    /// Expert-parallel size: ranks over which routed experts are divided (1: no expert
    /// parallelism; experts are then split by TP).
    pub ep: u32,
}

impl Default for Parallelism {
    fn default() -> Self {
        Parallelism::single()
    }
}

/// A parallelism rule a request breaks; the message names the rule and the valid values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParallelismError {
    /// A size is zero.
    #[error("{what} size must be at least 1")]
    Zero {
        /// Which size.
        what: &'static str,
    },
    /// TP does not divide the attention heads.
    #[error("tensor parallel size {tp} does not divide the {heads} attention heads of {model}; valid: {valid}")]
    TpHeads {
        /// Requested TP.
        tp: u32,
        /// Attention (query) heads.
        heads: u64,
        /// Model name.
        model: String,
        /// Valid TP sizes, comma-separated.
        valid: String,
    },
    /// TP neither divides the KV heads nor is a multiple of them.
    #[error("tensor parallel size {tp} neither divides the {kv_heads} KV heads of {model} nor is a multiple of them; valid: {valid}")]
    TpKvHeads {
        /// Requested TP.
        tp: u32,
        /// KV heads.
        kv_heads: u64,
        /// Model name.
        model: String,
        /// Valid TP sizes, comma-separated.
        valid: String,
    },
    /// EP > 1 for a model without experts.
    #[error(
        "expert parallel size {ep} needs a mixture-of-experts model; {model} is dense (use 1)"
    )]
    EpDense {
        /// Requested EP.
        ep: u32,
        /// Model name.
        model: String,
    },
    /// EP does not divide the expert count.
    #[error("expert parallel size {ep} does not divide the {experts} experts of {model}; valid: {valid}")]
    EpExperts {
        /// Requested EP.
        ep: u32,
        /// Routed experts per layer.
        experts: u64,
        /// Model name.
        model: String,
        /// Valid EP sizes, comma-separated.
        valid: String,
    },
    /// EP is larger than, or does not divide, TP x DP.
    #[error("expert parallel size {ep} must divide tp*dp = {ranks} (expert ranks are the TP and DP ranks); valid: {valid}")]
    EpRanks {
        /// Requested EP.
        ep: u32,
        /// tp * dp.
        ranks: u64,
        /// Valid EP sizes, comma-separated.
        valid: String,
    },
    /// PP exceeds the layer count.
    #[error(
        "pipeline parallel size {pp} exceeds the {layers} layers of {model}; valid: 1 to {layers}"
    )]
    PpLayers {
        /// Requested PP.
        pp: u32,
        /// Decoder layers.
        layers: usize,
        /// Model name.
        model: String,
    },
    /// DP x TP x PP differs from the GPU count.
    #[error("dp*tp*pp = {dp}*{tp}*{pp} = {product} GPUs, but the deployment has {num_gpus}")]
    GpuCount {
        /// DP.
        dp: u32,
        /// TP.
        tp: u32,
        /// PP.
        pp: u32,
        /// dp * tp * pp.
        product: u64,
        /// GPUs given.
        num_gpus: u32,
    },
}

fn divisors(n: u64) -> Vec<u64> {
    let n = n.min(1 << 20);
    (1..=n).filter(|d| n.is_multiple_of(*d)).collect()
}

fn join(v: &[u64]) -> String {
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

impl Parallelism {
    /// One GPU: tp = pp = dp = ep = 1.
    pub fn single() -> Self {
        Parallelism {
            tp: 1,
            pp: 1,
            dp: 1,
            ep: 1,
        }
    }

    /// Tensor parallelism only.
    pub fn tensor(tp: u32) -> Self {
        Parallelism {
            tp,
            ..Parallelism::single()
        }
    }

    /// GPUs used: dp * tp * pp (saturating).
    pub fn num_gpus(&self) -> u32 {
        self.dp.saturating_mul(self.tp).saturating_mul(self.pp)
    }

    /// TP sizes `arch` accepts: divisors of the attention heads that divide the KV heads or are a
    /// multiple of them.
    pub fn valid_tp(arch: &Architecture) -> Vec<u64> {
        let (heads, kv) = arch.attention_heads_for_tp();
        divisors(heads.max(1))
            .into_iter()
            .filter(|t| kv == 0 || kv.is_multiple_of(*t) || t.is_multiple_of(kv))
            .collect()
    }

    /// Checks the engine rules against `arch` and a GPU count.
    pub fn validate(&self, arch: &Architecture, num_gpus: u32) -> Result<(), ParallelismError> {
        for (what, v) in [
            ("tensor parallel", self.tp),
            ("pipeline parallel", self.pp),
            ("data parallel", self.dp),
            ("expert parallel", self.ep),
        ] {
            if v == 0 {
                return Err(ParallelismError::Zero { what });
            }
        }
        let model = arch.name.clone();
        let (heads, kv) = arch.attention_heads_for_tp();
        let tp = u64::from(self.tp);
        if heads > 0 && !heads.is_multiple_of(tp) {
            return Err(ParallelismError::TpHeads {
                tp: self.tp,
                heads,
                model,
                valid: join(&Parallelism::valid_tp(arch)),
            });
        }
        if kv > 0 && !kv.is_multiple_of(tp) && !tp.is_multiple_of(kv) {
            return Err(ParallelismError::TpKvHeads {
                tp: self.tp,
                kv_heads: kv,
                model,
                valid: join(&Parallelism::valid_tp(arch)),
            });
        }
        let layers = arch.layers.len();
        if self.pp as usize > layers {
            return Err(ParallelismError::PpLayers {
                pp: self.pp,
                layers,
                model,
            });
        }
        if self.ep > 1 {
            let experts = arch.num_experts();
            if experts == 0 {
                return Err(ParallelismError::EpDense { ep: self.ep, model });
            }
            let ep = u64::from(self.ep);
            if !experts.is_multiple_of(ep) {
                return Err(ParallelismError::EpExperts {
                    ep: self.ep,
                    experts,
                    model,
                    valid: join(&divisors(experts)),
                });
            }
            let ranks = tp * u64::from(self.dp);
            if ep > ranks || !ranks.is_multiple_of(ep) {
                let valid: Vec<u64> = divisors(ranks)
                    .into_iter()
                    .filter(|d| experts.is_multiple_of(*d))
                    .collect();
                return Err(ParallelismError::EpRanks {
                    ep: self.ep,
                    ranks,
                    valid: join(&valid),
                });
            }
        }
        let product = u64::from(self.dp) * tp * u64::from(self.pp);
        if product != u64::from(num_gpus) {
            return Err(ParallelismError::GpuCount {
                dp: self.dp,
                tp: self.tp,
                pp: self.pp,
                product,
                num_gpus,
            });
        }
        Ok(())
    }
}
