//! `gpuplan model MODEL`: a model's architecture summary.

use std::collections::BTreeMap;
use std::io::Write;

use gpuplan::{resolve_model, ResolveOptions, ResolvedModel};
use gpuplan_core::quant::KvDtypeChoice;
use serde::Serialize;

use super::models::{attention_name, SHORT_CONTEXT_TOKENS};
use super::{human_params, write_json, write_table};
use crate::args::ModelArgs;
use crate::render::{format_human, Column, OutputFormat, Table, ValueKind};
use crate::Context;

const BYTES_PER_GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// The architecture summary, as `--json` prints it. Units are in the field names.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSummary {
    /// Catalog id, Hub repo id or the path given.
    pub model: String,
    /// Where the config came from: `catalog`, `local`, `hf-cache` or `hub`.
    pub source: String,
    /// The Hub commit the revision resolved to (cache and Hub sources).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// `model_type` of the language model.
    pub model_type: String,
    /// All parameters of the language model (MTP modules excluded); the checkpoint's header count
    /// when it was read and counts parameters.
    pub total_params: u64,
    /// The config-based count, when the checkpoint's headers were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_total_params: Option<u64>,
    /// Parameters touched per token.
    pub active_params: u64,
    /// Input embedding parameters.
    pub embedding_params: u64,
    /// LM head parameters (0 when tied to the embedding).
    pub lm_head_params: u64,
    /// Decoder layers.
    pub num_layers: usize,
    /// Hidden size.
    pub hidden_size: u64,
    /// Query heads of the full attention layers.
    pub num_attention_heads: u64,
    /// KV heads of the full attention layers (1 for MLA's shared latent).
    pub num_kv_heads: u64,
    /// Head dimension of the full attention layers.
    pub head_dim: u64,
    /// Attention family: mha, gqa, mqa, mla or hybrid.
    pub attention: &'static str,
    /// The token mixers layer by layer, when they differ between layers (heterogeneous blocks,
    /// sliding windows, hybrids): "49 attention (64 heads, 8 KV heads); 31 no attention (MLP only)".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attention_by_layer: Option<String>,
    /// KV-cache bytes per token at `kv_dtype`, averaged over a 16-token sequence (every
    /// attention layer counts, sliding-window ones included).
    pub kv_cache_bytes_per_token: f64,
    /// KV-cache bytes per token of the layers whose cache grows with context (what each extra
    /// token costs in a long sequence).
    pub kv_cache_bytes_per_token_long_context: f64,
    /// Fixed recurrent state per sequence (Mamba, linear attention), bytes.
    pub kv_state_bytes_per_sequence: f64,
    /// KV-cache element type used above.
    pub kv_dtype: String,
    /// Weight bytes (the checkpoint's stored bytes when its headers were read).
    pub weight_bytes: f64,
    /// The config-based weight bytes, when the checkpoint's headers were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_weight_bytes: Option<f64>,
    /// `weight_bytes` in GiB (2^30 bytes).
    pub weight_gib: f64,
    /// Format of the bulk of the weights (routed experts for MoE models, else the MLPs).
    pub weight_format: String,
    /// Storage format per tensor class.
    pub weight_format_by_class: BTreeMap<String, String>,
    /// Bytes per parameter per tensor class, quantization scales included.
    pub bytes_per_param_by_class: BTreeMap<String, f64>,
    /// Parameters per tensor class.
    pub params_by_class: BTreeMap<String, u64>,
    /// Mixture of experts.
    pub is_moe: bool,
    /// Routed experts per MoE layer (0 for dense models).
    pub num_experts: u64,
    /// Routed experts per token (0 for dense models).
    pub experts_per_token: u64,
    /// Maximum context the model supports, tokens.
    pub max_position_embeddings: u64,
    /// Multi-token-prediction parameters (not in `total_params`).
    pub mtp_params: u64,
    /// The config has a vision (or audio) tower that is not counted.
    pub has_vision_tower: bool,
    /// What the parser assumed or approximated, and where the checkpoint disagrees.
    pub notes: Vec<String>,
    /// What the checkpoint's safetensors headers say, when they were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<CheckpointSummary>,
}

/// The checkpoint's safetensors headers, summed.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointSummary {
    /// Stored elements over all tensors (packed dtypes count packed elements).
    pub total_params: u64,
    /// Stored bytes over all tensors.
    pub weight_bytes: u64,
    /// Stored elements per safetensors dtype.
    pub params_by_dtype: BTreeMap<String, u64>,
    /// Stored bytes per safetensors dtype.
    pub bytes_by_dtype: BTreeMap<String, u64>,
    /// Tensors.
    pub num_tensors: usize,
    /// Safetensors files read.
    pub num_shards: usize,
}

impl ModelSummary {
    /// Summarises a resolved model with the KV cache at `kv_dtype`.
    pub fn new(model: &ResolvedModel, kv_dtype: KvDtypeChoice) -> ModelSummary {
        let arch = &model.arch;
        let params = arch.params();
        let kv = arch.kv_dtype(kv_dtype);
        let by_class = arch.params_by_class();
        let weight_bytes = model.weight_bytes();
        let checkpoint_read = model.weights.is_some();
        ModelSummary {
            model: arch.name.clone(),
            source: model.source.clone(),
            commit: model.commit.clone(),
            model_type: arch.model_type.clone(),
            total_params: model.total_params(),
            config_total_params: checkpoint_read.then_some(params.total),
            active_params: params.active,
            embedding_params: params.embedding,
            lm_head_params: params.lm_head,
            num_layers: arch.num_layers(),
            hidden_size: arch.hidden_size,
            num_attention_heads: arch.num_attention_heads,
            num_kv_heads: arch.num_kv_heads,
            head_dim: arch.head_dim,
            attention: attention_name(arch.attention),
            attention_by_layer: attention_by_layer(arch),
            kv_cache_bytes_per_token: arch.kv_cache_bytes_per_token(SHORT_CONTEXT_TOKENS, kv),
            kv_cache_bytes_per_token_long_context: arch.kv_cache_bytes_per_token_growing(kv),
            kv_state_bytes_per_sequence: arch.state_bytes_per_sequence(),
            kv_dtype: kv.as_str().to_string(),
            weight_bytes,
            config_weight_bytes: checkpoint_read.then(|| arch.weight_bytes()),
            weight_gib: weight_bytes / BYTES_PER_GIB,
            weight_format: arch.precision.headline(arch.is_moe()).as_str().to_string(),
            weight_format_by_class: by_class
                .iter()
                .map(|(c, _)| (c.as_str().to_string(), arch.precision.get(*c).to_string()))
                .collect(),
            bytes_per_param_by_class: by_class
                .iter()
                .map(|(c, _)| {
                    let bytes = arch.precision.get(*c).bytes_per_param();
                    (c.as_str().to_string(), bytes)
                })
                .collect(),
            params_by_class: by_class
                .iter()
                .map(|(c, n)| (c.as_str().to_string(), *n))
                .collect(),
            is_moe: arch.is_moe(),
            num_experts: arch.num_experts(),
            experts_per_token: arch.experts_per_token(),
            max_position_embeddings: arch.max_position_embeddings,
            mtp_params: arch.mtp_params,
            has_vision_tower: arch.has_vision_tower,
            notes: arch.notes.clone(),
            checkpoint: model.weights.as_ref().map(|w| CheckpointSummary {
                total_params: w.total_params,
                weight_bytes: w.total_bytes,
                params_by_dtype: w.params_by_dtype.clone(),
                bytes_by_dtype: w.bytes_by_dtype.clone(),
                num_tensors: w.num_tensors,
                num_shards: w.num_shards,
            }),
        }
    }

    /// The summary as a two-column table (field, value) with readable units.
    pub fn to_table(&self) -> Table {
        let mut table = Table::new(vec![
            Column::new("field", "Field", ValueKind::Text),
            Column::new("value", "Value", ValueKind::Text),
        ])
        .with_title(format!("{} ({})", self.model, self.source));
        let bytes = |b: f64| format_human(b, ValueKind::Bytes);
        let count = |n: u64| format_human(n as f64, ValueKind::Count);
        let mut rows: Vec<(&str, String)> = vec![
            ("Model type", self.model_type.clone()),
            (
                "Parameters",
                format!(
                    "{} ({})",
                    human_params(self.total_params),
                    count(self.total_params)
                ),
            ),
            (
                "Active parameters",
                format!(
                    "{} ({})",
                    human_params(self.active_params),
                    count(self.active_params)
                ),
            ),
            ("Embedding parameters", human_params(self.embedding_params)),
            ("LM head parameters", human_params(self.lm_head_params)),
            ("Layers", self.num_layers.to_string()),
            ("Hidden size", self.hidden_size.to_string()),
            (
                "Attention",
                format!(
                    "{} ({} heads, {} KV heads, head dim {})",
                    self.attention, self.num_attention_heads, self.num_kv_heads, self.head_dim
                ),
            ),
        ];
        if let Some(by_layer) = &self.attention_by_layer {
            rows.push(("Attention by layer", by_layer.clone()));
        }
        if self.is_moe {
            rows.push((
                "Experts",
                format!(
                    "{} routed, {} per token",
                    self.num_experts, self.experts_per_token
                ),
            ));
        }
        rows.extend([
            (
                "Max context",
                format!("{} tokens", count(self.max_position_embeddings)),
            ),
            (
                "Weights",
                format!("{} ({})", bytes(self.weight_bytes), self.weight_format),
            ),
            (
                "KV cache per token",
                format!(
                    "{} ({})",
                    bytes(self.kv_cache_bytes_per_token),
                    self.kv_dtype
                ),
            ),
            (
                "KV cache per token, long context",
                bytes(self.kv_cache_bytes_per_token_long_context),
            ),
        ]);
        if self.kv_state_bytes_per_sequence > 0.0 {
            rows.push((
                "Recurrent state per sequence",
                bytes(self.kv_state_bytes_per_sequence),
            ));
        }
        if self.mtp_params > 0 {
            rows.push(("MTP parameters", human_params(self.mtp_params)));
        }
        let classes: Vec<(String, String)> = self
            .weight_format_by_class
            .iter()
            .map(|(class, format)| {
                let params = self.params_by_class.get(class).copied().unwrap_or(0);
                (
                    format!("  {class}"),
                    format!("{} params, {format}", human_params(params)),
                )
            })
            .collect();
        if let Some(c) = &self.checkpoint {
            rows.push((
                "Checkpoint",
                format!(
                    "{} stored elements, {} in {} shard(s)",
                    count(c.total_params),
                    bytes(c.weight_bytes as f64),
                    c.num_shards
                ),
            ));
        }
        if let Some(commit) = &self.commit {
            rows.push(("Commit", commit.clone()));
        }
        for (field, value) in rows {
            table.push_row(vec![field.into(), value.into()]);
            if field == "Weights" {
                for (class, value) in &classes {
                    table.push_row(vec![class.clone().into(), value.clone().into()]);
                }
            }
        }
        for note in &self.notes {
            table.push_note(note.clone());
        }
        table
    }
}

/// Resolves the model and prints its summary.
pub fn run(args: &ModelArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let opts = ResolveOptions {
        weight_quant: args.weight_quant,
        ..ctx.resolve_options()
    };
    let model = resolve_model(&args.model, &opts)?;
    let summary = ModelSummary::new(&model, args.kv_dtype);
    match ctx.format {
        OutputFormat::Json => write_json(&summary, out),
        _ => write_table(&summary.to_table(), ctx, out),
    }
}

/// The layers grouped by token mixer, in order of first appearance, when there is more than one
/// kind: "49 attention (64 heads, 8 KV heads); 31 no attention".
fn attention_by_layer(arch: &gpuplan_core::model::Architecture) -> Option<String> {
    use gpuplan_core::model::{AttentionSpan, Mixer};
    let mut groups: Vec<(String, usize)> = Vec::new();
    for layer in &arch.layers {
        let kind = match &layer.mixer {
            Mixer::Attention(a) => {
                let span = match a.span {
                    AttentionSpan::Full => String::new(),
                    AttentionSpan::Sliding { window } => format!(", sliding window {window}"),
                    AttentionSpan::Chunked { chunk } => format!(", chunks of {chunk}"),
                    AttentionSpan::Compressed { ratio, window } => {
                        format!(", compressed 1:{ratio} + window {window}")
                    }
                };
                format!(
                    "attention ({} heads, {} KV heads{span})",
                    a.q_heads, a.kv_heads
                )
            }
            Mixer::Mla(m) => format!("MLA ({} heads)", m.heads),
            Mixer::Ssm(_) => "state-space / linear attention".to_string(),
            Mixer::None => "no attention (MLP only)".to_string(),
        };
        match groups.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => groups.push((kind, 1)),
        }
    }
    (groups.len() > 1).then(|| {
        groups
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect::<Vec<_>>()
            .join("; ")
    })
}
