//! Model architecture: a Hugging Face `config.json` turned into an exact description of the
//! network — per-layer mixers (attention, MLA, state-space) and feed-forward blocks (dense or
//! mixture-of-experts), parameter counts, FLOPs and weight bytes per token, and KV-cache bytes.
//!
//! Parsing lives in the `parse` submodule ([`parse_config`]); this module holds the types and the arithmetic on them.

mod parse;
mod quantcfg;

pub use parse::{parse_config, replace_non_json_numbers, ModelError};
pub use quantcfg::{parse_weight_precision, WeightPrecision};

use crate::quant::{KvDtype, WeightFormat};
use serde::{Deserialize, Serialize};

/// Classes of weight tensors that a checkpoint may store in different formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum TensorClass {
    /// Input token embedding table.
    Embedding,
    /// Output projection to the vocabulary.
    LmHead,
    /// Attention / MLA / state-space mixer projections.
    Attention,
    /// Dense (non-expert) feed-forward blocks.
    DenseMlp,
    /// Routed experts of mixture-of-experts layers.
    RoutedExperts,
    /// Shared (always active) experts of mixture-of-experts layers.
    SharedExperts,
    /// MoE router (gate) weights.
    Router,
    /// Norm weights, biases and other small vectors (kept in 16 bits).
    Norm,
}

impl TensorClass {
    /// All tensor classes.
    pub const ALL: [TensorClass; 8] = [
        TensorClass::Embedding,
        TensorClass::LmHead,
        TensorClass::Attention,
        TensorClass::DenseMlp,
        TensorClass::RoutedExperts,
        TensorClass::SharedExperts,
        TensorClass::Router,
        TensorClass::Norm,
    ];
    /// Canonical snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            TensorClass::Embedding => "embedding",
            TensorClass::LmHead => "lm_head",
            TensorClass::Attention => "attention",
            TensorClass::DenseMlp => "dense_mlp",
            TensorClass::RoutedExperts => "routed_experts",
            TensorClass::SharedExperts => "shared_experts",
            TensorClass::Router => "router",
            TensorClass::Norm => "norm",
        }
    }
}

/// The attention family of a model, as users name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionKind {
    /// Multi-head attention: as many KV heads as query heads.
    Mha,
    /// Grouped-query attention: fewer KV heads than query heads (more than one).
    Gqa,
    /// Multi-query attention: one KV head.
    Mqa,
    /// Multi-head latent attention (DeepSeek): a compressed latent is cached.
    Mla,
    /// Some layers are not softmax attention (Mamba, linear attention).
    Hybrid,
}

/// How far back a softmax-attention layer looks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AttentionSpan {
    /// Every previous token.
    Full,
    /// The last `window` tokens.
    Sliding {
        /// Window length in tokens.
        window: u64,
    },
    /// Tokens of the current chunk of `chunk` tokens (Llama 4).
    Chunked {
        /// Chunk length in tokens.
        chunk: u64,
    },
    /// Compressed KV (one entry per `ratio` tokens) plus a local window (DeepSeek V4).
    Compressed {
        /// Tokens per compressed entry.
        ratio: u64,
        /// Local window of uncompressed tokens.
        window: u64,
    },
}

impl AttentionSpan {
    /// Cached KV entries for a sequence of `context` tokens.
    pub fn cached_tokens(self, context: f64) -> f64 {
        match self {
            AttentionSpan::Full => context,
            AttentionSpan::Sliding { window } => context.min(window as f64),
            AttentionSpan::Chunked { chunk } => context.min(chunk as f64),
            AttentionSpan::Compressed { ratio, window } => {
                (context / ratio.max(1) as f64).ceil() + context.min(window as f64)
            }
        }
    }
    /// Tokens a query at position `context` attends to.
    pub fn attended_tokens(self, context: f64) -> f64 {
        match self {
            AttentionSpan::Chunked { chunk } => {
                // A query attends to its own chunk: on average half a chunk once context > chunk.
                if context <= chunk as f64 {
                    context
                } else {
                    chunk as f64 / 2.0
                }
            }
            other => other.cached_tokens(context),
        }
    }
}

/// A softmax attention block (MHA / GQA / MQA).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttentionLayer {
    /// Query heads.
    pub q_heads: u64,
    /// Key/value heads.
    pub kv_heads: u64,
    /// Query/key head dimension.
    pub qk_head_dim: u64,
    /// Value head dimension.
    pub v_head_dim: u64,
    /// Look-back span.
    pub span: AttentionSpan,
    /// Keys and values share one cached tensor (Gemma 4 `attention_k_eq_v`).
    pub k_eq_v: bool,
    /// Projection parameters (q, k, v, o, gates, biases, q/k norms).
    pub params: u64,
}

/// Lightning-indexer of DeepSeek sparse attention (DSA).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indexer {
    /// Indexer heads.
    pub heads: u64,
    /// Indexer head dimension (cached per token in fp8 plus a 4-byte scale).
    pub head_dim: u64,
    /// Tokens selected per query.
    pub topk: u64,
}

/// Multi-head latent attention (DeepSeek V2/V3, Kimi K2, GLM-5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlaLayer {
    /// Attention heads.
    pub heads: u64,
    /// Query low-rank dimension (None: full-rank query projection).
    pub q_lora_rank: Option<u64>,
    /// KV latent dimension (cached per token).
    pub kv_lora_rank: u64,
    /// Non-rotary part of the query/key head.
    pub qk_nope_head_dim: u64,
    /// Rotary part of the query/key head (cached per token).
    pub qk_rope_head_dim: u64,
    /// Value head dimension.
    pub v_head_dim: u64,
    /// Sparse-attention indexer, when present.
    pub indexer: Option<Indexer>,
    /// Projection parameters.
    pub params: u64,
}

/// Kinds of recurrent (state-space / linear-attention) mixers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SsmKind {
    /// Mamba-2 (Nemotron-H).
    Mamba2,
    /// Gated DeltaNet (Qwen3-Next / Qwen3.5 `linear_attention`).
    GatedDeltaNet,
    /// Kimi delta attention (Kimi Linear).
    KimiDelta,
    /// Lightning / linear attention (MiniMax).
    Lightning,
}

/// A recurrent mixer: fixed-size state per sequence instead of a growing KV cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SsmLayer {
    /// Which recurrent mixer.
    pub kind: SsmKind,
    /// Projection and convolution parameters.
    pub params: u64,
    /// State per sequence in bytes (convolution state + recurrent state, at the engine's dtype).
    pub state_bytes_per_sequence: f64,
    /// Extra FLOPs per token for the recurrent update (beyond 2 x params).
    pub state_flops_per_token: f64,
}

/// The token-mixing part of a layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Mixer {
    /// Softmax attention.
    Attention(AttentionLayer),
    /// Multi-head latent attention.
    Mla(MlaLayer),
    /// State-space / linear attention.
    Ssm(SsmLayer),
    /// No mixer (an MLP-only layer of a hybrid pattern, or a no-op block).
    None,
}

/// A dense feed-forward block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenseFfn {
    /// Intermediate (hidden) size.
    pub intermediate: u64,
    /// Gated (SwiGLU/GeGLU: three matrices) or plain (two matrices).
    pub gated: bool,
    /// Parameters, biases included.
    pub params: u64,
}

/// A mixture-of-experts feed-forward block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoeFfn {
    /// Routed experts.
    pub num_experts: u64,
    /// Routed experts per token.
    pub top_k: u64,
    /// Intermediate size of one routed expert.
    pub expert_intermediate: u64,
    /// Input/output width of the experts (hidden size, or a latent size for latent MoE).
    pub expert_width: u64,
    /// Gated experts (three matrices) or plain (two).
    pub gated: bool,
    /// Parameters of one routed expert.
    pub params_per_expert: u64,
    /// Parameters of the shared experts together (always active).
    pub shared_params: u64,
    /// Router parameters.
    pub router_params: u64,
    /// Always-active dense parameters beside the experts (latent projections, Gemma 4's parallel MLP).
    pub dense_params: u64,
}

impl MoeFfn {
    /// All routed-expert parameters.
    pub fn routed_params(&self) -> u64 {
        self.num_experts.saturating_mul(self.params_per_expert)
    }
}

/// The feed-forward part of a layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Ffn {
    /// Dense MLP.
    Dense(DenseFfn),
    /// Mixture of experts.
    Moe(MoeFfn),
    /// None (a mixer-only layer).
    None,
}

/// One decoder layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    /// Token mixer.
    pub mixer: Mixer,
    /// Feed-forward block.
    pub ffn: Ffn,
    /// Norm parameters of the layer.
    pub norm_params: u64,
}

/// What an operator does, for choosing its efficiency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// A dense matrix product against a weight.
    Linear,
    /// Routed-expert grouped matrix products.
    Experts,
    /// Attention over the KV cache (scores and values).
    AttentionCore,
    /// Recurrent state update.
    StateUpdate,
    /// Embedding lookup.
    EmbeddingLookup,
}

/// One operator of the forward pass, per token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operator {
    /// Layer index (None for embedding and LM head).
    pub layer: Option<u32>,
    /// Operator name (e.g. `attn.qkv_o`, `mlp`, `experts`).
    pub name: String,
    /// What it does.
    pub kind: OpKind,
    /// Weight tensor class (for the storage format).
    pub tensor_class: TensorClass,
    /// Weight parameters the operator owns (all experts for `Experts`).
    pub params: u64,
    /// Weight parameters touched per token (top-k experts for `Experts`).
    pub active_params: u64,
    /// Weight bytes at the checkpoint's precision (all of `params`).
    pub weight_bytes: f64,
    /// FLOPs per token that do not depend on context (2 x active params for linear ops).
    pub flops_per_token: f64,
    /// FLOPs per token per attended context token (attention core only).
    pub flops_per_token_per_context: f64,
}

/// A parsed model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// Name given by the caller (catalog id, path or Hub id).
    pub name: String,
    /// `model_type` of the language model.
    pub model_type: String,
    /// Hidden size.
    pub hidden_size: u64,
    /// Vocabulary size.
    pub vocab_size: u64,
    /// Query heads of the (full) attention layers.
    pub num_attention_heads: u64,
    /// KV heads of the (full) attention layers (1 for MLA's shared latent).
    pub num_kv_heads: u64,
    /// Head dimension of the (full) attention layers.
    pub head_dim: u64,
    /// Attention family.
    pub attention: AttentionKind,
    /// Input embedding and LM head share one tensor.
    pub tie_word_embeddings: bool,
    /// Maximum context the model supports.
    pub max_position_embeddings: u64,
    /// Decoder layers.
    pub layers: Vec<Layer>,
    /// Parameters of multi-token-prediction (MTP) modules: stored in the checkpoint, not counted in
    /// `total_params` (as model cards count), loaded only for speculative decoding.
    pub mtp_params: u64,
    /// Final norm parameters.
    pub final_norm_params: u64,
    /// Storage format per tensor class.
    pub precision: WeightPrecision,
    /// KV dtype when the engine is left at `auto` (the activation dtype).
    pub native_kv_dtype: KvDtype,
    /// KV dtype the checkpoint recommends (e.g. fp8 in a ModelOpt `hf_quant_config.json`).
    pub checkpoint_kv_dtype: Option<KvDtype>,
    /// The config has a vision (or audio) tower that is not counted here.
    pub has_vision_tower: bool,
    /// Things the parser assumed or approximated, for the user.
    pub notes: Vec<String>,
    /// Identical layers grouped as (index of a representative layer, count): a cache that lets
    /// the estimator time each distinct layer once. Rebuilt by [`Architecture::regroup_layers`].
    #[serde(skip)]
    pub layer_group_cache: Vec<(usize, u32)>,
}

/// Parameter counts, split the ways users and engines need them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ParamCounts {
    /// All parameters of the language model (MTP modules excluded).
    pub total: u64,
    /// Parameters touched per token: embedding, LM head, dense parts, shared and top-k experts.
    pub active: u64,
    /// Input embedding parameters.
    pub embedding: u64,
    /// LM head parameters (0 when tied to the embedding).
    pub lm_head: u64,
}

impl Architecture {
    /// Recompute the identical-layer groups after changing `layers`.
    pub fn regroup_layers(&mut self) {
        let mut groups: Vec<(usize, u32)> = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            match groups.iter_mut().find(|(r, _)| self.layers[*r] == *l) {
                Some(g) => g.1 += 1,
                None => groups.push((i, 1)),
            }
        }
        self.layer_group_cache = groups;
    }

    /// Distinct layers with how many times each occurs (order of first occurrence).
    pub fn layer_groups(&self) -> Vec<(&Layer, u32)> {
        let cached: u64 = self.layer_group_cache.iter().map(|(_, n)| *n as u64).sum();
        let valid = cached == self.layers.len() as u64
            && self
                .layer_group_cache
                .iter()
                .all(|(i, _)| *i < self.layers.len());
        if valid {
            self.layer_group_cache
                .iter()
                .map(|(i, n)| (&self.layers[*i], *n))
                .collect()
        } else {
            self.layers.iter().map(|l| (l, 1)).collect()
        }
    }

    /// Number of decoder layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// True when any layer is a mixture of experts.
    pub fn is_moe(&self) -> bool {
        self.layers.iter().any(|l| matches!(l.ffn, Ffn::Moe(_)))
    }

    /// The first MoE block (experts, top-k), if any.
    pub fn first_moe(&self) -> Option<&MoeFfn> {
        self.layers.iter().find_map(|l| match &l.ffn {
            Ffn::Moe(m) => Some(m),
            _ => None,
        })
    }

    /// Routed experts per MoE layer (0 for dense models).
    pub fn num_experts(&self) -> u64 {
        self.first_moe().map_or(0, |m| m.num_experts)
    }

    /// Routed experts per token (0 for dense models).
    pub fn experts_per_token(&self) -> u64 {
        self.first_moe().map_or(0, |m| m.top_k)
    }

    /// Parameters per tensor class (all of them, MTP excluded).
    pub fn params_by_class(&self) -> Vec<(TensorClass, u64)> {
        let mut by = [0u64; 8];
        let idx = |c: TensorClass| TensorClass::ALL.iter().position(|x| *x == c).unwrap_or(0);
        for op in self.operators() {
            by[idx(op.tensor_class)] = by[idx(op.tensor_class)].saturating_add(op.params);
        }
        let norms: u64 = self
            .layers
            .iter()
            .map(|l| l.norm_params)
            .sum::<u64>()
            .saturating_add(self.final_norm_params);
        by[idx(TensorClass::Norm)] = by[idx(TensorClass::Norm)].saturating_add(norms);
        TensorClass::ALL
            .iter()
            .map(|c| (*c, by[idx(*c)]))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Parameter counts.
    pub fn params(&self) -> ParamCounts {
        let ops = self.operators();
        let norms: u64 = self
            .layers
            .iter()
            .map(|l| l.norm_params)
            .sum::<u64>()
            .saturating_add(self.final_norm_params);
        let total = ops
            .iter()
            .map(|o| o.params)
            .fold(norms, u64::saturating_add);
        let active = ops
            .iter()
            .map(|o| o.active_params)
            .fold(norms, u64::saturating_add);
        let embedding = self.hidden_size.saturating_mul(self.vocab_size);
        ParamCounts {
            total,
            active,
            embedding,
            lm_head: if self.tie_word_embeddings {
                0
            } else {
                embedding
            },
        }
    }

    /// Weight bytes of the whole model at its storage precision (MTP excluded).
    pub fn weight_bytes(&self) -> f64 {
        self.params_by_class()
            .into_iter()
            .map(|(c, n)| n as f64 * self.precision.get(c).bytes_per_param())
            .sum()
    }

    /// The per-token operator list: embedding, every layer's operators, LM head.
    pub fn operators(&self) -> Vec<Operator> {
        let mut ops = Vec::with_capacity(self.layers.len() * 4 + 2);
        let h = self.hidden_size;
        let emb = h.saturating_mul(self.vocab_size);
        let p = &self.precision;
        ops.push(Operator {
            layer: None,
            name: "embedding".into(),
            kind: OpKind::EmbeddingLookup,
            tensor_class: TensorClass::Embedding,
            params: emb,
            active_params: emb,
            weight_bytes: emb as f64 * p.embedding.bytes_per_param(),
            flops_per_token: 0.0,
            flops_per_token_per_context: 0.0,
        });
        for (i, layer) in self.layers.iter().enumerate() {
            let li = Some(i as u32);
            let linear = |name: &str, class: TensorClass, n: u64| Operator {
                layer: li,
                name: name.into(),
                kind: OpKind::Linear,
                tensor_class: class,
                params: n,
                active_params: n,
                weight_bytes: n as f64 * p.get(class).bytes_per_param(),
                flops_per_token: 2.0 * n as f64,
                flops_per_token_per_context: 0.0,
            };
            match &layer.mixer {
                Mixer::Attention(a) => {
                    ops.push(linear("attn.proj", TensorClass::Attention, a.params));
                    ops.push(Operator {
                        layer: li,
                        name: "attn.core".into(),
                        kind: OpKind::AttentionCore,
                        tensor_class: TensorClass::Attention,
                        params: 0,
                        active_params: 0,
                        weight_bytes: 0.0,
                        flops_per_token: 0.0,
                        flops_per_token_per_context: 2.0
                            * a.q_heads as f64
                            * (a.qk_head_dim + a.v_head_dim) as f64,
                    });
                }
                Mixer::Mla(m) => {
                    ops.push(linear("mla.proj", TensorClass::Attention, m.params));
                    ops.push(Operator {
                        layer: li,
                        name: "mla.core".into(),
                        kind: OpKind::AttentionCore,
                        tensor_class: TensorClass::Attention,
                        params: 0,
                        active_params: 0,
                        weight_bytes: 0.0,
                        flops_per_token: 0.0,
                        // Prefill (MHA form): q.k over nope+rope, then p.v.
                        flops_per_token_per_context: 2.0
                            * m.heads as f64
                            * (m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim) as f64,
                    });
                }
                Mixer::Ssm(s) => {
                    let mut op = linear("ssm.proj", TensorClass::Attention, s.params);
                    op.flops_per_token += s.state_flops_per_token;
                    op.kind = OpKind::StateUpdate;
                    ops.push(op);
                }
                Mixer::None => {}
            }
            match &layer.ffn {
                Ffn::Dense(d) => ops.push(linear("mlp", TensorClass::DenseMlp, d.params)),
                Ffn::Moe(m) => {
                    ops.push(linear("moe.router", TensorClass::Router, m.router_params));
                    if m.shared_params > 0 {
                        ops.push(linear(
                            "moe.shared_experts",
                            TensorClass::SharedExperts,
                            m.shared_params,
                        ));
                    }
                    if m.dense_params > 0 {
                        ops.push(linear("moe.dense", TensorClass::DenseMlp, m.dense_params));
                    }
                    let routed = m.routed_params();
                    let active = m
                        .top_k
                        .min(m.num_experts)
                        .saturating_mul(m.params_per_expert);
                    ops.push(Operator {
                        layer: li,
                        name: "moe.experts".into(),
                        kind: OpKind::Experts,
                        tensor_class: TensorClass::RoutedExperts,
                        params: routed,
                        active_params: active,
                        weight_bytes: routed as f64 * p.routed_experts.bytes_per_param(),
                        flops_per_token: 2.0 * active as f64,
                        flops_per_token_per_context: 0.0,
                    });
                }
                Ffn::None => {}
            }
        }
        let head = if self.tie_word_embeddings { 0 } else { emb };
        ops.push(Operator {
            layer: None,
            name: "lm_head".into(),
            kind: OpKind::Linear,
            tensor_class: TensorClass::LmHead,
            params: head,
            active_params: head,
            weight_bytes: head as f64 * p.lm_head.bytes_per_param(),
            flops_per_token: 2.0 * emb as f64,
            flops_per_token_per_context: 0.0,
        });
        ops
    }

    /// KV bytes one layer caches per cached token, at `dtype`.
    pub fn layer_kv_bytes_per_cached_token(layer: &Layer, dtype: KvDtype) -> f64 {
        match &layer.mixer {
            Mixer::Attention(a) => {
                let per_head = if a.k_eq_v {
                    a.qk_head_dim
                } else {
                    a.qk_head_dim + a.v_head_dim
                };
                (a.kv_heads * per_head) as f64 * dtype.bytes()
            }
            Mixer::Mla(m) => {
                let latent = (m.kv_lora_rank + m.qk_rope_head_dim) as f64 * dtype.bytes();
                // The DSA indexer caches its key in fp8 with one fp32 scale.
                let idx = m.indexer.as_ref().map_or(0.0, |x| x.head_dim as f64 + 4.0);
                latent + idx
            }
            Mixer::Ssm(_) | Mixer::None => 0.0,
        }
    }

    /// KV-cache bytes of one sequence of `context` tokens at `dtype`, recurrent state included.
    pub fn kv_cache_bytes_per_sequence(&self, context: u64, dtype: KvDtype) -> f64 {
        let ctx = context as f64;
        self.layers
            .iter()
            .map(|l| match &l.mixer {
                Mixer::Attention(a) => {
                    Self::layer_kv_bytes_per_cached_token(l, dtype) * a.span.cached_tokens(ctx)
                }
                Mixer::Mla(_) => Self::layer_kv_bytes_per_cached_token(l, dtype) * ctx,
                Mixer::Ssm(s) => s.state_bytes_per_sequence,
                Mixer::None => 0.0,
            })
            .sum()
    }

    /// KV bytes per token averaged over a sequence of `context` tokens (recurrent state excluded).
    ///
    /// At a short context (up to the smallest window) every attention layer counts; at long
    /// contexts sliding-window and chunked layers stop growing.
    pub fn kv_cache_bytes_per_token(&self, context: u64, dtype: KvDtype) -> f64 {
        if context == 0 {
            return 0.0;
        }
        let state = self.state_bytes_per_sequence();
        (self.kv_cache_bytes_per_sequence(context, dtype) - state) / context as f64
    }

    /// KV bytes per token of the layers whose cache grows with context (full attention, MLA).
    pub fn kv_cache_bytes_per_token_growing(&self, dtype: KvDtype) -> f64 {
        self.layers
            .iter()
            .map(|l| match &l.mixer {
                Mixer::Attention(a) if matches!(a.span, AttentionSpan::Full) => {
                    Self::layer_kv_bytes_per_cached_token(l, dtype)
                }
                Mixer::Attention(a) => {
                    if let AttentionSpan::Compressed { ratio, .. } = a.span {
                        Self::layer_kv_bytes_per_cached_token(l, dtype) / ratio.max(1) as f64
                    } else {
                        0.0
                    }
                }
                Mixer::Mla(_) => Self::layer_kv_bytes_per_cached_token(l, dtype),
                _ => 0.0,
            })
            .sum()
    }

    /// Fixed recurrent-state bytes per sequence (Mamba, linear attention).
    pub fn state_bytes_per_sequence(&self) -> f64 {
        self.layers
            .iter()
            .map(|l| match &l.mixer {
                Mixer::Ssm(s) => s.state_bytes_per_sequence,
                _ => 0.0,
            })
            .sum()
    }

    /// The KV dtype for a user choice.
    pub fn kv_dtype(&self, choice: crate::quant::KvDtypeChoice) -> KvDtype {
        choice.resolve(self.native_kv_dtype)
    }

    /// A copy with every quantizable tensor class stored as `format` (what `--weight-quant` does).
    ///
    /// Embeddings, norms, the router and the LM head stay in 16 bits: load-time quantization
    /// (vLLM `--quantization fp8`, SGLang's likewise) converts the linear layers only, and the LM
    /// head is a vocab-parallel embedding there, not a linear layer (vLLM's `Fp8Config` returns a
    /// quantization method for `LinearBase` layers only). Measured: Llama-3.1-8B at runtime fp8
    /// holds 8.49 GiB of weights on an H100 (issue 14).
    pub fn with_weight_format(&self, format: WeightFormat) -> Architecture {
        let mut a = self.clone();
        let mut precision = WeightPrecision::uniform(format);
        precision.lm_head = precision.embedding;
        a.precision = precision;
        a
    }

    /// Layers whose mixer is softmax attention or MLA.
    pub fn num_attention_layers(&self) -> usize {
        self.layers
            .iter()
            .filter(|l| matches!(l.mixer, Mixer::Attention(_) | Mixer::Mla(_)))
            .count()
    }

    /// The attention (or MLA) heads of the first attention layer: what tensor parallelism must divide.
    pub fn attention_heads_for_tp(&self) -> (u64, u64) {
        for l in &self.layers {
            match &l.mixer {
                Mixer::Attention(a) => return (a.q_heads, a.kv_heads),
                Mixer::Mla(m) => return (m.heads, m.heads),
                _ => {}
            }
        }
        (self.num_attention_heads, self.num_kv_heads)
    }
}

#[cfg(test)]
mod tests;
