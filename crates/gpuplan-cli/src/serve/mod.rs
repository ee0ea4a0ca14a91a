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
//!
//! One request cannot stall the others: a recommend search larger than
//! [`gpuplan::LARGE_SEARCH_CANDIDATES`] runs on a separate thread pool (half the cores), at most
//! [`HEAVY_SEARCHES`] at once (a 429 with `Retry-After` when they are taken), and is stopped
//! when its answer is no longer wanted (time limit reached, client gone). Connections are
//! bounded ([`MAX_CONNECTIONS`], the oldest asked to close when full) and closed when they send
//! nothing for [`HEADER_READ_TIMEOUT`]. On SIGTERM or SIGINT the server stops accepting,
//! finishes the requests in flight (up to [`SHUTDOWN_GRACE`]) and returns.

pub mod api;
pub mod error;
pub mod openapi;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
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
/// How long a connection may take to send a request's headers; also how long an idle
/// keep-alive connection (or one that never sends anything) stays open.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Most connections open at once. A new connection beyond it asks the oldest one to close
/// (at once when idle, after its request otherwise), so fresh clients are always served.
pub const MAX_CONNECTIONS: usize = 512;
/// Large recommend searches (more than [`gpuplan::LARGE_SEARCH_CANDIDATES`] candidates) run
/// at once; more get a 429 with `Retry-After`.
pub const HEAVY_SEARCHES: usize = 2;
/// Seconds a client is told to wait (`Retry-After`) when every heavy-search slot is taken.
pub const BUSY_RETRY_AFTER_S: u64 = 5;
/// After SIGTERM or SIGINT, how long requests in flight may take to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(35);

/// The server's bounds on connections and work. [`ServeLimits::default`] holds the documented
/// values (the constants of this module); tests shrink them.
#[derive(Debug, Clone)]
pub struct ServeLimits {
    /// See [`HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// See [`MAX_CONNECTIONS`].
    pub max_connections: usize,
    /// Searches with more candidates than this run on the heavy pool
    /// ([`gpuplan::LARGE_SEARCH_CANDIDATES`]).
    pub heavy_search_candidates: usize,
    /// See [`HEAVY_SEARCHES`].
    pub heavy_searches: usize,
    /// See [`SHUTDOWN_GRACE`].
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_read_timeout: HEADER_READ_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            heavy_search_candidates: gpuplan::LARGE_SEARCH_CANDIDATES,
            heavy_searches: HEAVY_SEARCHES,
            shutdown_grace: SHUTDOWN_GRACE,
        }
    }
}

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
    /// Threads of large searches: half the cores, so small requests always find some free.
    heavy_pool: rayon::ThreadPool,
    /// Threads of small searches.
    light_pool: rayon::ThreadPool,
    /// Large searches running.
    heavy_slots: Arc<tokio::sync::Semaphore>,
    limits: ServeLimits,
    /// Searches running now (both pools).
    searches_running: AtomicUsize,
    /// Searches stopped before they finished (client gone, time limit).
    searches_stopped: AtomicUsize,
}

/// Sets its flag when dropped: held by a request handler so that the search it started stops
/// when the handler is abandoned (time limit, client gone) as well as when it returns.
#[derive(Debug)]
pub struct CancelOnDrop(pub Arc<AtomicBool>);

impl CancelOnDrop {
    /// A new, unset flag.
    pub fn new() -> Self {
        CancelOnDrop(Arc::new(AtomicBool::new(false)))
    }
}

impl Default for CancelOnDrop {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl AppState {
    /// Builds the state from the CLI context: its GPU catalog (with `--catalog` and the
    /// config's prices), `--offline` and `--revision`. The `/api/models` and `/api/gpus`
    /// listings are the JSON of `gpuplan models --json` and `gpuplan gpus --json`.
    pub fn from_context(ctx: &Context) -> anyhow::Result<AppState> {
        Self::with_limits(ctx, ServeLimits::default())
    }

    /// [`AppState::from_context`] with other bounds on connections and work.
    pub fn with_limits(ctx: &Context, limits: ServeLimits) -> anyhow::Result<AppState> {
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
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let heavy_threads = (cores / 2).max(1);
        let pool = |threads: usize, name: &'static str| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(move |i| format!("gpuplan-{name}-{i}"))
                .build()
        };
        Ok(AppState {
            inner: Arc::new(Inner {
                hardware: ctx.hardware()?,
                resolve,
                models_json: serde_json::from_slice(&models)?,
                gpus_json: serde_json::from_slice(&gpus)?,
                model_cache: RwLock::new(HashMap::new()),
                heavy_pool: pool(heavy_threads, "heavy")?,
                light_pool: pool((cores - heavy_threads).max(1), "light")?,
                heavy_slots: Arc::new(tokio::sync::Semaphore::new(limits.heavy_searches)),
                limits,
                searches_running: AtomicUsize::new(0),
                searches_stopped: AtomicUsize::new(0),
            }),
        })
    }

    /// The bounds this server runs with.
    pub fn limits(&self) -> &ServeLimits {
        &self.inner.limits
    }

    /// Searches running now.
    pub fn searches_running(&self) -> usize {
        self.inner.searches_running.load(Ordering::Relaxed)
    }

    /// Searches stopped before they finished since the server started.
    pub fn searches_stopped(&self) -> usize {
        self.inner.searches_stopped.load(Ordering::Relaxed)
    }

    /// Runs a search of `candidates` candidates (blocking; call it on the blocking pool): on
    /// the light pool when small, else on the heavy pool when one of its [`HEAVY_SEARCHES`]
    /// slots is free, else a 429 at once.
    pub fn run_search<T: Send>(
        &self,
        candidates: usize,
        work: impl FnOnce() -> Result<T, gpuplan::Error> + Send,
    ) -> Result<T, ApiError> {
        let heavy = candidates > self.inner.limits.heavy_search_candidates;
        let _slot = if heavy {
            match Arc::clone(&self.inner.heavy_slots).try_acquire_owned() {
                Ok(slot) => Some(slot),
                Err(_) => return Err(ApiError::busy(candidates)),
            }
        } else {
            None
        };
        let pool = if heavy {
            &self.inner.heavy_pool
        } else {
            &self.inner.light_pool
        };
        self.inner.searches_running.fetch_add(1, Ordering::Relaxed);
        let result = pool.install(work);
        self.inner.searches_running.fetch_sub(1, Ordering::Relaxed);
        if matches!(result, Err(gpuplan::Error::SearchStopped { .. })) {
            self.inner.searches_stopped.fetch_add(1, Ordering::Relaxed);
        }
        result.map_err(|e| ApiError::from(e).rename_field("gpu", "gpus"))
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
        if gpuplan_core::limits::name_too_long(spec) {
            return Err(ApiError::invalid(
                "model",
                format!(
                    "model '{}' is too long: a catalog id or Hugging Face repo id has at most {} \
                     characters",
                    gpuplan_core::limits::quote(spec),
                    gpuplan_core::limits::MAX_NAME_CHARS
                ),
            ));
        }
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
                    "'{}' looks like a local path; the server accepts catalog ids and \
                     Hugging Face repo ids (org/name) only",
                    gpuplan_core::limits::quote(spec)
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

/// Binds `addr` and serves until SIGTERM or SIGINT (then shuts down gracefully).
pub async fn serve(addr: SocketAddr, state: AppState) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_listener(listener, state).await
}

/// Serves on an already bound listener (tests bind `127.0.0.1:0`) until SIGTERM or SIGINT.
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    state: AppState,
) -> std::io::Result<()> {
    serve_until(listener, state, shutdown_signal()).await
}

/// Resolves on the first SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// The open connections, oldest first, each with the signal that asks it to close.
#[derive(Default)]
struct Connections {
    next_id: u64,
    open: BTreeMap<u64, Arc<tokio::sync::Notify>>,
}

/// Serves HTTP/1.1 on `listener` until `shutdown` resolves, then stops accepting, lets the
/// requests in flight finish (idle connections close at once) for up to [`SHUTDOWN_GRACE`],
/// and returns.
///
/// Each connection must send its request headers within [`HEADER_READ_TIMEOUT`] (an idle
/// keep-alive connection is closed after as long); at most [`MAX_CONNECTIONS`] are open, a new
/// one beyond that asking the oldest to close.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let limits = state.limits().clone();
    let app = router(state);
    let connections: Arc<Mutex<Connections>> = Arc::default();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => {
                    // Out of file descriptors or a connection reset before accept: back off
                    // briefly instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let _ = stream.set_nodelay(true);
        let close = Arc::new(tokio::sync::Notify::new());
        let id = {
            let mut conns = connections.lock().unwrap_or_else(|e| e.into_inner());
            if conns.open.len() >= limits.max_connections {
                if let Some((_, oldest)) = conns.open.pop_first() {
                    oldest.notify_one();
                }
            }
            let id = conns.next_id;
            conns.next_id += 1;
            conns.open.insert(id, Arc::clone(&close));
            id
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let connections = Arc::clone(&connections);
        let mut stop = stop_rx.clone();
        let header_read_timeout = limits.header_read_timeout;
        tasks.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .keep_alive(true);
            let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::pin!(conn);
            let mut closing = false;
            loop {
                tokio::select! {
                    _ = conn.as_mut() => break,
                    () = close.notified(), if !closing => {
                        closing = true;
                        conn.as_mut().graceful_shutdown();
                    }
                    changed = stop.changed(), if !closing => {
                        if changed.is_err() || *stop.borrow() {
                            closing = true;
                            conn.as_mut().graceful_shutdown();
                        }
                    }
                }
            }
            connections
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .open
                .remove(&id);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.shutdown_grace, drain)
        .await
        .is_err()
    {
        tasks.abort_all();
    }
    Ok(())
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
