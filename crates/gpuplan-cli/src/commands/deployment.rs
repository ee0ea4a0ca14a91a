//! What `memory`, `estimate` and `recommend` share: turning raw flags (model, GPU, parallel
//! sizes, engine, profile file) into validated inputs of the planner, and writing output files.

use std::path::Path;

use anyhow::{anyhow, Context as _};
use gpuplan::{resolve_model, ResolvedModel};
use gpuplan_core::hardware::{Gpu, HardwareCatalog};
use gpuplan_core::memory::{Engine, Parallelism};
use gpuplan_core::model::Architecture;
use gpuplan_core::perf::Profiles;
use gpuplan_core::quant::WeightFormat;

use crate::args::ParallelArgs;
use crate::Context;

/// The engine memory fraction when `--gpu-memory-utilization` is not given (vLLM's default).
pub(crate) const DEFAULT_GPU_MEMORY_UTILIZATION: f64 = 0.9;

/// Resolves `--model` (with `--weight-quant` applied) as every command does.
pub(crate) fn resolve(
    ctx: &Context,
    model: &str,
    weight_quant: Option<WeightFormat>,
) -> anyhow::Result<ResolvedModel> {
    let options = gpuplan::ResolveOptions {
        weight_quant,
        ..ctx.resolve_options()
    };
    Ok(resolve_model(model, &options)?)
}

/// The GPU named by `--gpu`, else the first GPU of the user config.
pub(crate) fn gpu<'a>(
    ctx: &Context,
    catalog: &'a HardwareCatalog,
    name: Option<&str>,
) -> anyhow::Result<&'a Gpu> {
    let name = name
        .or_else(|| ctx.config.gpus.first().map(String::as_str))
        .ok_or_else(|| {
            anyhow!("no GPU given: pass --gpu (e.g. --gpu H100; `gpuplan gpus` lists them)")
        })?;
    Ok(catalog.resolve(name).map_err(gpuplan::Error::from)?)
}

/// `--engine`, else the user config's `engine`, else vLLM.
pub(crate) fn engine(ctx: &Context, flag: Option<Engine>) -> anyhow::Result<Engine> {
    if let Some(engine) = flag {
        return Ok(engine);
    }
    match &ctx.config.engine {
        Some(name) => name.parse().map_err(|e| {
            let file = ctx.config.path.as_deref().map_or_else(
                || "the user config".to_string(),
                |p| p.display().to_string(),
            );
            anyhow!("invalid `engine` in {file}: {e}")
        }),
        None => Ok(Engine::Vllm),
    }
}

/// The embedded engine profiles, with `--profile FILE` merged over them.
pub(crate) fn profiles(file: Option<&Path>) -> anyhow::Result<Profiles> {
    Ok(gpuplan_catalog::profiles::profiles_with_file(file)?)
}

/// The parallel layout of `--tp --pp --dp --ep --num-gpus`, by the library's one rule
/// ([`gpuplan::limits::resolve_parallelism`]): the sizes left out fill `--num-gpus`, and the
/// engine rules (TP divides the heads, EP divides the experts, ...) are checked against `arch`.
pub(crate) fn parallelism(
    args: &ParallelArgs,
    arch: &Architecture,
) -> anyhow::Result<(Parallelism, u32)> {
    Ok(gpuplan::limits::resolve_parallelism(
        args.tp,
        args.pp,
        args.dp,
        args.ep,
        args.num_gpus,
        arch,
    )?)
}

/// A short label of a layout: "tp4 pp1 dp1 ep1".
pub(crate) fn layout_label(p: &Parallelism) -> String {
    format!("tp{} pp{} dp{} ep{}", p.tp, p.pp, p.dp, p.ep)
}

/// Writes an output file (`--plot`, `--report`, `-o`), naming it in any error, and says on
/// stderr what it wrote where (`what`: "Pareto plot", "HTML report", ...).
pub(crate) fn write_file(path: &Path, contents: &str, what: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(anyhow!(
                "cannot write {}: directory {} does not exist",
                path.display(),
                dir.display()
            ));
        }
    }
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("wrote the {what} to {}", path.display());
    Ok(())
}
