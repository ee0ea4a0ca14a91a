//! The request bodies, response bodies and handlers of the JSON API.
//!
//! Request fields mirror the CLI flags in snake_case (`--input-len` is `input_len`); every
//! field but `model` (and `gpu` where one GPU is meant) has the CLI's default, and unknown
//! fields are refused so that a typo never silently falls back to a default. Handlers parse the
//! body themselves (not through axum's `Json` extractor) so that every failure, including a
//! wrong type, becomes an [`ApiError`] that names the field.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use gpuplan::core::perf::Statistic;
use gpuplan::estimate::{
    engine_default_kv, estimate_workloads, DeploymentEstimate, DeploymentSpec,
};
use gpuplan::validate::{
    parse_measurements, row_reads_a_file, validate_with_catalog, ValidationReport,
};
use gpuplan::workload::{Dataset, RequestRate, Workload};
use gpuplan::{launch_command, EmitTarget, RecommendRequest, Recommendation, SearchControl};
use gpuplan_core::hardware::Gpu;
use gpuplan_core::memory::{plan_memory, Engine, MemoryPlan, MemoryRequest};
use gpuplan_core::model::Architecture;
use gpuplan_core::quant::{KvDtypeChoice, WeightFormat};
use gpuplan_core::search::{Objective, ServingMode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::AppState;
use crate::render::{pareto_svg, ParetoPlot, PlotPoint};

/// Most concurrency points one estimate may ask for.
const MAX_CONCURRENCY_POINTS: usize = 64;
/// Largest concurrency one estimate point may ask for.
const MAX_CONCURRENCY: u64 = 1_000_000;
/// Most configurations `/api/recommend` returns.
const MAX_TOP: usize = 100;
/// Most rows of a measurement CSV.
const MAX_MEASUREMENT_ROWS: usize = 20_000;

// ---------------------------------------------------------------------------------------------
// Body parsing

/// Parses a JSON request body: 400 when it is not JSON or not an object, 422 naming the field
/// when a field has the wrong type or is unknown.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    let object = match value {
        serde_json::Value::Object(object) => object,
        _ => {
            return Err(ApiError::invalid(
                "body",
                "the request body must be a JSON object",
            ))
        }
    };
    match serde_json::from_value::<T>(serde_json::Value::Object(object.clone())) {
        Ok(parsed) => Ok(parsed),
        Err(whole) => {
            // Every field has a default, so a body of one field parses unless that field is to
            // blame: find the first such field to name it.
            for (key, value) in &object {
                let mut single = serde_json::Map::new();
                single.insert(key.clone(), value.clone());
                if let Err(e) = serde_json::from_value::<T>(serde_json::Value::Object(single)) {
                    let message = e.to_string();
                    let message = if message.contains("untagged enum") {
                        // serde names the Rust type; say what the field takes instead.
                        format!(
                            "field `{key}`: expected a number, \"max\", or a list of those \
                             (see /api/openapi.json)"
                        )
                    } else if message.starts_with("unknown field") {
                        message
                    } else {
                        format!("field `{key}`: {message}")
                    };
                    return Err(ApiError::invalid(key.clone(), message));
                }
            }
            Err(ApiError::invalid("body", whole.to_string()))
        }
    }
}

/// Runs CPU-bound or blocking work (model look-ups, estimates, searches) on the blocking pool,
/// so that the async workers keep answering other requests.
async fn blocking<T, F>(work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("the request's worker failed: {e}")))?
}

// ---------------------------------------------------------------------------------------------
// Shared request pieces

/// Concurrencies to estimate: a number, `"max"` (as many requests as fit in the KV cache), or
/// a list of those.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ConcurrencyList {
    /// One value.
    One(ConcurrencyValue),
    /// Several values, estimated in order.
    Many(Vec<ConcurrencyValue>),
}

/// One concurrency: a request count, or the word `max`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ConcurrencyValue {
    /// Requests in flight, whole deployment.
    Requests(u64),
    /// `"max"`: the saturation point.
    Word(String),
}

impl Default for ConcurrencyList {
    fn default() -> Self {
        ConcurrencyList::Many(vec![
            ConcurrencyValue::Requests(1),
            ConcurrencyValue::Word("max".into()),
        ])
    }
}

impl ConcurrencyList {
    /// The concurrencies for the estimator (`None` = saturation), validated.
    pub fn points(&self) -> Result<Vec<Option<u64>>, ApiError> {
        let values: Vec<&ConcurrencyValue> = match self {
            ConcurrencyList::One(v) => vec![v],
            ConcurrencyList::Many(vs) => vs.iter().collect(),
        };
        if values.is_empty() {
            return Err(ApiError::invalid(
                "concurrency",
                "give at least one concurrency (a number or \"max\")",
            ));
        }
        if values.len() > MAX_CONCURRENCY_POINTS {
            return Err(ApiError::invalid(
                "concurrency",
                format!("at most {MAX_CONCURRENCY_POINTS} concurrencies per request"),
            ));
        }
        values
            .into_iter()
            .map(|v| match v {
                ConcurrencyValue::Requests(n) if (1..=MAX_CONCURRENCY).contains(n) => Ok(Some(*n)),
                ConcurrencyValue::Requests(n) => Err(ApiError::invalid(
                    "concurrency",
                    format!("concurrency {n} is out of range: 1 to {MAX_CONCURRENCY}"),
                )),
                ConcurrencyValue::Word(w) if w.trim().eq_ignore_ascii_case("max") => Ok(None),
                ConcurrencyValue::Word(w) => Err(ApiError::invalid(
                    "concurrency",
                    format!("'{w}' is not a concurrency: give a number or \"max\""),
                )),
            })
            .collect()
    }
}

fn check_tokens(field: &str, value: u64) -> Result<(), ApiError> {
    gpuplan::limits::check_tokens(field, value)?;
    Ok(())
}

fn check_utilization(value: f64) -> Result<(), ApiError> {
    if !(value.is_finite() && value > 0.0 && value <= 1.0) {
        return Err(ApiError::invalid(
            "gpu_memory_utilization",
            format!("gpu_memory_utilization must be in (0, 1], got {value}"),
        ));
    }
    Ok(())
}

/// The architecture at the weight format to serve.
fn with_quant(arch: &Architecture, weight_quant: Option<WeightFormat>) -> Architecture {
    match weight_quant {
        Some(format) => arch.with_weight_format(format),
        None => arch.clone(),
    }
}

fn resolve_gpu<'a>(state: &'a AppState, name: &str) -> Result<&'a Gpu, ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::invalid(
            "gpu",
            "gpu is required: a GPU id, name or alias (see /api/gpus)",
        ));
    }
    Ok(state.hardware().resolve(name)?)
}

// ---------------------------------------------------------------------------------------------
// GET /api/models, GET /api/gpus, GET /healthz, GET /api/openapi.json

/// `GET /api/models`: the embedded model catalog, as `gpuplan models --json`.
pub async fn models(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.inner.models_json.clone())
}

/// `GET /api/gpus`: the GPU catalog with the server's overrides and prices, as
/// `gpuplan gpus --json`.
pub async fn gpus(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.inner.gpus_json.clone())
}

/// The body of `GET /healthz`.
#[derive(Debug, Serialize)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: &'static str,
    /// gpuplan version.
    pub version: &'static str,
    /// Architectures in the look-up cache.
    pub cached_models: usize,
    /// Recommend searches running now.
    pub searches_running: usize,
    /// Searches stopped before they finished (client gone, time limit) since the start.
    pub searches_stopped: usize,
}

/// `GET /healthz`: liveness.
pub async fn healthz(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        cached_models: state.cached_models(),
        searches_running: state.searches_running(),
        searches_stopped: state.searches_stopped(),
    })
}

/// `GET /api/openapi.json`: the OpenAPI 3 description of this API.
pub async fn openapi() -> Json<serde_json::Value> {
    Json(super::openapi::document())
}

// ---------------------------------------------------------------------------------------------
// POST /api/memory

/// The body of `POST /api/memory`: one GPU's memory for a deployment (`gpuplan memory`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryBody {
    /// Catalog id or Hugging Face repo id (required).
    pub model: String,
    /// GPU id, name or alias (required).
    pub gpu: String,
    /// Tensor-parallel size (default: `num_gpus / (pp x dp)`, else 1).
    pub tp: Option<u32>,
    /// Pipeline-parallel size (default 1).
    pub pp: Option<u32>,
    /// Data-parallel (attention-DP) size (default 1).
    pub dp: Option<u32>,
    /// Expert-parallel size (default 1).
    pub ep: Option<u32>,
    /// GPUs of the deployment; must equal tp x pp x dp when given.
    pub num_gpus: Option<u32>,
    /// Prompt tokens per request (default 2048).
    pub input_len: u64,
    /// Generated tokens per request (default 512).
    pub output_len: u64,
    /// Longest request the engine is configured for, tokens (default input + output).
    pub max_model_len: Option<u64>,
    /// Serve the weights in this format instead of the checkpoint's.
    pub weight_quant: Option<WeightFormat>,
    /// KV-cache dtype (default auto: the engine's default for the model).
    pub kv_dtype: KvDtypeChoice,
    /// Serving engine (default vllm).
    pub engine: Engine,
    /// Fraction of GPU memory the engine may use (default 0.9).
    pub gpu_memory_utilization: f64,
    /// A model's `config.json` inline, as a JSON object, instead of a catalog or Hub model.
    pub config: Option<serde_json::Value>,
}

impl Default for MemoryBody {
    fn default() -> Self {
        MemoryBody {
            config: None,
            model: String::new(),
            gpu: String::new(),
            tp: None,
            pp: None,
            dp: None,
            ep: None,
            num_gpus: None,
            input_len: 2048,
            output_len: 512,
            max_model_len: None,
            weight_quant: None,
            kv_dtype: KvDtypeChoice::Auto,
            engine: Engine::Vllm,
            gpu_memory_utilization: 0.9,
        }
    }
}

/// The answer of `POST /api/memory`, as `gpuplan memory --json`: the deployment and the memory
/// plan of one GPU (its fields at the top level).
#[derive(Debug, Serialize)]
pub struct MemoryResponse {
    /// The model's canonical name.
    pub model: String,
    /// Catalog id of the GPU.
    pub gpu: String,
    /// Display name of the GPU.
    pub gpu_name: String,
    /// GPUs of the deployment (tp x pp x dp).
    pub num_gpus: u32,
    /// Weight format served.
    pub weight_quant: WeightFormat,
    /// The plan.
    #[serde(flatten)]
    pub plan: MemoryPlan,
}

/// `POST /api/memory`.
pub async fn memory(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<MemoryResponse>, ApiError> {
    let body: MemoryBody = parse_json(&body?)?;
    blocking(move || memory_plan(&state, &body)).await.map(Json)
}

fn memory_plan(state: &AppState, body: &MemoryBody) -> Result<MemoryResponse, ApiError> {
    check_tokens("input_len", body.input_len)?;
    check_tokens("output_len", body.output_len)?;
    if let Some(len) = body.max_model_len {
        check_tokens("max_model_len", len)?;
    }
    check_utilization(body.gpu_memory_utilization)?;
    let gpu = resolve_gpu(state, &body.gpu)?;
    let base = match &body.config {
        Some(config) => inline_arch(inline_model_name(&body.model, config), config)?,
        None => state.resolve_model(&body.model)?,
    };
    let arch = with_quant(&base, body.weight_quant);
    let (parallelism, num_gpus) = gpuplan::limits::resolve_parallelism(
        body.tp,
        body.pp,
        body.dp,
        body.ep,
        body.num_gpus,
        &arch,
    )?;
    let request = MemoryRequest {
        arch: &arch,
        gpu,
        parallelism,
        kv_dtype: engine_default_kv(&arch, body.engine, body.kv_dtype),
        max_model_len: body
            .max_model_len
            .unwrap_or(body.input_len.saturating_add(body.output_len)),
        gpu_memory_utilization: body.gpu_memory_utilization,
        engine: body.engine,
        engine_version: None,
    };
    let plan = plan_memory(
        &request,
        gpuplan_catalog::memory::embedded_memory_overheads(),
    )?;
    Ok(MemoryResponse {
        model: arch.name.clone(),
        gpu: gpu.id.clone(),
        gpu_name: gpu.name.clone(),
        num_gpus,
        weight_quant: arch.precision.headline(arch.is_moe()),
        plan,
    })
}

// ---------------------------------------------------------------------------------------------
// POST /api/estimate

/// The body of `POST /api/estimate`: latency and throughput of one deployment at one or more
/// concurrencies (`gpuplan estimate`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EstimateBody {
    /// Catalog id or Hugging Face repo id (required).
    pub model: String,
    /// GPU id, name or alias (required).
    pub gpu: String,
    /// Tensor-parallel size (default: `num_gpus / (pp x dp)`, else 1).
    pub tp: Option<u32>,
    /// Pipeline-parallel size (default 1).
    pub pp: Option<u32>,
    /// Data-parallel (attention-DP) size (default 1).
    pub dp: Option<u32>,
    /// Expert-parallel size (default 1).
    pub ep: Option<u32>,
    /// GPUs of the deployment; must equal tp x pp x dp when given.
    pub num_gpus: Option<u32>,
    /// Prompt tokens per request (default 2048).
    pub input_len: u64,
    /// Generated tokens per request (default 512).
    pub output_len: u64,
    /// Requests in flight: a number, `"max"`, or a list of those (default `[1, "max"]` for a
    /// steady closed loop, `"max"` (no cap) for a finite run). Alias `max_concurrency`.
    #[serde(alias = "max_concurrency")]
    pub concurrency: Option<ConcurrencyList>,
    /// Poisson arrivals, requests per second, or `"inf"` (every request at t=0): a finite run.
    pub request_rate: Option<RequestRate>,
    /// Requests of a finite run (default 1000).
    pub num_prompts: Option<u64>,
    /// Request lengths: `"random"` (default) or `"sharegpt"` (files are not read by the
    /// server).
    pub dataset: Dataset,
    /// Spread of random lengths, [0, 1) (default 0: fixed).
    pub random_range_ratio: f64,
    /// Serve the weights in this format instead of the checkpoint's.
    pub weight_quant: Option<WeightFormat>,
    /// KV-cache dtype (default auto).
    pub kv_dtype: KvDtypeChoice,
    /// Serving engine (default vllm).
    pub engine: Engine,
    /// Longest request the engine is configured for, tokens (default input + output).
    pub max_model_len: Option<u64>,
    /// Fraction of GPU memory the engine may use (default 0.9).
    pub gpu_memory_utilization: f64,
    /// A model's `config.json` inline, as a JSON object, instead of a catalog or Hub model.
    pub config: Option<serde_json::Value>,
}

impl Default for EstimateBody {
    fn default() -> Self {
        EstimateBody {
            config: None,
            model: String::new(),
            gpu: String::new(),
            tp: None,
            pp: None,
            dp: None,
            ep: None,
            num_gpus: None,
            input_len: 2048,
            output_len: 512,
            concurrency: None,
            request_rate: None,
            num_prompts: None,
            dataset: Dataset::Random,
            random_range_ratio: 0.0,
            weight_quant: None,
            kv_dtype: KvDtypeChoice::Auto,
            engine: Engine::Vllm,
            max_model_len: None,
            gpu_memory_utilization: 0.9,
        }
    }
}

/// The answer of `POST /api/estimate`, as `gpuplan estimate --json`: the deployment, its memory
/// plan and one point per concurrency.
#[derive(Debug, Serialize)]
pub struct EstimateResponse {
    /// The model's canonical name.
    pub model: String,
    /// Catalog id of the GPU.
    pub gpu: String,
    /// Display name of the GPU.
    pub gpu_name: String,
    /// GPUs of the deployment.
    pub num_gpus: u32,
    /// Tensor-parallel size.
    pub tp: u32,
    /// Pipeline-parallel size.
    pub pp: u32,
    /// Data-parallel size (engine instances).
    pub dp: u32,
    /// Expert-parallel size.
    pub ep: u32,
    /// Serving engine.
    pub engine: Engine,
    /// Weight format served.
    pub weight_quant: WeightFormat,
    /// Prompt tokens per request.
    pub input_len: u64,
    /// Generated tokens per request.
    pub output_len: u64,
    /// The workload modelled, in one line.
    pub workload: String,
    /// KV dtype, memory plan, capacity and the estimate points.
    #[serde(flatten)]
    pub estimate: DeploymentEstimate,
}

/// `POST /api/estimate`.
pub async fn estimate(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<EstimateResponse>, ApiError> {
    let body: EstimateBody = parse_json(&body?)?;
    blocking(move || estimate_one(&state, &body))
        .await
        .map(Json)
}

fn estimate_one(state: &AppState, body: &EstimateBody) -> Result<EstimateResponse, ApiError> {
    check_tokens("input_len", body.input_len)?;
    check_tokens("output_len", body.output_len)?;
    if let Some(len) = body.max_model_len {
        check_tokens("max_model_len", len)?;
    }
    check_utilization(body.gpu_memory_utilization)?;
    if matches!(body.dataset, Dataset::File(_)) {
        return Err(ApiError::invalid(
            "dataset",
            "the server reads no files: give \"random\" or \"sharegpt\"",
        ));
    }
    let base = Workload {
        input_len: body.input_len,
        output_len: body.output_len,
        max_concurrency: None,
        request_rate: body.request_rate,
        num_prompts: body.num_prompts,
        dataset: body.dataset.clone(),
        random_range_ratio: body.random_range_ratio,
    };
    base.validate()
        .map_err(|e| ApiError::invalid(e.field.clone(), e.to_string()))?;
    let concurrencies = match &body.concurrency {
        Some(list) => list.points()?,
        None if base.is_steady_closed_loop() => ConcurrencyList::default().points()?,
        None => vec![None],
    };
    let workloads: Vec<Workload> = concurrencies
        .iter()
        .map(|c| Workload {
            max_concurrency: *c,
            ..base.clone()
        })
        .collect();
    let workload = match workloads.as_slice() {
        [one] => one.describe(&[]),
        _ => format!("{}; one point per concurrency", base.describe(&[])),
    };
    let gpu = resolve_gpu(state, &body.gpu)?;
    let base = match &body.config {
        Some(config) => inline_arch(inline_model_name(&body.model, config), config)?,
        None => state.resolve_model(&body.model)?,
    };
    let arch = with_quant(&base, body.weight_quant);
    let (parallelism, num_gpus) = gpuplan::limits::resolve_parallelism(
        body.tp,
        body.pp,
        body.dp,
        body.ep,
        body.num_gpus,
        &arch,
    )?;
    let spec = DeploymentSpec {
        arch: &arch,
        gpu,
        parallelism,
        engine: body.engine,
        kv_dtype: body.kv_dtype,
        max_model_len: body.max_model_len,
        gpu_memory_utilization: body.gpu_memory_utilization,
    };
    let estimate = estimate_workloads(
        &spec,
        &workloads,
        &[],
        gpuplan_catalog::profiles::embedded_profiles(),
        gpuplan_catalog::memory::embedded_memory_overheads(),
    )?;
    Ok(EstimateResponse {
        model: arch.name.clone(),
        gpu: gpu.id.clone(),
        gpu_name: gpu.name.clone(),
        num_gpus,
        tp: parallelism.tp,
        pp: parallelism.pp,
        dp: parallelism.dp,
        ep: parallelism.ep,
        engine: body.engine,
        weight_quant: arch.precision.headline(arch.is_moe()),
        input_len: body.input_len,
        output_len: body.output_len,
        workload,
        estimate,
    })
}

// ---------------------------------------------------------------------------------------------
// POST /api/recommend

/// The body of `POST /api/recommend`: the fields of [`RecommendRequest`] (the
/// `gpuplan recommend` flags), plus `plot` and `config`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecommendBody {
    /// Catalog id or Hugging Face repo id (required unless `config` is given; then it only
    /// names the model).
    pub model: String,
    /// A model's `config.json` inline, as a JSON object (a model in no catalog; at most
    /// [`gpuplan::MAX_INLINE_CONFIG_BYTES`]).
    pub config: Option<serde_json::Value>,
    /// Prompt tokens per request (default 2048).
    pub input_len: u64,
    /// Generated tokens per request (default 512).
    pub output_len: u64,
    /// Requests in flight at all times, whole deployment (alias `max_concurrency`).
    #[serde(alias = "max_concurrency")]
    pub concurrency: Option<u64>,
    /// Poisson arrivals, requests per second, whole deployment.
    pub request_rate: Option<f64>,
    /// Largest mean time to first token, milliseconds.
    pub max_ttft_ms: Option<f64>,
    /// Largest mean inter-token latency (first token excluded), milliseconds.
    pub max_itl_ms: Option<f64>,
    /// Largest mean end-to-end latency, milliseconds.
    pub max_e2e_ms: Option<f64>,
    /// Smallest output throughput of the deployment, tokens/s.
    pub min_throughput_tok_s: Option<f64>,
    /// The statistic the latency limits apply to: mean (default), p50, p90 or p99.
    pub slo_percentile: Statistic,
    /// Largest 99th-percentile time to first token, milliseconds.
    pub max_ttft_p99_ms: Option<f64>,
    /// Largest 99th-percentile inter-token latency, milliseconds.
    pub max_itl_p99_ms: Option<f64>,
    /// Request lengths: `"random"` (default) or `"sharegpt"`.
    pub dataset: Dataset,
    /// Spread of random lengths, [0, 1) (default 0).
    pub random_range_ratio: f64,
    /// Requests of the simulated run behind each point of a length distribution.
    pub num_prompts: Option<u64>,
    /// GPUs to consider (ids, names or aliases); empty = every GPU.
    pub gpus: Vec<String>,
    /// Most GPUs in one replica (default 8).
    pub max_gpus: u32,
    /// Weight formats to try besides the checkpoint's (default `[]` or `["native"]`: the
    /// checkpoint as it is).
    #[serde(deserialize_with = "gpuplan::recommend::deserialize_allow_quant")]
    pub allow_quant: Vec<WeightFormat>,
    /// KV dtypes to try (default `["auto"]`).
    pub kv_dtype: Vec<KvDtypeChoice>,
    /// Engines to try (default `["vllm"]`).
    pub engine: Vec<Engine>,
    /// `agg`, `disagg` or `auto` (default agg).
    pub mode: ServingMode,
    /// `cost`, `throughput` or `latency` (default cost).
    pub objective: Objective,
    /// Hourly prices per GPU, US dollars, replacing the catalog's.
    pub price: BTreeMap<String, f64>,
    /// Configurations to return (default 5, at most 100).
    pub top: usize,
    /// Launch command target for `launch` and `launch_commands` (default vllm).
    pub emit: Option<EmitTarget>,
    /// Estimate performance (default true); false ranks by memory fit and price only.
    pub estimate_performance: bool,
    /// Fraction of GPU memory the engine may use (default 0.9).
    pub gpu_memory_utilization: f64,
    /// Longest request the engine is configured for, tokens (default input + output).
    pub max_model_len: Option<u64>,
    /// Also return the Pareto plot as an SVG string in `pareto_svg` (default true).
    pub plot: bool,
}

impl Default for RecommendBody {
    fn default() -> Self {
        let d = RecommendRequest::default();
        RecommendBody {
            model: d.model,
            config: None,
            input_len: d.input_len,
            output_len: d.output_len,
            concurrency: d.concurrency,
            request_rate: d.request_rate,
            max_ttft_ms: d.max_ttft_ms,
            max_itl_ms: d.max_itl_ms,
            max_e2e_ms: d.max_e2e_ms,
            min_throughput_tok_s: d.min_throughput_tok_s,
            slo_percentile: d.slo_percentile,
            max_ttft_p99_ms: d.max_ttft_p99_ms,
            max_itl_p99_ms: d.max_itl_p99_ms,
            dataset: d.dataset,
            random_range_ratio: d.random_range_ratio,
            num_prompts: d.num_prompts,
            gpus: d.gpus,
            max_gpus: d.max_gpus,
            allow_quant: d.allow_quant,
            kv_dtype: d.kv_dtype,
            engine: d.engine,
            mode: d.mode,
            objective: d.objective,
            price: d.price,
            top: d.top,
            emit: d.emit,
            estimate_performance: d.estimate_performance,
            gpu_memory_utilization: d.gpu_memory_utilization,
            max_model_len: d.max_model_len,
            plot: true,
        }
    }
}

impl RecommendBody {
    fn to_request(&self) -> RecommendRequest {
        RecommendRequest {
            model: self.model.clone(),
            input_len: self.input_len,
            output_len: self.output_len,
            concurrency: self.concurrency,
            request_rate: self.request_rate,
            max_ttft_ms: self.max_ttft_ms,
            max_itl_ms: self.max_itl_ms,
            max_e2e_ms: self.max_e2e_ms,
            min_throughput_tok_s: self.min_throughput_tok_s,
            slo_percentile: self.slo_percentile,
            max_ttft_p99_ms: self.max_ttft_p99_ms,
            max_itl_p99_ms: self.max_itl_p99_ms,
            dataset: self.dataset.clone(),
            random_range_ratio: self.random_range_ratio,
            num_prompts: self.num_prompts,
            gpus: self.gpus.clone(),
            max_gpus: self.max_gpus,
            allow_quant: self.allow_quant.clone(),
            kv_dtype: self.kv_dtype.clone(),
            engine: self.engine.clone(),
            mode: self.mode,
            objective: self.objective,
            price: self.price.clone(),
            top: self.top,
            emit: self.emit,
            estimate_performance: self.estimate_performance,
            gpu_memory_utilization: self.gpu_memory_utilization,
            max_model_len: self.max_model_len,
            ..RecommendRequest::default()
        }
    }
}

/// The name of an inline config: `model` when given, else the config's `_name_or_path`, else
/// "inline config".
fn inline_model_name(model: &str, config: &serde_json::Value) -> String {
    let given = model.trim();
    if !given.is_empty() {
        return given.to_string();
    }
    config
        .get("_name_or_path")
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|name| !name.is_empty() && name.len() <= 200)
        .unwrap_or("inline config")
        .to_string()
}

/// The architecture of an inline `config.json` (errors name the `config` field).
fn inline_arch(name: String, config: &serde_json::Value) -> Result<Arc<Architecture>, ApiError> {
    if !config.is_object() {
        return Err(ApiError::invalid(
            "config",
            "config must be a JSON object: the contents of the model's config.json",
        ));
    }
    let resolved = gpuplan::resolve_inline_config(&name, &config.to_string())
        .map_err(|e| ApiError::from(e).rename_field("model", "config"))?;
    Ok(Arc::new(resolved.arch))
}

/// The answer of `POST /api/recommend`: the [`Recommendation`] (as `gpuplan recommend --json`),
/// the launch command of every returned configuration, and the Pareto plot.
#[derive(Debug, Serialize)]
pub struct RecommendResponse {
    /// The recommendation.
    #[serde(flatten)]
    pub recommendation: Recommendation,
    /// The launch target asked for (`launch_commands` of configurations planned for another
    /// engine use their own engine).
    pub emit: Option<EmitTarget>,
    /// The launch command of each entry of `configurations`, same order.
    pub launch_commands: Vec<String>,
    /// The Pareto scatter (tokens/s per GPU against tokens/s per user) as a standalone SVG
    /// document, when `plot` was true.
    pub pareto_svg: Option<String>,
}

/// `POST /api/recommend`.
pub async fn recommend(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RecommendResponse>, ApiError> {
    let body: RecommendBody = parse_json(&body?)?;
    // Dropped with this future: when the time limit answers 503 or the client goes away, the
    // search sees the flag and stops.
    let cancel = super::CancelOnDrop::new();
    let control = SearchControl {
        max_candidates: Some(gpuplan::SERVER_MAX_CANDIDATES),
        deadline: Some(std::time::Instant::now() + super::REQUEST_TIME_LIMIT),
        cancel: Some(Arc::clone(&cancel.0)),
        progress: None,
    };
    let answer = blocking(move || recommend_one(&state, &body, &control)).await;
    drop(cancel);
    answer.map(Json)
}

fn recommend_one(
    state: &AppState,
    body: &RecommendBody,
    control: &SearchControl,
) -> Result<RecommendResponse, ApiError> {
    if body.top == 0 || body.top > MAX_TOP {
        return Err(ApiError::invalid(
            "top",
            format!("top must be between 1 and {MAX_TOP}, got {}", body.top),
        ));
    }
    check_tokens("input_len", body.input_len)?;
    check_tokens("output_len", body.output_len)?;
    if let Some(c) = body.concurrency {
        if c > MAX_CONCURRENCY {
            return Err(ApiError::invalid(
                "concurrency",
                format!("concurrency must be at most {MAX_CONCURRENCY}, got {c}"),
            ));
        }
    }
    if matches!(body.dataset, Dataset::File(_)) {
        return Err(ApiError::invalid(
            "dataset",
            "the server reads no files: give \"random\" or \"sharegpt\"",
        ));
    }
    let mut request = body.to_request();
    let arch: Arc<Architecture> = match &body.config {
        Some(config) => {
            let name = inline_model_name(&body.model, config);
            request.model = name.clone();
            request.validate()?;
            inline_arch(name, config)?
        }
        None => {
            request.validate()?;
            state.resolve_model(&body.model)?
        }
    };
    let profiles = gpuplan_catalog::profiles::embedded_profiles();
    let size = gpuplan::search_size(
        &request,
        &arch,
        state.hardware(),
        profiles,
        gpuplan::SERVER_MAX_CANDIDATES,
    )
    .map_err(|e| ApiError::from(e).rename_field("gpu", "gpus"))?;
    if size > gpuplan::SERVER_MAX_CANDIDATES {
        return Err(ApiError::from(gpuplan::Error::SearchTooLarge {
            limit: gpuplan::SERVER_MAX_CANDIDATES,
        }));
    }
    let recommendation = state.run_search(size, || {
        gpuplan::recommend_controlled(&request, &arch, state.hardware(), profiles, control)
    })?;
    let emit = request.emit;
    // Each configuration's commands for the engine it was planned for (or the manifests asked
    // for); a configuration without a plan gets the reason.
    let launch_commands = recommendation
        .configurations
        .iter()
        .map(|c| {
            let target = match emit {
                Some(t)
                    if t.engine().is_none()
                        || t.engine().is_some_and(|e| c.engine == e.as_str()) =>
                {
                    t
                }
                _ => c.engine.parse().unwrap_or(EmitTarget::Vllm),
            };
            launch_command(target, c).unwrap_or_else(|e| format!("# {e}"))
        })
        .collect();
    let pareto_svg = body.plot.then(|| pareto_svg(&pareto_plot(&recommendation)));
    Ok(RecommendResponse {
        recommendation,
        emit,
        launch_commands,
        pareto_svg,
    })
}

/// The Pareto scatter of a recommendation: its ranked configurations, frontier and near misses
/// (tokens/s per GPU against tokens/s per user), the best configuration ringed, and the ITL
/// limit as the minimum per-user speed.
pub fn pareto_plot(recommendation: &Recommendation) -> ParetoPlot {
    let frontier: Vec<String> = recommendation.frontier.iter().map(|c| c.label()).collect();
    let chosen = recommendation
        .is_satisfied()
        .then(|| recommendation.configurations.first().map(|c| c.label()))
        .flatten();
    let mut points: Vec<PlotPoint> = Vec::new();
    let all = recommendation
        .configurations
        .iter()
        .chain(&recommendation.frontier)
        .chain(recommendation.near_misses.iter().map(|m| &m.configuration));
    for config in all {
        let label = config.label();
        if points.iter().any(|p| p.label == label) {
            continue;
        }
        let (Some(x), Some(y)) = (
            config.output_tok_s_per_user,
            config.output_throughput_tok_s_per_gpu,
        ) else {
            continue;
        };
        points.push(PlotPoint {
            x,
            y,
            series: config.gpu_name.clone(),
            on_frontier: frontier.contains(&label),
            chosen: chosen.as_deref() == Some(label.as_str()),
            label,
        });
    }
    let vlines = recommendation
        .slo
        .max_itl_ms
        .filter(|ms| *ms > 0.0)
        .map(|ms| vec![(1000.0 / ms, format!("ITL ≤ {ms} ms"))])
        .unwrap_or_default();
    ParetoPlot {
        title: format!(
            "{}: throughput per GPU vs speed per user",
            recommendation.model
        ),
        x_label: "Output tokens/s per user".into(),
        y_label: "Output tokens/s per GPU".into(),
        points,
        vlines,
        hlines: Vec::new(),
        log_x: false,
        log_y: false,
    }
}

// ---------------------------------------------------------------------------------------------
// POST /api/validate

/// `POST /api/validate`: the body is a measurement CSV (the schema of
/// `data/measurements/perf_calibration.csv`); the answer scores the estimator on every row, as
/// `gpuplan validate --json`. Rows name catalog models.
pub async fn validate(
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ValidationReport>, ApiError> {
    let body = body?;
    blocking(move || {
        let text = std::str::from_utf8(&body)
            .map_err(|e| ApiError::bad_request(format!("the CSV is not UTF-8: {e}")))?;
        if text.trim().is_empty() {
            return Err(ApiError::invalid(
                "body",
                "the body must be a measurement CSV with a header row",
            ));
        }
        let rows = parse_measurements("request body", text)
            .map_err(|e| ApiError::invalid("body", e.to_string()))?;
        if rows.is_empty() {
            return Err(ApiError::invalid("body", "the CSV has no measurement rows"));
        }
        if let Some(row) = rows.iter().find(|r| row_reads_a_file(r)) {
            return Err(ApiError::invalid(
                "body",
                format!(
                    "row {}: the server reads no length files; use dataset random or sharegpt",
                    row.id
                ),
            ));
        }
        if rows.len() > MAX_MEASUREMENT_ROWS {
            return Err(ApiError::invalid(
                "body",
                format!(
                    "at most {MAX_MEASUREMENT_ROWS} rows per request, got {}",
                    rows.len()
                ),
            ));
        }
        Ok(validate_with_catalog(
            &rows,
            None,
            gpuplan_catalog::profiles::embedded_profiles(),
            gpuplan_catalog::memory::embedded_memory_overheads(),
        ))
    })
    .await
    .map(Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_types_and_unknown_fields_name_the_field() {
        let e = parse_json::<EstimateBody>(br#"{"model": "x", "tp": "four"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("tp"));
        assert_eq!(e.status.as_u16(), 422);
        let e = parse_json::<EstimateBody>(br#"{"modle": "x"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("modle"));
        let e = parse_json::<EstimateBody>(b"{not json").unwrap_err();
        assert_eq!(e.status.as_u16(), 400);
        let e = parse_json::<EstimateBody>(b"[1]").unwrap_err();
        assert_eq!(e.status.as_u16(), 422);
    }

    #[test]
    fn concurrency_accepts_numbers_lists_and_max() {
        let points = |body: EstimateBody| body.concurrency.unwrap_or_default().points();
        let body: EstimateBody = parse_json(br#"{"concurrency": 8}"#).expect("one");
        assert_eq!(points(body).expect("ok"), vec![Some(8)]);
        let body: EstimateBody = parse_json(br#"{"concurrency": [1, "max"]}"#).expect("list");
        assert_eq!(points(body).expect("ok"), vec![Some(1), None]);
        let body: EstimateBody = parse_json(br#"{"max_concurrency": 4}"#).expect("alias");
        assert_eq!(points(body).expect("ok"), vec![Some(4)]);
        let body: EstimateBody = parse_json(br#"{"concurrency": "lots"}"#).expect("word");
        assert!(points(body).is_err());
        let body: EstimateBody =
            parse_json(br#"{"request_rate": "inf", "dataset": "sharegpt"}"#).expect("burst");
        assert_eq!(body.request_rate, Some(RequestRate::INF));
        assert_eq!(body.dataset, Dataset::Sharegpt);
    }
}
