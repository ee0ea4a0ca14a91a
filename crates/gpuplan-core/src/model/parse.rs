//! `config.json` -> [`Architecture`].
//!
//! One parser for every family: the language model's keys are read under their several names
//! (`num_local_experts` / `num_experts` / `n_routed_experts` ...), multimodal configs are read
//! from `text_config`, and per-layer attributes (`layer_types`, hybrid patterns, MoE layer
//! frequencies, block configs) decide each layer's mixer and feed-forward block.

use super::quantcfg::parse_weight_precision;
use super::{
    Architecture, AttentionKind, AttentionLayer, AttentionSpan, DenseFfn, Ffn, Indexer, Layer,
    Mixer, MlaLayer, MoeFfn, SsmKind, SsmLayer,
};
use crate::quant::{KvDtype, WeightFormat};
use serde_json::{Map, Value};

/// A config that cannot be turned into an architecture: names the source and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: {}{message}", field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
pub struct ModelError {
    /// The file, catalog id or URL the config came from.
    pub source_name: String,
    /// The offending field, when one is to blame.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

const MAX_HIDDEN: u64 = 1 << 20;
const MAX_LAYERS: u64 = 10_000;
const MAX_VOCAB: u64 = 1 << 24;
const MAX_EXPERTS: u64 = 1 << 16;
const MAX_HEADS: u64 = 1 << 14;
const MAX_INTERMEDIATE: u64 = 1 << 22;
/// A model above this many parameters is rejected as implausible (a typo in the config).
const MAX_TOTAL_PARAMS: u64 = 1_000_000_000_000_000;

/// Model types the parser knows by name. Others are read as a generic decoder when the generic
/// fields are all present.
const KNOWN_MODEL_TYPES: &[&str] = &[
    "llama",
    "llama4_text",
    "mistral",
    "mixtral",
    "qwen2",
    "qwen2_moe",
    "qwen3",
    "qwen3_moe",
    "qwen3_next",
    "qwen3_vl_text",
    "qwen3_vl_moe_text",
    "qwen3_5_text",
    "qwen3_5_moe_text",
    "deepseek_v2",
    "deepseek_v3",
    "deepseek_v32",
    "deepseek_v4",
    "deepseek_ref",
    "kimi_k2",
    "kimi_linear",
    "glm_moe_dsa",
    "minimax_m2",
    "minimax_m3",
    "gpt_oss",
    "gemma",
    "gemma2",
    "gemma3_text",
    "gemma4_text",
    "phi",
    "phi3",
    "nemotron_h",
    "nemotron-nas",
    "mimo",
    "mimo_v2_flash",
    "step3p7",
];

struct Cfg<'a> {
    source: &'a str,
    map: Map<String, Value>,
}

impl<'a> Cfg<'a> {
    fn err(&self, field: &str, message: impl Into<String>) -> ModelError {
        ModelError {
            source_name: self.source.to_string(),
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// An optional non-negative integer under any of `keys` (first present wins).
    fn opt_u(&self, keys: &[&str]) -> Result<Option<u64>, ModelError> {
        for k in keys {
            if let Some(v) = self.get(k) {
                if let Some(n) = v.as_u64() {
                    return Ok(Some(n));
                }
                if let Some(f) = v.as_f64() {
                    if f >= 0.0 && f.fract() == 0.0 && f < 1e18 {
                        return Ok(Some(f as u64));
                    }
                    return Err(self.err(k, format!("expected a non-negative integer, got {v}")));
                }
                if v.is_boolean() || v.is_string() || v.is_array() || v.is_object() {
                    return Err(self.err(k, format!("expected an integer, got {v}")));
                }
            }
        }
        Ok(None)
    }

    /// A required positive integer bounded by `max`.
    fn pos(&self, keys: &[&str], max: u64) -> Result<u64, ModelError> {
        match self.opt_u(keys)? {
            Some(0) => Err(self.err(keys[0], "must be positive, got 0")),
            Some(n) if n > max => Err(self.err(
                keys[0],
                format!("implausibly large value {n} (limit {max})"),
            )),
            Some(n) => Ok(n),
            None => Err(self.err(keys[0], "missing required field")),
        }
    }

    /// An optional positive integer bounded by `max` (0 or absent -> None).
    fn opt_pos(&self, keys: &[&str], max: u64) -> Result<Option<u64>, ModelError> {
        match self.opt_u(keys)? {
            Some(0) | None => Ok(None),
            Some(n) if n > max => Err(self.err(
                keys[0],
                format!("implausibly large value {n} (limit {max})"),
            )),
            Some(n) => Ok(Some(n)),
        }
    }

    fn opt_bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(Value::as_bool)
    }

    fn opt_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    fn array(&self, key: &str) -> Option<&Vec<Value>> {
        self.get(key).and_then(Value::as_array)
    }
}

fn reject_negative_sizes(cfg: &Cfg<'_>) -> Result<(), ModelError> {
    for (k, v) in &cfg.map {
        let size_like = k.ends_with("_size")
            || k.ends_with("_dim")
            || k.starts_with("num_")
            || k.starts_with("n_")
            || k.ends_with("_rank")
            || k == "vocab_size";
        if size_like {
            if let Some(f) = v.as_f64() {
                if f < 0.0 {
                    return Err(cfg.err(k, format!("must not be negative, got {v}")));
                }
            }
        }
    }
    Ok(())
}

fn sat(xs: &[u64]) -> u64 {
    xs.iter().fold(1u64, |a, b| a.saturating_mul(*b))
}

fn activation_is_gated(act: &str) -> bool {
    !matches!(
        act,
        "relu2" | "gelu_new" | "gelu" | "gelu_fast" | "gelu_pytorch_tanh_plain" | "relu"
    )
}

/// Parse a `config.json` (and optionally a ModelOpt `hf_quant_config.json`) into an [`Architecture`].
///
/// `source_name` names the file or id in error messages.
pub fn parse_config(
    source_name: &str,
    config_json: &str,
    hf_quant_config_json: Option<&str>,
) -> Result<Architecture, ModelError> {
    let cleaned = replace_non_json_numbers(config_json);
    let top: Value = serde_json::from_str(&cleaned).map_err(|e| ModelError {
        source_name: source_name.to_string(),
        field: None,
        message: format!("malformed JSON: {e}"),
    })?;
    let hfq: Option<Value> = match hf_quant_config_json {
        Some(s) => Some(serde_json::from_str(s).map_err(|e| ModelError {
            source_name: format!("{source_name} (hf_quant_config.json)"),
            field: None,
            message: format!("malformed JSON: {e}"),
        })?),
        None => None,
    };
    let Value::Object(top) = top else {
        return Err(ModelError {
            source_name: source_name.to_string(),
            field: None,
            message: "expected a JSON object at the top level".into(),
        });
    };
    // Multimodal configs nest the language model; top-level keys fill what it lacks.
    let mut map = match top.get("text_config").or_else(|| top.get("llm_config")) {
        Some(Value::Object(t)) => t.clone(),
        Some(v) if !v.is_null() => {
            return Err(ModelError {
                source_name: source_name.to_string(),
                field: Some("text_config".into()),
                message: "expected an object".into(),
            })
        }
        _ => top.clone(),
    };
    for (k, v) in &top {
        if k != "text_config" && !map.contains_key(k) {
            map.insert(k.clone(), v.clone());
        }
    }
    let has_vision_tower = top.contains_key("vision_config") || top.contains_key("audio_config");
    let cfg = Cfg {
        source: source_name,
        map,
    };
    reject_negative_sizes(&cfg)?;

    let model_type = cfg.opt_str("model_type").unwrap_or("").to_ascii_lowercase();
    let mut notes = Vec::new();
    if !KNOWN_MODEL_TYPES.contains(&model_type.as_str()) {
        // Generic decoder: name the first missing generic field.
        for f in [
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "vocab_size",
        ] {
            let alias_present = match f {
                "hidden_size" => ["hidden_size", "d_model", "n_embd"]
                    .iter()
                    .any(|k| cfg.get(k).is_some()),
                "num_hidden_layers" => ["num_hidden_layers", "n_layer", "num_layers"]
                    .iter()
                    .any(|k| cfg.get(k).is_some()),
                "num_attention_heads" => ["num_attention_heads", "n_head"]
                    .iter()
                    .any(|k| cfg.get(k).is_some()),
                _ => cfg.get(f).is_some(),
            };
            if !alias_present {
                let what = if model_type.is_empty() {
                    "no model_type".to_string()
                } else {
                    format!("unknown model_type '{model_type}'")
                };
                return Err(cfg.err(
                    f,
                    format!("{what} and the generic decoder field is missing, so the architecture cannot be read"),
                ));
            }
        }
        notes.push(format!(
            "model_type '{}' is not known to gpuplan: read as a generic decoder",
            if model_type.is_empty() {
                "(none)"
            } else {
                &model_type
            }
        ));
    }

    let hidden = cfg.pos(&["hidden_size", "d_model", "n_embd"], MAX_HIDDEN)?;
    let pattern_len = cfg.array("layers_block_type").map(Vec::len).or_else(|| {
        cfg.opt_str("hybrid_override_pattern")
            .map(|p| p.chars().count())
    });
    let num_layers = match (
        cfg.opt_u(&["num_hidden_layers", "n_layer", "num_layers"])?,
        pattern_len,
    ) {
        (None, Some(n)) if n > 0 => n as u64,
        _ => cfg.pos(&["num_hidden_layers", "n_layer", "num_layers"], MAX_LAYERS)?,
    };
    let vocab = cfg.pos(&["vocab_size"], MAX_VOCAB)?;
    let heads = cfg.pos(&["num_attention_heads", "n_head"], MAX_HEADS)?;
    let kv_heads = cfg
        .opt_pos(
            &["num_key_value_heads", "num_kv_heads", "n_head_kv"],
            MAX_HEADS,
        )?
        .unwrap_or(heads);
    if kv_heads > heads {
        return Err(cfg.err(
            "num_key_value_heads",
            format!("{kv_heads} KV heads exceed {heads} attention heads"),
        ));
    }
    if heads % kv_heads != 0 {
        let valid: Vec<String> = (1..=heads)
            .filter(|d| heads % d == 0)
            .map(|d| d.to_string())
            .collect();
        return Err(cfg.err(
            "num_key_value_heads",
            format!(
                "{kv_heads} KV heads do not divide {heads} attention heads (each KV head serves \
                 a whole group of query heads); valid values: {}",
                valid.join(", ")
            ),
        ));
    }
    let explicit_head_dim = cfg.opt_pos(&["head_dim", "attention_head_dim"], MAX_HIDDEN)?;
    if explicit_head_dim.is_none() && hidden % heads != 0 && cfg.opt_u(&["kv_lora_rank"])?.is_none()
    {
        return Err(cfg.err(
            "num_attention_heads",
            format!(
                "hidden_size {hidden} is not divisible by num_attention_heads {heads} and no \
                 head_dim is given; set head_dim"
            ),
        ));
    }
    let head_dim = explicit_head_dim.unwrap_or(hidden / heads);
    if head_dim == 0 {
        return Err(cfg.err(
            "head_dim",
            "hidden_size / num_attention_heads is zero; set head_dim",
        ));
    }
    let intermediate = cfg.opt_pos(
        &["intermediate_size", "ffn_dim", "n_inner"],
        MAX_INTERMEDIATE,
    )?;
    let max_pos = cfg
        .opt_u(&[
            "max_position_embeddings",
            "max_sequence_length",
            "seq_length",
        ])?
        .unwrap_or(4096);

    let act = cfg
        .opt_str("hidden_act")
        .or_else(|| cfg.opt_str("hidden_activation"))
        .or_else(|| cfg.opt_str("mlp_hidden_act"))
        .unwrap_or("silu")
        .to_ascii_lowercase();
    let is_phi2 = model_type == "phi";
    let is_gemma = model_type.starts_with("gemma");
    let gated = if model_type == "nemotron_h" {
        activation_is_gated(cfg.opt_str("mlp_hidden_act").unwrap_or("relu2"))
    } else if is_phi2 {
        false
    } else {
        // Gemma's gelu_pytorch_tanh is GeGLU: gated.
        is_gemma || activation_is_gated(&act)
    };
    let tie = cfg.opt_bool("tie_word_embeddings").unwrap_or(is_gemma);
    let attn_bias = cfg.opt_bool("attention_bias").unwrap_or(false)
        || cfg.opt_bool("qkv_bias").unwrap_or(false)
        || model_type == "qwen2"
        || is_phi2;
    let mlp_bias = cfg.opt_bool("mlp_bias").unwrap_or(false) || is_phi2;
    let qk_norm = cfg.opt_bool("use_qk_norm").unwrap_or(false)
        || cfg.opt_bool("qk_layernorm").unwrap_or(false)
        || model_type.starts_with("qwen3")
        || model_type.starts_with("gemma3")
        || model_type.starts_with("gemma4");
    // Norms per layer: 2 RMSNorm vectors (4 for Gemma 2/3/4's sandwich norms); LayerNorm has a bias.
    let norms_per_layer: u64 = if is_gemma && model_type != "gemma" {
        4
    } else {
        2
    };
    let norm_width_mult: u64 = if is_phi2 { 2 } else { 1 };

    // --- Activation dtype ---
    let dtype_str = cfg
        .opt_str("torch_dtype")
        .or_else(|| cfg.opt_str("dtype"))
        .unwrap_or("bfloat16")
        .to_ascii_lowercase();
    let base = match dtype_str.as_str() {
        "float16" | "fp16" | "half" => WeightFormat::Fp16,
        "float32" | "fp32" | "float" => WeightFormat::F32,
        _ => WeightFormat::Bf16,
    };
    // Engines serve fp32 checkpoints in bf16 (vLLM's dtype=auto downcasts float32).
    let served_base = if base == WeightFormat::F32 {
        notes.push(
            "checkpoint is float32; engines serve it in bf16, which is what is counted".into(),
        );
        WeightFormat::Bf16
    } else {
        base
    };
    let parsed_prec = parse_weight_precision(
        served_base,
        cfg.get("quantization_config")
            .or_else(|| top.get("quantization_config")),
        hfq.as_ref(),
    );
    notes.extend(parsed_prec.notes.iter().cloned());

    // --- MoE keys ---
    let num_experts = cfg.opt_pos(
        &[
            "num_local_experts",
            "num_experts",
            "n_routed_experts",
            "moe_num_experts",
        ],
        MAX_EXPERTS,
    )?;
    let top_k = cfg.opt_pos(
        &[
            "num_experts_per_tok",
            "experts_per_token",
            "num_experts_per_token",
            "top_k_experts",
            "moe_topk",
        ],
        MAX_EXPERTS,
    )?;
    let experts_keys = [
        "num_local_experts",
        "num_experts",
        "n_routed_experts",
        "moe_num_experts",
    ];
    if num_experts.is_none() && top_k.is_some() {
        if let Some(key) = experts_keys
            .iter()
            .find(|k| cfg.get(k).and_then(Value::as_u64) == Some(0))
        {
            return Err(cfg.err(
                key,
                format!(
                    "0 experts, but {} experts are routed per token: a mixture-of-experts \
                     model needs at least one expert",
                    top_k.unwrap_or(0)
                ),
            ));
        }
    }
    if let (Some(e), Some(k)) = (num_experts, top_k) {
        if k > e {
            return Err(cfg.err(
                "num_experts_per_tok",
                format!("{k} experts per token exceed the {e} experts"),
            ));
        }
    }
    let moe_inter_key = cfg.opt_pos(
        &[
            "moe_intermediate_size",
            "expert_intermediate_size",
            "routed_expert_hidden_size",
        ],
        MAX_INTERMEDIATE,
    )?;
    // Families whose experts use `intermediate_size` (Mixtral, gpt-oss, MiniMax-M2, Llama 4).
    let expert_inter = moe_inter_key.or(intermediate);
    let dense_inter = cfg
        .opt_pos(
            &["dense_intermediate_size", "intermediate_size_mlp"],
            MAX_INTERMEDIATE,
        )?
        .or(intermediate);
    let n_shared = cfg
        .opt_pos(&["n_shared_experts", "num_shared_experts"], MAX_EXPERTS)?
        .unwrap_or(0);
    let shared_inter_total: u64 = if let Some(s) = cfg.opt_pos(
        &[
            "shared_expert_intermediate_size",
            "moe_shared_expert_intermediate_size",
        ],
        MAX_INTERMEDIATE,
    )? {
        s
    } else if let Some(s) = cfg.opt_pos(
        &["shared_intermediate_size", "share_expert_dim"],
        MAX_INTERMEDIATE,
    )? {
        s.saturating_mul(n_shared.max(1))
    } else if model_type == "llama4_text" {
        intermediate.unwrap_or(0)
    } else {
        n_shared.saturating_mul(expert_inter.unwrap_or(0))
    };
    let first_k_dense = cfg.opt_u(&["first_k_dense_replace"])?.unwrap_or(0);
    let moe_latent = cfg.opt_pos(&["moe_latent_size"], MAX_HIDDEN)?;

    // Which layers are MoE.
    let is_moe_model = num_experts.is_some_and(|e| e > 1) && top_k.is_some();
    let moe_flags: Vec<bool> = (0..num_layers)
        .map(|i| {
            if !is_moe_model {
                return false;
            }
            if let Some(list) = cfg.array("mlp_layer_types") {
                return list
                    .get(i as usize)
                    .and_then(Value::as_str)
                    .is_some_and(|s| s == "sparse" || s == "moe");
            }
            if let Some(list) = cfg.array("moe_layer_freq") {
                return list
                    .get(i as usize)
                    .and_then(Value::as_u64)
                    .is_some_and(|x| x == 1);
            }
            if i < first_k_dense {
                return false;
            }
            if let Some(list) = cfg.array("mlp_only_layers") {
                if list.iter().any(|x| x.as_u64() == Some(i)) {
                    return false;
                }
            }
            if let Some(step) = cfg.get("interleave_moe_layer_step").and_then(Value::as_u64) {
                return step > 0 && (i + 1) % step == 0;
            }
            if let Some(step) = cfg.get("decoder_sparse_step").and_then(Value::as_u64) {
                return step > 0 && (i + 1) % step == 0;
            }
            if let Some(freq) = cfg.get("moe_layer_freq").and_then(Value::as_u64) {
                return freq > 0 && i % freq == 0;
            }
            true
        })
        .collect();

    // --- Per-layer mixer pattern ---
    #[derive(Clone, Copy, PartialEq)]
    enum Slot {
        Full,
        Sliding,
        Chunked,
        Compressed(u64),
        Linear,
        Mamba,
        MlpOnly,
        MoeOnly,
    }
    let sliding_window = cfg.opt_pos(&["sliding_window", "sliding_window_size"], u64::MAX)?;
    let chunk = cfg.opt_pos(&["attention_chunk_size"], u64::MAX)?;
    let mut slots: Vec<Slot> = vec![Slot::Full; num_layers as usize];
    let mut hybrid_pattern = false;
    if let Some(p) = cfg
        .opt_str("hybrid_override_pattern")
        .map(str::to_string)
        .or_else(|| {
            cfg.array("layers_block_type").map(|a| {
                a.iter()
                    .map(|x| match x.as_str().unwrap_or("") {
                        "mamba" => 'M',
                        "attention" => '*',
                        "moe" => 'E',
                        _ => '-',
                    })
                    .collect()
            })
        })
    {
        hybrid_pattern = true;
        if p.chars().count() as u64 != num_layers {
            return Err(cfg.err(
                "hybrid_override_pattern",
                format!(
                    "pattern has {} layers but num_hidden_layers is {num_layers}",
                    p.chars().count()
                ),
            ));
        }
        for (i, c) in p.chars().enumerate() {
            slots[i] = match c {
                'M' => Slot::Mamba,
                '*' => Slot::Full,
                '-' => Slot::MlpOnly,
                'E' => Slot::MoeOnly,
                other => {
                    return Err(cfg.err(
                        "hybrid_override_pattern",
                        format!("unknown layer symbol '{other}' (expected M, *, - or E)"),
                    ))
                }
            };
        }
    } else if let Some(types) = cfg.array("layer_types") {
        for (i, t) in types.iter().enumerate().take(num_layers as usize) {
            slots[i] = match t.as_str().unwrap_or("full_attention") {
                "sliding_attention" | "sliding_window" | "local" => Slot::Sliding,
                "chunked_attention" => Slot::Chunked,
                "linear_attention" | "linear" => Slot::Linear,
                "mamba" => Slot::Mamba,
                _ => Slot::Full,
            };
        }
    } else if let Some(interval) = cfg.get("full_attention_interval").and_then(Value::as_u64) {
        for (i, s) in slots.iter_mut().enumerate() {
            *s = if interval > 0 && (i as u64 + 1).is_multiple_of(interval) {
                Slot::Full
            } else {
                Slot::Linear
            };
        }
    } else if let Some(pat) = cfg.array("hybrid_layer_pattern") {
        for (i, v) in pat.iter().enumerate().take(num_layers as usize) {
            slots[i] = if v.as_u64() == Some(1) {
                Slot::Sliding
            } else {
                Slot::Full
            };
        }
    } else if let Some(list) = cfg.array("attn_type_list") {
        for (i, v) in list.iter().enumerate().take(num_layers as usize) {
            slots[i] = if v.as_u64() == Some(0) {
                Slot::Linear
            } else {
                Slot::Full
            };
        }
    } else if let Some(lac) = cfg.get("linear_attn_config").and_then(Value::as_object) {
        // Kimi Linear: 1-based lists of full-attention (MLA) and KDA layers.
        let full: Vec<u64> = lac
            .get("full_attn_layers")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        for (i, s) in slots.iter_mut().enumerate() {
            *s = if full.contains(&(i as u64 + 1)) {
                Slot::Full
            } else {
                Slot::Linear
            };
        }
    } else if let Some(ratios) = cfg.array("compress_ratios") {
        for (i, s) in slots.iter_mut().enumerate() {
            let r = ratios.get(i).and_then(Value::as_u64).unwrap_or(0);
            *s = Slot::Compressed(r);
        }
    } else if model_type == "gemma2" && sliding_window.is_some() {
        for (i, s) in slots.iter_mut().enumerate() {
            if i % 2 == 0 {
                *s = Slot::Sliding;
            }
        }
    } else if model_type.starts_with("gemma3") && sliding_window.is_some() {
        let pattern = cfg.opt_u(&["sliding_window_pattern"])?.unwrap_or(6).max(1);
        for (i, s) in slots.iter_mut().enumerate() {
            if !(i as u64 + 1).is_multiple_of(pattern) {
                *s = Slot::Sliding;
            }
        }
    } else if model_type == "llama4_text" && chunk.is_some() {
        // Llama 4: every fourth layer is global (NoPE); the others use chunked attention.
        for (i, s) in slots.iter_mut().enumerate() {
            if (i + 1) % 4 != 0 {
                *s = Slot::Chunked;
            }
        }
    } else if sliding_window.is_some()
        && cfg.opt_bool("use_sliding_window") != Some(false)
        && !(model_type.starts_with("qwen") && cfg.opt_bool("use_sliding_window") != Some(true))
        && !model_type.starts_with("mimo")
    {
        // Mistral / Phi-3 style: a window on every layer.
        for s in slots.iter_mut() {
            *s = Slot::Sliding;
        }
    }
    if hybrid_pattern {
        notes.push("hybrid layer pattern: only attention layers keep a KV cache".into());
    }

    // Nemotron-NAS block configs override per-layer attention and FFN.
    let block_configs = cfg.array("block_configs").cloned();

    // --- Build layers ---
    let kv_lora = cfg.opt_pos(&["kv_lora_rank"], MAX_HIDDEN)?;
    let mla_keys = ["q_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim"];
    if cfg.get("kv_lora_rank").and_then(Value::as_u64) == Some(0)
        && mla_keys
            .iter()
            .any(|k| cfg.get(k).and_then(Value::as_u64).is_some_and(|v| v > 0))
    {
        return Err(cfg.err(
            "kv_lora_rank",
            "is 0, but the config describes multi-head latent attention (qk_rope_head_dim, \
             q_lora_rank): the latent KV rank must be at least 1",
        ));
    }
    let is_mla = kv_lora.is_some() && model_type != "deepseek_v4";
    let mut layers = Vec::with_capacity(num_layers as usize);
    for i in 0..num_layers as usize {
        let slot = slots[i];
        let norm_params =
            if hybrid_pattern { 1 } else { norms_per_layer } * hidden * norm_width_mult;
        let attn_span = match slot {
            Slot::Sliding => match sliding_window {
                Some(w) => AttentionSpan::Sliding { window: w },
                None => AttentionSpan::Full,
            },
            Slot::Chunked => AttentionSpan::Chunked {
                chunk: chunk.unwrap_or(8192),
            },
            Slot::Compressed(r) => {
                let w = sliding_window.unwrap_or(128);
                if r == 0 {
                    AttentionSpan::Sliding { window: w }
                } else {
                    AttentionSpan::Compressed {
                        ratio: r,
                        window: w,
                    }
                }
            }
            _ => AttentionSpan::Full,
        };
        let mixer = match slot {
            Slot::MlpOnly | Slot::MoeOnly => Mixer::None,
            Slot::Mamba => Mixer::Ssm(mamba_layer(&cfg, hidden)?),
            Slot::Linear => Mixer::Ssm(linear_attention_layer(
                &cfg,
                &model_type,
                hidden,
                heads,
                head_dim,
            )?),
            _ if is_mla => Mixer::Mla(mla_layer(&cfg, hidden, heads, kv_lora.unwrap_or(512))?),
            _ => {
                let mut q_heads = heads;
                let mut kvh = kv_heads;
                let mut qk_dim = head_dim;
                let mut v_dim = cfg
                    .opt_pos(&["v_head_dim"], MAX_HIDDEN)?
                    .unwrap_or(head_dim);
                if matches!(slot, Slot::Sliding) {
                    if let Some(h) = cfg.opt_pos(&["swa_num_attention_heads"], MAX_HEADS)? {
                        q_heads = h;
                    }
                    if let Some(h) = cfg.opt_pos(&["swa_num_key_value_heads"], MAX_HEADS)? {
                        kvh = h;
                    }
                    if let Some(d) = cfg.opt_pos(&["swa_head_dim"], MAX_HIDDEN)? {
                        qk_dim = d;
                    }
                    if let Some(d) = cfg.opt_pos(&["swa_v_head_dim"], MAX_HIDDEN)? {
                        v_dim = d;
                    }
                } else if model_type == "gemma4_text" {
                    if let Some(d) = cfg.opt_pos(&["global_head_dim"], MAX_HIDDEN)? {
                        qk_dim = d;
                        v_dim = d;
                    }
                    if let Some(h) = cfg.opt_pos(&["num_global_key_value_heads"], MAX_HEADS)? {
                        kvh = h;
                    }
                }
                if let Some(bc) = block_configs.as_ref().and_then(|b| b.get(i)) {
                    let a = bc.get("attention");
                    if a.and_then(|a| a.get("no_op")).and_then(Value::as_bool) == Some(true) {
                        q_heads = 0;
                    } else if let Some(g) = a
                        .and_then(|a| a.get("n_heads_in_group"))
                        .and_then(Value::as_u64)
                    {
                        if g == 0 || heads % g != 0 {
                            return Err(cfg.err(
                                "block_configs",
                                format!(
                                    "layer {i}: n_heads_in_group {g} does not divide {heads} \
                                     attention heads"
                                ),
                            ));
                        }
                        kvh = heads / g;
                    }
                }
                if kvh > q_heads && q_heads > 0 {
                    return Err(cfg.err(
                        "num_key_value_heads",
                        format!("{kvh} KV heads exceed {q_heads} query heads"),
                    ));
                }
                if q_heads == 0 {
                    Mixer::None
                } else {
                    let k_eq_v = model_type == "gemma4_text"
                        && cfg.opt_bool("attention_k_eq_v") == Some(true)
                        && !matches!(slot, Slot::Sliding);
                    let gate = cfg.opt_bool("attn_output_gate").unwrap_or(false)
                        || cfg.opt_bool("attention_output_gate").unwrap_or(false);
                    let kv_out = if k_eq_v {
                        kvh * qk_dim
                    } else {
                        kvh * (qk_dim + v_dim)
                    };
                    let q_out = q_heads * qk_dim * if gate { 2 } else { 1 };
                    let mut params = hidden * (q_out + kv_out) + q_heads * v_dim * hidden;
                    if attn_bias {
                        params += q_out + kv_out;
                        if is_phi2 || model_type == "gpt_oss" {
                            params += hidden;
                        }
                    }
                    if model_type == "gpt_oss" {
                        params += q_heads; // attention sinks
                    }
                    if qk_norm {
                        params += 2 * qk_dim;
                    }
                    Mixer::Attention(AttentionLayer {
                        q_heads,
                        kv_heads: kvh,
                        qk_head_dim: qk_dim,
                        v_head_dim: v_dim,
                        span: attn_span,
                        k_eq_v,
                        params,
                    })
                }
            }
        };
        let force_dense = matches!(slot, Slot::MlpOnly);
        let ffn = if hybrid_pattern && matches!(slot, Slot::Mamba | Slot::Full) {
            Ffn::None
        } else if !force_dense
            && (matches!(slot, Slot::MoeOnly) || (moe_flags[i] && !hybrid_pattern))
        {
            let e = num_experts.unwrap_or(1);
            let k = top_k.unwrap_or(1);
            let inter = expert_inter.ok_or_else(|| {
                cfg.err("moe_intermediate_size", "missing: cannot size the experts")
            })?;
            let width = moe_latent.unwrap_or(hidden);
            let per_expert = if gated { 3 } else { 2 } * width * inter
                + if model_type == "gpt_oss" {
                    2 * inter + width
                } else {
                    0
                };
            let shared_gated = gated;
            let shared = if shared_inter_total > 0 {
                (if shared_gated { 3 } else { 2 }) * hidden * shared_inter_total
                    + if model_type.starts_with("qwen")
                        && cfg.get("shared_expert_intermediate_size").is_some()
                    {
                        hidden // shared_expert_gate
                    } else {
                        0
                    }
            } else {
                0
            };
            let router = hidden * e + if model_type == "gpt_oss" { e } else { 0 };
            let mut dense = 0;
            if let Some(lat) = moe_latent {
                dense += 2 * hidden * lat;
            }
            if model_type == "gemma4_text" {
                // Gemma 4 MoE layers run a dense MLP beside the experts.
                dense += 3 * hidden * intermediate.unwrap_or(0);
            }
            Ffn::Moe(MoeFfn {
                num_experts: e,
                top_k: k,
                expert_intermediate: inter,
                expert_width: width,
                gated,
                params_per_expert: per_expert,
                shared_params: shared,
                router_params: router,
                dense_params: dense,
            })
        } else {
            let mut inter = if is_moe_model {
                dense_inter
            } else {
                intermediate
            };
            let mut no_op = false;
            if let Some(bc) = block_configs.as_ref().and_then(|b| b.get(i)) {
                let f = bc.get("ffn");
                if f.and_then(|f| f.get("no_op")).and_then(Value::as_bool) == Some(true) {
                    no_op = true;
                } else if let Some(mult) = f.and_then(|f| f.get("ffn_mult")).and_then(Value::as_f64)
                {
                    // DeciLM: int(2 * mult * hidden / 3) rounded up to a multiple of 256.
                    let raw = (2.0 * mult * hidden as f64 / 3.0) as u64;
                    inter = Some(raw.div_ceil(256) * 256);
                }
            }
            match inter {
                _ if no_op => Ffn::None,
                Some(n) => {
                    let mats = if gated { 3 } else { 2 };
                    let mut params = mats * hidden * n;
                    if mlp_bias {
                        params += n + hidden;
                    }
                    Ffn::Dense(DenseFfn {
                        intermediate: n,
                        gated,
                        params,
                    })
                }
                None => return Err(cfg.err("intermediate_size", "missing: cannot size the MLP")),
            }
        };
        layers.push(Layer {
            mixer,
            ffn,
            norm_params,
        });
    }

    // Multi-token-prediction modules (DeepSeek, GLM, MiMo, Step, MiniMax, Qwen3.5 ...).
    let mtp_layers = cfg
        .opt_u(&[
            "num_nextn_predict_layers",
            "mtp_num_hidden_layers",
            "mtp_transformer_layers",
        ])?
        .unwrap_or(0)
        .min(16);
    let mtp_params = if mtp_layers > 0 {
        let last_moe = layers
            .iter()
            .rev()
            .find(|l| !matches!(l.mixer, Mixer::Ssm(_) | Mixer::None))
            .cloned();
        let per = last_moe.map_or(0, |l| {
            let a = super::Architecture::layer_param_sum(&l);
            a + 2 * hidden * hidden + 2 * hidden
        });
        per.saturating_mul(mtp_layers)
    } else {
        0
    };

    // Heterogeneous blocks (DeciLM / Nemotron-NAS `block_configs`) set the heads per layer: the
    // summary's heads are those of the first attention layer, not the top-level defaults.
    let (heads, kv_heads) = match block_configs.as_ref() {
        Some(_) => layers
            .iter()
            .find_map(|l| match &l.mixer {
                Mixer::Attention(a) => Some((a.q_heads, a.kv_heads)),
                _ => None,
            })
            .unwrap_or((heads, kv_heads)),
        None => (heads, kv_heads),
    };
    let attention = if layers.iter().any(|l| matches!(l.mixer, Mixer::Ssm(_))) {
        AttentionKind::Hybrid
    } else if is_mla {
        AttentionKind::Mla
    } else if kv_heads == 1 {
        AttentionKind::Mqa
    } else if kv_heads < heads {
        AttentionKind::Gqa
    } else {
        AttentionKind::Mha
    };

    let final_norm_params = hidden * norm_width_mult;
    let mut arch = Architecture {
        name: source_name.to_string(),
        model_type: if model_type.is_empty() {
            "unknown".into()
        } else {
            model_type.clone()
        },
        hidden_size: hidden,
        vocab_size: vocab,
        num_attention_heads: heads,
        num_kv_heads: if is_mla { 1 } else { kv_heads },
        head_dim,
        attention,
        tie_word_embeddings: tie,
        max_position_embeddings: max_pos,
        layers,
        mtp_params,
        final_norm_params,
        precision: parsed_prec.precision,
        native_kv_dtype: KvDtype::Bf16,
        checkpoint_kv_dtype: parsed_prec.checkpoint_kv,
        has_vision_tower,
        notes,
        layer_group_cache: Vec::new(),
    };
    arch.regroup_layers();
    if is_phi2 {
        // Phi-2's LM head has a bias.
        arch.final_norm_params += vocab;
    }
    if model_type == "deepseek_v4" {
        arch.notes.push(
            "DeepSeek V4 attention (compressed KV, grouped low-rank output, hyper-connections) is approximated"
                .into(),
        );
    }
    if model_type == "kimi_linear" {
        arch.notes
            .push("Kimi delta attention layers are approximated as full-rank projections".into());
    }
    let total = arch.params().total;
    if total > MAX_TOTAL_PARAMS {
        return Err(ModelError {
            source_name: source_name.to_string(),
            field: None,
            message: format!("implausibly large model ({total} parameters): check the sizes"),
        });
    }
    Ok(arch)
}

/// Python's json writes `Infinity`, `-Infinity` and `NaN`, which real `config.json` files contain
/// (Nemotron-H's `time_step_limit`). Replace them, outside strings, with `null`: a field that is
/// infinite or not a number is read as absent (an infinite `sliding_window` is no window).
pub fn replace_non_json_numbers(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains("Infinity") && !s.contains("NaN") {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut in_str = false;
    let mut escaped = false;
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c == '"' {
            in_str = true;
        } else if let Some(tok) = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|t| rest.starts_with(t))
        {
            out.push_str("null");
            rest = &rest[tok.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    std::borrow::Cow::Owned(out)
}

fn mla_layer(cfg: &Cfg<'_>, hidden: u64, heads: u64, kv_lora: u64) -> Result<MlaLayer, ModelError> {
    let q_lora = cfg.opt_pos(&["q_lora_rank"], MAX_HIDDEN)?;
    let nope = cfg
        .opt_pos(&["qk_nope_head_dim"], MAX_HIDDEN)?
        .unwrap_or(128);
    let rope = cfg
        .opt_pos(&["qk_rope_head_dim"], MAX_HIDDEN)?
        .unwrap_or(64);
    let v = cfg.opt_pos(&["v_head_dim"], MAX_HIDDEN)?.unwrap_or(128);
    let qk = nope + rope;
    let q_params = match q_lora {
        Some(r) => hidden * r + r + r * heads * qk,
        None => hidden * heads * qk,
    };
    let kv_a = hidden * (kv_lora + rope) + kv_lora;
    let kv_b = kv_lora * heads * (nope + v);
    let o = heads * v * hidden;
    let indexer = match (
        cfg.opt_pos(&["index_n_heads"], MAX_HEADS)?,
        cfg.opt_pos(&["index_head_dim"], MAX_HIDDEN)?,
    ) {
        (Some(h), Some(d)) => Some(Indexer {
            heads: h,
            head_dim: d,
            topk: cfg.opt_pos(&["index_topk"], u64::MAX)?.unwrap_or(2048),
        }),
        _ => None,
    };
    let idx_params = indexer.as_ref().map_or(0, |x| {
        q_lora.unwrap_or(hidden) * x.heads * x.head_dim
            + hidden * x.head_dim
            + 2 * x.head_dim
            + hidden * x.heads
    });
    Ok(MlaLayer {
        heads,
        q_lora_rank: q_lora,
        kv_lora_rank: kv_lora,
        qk_nope_head_dim: nope,
        qk_rope_head_dim: rope,
        v_head_dim: v,
        indexer,
        params: q_params + kv_a + kv_b + o + idx_params,
    })
}

fn mamba_layer(cfg: &Cfg<'_>, hidden: u64) -> Result<SsmLayer, ModelError> {
    let n_heads = cfg.pos(&["mamba_num_heads"], MAX_HEADS)?;
    let head_dim = cfg.pos(&["mamba_head_dim"], MAX_HIDDEN)?;
    let state = cfg.pos(&["ssm_state_size"], MAX_HIDDEN)?;
    let groups = cfg.opt_pos(&["n_groups"], MAX_HEADS)?.unwrap_or(1);
    let kernel = cfg.opt_pos(&["conv_kernel"], 64)?.unwrap_or(4);
    let d_inner = n_heads * head_dim;
    let conv_dim = d_inner + 2 * groups * state;
    let in_proj = hidden * (2 * d_inner + 2 * groups * state + n_heads);
    let conv = conv_dim * kernel + conv_dim;
    let out = d_inner * hidden;
    let params = in_proj + conv + 3 * n_heads + d_inner + out;
    let ssm_bytes = match cfg.opt_str("mamba_ssm_cache_dtype").unwrap_or("bfloat16") {
        "float32" => 4.0,
        _ => 2.0,
    };
    let state_bytes =
        (conv_dim * (kernel - 1)) as f64 * 2.0 + (n_heads * head_dim * state) as f64 * ssm_bytes;
    Ok(SsmLayer {
        kind: SsmKind::Mamba2,
        params,
        state_bytes_per_sequence: state_bytes,
        state_flops_per_token: 6.0 * (n_heads * head_dim * state) as f64,
    })
}

fn linear_attention_layer(
    cfg: &Cfg<'_>,
    model_type: &str,
    hidden: u64,
    heads: u64,
    head_dim: u64,
) -> Result<SsmLayer, ModelError> {
    if let Some(lac) = cfg.get("linear_attn_config").and_then(Value::as_object) {
        // Kimi delta attention: q, k, v, gates and output projections, short convolutions.
        let h = lac
            .get("num_heads")
            .and_then(Value::as_u64)
            .unwrap_or(heads)
            .max(1);
        let d = lac
            .get("head_dim")
            .and_then(Value::as_u64)
            .unwrap_or(head_dim)
            .max(1);
        let k = lac
            .get("short_conv_kernel_size")
            .and_then(Value::as_u64)
            .unwrap_or(4)
            .max(1);
        let width = h * d;
        let params = hidden * width * 5 + width * hidden + 3 * width * k + hidden * h;
        let state_bytes = (h * d * d) as f64 * 4.0 + (3 * width * (k - 1)) as f64 * 2.0;
        return Ok(SsmLayer {
            kind: SsmKind::KimiDelta,
            params,
            state_bytes_per_sequence: state_bytes,
            state_flops_per_token: 6.0 * (h * d * d) as f64,
        });
    }
    if model_type.starts_with("minimax") {
        let width = heads * head_dim;
        let params = hidden * width * 4 + width * hidden;
        return Ok(SsmLayer {
            kind: SsmKind::Lightning,
            params,
            state_bytes_per_sequence: (heads * head_dim * head_dim) as f64 * 4.0,
            state_flops_per_token: 4.0 * (heads * head_dim * head_dim) as f64,
        });
    }
    // Gated DeltaNet (Qwen3-Next / Qwen3.5).
    let k_heads = cfg.pos(&["linear_num_key_heads"], MAX_HEADS)?;
    let v_heads = cfg.pos(&["linear_num_value_heads"], MAX_HEADS)?;
    let k_dim = cfg.pos(&["linear_key_head_dim"], MAX_HIDDEN)?;
    let v_dim = cfg.pos(&["linear_value_head_dim"], MAX_HIDDEN)?;
    let kernel = cfg.opt_pos(&["linear_conv_kernel_dim"], 64)?.unwrap_or(4);
    let key_w = k_heads * k_dim;
    let val_w = v_heads * v_dim;
    let conv_dim = 2 * key_w + val_w;
    let in_proj = hidden * (2 * key_w + 2 * val_w) + hidden * 2 * v_heads;
    let params = in_proj + conv_dim * kernel + 2 * v_heads + v_dim + val_w * hidden;
    let ssm_bytes = match cfg.opt_str("mamba_ssm_dtype").unwrap_or("float32") {
        "float32" => 4.0,
        _ => 2.0,
    };
    let state_bytes =
        (v_heads * k_dim * v_dim) as f64 * ssm_bytes + (conv_dim * (kernel - 1)) as f64 * 2.0;
    Ok(SsmLayer {
        kind: SsmKind::GatedDeltaNet,
        params,
        state_bytes_per_sequence: state_bytes,
        state_flops_per_token: 6.0 * (v_heads * k_dim * v_dim) as f64,
    })
}

impl Architecture {
    /// Parameters of one layer (all experts counted), norms included.
    pub(crate) fn layer_param_sum(l: &Layer) -> u64 {
        let m = match &l.mixer {
            Mixer::Attention(a) => a.params,
            Mixer::Mla(m) => m.params,
            Mixer::Ssm(s) => s.params,
            Mixer::None => 0,
        };
        let f = match &l.ffn {
            Ffn::Dense(d) => d.params,
            Ffn::Moe(m) => m
                .routed_params()
                .saturating_add(m.shared_params)
                .saturating_add(m.router_params)
                .saturating_add(m.dense_params),
            Ffn::None => 0,
        };
        sat(&[1, m]).saturating_add(f).saturating_add(l.norm_params)
    }
}
