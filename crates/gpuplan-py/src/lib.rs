//! `gpuplan._gpuplan`: the native module of the `gpuplan` Python package.
//!
//! Conversion only: every function turns Python arguments into the library's request types,
//! calls the same `gpuplan` function the CLI calls, and hands back the result as the JSON the
//! CLI's `--json` prints (so numbers are identical by construction), or a
//! `NativeRecommendation` that keeps the Rust value for `summary()` and launch commands. The
//! pure-Python package (`python/gpuplan/__init__.py`) turns the JSON into objects with
//! attributes. Long computations run with the GIL released; every error, and any panic, becomes
//! a Python exception (see the `errors` module).

mod errors;
mod options;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use gpuplan::core::memory::{plan_memory, MemoryRequest};
use gpuplan::estimate::engine_default_kv;
use gpuplan::validate::{
    calibrate as calibrate_rows, parse_measurements, validate_rows, validate_with_catalog,
};
use gpuplan::{
    estimate_performance as estimate_one, estimate_performance_batch as estimate_many,
    launch_command, recommend as recommend_request, EmitTarget, PerformanceEstimate,
    PerformanceRequest, RecommendRequest, Recommendation, ResolveOptions, ResolvedModel,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::Serialize;

use errors::{invalid, library_error, memory_error, CatalogError, DataFileError, GpuplanError};
use options::Options;

/// Context length at which `kv_cache_bytes_per_token` is reported, tokens: the figure
/// `gpuplan model` and `gpuplan models` print (sliding-window layers still cache every token).
const SHORT_CONTEXT_TOKENS: u64 = 16;

const BYTES_PER_GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Runs `work` with the GIL released; a panic becomes a `GpuplanError` instead of unwinding
/// into Python.
fn detached<T: Send>(py: Python<'_>, work: impl FnOnce() -> T + Send) -> PyResult<T> {
    py.allow_threads(|| catch_unwind(AssertUnwindSafe(work)))
        .map_err(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            GpuplanError::new_err(format!("internal error in gpuplan: {what}"))
        })
}

/// Serializes a result the way the CLI's `--json` does.
fn to_json<T: Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value)
        .map_err(|e| GpuplanError::new_err(format!("cannot serialize the result: {e}")))
}

/// How to resolve the model: the `revision` and `offline` keyword arguments.
fn resolve_options(options: &mut Options<'_, '_>) -> PyResult<ResolveOptions> {
    Ok(ResolveOptions {
        revision: options.string("revision")?,
        offline: options.flag("offline")?.unwrap_or(false),
        weight_quant: options.parsed("weight_quant")?,
        ..ResolveOptions::default()
    })
}

fn resolve(py: Python<'_>, model: &str, options: &ResolveOptions) -> PyResult<ResolvedModel> {
    detached(py, || gpuplan::resolve_model(model, options))?.map_err(library_error)
}

/// A model's architecture facts, with the names of the old `ModelArchitecture`.
#[derive(Serialize)]
struct ArchitectureFacts {
    /// Catalog id, Hub repo id or the path given.
    model: String,
    /// Where the config came from: `catalog`, `local`, `hf-cache` or `hub`.
    source: String,
    /// The Hub commit the revision resolved to (cache and Hub sources).
    commit: Option<String>,
    /// `model_type` of the language model.
    model_type: String,
    /// All parameters (the checkpoint's header count when it was read).
    total_params: u64,
    /// Parameters touched per token.
    active_params: u64,
    /// Input embedding parameters.
    embedding_params: u64,
    /// LM head parameters (0 when tied to the embedding).
    lm_head_params: u64,
    /// Decoder layers.
    num_layers: usize,
    /// Hidden size.
    hidden_size: u64,
    /// Vocabulary size.
    vocab_size: u64,
    /// Query heads of the full attention layers.
    num_attention_heads: u64,
    /// KV heads of the full attention layers (1 for MLA's shared latent).
    num_kv_heads: u64,
    /// Head dimension of the full attention layers.
    head_dim: u64,
    /// Attention family: mha, gqa, mqa, mla or hybrid.
    attention: gpuplan::core::model::AttentionKind,
    /// KV-cache element type of the figures below.
    kv_dtype: String,
    /// KV-cache bytes per token over a 16-token sequence, every attention layer counted.
    kv_cache_bytes_per_token: f64,
    /// KV-cache bytes each extra token costs in a long sequence.
    kv_cache_bytes_per_token_long_context: f64,
    /// Fixed recurrent state per sequence (Mamba, linear attention), bytes.
    kv_state_bytes_per_sequence: f64,
    /// Weight bytes (the checkpoint's stored bytes when its headers were read).
    weight_bytes: f64,
    /// `weight_bytes` in GiB.
    weight_gib: f64,
    /// Format of the bulk of the weights.
    weight_format: String,
    /// Mixture of experts.
    is_moe: bool,
    /// Routed experts per MoE layer (0 for dense models).
    num_experts: u64,
    /// Routed experts per token (0 for dense models).
    experts_per_token: u64,
    /// Maximum context the model supports, tokens.
    max_position_embeddings: u64,
    /// Multi-token-prediction parameters (not in `total_params`).
    mtp_params: u64,
    /// The LM head shares the embedding matrix.
    tie_word_embeddings: bool,
    /// The config has a vision (or audio) tower that is not counted.
    has_vision_tower: bool,
    /// What the parser assumed or approximated.
    notes: Vec<String>,
}

/// `ModelArchitecture(model)`: the architecture facts of a catalog model, Hub repo id or local
/// config.json, as JSON.
#[pyfunction]
#[pyo3(signature = (model, **options))]
fn model_architecture(
    py: Python<'_>,
    model: &str,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<String> {
    let mut options = Options::new(options);
    let resolve_with = resolve_options(&mut options)?;
    let kv_choice = options.parsed("kv_dtype")?.unwrap_or_default();
    options.finish()?;
    let resolved = resolve(py, model, &resolve_with)?;
    let arch = &resolved.arch;
    let params = arch.params();
    let kv = arch.kv_dtype(kv_choice);
    let weight_bytes = resolved.weight_bytes();
    to_json(&ArchitectureFacts {
        model: arch.name.clone(),
        source: resolved.source.clone(),
        commit: resolved.commit.clone(),
        model_type: arch.model_type.clone(),
        total_params: resolved.total_params(),
        active_params: params.active,
        embedding_params: params.embedding,
        lm_head_params: params.lm_head,
        num_layers: arch.num_layers(),
        hidden_size: arch.hidden_size,
        vocab_size: arch.vocab_size,
        num_attention_heads: arch.num_attention_heads,
        num_kv_heads: arch.num_kv_heads,
        head_dim: arch.head_dim,
        attention: arch.attention,
        kv_dtype: kv.as_str().to_string(),
        kv_cache_bytes_per_token: arch.kv_cache_bytes_per_token(SHORT_CONTEXT_TOKENS, kv),
        kv_cache_bytes_per_token_long_context: arch.kv_cache_bytes_per_token_growing(kv),
        kv_state_bytes_per_sequence: arch.state_bytes_per_sequence(),
        weight_bytes,
        weight_gib: weight_bytes / BYTES_PER_GIB,
        weight_format: arch.precision.headline(arch.is_moe()).as_str().to_string(),
        is_moe: arch.is_moe(),
        num_experts: arch.num_experts(),
        experts_per_token: arch.experts_per_token(),
        max_position_embeddings: arch.max_position_embeddings,
        mtp_params: arch.mtp_params,
        tie_word_embeddings: arch.tie_word_embeddings,
        has_vision_tower: arch.has_vision_tower,
        notes: arch.notes.clone(),
    })
}

/// The settings of a performance request other than model, GPU and GPU count.
fn performance_base(options: &mut Options<'_, '_>) -> PyResult<PerformanceRequest> {
    let mut request = PerformanceRequest {
        resolve: resolve_options(options)?,
        ..PerformanceRequest::default()
    };
    // `weight_quant` is applied per request (as `gpuplan estimate --weight-quant` does), not
    // at resolution.
    request.weight_quant = request.resolve.weight_quant.take();
    request.tensor_parallel_size = options.count_u32("tensor_parallel_size")?;
    if let Some(pp) = options.count_u32("pipeline_parallel_size")? {
        request.pipeline_parallel_size = pp;
    }
    if let Some(ep) = options.count_u32("expert_parallel_size")? {
        request.expert_parallel_size = ep;
    }
    if let Some(tokens) = options.count("input_length")? {
        request.input_length = tokens;
    }
    if let Some(tokens) = options.count("output_length")? {
        request.output_length = tokens;
    }
    if let Some(requests) = options.count("batch_size")? {
        request.batch_size = requests;
    }
    request.max_concurrency = options.count("max_concurrency")?;
    request.request_rate = options.number_or_parsed("request_rate")?;
    request.num_prompts = options.count("num_prompts")?;
    if let Some(dataset) = options.parsed("dataset")? {
        request.dataset = dataset;
    }
    if let Some(ratio) = options.number("random_range_ratio")? {
        request.random_range_ratio = ratio;
    }
    if let Some(engine) = options.parsed("engine")? {
        request.engine = engine;
    }
    if let Some(kv) = options.parsed("kv_dtype")? {
        request.kv_dtype = kv;
    }
    if let Some(fraction) = options.number("gpu_memory_utilization")? {
        request.gpu_memory_utilization = fraction;
    }
    Ok(request)
}

/// `estimate_performance(...)`: one configuration; failures go into the estimate's `error`.
#[pyfunction]
#[pyo3(signature = (model_id, gpu_name, num_gpus, **options))]
fn estimate_performance(
    py: Python<'_>,
    model_id: String,
    gpu_name: String,
    num_gpus: i64,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<String> {
    let mut options = Options::new(options);
    let base = performance_base(&mut options)?;
    options.finish()?;
    let estimate = match u32::try_from(num_gpus) {
        Ok(n) => {
            let request = PerformanceRequest {
                model: model_id,
                gpu: gpu_name,
                num_gpus: n,
                ..base
            };
            detached(py, || estimate_one(&request))?
        }
        Err(_) => bad_gpu_count(&model_id, &gpu_name, num_gpus),
    };
    to_json(&estimate)
}

/// The estimate for a GPU count that is not a count.
fn bad_gpu_count(model: &str, gpu: &str, num_gpus: i64) -> PerformanceEstimate {
    PerformanceEstimate {
        model: model.to_string(),
        gpu: gpu.to_string(),
        error: Some(format!(
            "num_gpus must be between 1 and {}, got {num_gpus}",
            u32::MAX
        )),
        ..PerformanceEstimate::default()
    }
}

/// `estimate_performance_batch(...)`: one estimate per `(gpu, num_gpus)`, each with its own
/// error; the model is resolved once.
#[pyfunction]
#[pyo3(signature = (model_id, gpu_configs, **options))]
fn estimate_performance_batch(
    py: Python<'_>,
    model_id: String,
    gpu_configs: Vec<(String, i64)>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<String> {
    let mut options = Options::new(options);
    let base = performance_base(&mut options)?;
    options.finish()?;
    let valid: Vec<(&str, u32)> = gpu_configs
        .iter()
        .filter_map(|(gpu, n)| Some((gpu.as_str(), u32::try_from(*n).ok()?)))
        .collect();
    let mut estimated = detached(py, || estimate_many(&model_id, &valid, &base))?.into_iter();
    let estimates: Vec<PerformanceEstimate> = gpu_configs
        .iter()
        .map(|(gpu, n)| match u32::try_from(*n) {
            Ok(_) => estimated.next().unwrap_or_default(),
            Err(_) => bad_gpu_count(&model_id, gpu, *n),
        })
        .collect();
    to_json(&estimates)
}

/// A recommendation, kept as the Rust value so that `summary()` and the launch commands are the
/// library's own.
#[pyclass(frozen, module = "gpuplan._gpuplan")]
struct NativeRecommendation {
    inner: Recommendation,
}

#[pymethods]
impl NativeRecommendation {
    /// Rebuilds a recommendation from its JSON (`to_json()`).
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        serde_json::from_str(text)
            .map(|inner| NativeRecommendation { inner })
            .map_err(|e| invalid(format!("not a gpuplan recommendation: {e}")))
    }

    /// The readable table `gpuplan recommend` prints.
    fn summary(&self) -> String {
        self.inner.summary()
    }

    /// The recommendation as JSON (the CLI's `--json`); `indent` pretty-prints it.
    #[pyo3(signature = (indent = false))]
    fn to_json(&self, indent: bool) -> PyResult<String> {
        if indent {
            serde_json::to_string_pretty(&self.inner)
                .map_err(|e| GpuplanError::new_err(format!("cannot serialize the result: {e}")))
        } else {
            to_json(&self.inner)
        }
    }

    /// How to launch configuration `index` (0: the best): `vllm`, `sglang` or `trtllm`
    /// commands (one per node and role) for the engine it was planned for, `k8s` manifests or
    /// `llm-d` Helm values; None: the commands of its own engine.
    #[pyo3(signature = (target = None, index = 0))]
    fn launch_command(&self, target: Option<&str>, index: usize) -> PyResult<String> {
        let configurations = &self.inner.configurations;
        let cfg = configurations.get(index).ok_or_else(|| {
            if configurations.is_empty() {
                invalid("no configuration satisfies the request: there is nothing to launch")
            } else {
                invalid(format!(
                    "no configuration at index {index}: the result has {}",
                    configurations.len()
                ))
            }
        })?;
        let target: EmitTarget = target
            .unwrap_or(cfg.engine.as_str())
            .parse()
            .map_err(invalid)?;
        launch_command(target, cfg).map_err(|e| invalid(e.to_string()))
    }

    /// The CLI's exit code for this result: 0 when satisfied, 1 when no configuration is.
    #[getter]
    fn exit_code(&self) -> u8 {
        self.inner.exit_code()
    }
}

/// `recommend_gpus(...)`: the search, as `gpuplan recommend` runs it.
#[pyfunction]
#[pyo3(signature = (model, **options))]
fn recommend(
    py: Python<'_>,
    model: String,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<NativeRecommendation> {
    let mut options = Options::new(options);
    let mut request = RecommendRequest {
        resolve: resolve_options(&mut options)?,
        ..RecommendRequest::new(model)
    };
    if let Some(tokens) = options.count("input_length")? {
        request.input_len = tokens;
    }
    if let Some(tokens) = options.count("output_length")? {
        request.output_len = tokens;
    }
    request.concurrency = options.count("concurrency")?;
    if let Some(c) = options.count("max_concurrency")? {
        request.concurrency = Some(c);
    }
    request.request_rate = options.number("request_rate")?;
    if let Some(stat) = options.parsed("slo_percentile")? {
        request.slo_percentile = stat;
    }
    request.max_ttft_p99_ms = options.number("max_ttft_p99_ms")?;
    request.max_itl_p99_ms = options.number("max_itl_p99_ms")?;
    if let Some(dataset) = options.parsed("dataset")? {
        request.dataset = dataset;
    }
    if let Some(ratio) = options.number("random_range_ratio")? {
        request.random_range_ratio = ratio;
    }
    request.num_prompts = options.count("num_prompts")?;
    request.max_ttft_ms = options.number("max_ttft_ms")?;
    request.max_itl_ms = options.number("max_itl_ms")?;
    request.max_e2e_ms = options.number("max_e2e_ms")?;
    request.min_throughput_tok_s = options.number("min_throughput_tok_s")?;
    if let Some(gpus) = options.strings("gpus")? {
        request.gpus = gpus;
    }
    if let Some(n) = options.count_u32("max_gpus")? {
        request.max_gpus = n;
    }
    // Each entry is a format or `native` / `none` (the checkpoint as it is), as in the CLI.
    if let Some(lists) = options.parsed_list::<gpuplan::AllowQuant>("allow_quant")? {
        request.allow_quant = Vec::new();
        for format in lists.into_iter().flat_map(|list| list.0) {
            if !request.allow_quant.contains(&format) {
                request.allow_quant.push(format);
            }
        }
    }
    if let Some(kv) = options.parsed_list("kv_dtype")? {
        request.kv_dtype = kv;
    }
    if let Some(engines) = options.parsed_list("engine")? {
        request.engine = engines;
    }
    if let Some(mode) = options.parsed("mode")? {
        request.mode = mode;
    }
    if let Some(objective) = options.parsed("objective")? {
        request.objective = objective;
    }
    if let Some(prices) = options.prices("prices")? {
        request.price = prices;
    }
    if let Some(n) = options.count("top")? {
        request.top = usize::try_from(n).map_err(|_| invalid("top is too large"))?;
    }
    request.emit = options.parsed("emit")?;
    if let Some(on) = options.flag("estimate_performance")? {
        request.estimate_performance = on;
    }
    if let Some(fraction) = options.number("gpu_memory_utilization")? {
        request.gpu_memory_utilization = fraction;
    }
    request.max_model_len = options.count("max_model_len")?;
    options.finish()?;
    let inner = detached(py, || recommend_request(&request))?.map_err(library_error)?;
    Ok(NativeRecommendation { inner })
}

/// What `memory_plan` returns: the deployment and its per-GPU plan, as `gpuplan memory --json`
/// prints it.
#[derive(Serialize)]
struct MemoryReport<'a> {
    /// The model as named.
    model: &'a str,
    /// Catalog id of the GPU.
    gpu: &'a str,
    /// GPUs of the deployment: tp * pp * dp.
    num_gpus: u32,
    /// Format of the bulk of the weights as served.
    weight_quant: gpuplan::core::quant::WeightFormat,
    /// The per-GPU plan.
    #[serde(flatten)]
    plan: gpuplan::core::memory::MemoryPlan,
}

/// `memory_plan(...)`: per-GPU memory of one deployment, as `gpuplan memory --json` prints it;
/// a plan that does not fit is a result (`fits` false, with `advice`), not an error.
#[pyfunction]
#[pyo3(signature = (model, gpu, **options))]
fn memory_plan(
    py: Python<'_>,
    model: &str,
    gpu: &str,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<String> {
    let mut options = Options::new(options);
    let resolve_with = resolve_options(&mut options)?;
    let tp = options.count_u32("tensor_parallel_size")?;
    let pp = options.count_u32("pipeline_parallel_size")?;
    let dp = options.count_u32("data_parallel_size")?;
    let ep = options.count_u32("expert_parallel_size")?;
    let num_gpus = options.count_u32("num_gpus")?;
    let defaults = PerformanceRequest::default();
    let max_model_len = options.count("max_model_len")?;
    let engine = options.parsed("engine")?.unwrap_or(defaults.engine);
    let kv_choice = options.parsed("kv_dtype")?.unwrap_or(defaults.kv_dtype);
    let gpu_memory_utilization = options
        .number("gpu_memory_utilization")?
        .unwrap_or(defaults.gpu_memory_utilization);
    let engine_version = options.string("engine_version")?;
    options.finish()?;
    let resolved = resolve(py, model, &resolve_with)?;
    let arch = &resolved.arch;
    let gpu = gpuplan::catalog::hardware::embedded_hardware()
        .resolve(gpu)
        .map_err(|e| library_error(e.into()))?;
    // The one layout rule of every front end (`gpuplan memory`, `/api/memory`).
    let (parallelism, num_gpus) =
        gpuplan::limits::resolve_parallelism(tp, pp, dp, ep, num_gpus, arch)
            .map_err(library_error)?;
    let request = MemoryRequest {
        arch,
        gpu,
        parallelism,
        kv_dtype: engine_default_kv(arch, engine, kv_choice),
        // As `gpuplan memory`: the model's longest context unless told otherwise.
        max_model_len: max_model_len.unwrap_or(arch.max_position_embeddings).max(1),
        gpu_memory_utilization,
        engine,
        engine_version,
    };
    let plan = detached(py, || {
        plan_memory(&request, gpuplan::estimate::memory_overheads())
    })?
    .map_err(memory_error)?;
    to_json(&MemoryReport {
        model,
        gpu: &gpu.id,
        num_gpus,
        weight_quant: arch.precision.headline(arch.is_moe()),
        plan,
    })
}

fn read_measurements(csv_path: &Path) -> PyResult<Vec<gpuplan::validate::MeasuredRow>> {
    let name = csv_path.display().to_string();
    // The messages of `gpuplan validate`.
    let text = std::fs::read_to_string(csv_path)
        .map_err(|e| DataFileError::new_err(format!("cannot read {name}: {e}")))?;
    let mut rows = parse_measurements(&name, &text)
        .map_err(|e| DataFileError::new_err(format!("malformed CSV {e}")))?;
    // A row's `dataset` file is relative to the CSV.
    gpuplan::validate::resolve_datasets(&mut rows, csv_path.parent().unwrap_or(Path::new(".")));
    if rows.is_empty() {
        return Err(DataFileError::new_err(format!(
            "{name}: no measurement rows (only a header, or empty)"
        )));
    }
    Ok(rows)
}

fn profiles(path: Option<&Path>) -> PyResult<gpuplan::core::perf::Profiles> {
    gpuplan::catalog::profiles::profiles_with_file(path)
        .map_err(|e| CatalogError::new_err(e.to_string()))
}

/// `validate(csv_path)`: predicts every measured row and scores the predictions, as JSON.
#[pyfunction]
#[pyo3(signature = (csv_path, models_dir = None, profiles_path = None))]
fn validate(
    py: Python<'_>,
    csv_path: PathBuf,
    models_dir: Option<PathBuf>,
    profiles_path: Option<PathBuf>,
) -> PyResult<String> {
    let rows = read_measurements(&csv_path)?;
    let profiles = profiles(profiles_path.as_deref())?;
    let report = detached(py, || {
        validate_with_catalog(
            &rows,
            models_dir.as_deref(),
            &profiles,
            gpuplan::estimate::memory_overheads(),
        )
    })?;
    to_json(&report)
}

/// What `calibrate` returns besides the profile text: `gpuplan calibrate --json`'s report.
#[derive(Serialize)]
struct CalibrationReport {
    /// Engines whose constants were fitted (those with rows and a profile).
    engines_fitted: Vec<String>,
    /// Coordinate-search rounds per engine.
    rounds: usize,
    /// Error statistics with the starting profiles.
    before: gpuplan::validate::Summary,
    /// The validation with the fitted profiles.
    after: gpuplan::validate::ValidationReport,
}

/// `calibrate(csv_path, output)`: fits the engine profiles to the measured rows, as
/// `gpuplan calibrate` does; returns the fitted profile file (TOML text, also written to
/// `output` when given) and the report (JSON).
#[pyfunction]
#[pyo3(signature = (csv_path, output = None, models_dir = None, profiles_path = None, rounds = 12))]
fn calibrate(
    py: Python<'_>,
    csv_path: PathBuf,
    output: Option<PathBuf>,
    models_dir: Option<PathBuf>,
    profiles_path: Option<PathBuf>,
    rounds: usize,
) -> PyResult<(String, String)> {
    let rows = read_measurements(&csv_path)?;
    let start = profiles(profiles_path.as_deref())?;
    let mut engines_fitted: Vec<String> = rows
        .iter()
        .map(|r| r.engine.clone())
        .filter(|e| start.engine(e).is_some())
        .collect();
    engines_fitted.sort();
    engines_fitted.dedup();
    if engines_fitted.is_empty() {
        return Err(DataFileError::new_err(format!(
            "{}: no row names an engine with a profile (vllm, sglang, trtllm); nothing to fit",
            csv_path.display()
        )));
    }
    let overheads = gpuplan::estimate::memory_overheads();
    let hardware = gpuplan::catalog::hardware::embedded_hardware();
    let models_dir = models_dir.as_deref();
    let (before, (fitted, after)) = detached(py, || {
        let before = validate_rows(&rows, models_dir, hardware, &start, overheads);
        (
            before,
            calibrate_rows(&rows, models_dir, &start, overheads, rounds),
        )
    })?;
    let body = toml::to_string_pretty(&fitted)
        .map_err(|e| GpuplanError::new_err(format!("cannot serialise the fitted profile: {e}")))?;
    // The file `gpuplan calibrate -o` writes.
    let text = format!(
        "# Engine profiles fitted by `gpuplan calibrate` to {} ({} rows; engines: {}).\n\
         # Use with --profile on estimate, validate and recommend.\n\n{body}",
        csv_path.display(),
        rows.len(),
        engines_fitted.join(", ")
    );
    if let Some(path) = output {
        std::fs::write(&path, &text)
            .map_err(|e| DataFileError::new_err(format!("cannot write {}: {e}", path.display())))?;
    }
    let report = CalibrationReport {
        engines_fitted,
        rounds,
        before: before.summary,
        after,
    };
    Ok((text, to_json(&report)?))
}

#[pymodule]
fn _gpuplan(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_class::<NativeRecommendation>()?;
    m.add_function(wrap_pyfunction!(model_architecture, m)?)?;
    m.add_function(wrap_pyfunction!(estimate_performance, m)?)?;
    m.add_function(wrap_pyfunction!(estimate_performance_batch, m)?)?;
    m.add_function(wrap_pyfunction!(recommend, m)?)?;
    m.add_function(wrap_pyfunction!(memory_plan, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(calibrate, m)?)?;
    Ok(())
}
