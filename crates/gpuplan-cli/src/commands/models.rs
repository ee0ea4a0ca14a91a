//! `gpuplan models`: the embedded model catalog, one row per model.

use std::io::Write;

use gpuplan_catalog::catalog_models;
use gpuplan_core::model::{Architecture, AttentionKind};

use super::{human_params, is_human, write_table};
use crate::args::ModelsArgs;
use crate::render::{Align, Cell, Column, Table, ValueKind};
use crate::Context;

/// Context length at which the listed KV bytes per token are computed: short enough that
/// sliding-window layers still count (see `gpuplan model`).
pub const SHORT_CONTEXT_TOKENS: u64 = 16;

/// Lists every catalog model.
pub fn run(_args: &ModelsArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let human = is_human(ctx.format);
    let mut table = Table::new(columns(human)).with_title("Embedded model catalog");
    for model in catalog_models() {
        match model.architecture() {
            Ok(arch) => table.push_row(row(&arch, human)),
            // The catalog's own tests parse every model; never hide the rest because of one.
            Err(e) => table.push_note(format!("skipped {}: {e}", model.id)),
        }
    }
    if human {
        table.push_note("Experts: routed experts / experts per token");
    }
    table.push_note(format!(
        "KV bytes per token at the model's native KV dtype and a {SHORT_CONTEXT_TOKENS}-token context"
    ));
    write_table(&table, ctx, out)
}

fn columns(human: bool) -> Vec<Column> {
    let params_kind = if human {
        ValueKind::Text
    } else {
        ValueKind::Count
    };
    let mut columns = vec![Column::new("id", "Model", ValueKind::Text).priority(100)];
    // The terminal table leaves the model type out so that the longest ids fit in 100 columns.
    if !human {
        columns.push(Column::new("model_type", "Type", ValueKind::Text));
    }
    columns.extend([
        Column::new("total_params", "Params", params_kind)
            .priority(90)
            .align(Align::Right),
        Column::new("active_params", "Active", params_kind)
            .priority(80)
            .align(Align::Right),
        Column::new("attention", "Attn", ValueKind::Text).priority(60),
    ]);
    if human {
        columns.push(Column::new("experts", "Experts", ValueKind::Text).priority(50));
    } else {
        columns.push(Column::new("num_experts", "Experts", ValueKind::Count));
        columns.push(Column::new("experts_per_token", "Top-k", ValueKind::Count));
    }
    columns.push(Column::new("weight_format", "Weights", ValueKind::Text).priority(70));
    columns
        .push(Column::new("kv_cache_bytes_per_token", "KV/token", ValueKind::Bytes).priority(65));
    columns
}

fn row(arch: &Architecture, human: bool) -> Vec<Cell> {
    let params = arch.params();
    let count = |n: u64| -> Cell {
        if human {
            human_params(n).into()
        } else {
            n.into()
        }
    };
    let mut row: Vec<Cell> = vec![arch.name.clone().into()];
    if !human {
        row.push(arch.model_type.clone().into());
    }
    row.extend([
        count(params.total),
        count(params.active),
        attention_name(arch.attention).into(),
    ]);
    if human {
        row.push(if arch.is_moe() {
            format!("{}/{}", arch.num_experts(), arch.experts_per_token()).into()
        } else {
            "-".into()
        });
    } else {
        row.push(arch.num_experts().into());
        row.push(arch.experts_per_token().into());
    }
    row.push(
        arch.precision
            .headline(arch.is_moe())
            .as_str()
            .to_string()
            .into(),
    );
    row.push(
        arch.kv_cache_bytes_per_token(SHORT_CONTEXT_TOKENS, arch.native_kv_dtype)
            .into(),
    );
    row
}

/// The attention family as users write it.
pub fn attention_name(kind: AttentionKind) -> &'static str {
    match kind {
        AttentionKind::Mha => "mha",
        AttentionKind::Gqa => "gqa",
        AttentionKind::Mqa => "mqa",
        AttentionKind::Mla => "mla",
        AttentionKind::Hybrid => "hybrid",
    }
}
