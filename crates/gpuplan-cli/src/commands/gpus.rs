//! `gpuplan gpus [GPU...]`: the GPU catalog (embedded, with the user's overrides and prices).

use std::io::Write;

use gpuplan_core::hardware::{Gpu, HardwareCatalog, LinkKind};

use super::{is_human, write_table};
use crate::args::GpusArgs;
use crate::render::{format_significant, Align, Cell, Column, OutputFormat, Table, ValueKind};
use crate::Context;

/// Lists the GPUs named in `args` (every GPU when none is named).
pub fn run(args: &GpusArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let catalog = ctx.hardware()?;
    let gpus: Vec<&Gpu> = if args.gpus.is_empty() {
        catalog.gpus.iter().collect()
    } else {
        args.gpus
            .iter()
            .map(|name| catalog.resolve(name))
            .collect::<Result<_, _>>()
            .map_err(gpuplan::Error::from)?
    };
    let gpus: Vec<&Gpu> = gpus
        .into_iter()
        .filter(|g| args.vendor.is_none_or(|v| g.vendor == v))
        .filter(|g| args.min_memory.is_none_or(|gib| g.memory_gib >= gib))
        .collect();
    let human = is_human(ctx.format);
    // The terminal table leaves the long display name out so that every column fits.
    let with_name = ctx.format != OutputFormat::Table;
    let mut table = Table::new(columns(human, with_name)).with_title("GPUs");
    for gpu in gpus {
        table.push_row(row(gpu, &catalog, human, with_name));
    }
    if human {
        table.push_note(
            "BF16 / FP8 / FP4: dense peak TFLOPS (blank: not native); link: name, bandwidth per \
             direction, GPUs in the domain",
        );
    } else {
        table.push_note("TFLOPS are dense peaks (no sparsity); link bandwidth is per direction");
    }
    write_table(&table, ctx, out)
}

fn columns(human: bool, with_name: bool) -> Vec<Column> {
    let mut columns = vec![Column::new("id", "GPU", ValueKind::Text).priority(100)];
    if with_name {
        columns.push(Column::new("name", "Name", ValueKind::Text).priority(40));
    }
    columns.push(Column::new("memory_gib", "Memory", ValueKind::Gib).priority(95));
    if human {
        columns.push(Column::new("memory_bandwidth", "Bandwidth", ValueKind::Text).priority(90));
    } else {
        columns.push(Column::new(
            "memory_bandwidth_gb_s",
            "Bandwidth",
            ValueKind::Number,
        ));
    }
    let (tflops_kind, suffix) = if human {
        (ValueKind::Text, "")
    } else {
        (ValueKind::Number, " TFLOPS")
    };
    columns.extend([
        Column::new("bf16_tflops", format!("BF16{suffix}"), tflops_kind)
            .priority(80)
            .align(Align::Right),
        Column::new("fp8_tflops", format!("FP8{suffix}"), tflops_kind)
            .priority(70)
            .align(Align::Right),
        Column::new("fp4_tflops", format!("FP4{suffix}"), tflops_kind)
            .priority(60)
            .align(Align::Right),
    ]);
    if human {
        columns.push(Column::new("link", "Link", ValueKind::Text).priority(50));
    } else {
        columns.push(Column::new("link", "Link", ValueKind::Text));
        columns.push(Column::new(
            "link_gb_s_per_direction",
            "Link GB/s",
            ValueKind::Number,
        ));
    }
    columns.push(Column::new("price_usd_per_hour", "Price", ValueKind::UsdPerHour).priority(85));
    columns
}

fn row(gpu: &Gpu, catalog: &HardwareCatalog, human: bool, with_name: bool) -> Vec<Cell> {
    let mut row: Vec<Cell> = vec![gpu.id.clone().into()];
    if with_name {
        row.push(gpu.name.clone().into());
    }
    row.push(gpu.memory_gib.into());
    if human {
        row.push(
            format!(
                "{} TB/s",
                format_significant(gpu.memory_bandwidth_gb_s / 1000.0)
            )
            .into(),
        );
    } else {
        row.push(gpu.memory_bandwidth_gb_s.into());
    }
    // Formats the matrix units do not run natively are shown as missing, not as a peak.
    let native = |ok: bool, value: Option<f64>| if ok { value } else { None };
    let tflops = |value: Option<f64>| -> Cell {
        match value {
            Some(v) if human => format_significant(v).into(),
            other => other.into(),
        }
    };
    row.push(tflops(gpu.peak.bf16_tflops.or(gpu.peak.fp16_tflops)));
    row.push(tflops(native(gpu.native_fp8, gpu.peak.fp8_tflops)));
    row.push(tflops(native(gpu.native_fp4, gpu.peak.fp4_tflops)));
    let link = &gpu.scale_up;
    if human {
        row.push(if link.kind == LinkKind::None {
            "none".to_string().into()
        } else {
            format!(
                "{} {} GB/s x{}",
                link.name,
                format_significant(link.bandwidth_gb_s_per_direction),
                gpu.scale_up_domain
            )
            .into()
        });
    } else {
        row.push(link.name.clone().into());
        row.push(link.bandwidth_gb_s_per_direction.into());
    }
    row.push(catalog.price(&gpu.id).map(|p| p.usd_per_hour).into());
    row
}
