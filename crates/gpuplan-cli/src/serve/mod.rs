//! `gpuplan serve`: the library over HTTP/JSON, and a single-page web UI, for a whole team.
//!
//! Endpoints (see [`openapi::document`] for the schemas, served at `/api/openapi.json`):
//! `GET /api/models`, `GET /api/gpus`, `POST /api/memory`, `POST /api/estimate`,
//! `POST /api/recommend`, `POST /api/validate` (a measurement CSV), `GET /healthz`, and the UI
//! at `/`.
//!
//! Request and response bodies use the field names of the CLI's JSON. Every failure goes
//! through [`error::ApiError`], so bad input is a 400/422 with `{"error", "field"}`, never a
//! 500. CPU work and Hugging Face look-ups run on the blocking pool so requests are served in
//! parallel and a slow Hub never stalls the others; resolved architectures are cached.

pub mod api;
pub mod error;
pub mod openapi;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use gpuplan::ResolveOptions;
use gpuplan_core::hardware::HardwareCatalog;
use gpuplan_core::model::Architecture;
use tower_http::timeout::TimeoutLayer;

use crate::args::{GpusArgs, ModelsArgs};
use crate::render::{OutputFormat, RenderOptions};
use crate::Context;
use error::ApiError;

/// Largest JSON request body, bytes.
pub const JSON_BODY_LIMIT_BYTES: usize = 1024 * 1024;
/// Largest measurement CSV accepted by `/api/validate`, bytes.
pub const CSV_BODY_LIMIT_BYTES: usize = 10 * 1024 * 1024;
/// Longest a request may take before the server answers 503.
pub const REQUEST_TIME_LIMIT: Duration = Duration::from_secs(30);
/// Most resolved architectures kept in the look-up cache (the cache is emptied when full).
const MODEL_CACHE_CAPACITY: usize = 512;

/// What every request handler shares: the GPU catalog, how to resolve models, the precomputed
/// catalog listings and the cache of resolved architectures. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

struct Inner {
    hardware: HardwareCatalog,
    resolve: ResolveOptions,
    models_json: serde_json::Value,
    gpus_json: serde_json::Value,
    /// Architectures already resolved, by the model spec as given (trimmed). Hub look-ups are
    /// slow and rate-limited; a team asking about the same model should pay once.
    model_cache: RwLock<HashMap<String, Arc<Architecture>>>,
}

impl AppState {
    /// Builds the state from the CLI context: its GPU catalog (with `--catalog` and the
    /// config's prices), `--offline` and `--revision`. The `/api/models` and `/api/gpus`
    /// listings are the JSON of `gpuplan models --json` and `gpuplan gpus --json`.
    pub fn from_context(ctx: &Context) -> anyhow::Result<AppState> {
        let json_ctx = Context {
            format: OutputFormat::Json,
            render: RenderOptions::default(),
            ..ctx.clone()
        };
        let mut models = Vec::new();
        crate::commands::models::run(&ModelsArgs {}, &json_ctx, &mut models)?;
        let mut gpus = Vec::new();
        crate::commands::gpus::run(
            &GpusArgs {
                gpus: Vec::new(),
                vendor: None,
                min_memory: None,
            },
            &json_ctx,
            &mut gpus,
        )?;
        let mut resolve = ctx.resolve_options();
        resolve.progress = false;
        resolve.weight_quant = None;
        Ok(AppState {
            inner: Arc::new(Inner {
                hardware: ctx.hardware()?,
                resolve,
                models_json: serde_json::from_slice(&models)?,
                gpus_json: serde_json::from_slice(&gpus)?,
                model_cache: RwLock::new(HashMap::new()),
            }),
        })
    }

    /// The GPU catalog requests are answered with.
    pub fn hardware(&self) -> &HardwareCatalog {
        &self.inner.hardware
    }

    /// Resolves a model spec (catalog id or Hugging Face repo id) to its architecture, from the
    /// cache when it was resolved before. Blocking (it may call the Hub): run it on the blocking
    /// pool. Local paths are refused: the server must not read its own files on a client's
    /// behalf.
    pub fn resolve_model(&self, spec: &str) -> Result<Arc<Architecture>, ApiError> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(ApiError::invalid(
                "model",
                "model is required: a catalog id (see /api/models) or a Hugging Face repo id \
                 (org/name)",
            ));
        }
        if let Some(arch) = self
            .inner
            .model_cache
            .read()
            .ok()
            .and_then(|cache| cache.get(spec).cloned())
        {
            return Ok(arch);
        }
        if looks_like_local_path(spec) {
            return Err(ApiError::invalid(
                "model",
                format!(
                    "'{spec}' looks like a local path; the server accepts catalog ids and \
                     Hugging Face repo ids (org/name) only"
                ),
            ));
        }
        let resolved = gpuplan::resolve_model(spec, &self.inner.resolve)?;
        let arch = Arc::new(resolved.arch);
        if let Ok(mut cache) = self.inner.model_cache.write() {
            if cache.len() >= MODEL_CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(spec.to_string(), Arc::clone(&arch));
        }
        Ok(arch)
    }

    /// Number of architectures in the look-up cache.
    pub fn cached_models(&self) -> usize {
        self.inner.model_cache.read().map_or(0, |cache| cache.len())
    }
}

/// A spec `gpuplan::resolve_model` would read from disk: a path-like name, or one that exists
/// relative to the server's working directory.
fn looks_like_local_path(spec: &str) -> bool {
    spec.starts_with(['/', '.', '~', '\\'])
        || spec.ends_with(".json")
        || spec.matches('/').count() > 1
        || spec.contains('\\')
        || spec.contains(':')
        || Path::new(spec).exists()
}

/// The application: API routes, UI assets, body limits, the time limit and the JSON 404/405.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/models", get(api::models))
        .route("/api/gpus", get(api::gpus))
        .route("/api/memory", post(api::memory))
        .route("/api/estimate", post(api::estimate))
        .route("/api/recommend", post(api::recommend))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT_BYTES))
        .route(
            "/api/validate",
            post(api::validate).layer(DefaultBodyLimit::max(CSV_BODY_LIMIT_BYTES)),
        )
        .route("/api/openapi.json", get(api::openapi))
        .route("/healthz", get(api::healthz));
    Router::new()
        .route("/", get(index_html))
        .route("/index.html", get(index_html))
        .route("/app.js", get(app_js))
        .route("/style.css", get(style_css))
        .merge(api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIME_LIMIT,
        ))
        // Outside the time limit, so that it sees the limit's empty 503.
        .layer(axum::middleware::map_response(timeout_as_json))
        .with_state(state)
}

/// Binds `addr` and serves until the process ends.
pub async fn serve(addr: SocketAddr, state: AppState) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_listener(listener, state).await
}

/// Serves on an already bound listener (tests bind `127.0.0.1:0`).
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    state: AppState,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).await
}

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

async fn index_html() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

async fn style_css() -> Response {
    asset("text/css; charset=utf-8", STYLE_CSS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(uri.path())
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// The time limit layer answers with an empty 503; give it the API's JSON error instead.
async fn timeout_as_json(response: Response) -> Response {
    if response.status() == StatusCode::SERVICE_UNAVAILABLE
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        ApiError::timeout().into_response()
    } else {
        response
    }
}
