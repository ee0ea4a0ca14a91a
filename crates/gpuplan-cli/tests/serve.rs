//! `gpuplan serve` over real HTTP: one in-process server on an ephemeral 127.0.0.1 port (offline,
//! so no test touches the network), every endpoint's happy path, bad input of every kind
//! (each a 4xx JSON error naming the field, never a 500), the body limits, and a bounded
//! concurrent load.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

use gpuplan_cli::args::GlobalArgs;
use gpuplan_cli::serve::{serve_until, AppState, ServeLimits};
use gpuplan_cli::Context;
use serde_json::{json, Value};

/// The address of the shared test server, started on first use.
fn server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| start_server(ServeLimits::default()))
}

/// Starts a server of its own with these limits (offline); it runs until the tests end.
fn start_server(limits: ServeLimits) -> SocketAddr {
    let global = GlobalArgs {
        offline: true,
        ..GlobalArgs::default()
    };
    let ctx = Context::new(&global).expect("context");
    let state = AppState::with_limits(&ctx, limits).expect("server state");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr")).expect("send");
            serve_until(listener, state, std::future::pending())
                .await
                .expect("serve");
        });
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("server started")
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build()
}

fn url(path: &str) -> String {
    format!("http://{}{path}", server())
}

/// Status, content type and body of a response, whatever its status.
fn read(result: Result<ureq::Response, ureq::Error>) -> (u16, String, String) {
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(e) => panic!("transport error: {e}"),
    };
    let status = response.status();
    let content_type = response.content_type().to_string();
    let body = response.into_string().expect("body");
    (status, content_type, body)
}

fn get(path: &str) -> (u16, Value) {
    let (status, content_type, body) = read(agent().get(&url(path)).call());
    assert_eq!(content_type, "application/json", "{path}: {body}");
    (status, serde_json::from_str(&body).expect("JSON body"))
}

fn post_raw(path: &str, content_type: &str, body: &str) -> (u16, Value) {
    let (status, response_type, text) = read(
        agent()
            .post(&url(path))
            .set("Content-Type", content_type)
            .send_string(body),
    );
    assert_eq!(response_type, "application/json", "{path}: {text}");
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"));
    (status, value)
}

fn post(path: &str, body: Value) -> (u16, Value) {
    post_raw(path, "application/json", &body.to_string())
}

/// Asserts a JSON error with this status naming this field.
fn assert_error(response: (u16, Value), status: u16, field: &str) -> Value {
    let (got, body) = response;
    assert_eq!(got, status, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    assert_eq!(body["field"], json!(field), "{body}");
    body
}

#[test]
fn healthz_and_catalogs() {
    let (status, health) = get("/healthz");
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");

    let (status, models) = get("/api/models");
    assert_eq!(status, 200);
    let models = models.as_array().expect("array");
    assert!(models.len() > 10);
    assert!(models
        .iter()
        .any(|m| m["id"] == "meta-llama/Llama-3.1-8B" && m["total_params"].as_f64() > Some(8e9)));

    let (status, gpus) = get("/api/gpus");
    assert_eq!(status, 200);
    let gpus = gpus.as_array().expect("array");
    assert!(gpus.iter().any(|g| g["id"] == "h100_sxm"));
    assert!(gpus.iter().all(|g| g["memory_gib"].as_f64() > Some(0.0)));
}

#[test]
fn memory_plans_one_gpu() {
    let (status, plan) = post(
        "/api/memory",
        json!({"model": "meta-llama/Llama-3.1-70B", "gpu": "H100", "num_gpus": 4, "kv_dtype": "fp8"}),
    );
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["gpu"], "h100_sxm");
    assert_eq!(plan["num_gpus"], 4);
    assert_eq!(plan["parallelism"]["tp"], 4);
    assert_eq!(plan["kv_dtype"], "fp8");
    assert_eq!(plan["fits"], true);
    assert!(plan["weights_gib_per_gpu"].as_f64().expect("weights") > 30.0);
    assert!(plan["kv_cache_tokens"].as_u64().expect("tokens") > 0);

    // Not fitting is an answer, not an error.
    let (status, plan) = post(
        "/api/memory",
        json!({"model": "meta-llama/Llama-3.1-70B", "gpu": "L4"}),
    );
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["fits"], false);
    assert!(!plan["advice"].as_array().expect("advice").is_empty());
}

#[test]
fn estimate_one_deployment() {
    let (status, estimate) = post(
        "/api/estimate",
        json!({
            "model": "meta-llama/Llama-3.1-8B", "gpu": "h100", "tp": 1,
            "input_len": 1024, "output_len": 256, "concurrency": [1, 16, "max"]
        }),
    );
    assert_eq!(status, 200, "{estimate}");
    assert_eq!(estimate["model"], "meta-llama/Llama-3.1-8B");
    let points = estimate["points"].as_array().expect("points");
    assert_eq!(points.len(), 3);
    for point in points {
        assert!(point["time_to_first_token_ms"].as_f64() > Some(0.0));
        assert!(point["inter_token_latency_ms"].as_f64() > Some(0.0));
    }
    assert!(estimate["memory"]["kv_cache_tokens"].as_u64() > Some(0));

    // A single number works too; defaults fill the rest.
    let (status, estimate) = post(
        "/api/estimate",
        json!({"model": "Qwen/Qwen3-8B", "gpu": "A100", "concurrency": 4}),
    );
    assert_eq!(status, 200, "{estimate}");
    assert_eq!(estimate["points"].as_array().map(Vec::len), Some(1));
}

#[test]
fn recommend_ranks_plots_and_launches() {
    let (status, result) = post(
        "/api/recommend",
        json!({
            "model": "meta-llama/Llama-3.1-8B", "gpus": ["H100", "A100"],
            "input_len": 1024, "output_len": 256, "concurrency": 16,
            "max_ttft_ms": 2000, "max_itl_ms": 50, "emit": "vllm"
        }),
    );
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["outcome"], "satisfied");
    let configurations = result["configurations"].as_array().expect("configurations");
    assert!(!configurations.is_empty());
    assert!(configurations[0]["inter_token_latency_ms"].as_f64() <= Some(50.0));
    let launches = result["launch_commands"]
        .as_array()
        .expect("launch commands");
    assert_eq!(launches.len(), configurations.len());
    assert!(launches[0]
        .as_str()
        .is_some_and(|c| c.starts_with("vllm serve meta-llama/Llama-3.1-8B")));
    assert!(result["launch"].as_str().is_some());
    let svg = result["pareto_svg"].as_str().expect("svg");
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{svg}");
    assert!(svg.contains("</svg>"));

    // Unreachable SLOs: a 200 with no configuration and the closest misses.
    let (status, result) = post(
        "/api/recommend",
        json!({"model": "meta-llama/Llama-3.1-8B", "gpus": ["L4"], "concurrency": 64,
               "max_itl_ms": 1, "plot": false, "emit": "sglang", "engine": ["sglang"]}),
    );
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["outcome"], "no_configuration");
    assert_eq!(result["pareto_svg"], Value::Null);
    assert_eq!(result["emit"], "sglang");

    // Commands for an engine the search does not plan for are refused.
    let (status, result) = post(
        "/api/recommend",
        json!({"model": "meta-llama/Llama-3.1-8B", "gpus": ["H100"], "emit": "sglang",
               "engine": ["vllm"]}),
    );
    assert_eq!(status, 422, "{result}");
    assert_eq!(result["field"], "emit");
}

#[test]
fn validate_scores_a_measurement_csv() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/measurements/perf_calibration.csv"
    );
    let full = std::fs::read_to_string(path).expect("calibration CSV");
    let mut lines = full.lines();
    let header = lines.next().expect("header");
    let vllm_rows: Vec<&str> = lines
        .filter(|line| line.contains(",vllm,") && line.contains("Llama-3.1-8B"))
        .take(20)
        .collect();
    assert!(!vllm_rows.is_empty());
    let csv = format!("{header}\n{}\n", vllm_rows.join("\n"));
    let (status, report) = post_raw("/api/validate", "text/csv", &csv);
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["rows_total"], vllm_rows.len());
    assert!(report["rows_predicted"].as_u64() > Some(0), "{report}");
    assert_eq!(
        report["rows"].as_array().map(Vec::len),
        Some(vllm_rows.len())
    );

    let (status, _) = post_raw("/api/validate", "text/csv", "id,gpu\nx");
    assert_eq!(status, 422);
    assert_error(post_raw("/api/validate", "text/csv", ""), 422, "body");
}

#[test]
fn malformed_json_is_400() {
    assert_error(
        post_raw("/api/estimate", "application/json", "{\"model\": "),
        400,
        "body",
    );
    assert_error(
        post_raw("/api/recommend", "application/json", "not json"),
        400,
        "body",
    );
    assert_error(
        post_raw("/api/memory", "application/json", "[1, 2]"),
        422,
        "body",
    );
}

#[test]
fn wrong_types_and_unknown_fields_are_422_naming_the_field() {
    assert_error(
        post(
            "/api/estimate",
            json!({"model": "meta-llama/Llama-3.1-8B", "gpu": "H100", "tp": "two"}),
        ),
        422,
        "tp",
    );
    let body = assert_error(
        post(
            "/api/estimate",
            json!({"model": "meta-llama/Llama-3.1-8B", "gpu": "H100", "input_length": 5}),
        ),
        422,
        "input_length",
    );
    assert!(body["error"]
        .as_str()
        .is_some_and(|e| e.contains("unknown field")));
    assert_error(
        post(
            "/api/recommend",
            json!({"model": "meta-llama/Llama-3.1-8B", "objective": "speed"}),
        ),
        422,
        "objective",
    );
    assert_error(
        post(
            "/api/estimate",
            json!({"model": "meta-llama/Llama-3.1-8B", "gpu": "H100", "concurrency": ["lots"]}),
        ),
        422,
        "concurrency",
    );
    assert_error(
        post(
            "/api/estimate",
            json!({"model": "meta-llama/Llama-3.1-8B", "gpu": "H100", "input_len": 0}),
        ),
        422,
        "input_len",
    );
    assert_error(
        post(
            "/api/recommend",
            json!({"model": "meta-llama/Llama-3.1-8B", "max_itl_ms": -5}),
        ),
        422,
        "max_itl_ms",
    );
    assert_error(post("/api/estimate", json!({"gpu": "H100"})), 422, "model");
    assert_error(
        post(
            "/api/memory",
            json!({"model": "meta-llama/Llama-3.1-8B", "gpu_memory_utilization": 1.5, "gpu": "H100"}),
        ),
        422,
        "gpu_memory_utilization",
    );
}

#[test]
fn unknown_models_and_gpus_suggest() {
    let body = assert_error(
        post(
            "/api/estimate",
            json!({"model": "Llama-3.1-8", "gpu": "H100"}),
        ),
        422,
        "model",
    );
    let suggestions = body["suggestions"].as_array().expect("suggestions");
    assert!(
        suggestions.contains(&json!("meta-llama/Llama-3.1-8B")),
        "{body}"
    );

    let body = assert_error(
        post(
            "/api/memory",
            json!({"model": "meta-llama/Llama-3.1-8B", "gpu": "H1000"}),
        ),
        422,
        "gpu",
    );
    assert!(!body["suggestions"]
        .as_array()
        .expect("suggestions")
        .is_empty());

    assert_error(
        post(
            "/api/recommend",
            json!({"model": "meta-llama/Llama-3.1-8B", "gpus": ["nope-gpu"]}),
        ),
        422,
        "gpus",
    );
    // Offline and not cached: a clear 422, not a network error.
    assert_error(
        post(
            "/api/estimate",
            json!({"model": "nobody/nothing-here", "gpu": "H100"}),
        ),
        422,
        "model",
    );
    // The server never reads its own files for a client.
    assert_error(
        post(
            "/api/estimate",
            json!({"model": "/etc/passwd", "gpu": "H100"}),
        ),
        422,
        "model",
    );
}

#[test]
fn invalid_parallelism_is_422_naming_the_size() {
    // Llama-3.1-8B has 32 attention heads and 8 KV heads.
    assert_error(
        post(
            "/api/estimate",
            json!({"model": "meta-llama/Llama-3.1-8B", "gpu": "H100", "tp": 3}),
        ),
        422,
        "tp",
    );
    assert_error(
        post(
            "/api/memory",
            json!({"model": "meta-llama/Llama-3.1-8B", "gpu": "H100", "ep": 2}),
        ),
        422,
        "ep",
    );
    assert_error(
        post(
            "/api/estimate",
            json!({"model": "meta-llama/Llama-3.1-8B", "gpu": "H100", "tp": 4, "num_gpus": 6}),
        ),
        422,
        "num_gpus",
    );
    // The sizes left out fill num_gpus, by the rule the CLI and Python share.
    let (status, body) = post(
        "/api/memory",
        json!({"model": "meta-llama/Llama-3.1-70B", "gpu": "H100", "pp": 2, "num_gpus": 8,
               "max_model_len": 4096}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["parallelism"],
        json!({"tp": 4, "pp": 2, "dp": 1, "ep": 1}),
        "{body}"
    );
    assert_error(
        post(
            "/api/memory",
            json!({"model": "meta-llama/Llama-3.1-8B", "gpu": "H100", "pp": 0}),
        ),
        422,
        "pp",
    );
}

#[test]
fn oversized_bodies_are_413() {
    let padding = "x".repeat(1024 * 1024 + 10);
    let body = format!("{{\"model\": \"{padding}\"}}");
    assert_error(
        post_raw("/api/estimate", "application/json", &body),
        413,
        "body",
    );
    // The CSV endpoint takes more than 1 MiB ...
    let header = "id,model,config,weight_quant,kv_dtype,gpu,tp,pp,dp,ep,engine,isl,osl,concurrency,ttft_ms,itl_ms,output_tok_s,notes\n";
    let mut csv = String::from(header);
    // Few rows (long notes), so the test measures the limit, not the estimator.
    let notes = "n".repeat(16 * 1024);
    while csv.len() < 1536 * 1024 {
        csv.push_str(&format!(
            "r,,meta-llama__Llama-3.1-8B.json,,,h100_sxm,1,1,1,1,vllm,128,128,1,,,,{notes}\n"
        ));
    }
    let (status, report) = post_raw("/api/validate", "text/csv", &csv);
    assert_eq!(status, 200, "{report}");
    // ... but not more than 10 MiB.
    let big = "a".repeat(10 * 1024 * 1024 + 10);
    assert_error(post_raw("/api/validate", "text/csv", &big), 413, "body");
}

#[test]
fn unknown_paths_and_methods_are_json() {
    let (status, body) = get("/api/nothing");
    assert_eq!(status, 404);
    assert!(body["error"]
        .as_str()
        .is_some_and(|e| e.contains("/api/nothing")));
    let (status, _, text) = read(agent().get(&url("/api/estimate")).call());
    assert_eq!(status, 405);
    let body: Value = serde_json::from_str(&text).expect("JSON 405");
    assert!(body["error"].is_string());
}

#[test]
fn openapi_lists_every_path() {
    let (status, doc) = get("/api/openapi.json");
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for path in gpuplan_cli::serve::openapi::PATHS {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    for path in [
        "/api/memory",
        "/api/estimate",
        "/api/recommend",
        "/api/validate",
    ] {
        assert!(doc["paths"][path]["post"]["requestBody"].is_object());
        assert!(doc["paths"][path]["post"]["responses"]["422"].is_object());
    }
}

#[test]
fn ui_assets_are_served() {
    for (path, content_type, needle) in [
        ("/", "text/html", "<form id=\"plan-form\""),
        ("/app.js", "text/javascript", "/api/recommend"),
        ("/style.css", "text/css", ".table-wrap"),
    ] {
        let (status, got_type, body) = read(agent().get(&url(path)).call());
        assert_eq!(status, 200, "{path}");
        assert_eq!(got_type, content_type, "{path}");
        assert!(body.contains(needle), "{path}");
    }
}

#[test]
fn two_hundred_parallel_requests_all_succeed() {
    let started = std::time::Instant::now();
    let threads: Vec<_> = (0..20)
        .map(|t| {
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                for i in 0..10 {
                    let response = if (t + i) % 2 == 0 {
                        post(
                            "/api/estimate",
                            json!({"model": "meta-llama/Llama-3.1-8B", "gpu": "H100",
                                   "concurrency": [1 + i as u64, "max"]}),
                        )
                    } else {
                        get("/api/gpus")
                    };
                    if response.0 != 200 {
                        failures.push(response);
                    }
                }
                failures
            })
        })
        .collect();
    let failures: Vec<(u16, Value)> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("client thread"))
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "took {:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------------------
// Hardening: one request cannot stall the others.

/// A search of some tens of thousands of candidates: heavy for a server whose heavy threshold is
/// lowered, and long enough (seconds) to still be running while a test looks at it.
fn heavy_recommend() -> Value {
    json!({"model": "deepseek-ai/DeepSeek-V3", "max_gpus": 256, "mode": "agg",
           "allow_quant": ["fp8", "int4", "nvfp4"], "kv_dtype": ["auto", "fp8"],
           "engine": ["vllm", "sglang", "trtllm"]})
}

fn health_at(addr: SocketAddr) -> Value {
    let (_, _, body) = read(agent().get(&format!("http://{addr}/healthz")).call());
    serde_json::from_str(&body).expect("health JSON")
}

/// Polls `/healthz` until `done` holds (at most a few minutes, then fails with the last body).
fn wait_for_health(addr: SocketAddr, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..3000 {
        last = health_at(addr);
        if done(&last) {
            return last;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("never saw {what}: {last}");
}

/// Sends `body` to `path` over a raw connection and leaves the answer unread, so that the test
/// decides when the client goes away (by dropping the stream).
fn post_and_hold(addr: SocketAddr, path: &str, body: &Value) -> TcpStream {
    let body = body.to_string();
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    stream
}

#[test]
fn a_search_larger_than_the_server_allows_is_refused_before_any_work() {
    let body = json!({"model": "deepseek-ai/DeepSeek-V3", "max_gpus": 4096, "mode": "auto",
                      "allow_quant": ["fp8", "int4", "int8", "nvfp4", "mxfp4"],
                      "kv_dtype": ["auto", "fp8", "bf16"],
                      "engine": ["vllm", "sglang", "trtllm"]});
    let error = assert_error(post("/api/recommend", body), 422, "max_gpus");
    let message = error["error"].as_str().unwrap_or_default();
    assert!(message.contains("too large"), "{message}");
    assert_eq!(health_at(server())["searches_running"], 0);
}

#[test]
fn large_searches_run_apart_are_bounded_and_stop_when_the_client_leaves() {
    let addr = start_server(ServeLimits {
        heavy_search_candidates: 1000,
        heavy_searches: 1,
        ..ServeLimits::default()
    });
    let heavy = post_and_hold(addr, "/api/recommend", &heavy_recommend());
    wait_for_health(addr, "the heavy search running", |h| {
        h["searches_running"].as_u64() >= Some(1)
    });

    // A small search is answered while the heavy one runs (it does not queue behind it).
    let small = json!({"model": "meta-llama/Llama-3.1-8B", "gpus": ["H100"], "concurrency": 8});
    let (status, _, body) = read(
        agent()
            .post(&format!("http://{addr}/api/recommend"))
            .send_string(&small.to_string()),
    );
    assert_eq!(status, 200, "{body}");

    // A second heavy search finds the only slot taken: 429 with Retry-After.
    let response = agent()
        .post(&format!("http://{addr}/api/recommend"))
        .send_string(&heavy_recommend().to_string());
    let Err(ureq::Error::Status(429, response)) = response else {
        panic!("expected 429, got {response:?}");
    };
    assert!(
        response
            .header("Retry-After")
            .is_some_and(|s| s.parse::<u64>().is_ok()),
        "{:?}",
        response.headers_names()
    );
    let error: Value = serde_json::from_str(&response.into_string().expect("body")).expect("JSON");
    assert!(
        error["error"].as_str().is_some_and(|e| e.contains("busy")),
        "{error}"
    );

    // The client goes away: the search stops instead of running to its end.
    drop(heavy);
    let health = wait_for_health(addr, "the heavy search stopped", |h| {
        h["searches_running"] == 0 && h["searches_stopped"].as_u64() >= Some(1)
    });
    assert_eq!(health["status"], "ok");
}

#[test]
fn a_megabyte_name_is_refused_with_a_short_answer() {
    // A megabyte, less room for the rest of the body within the 1 MiB limit.
    let huge = "x".repeat((1 << 20) - 200);
    for (path, body, field) in [
        ("/api/recommend", json!({"model": huge}), "model"),
        (
            "/api/memory",
            json!({"model": "meta-llama/Llama-3.1-8B", "gpu": huge}),
            "gpu",
        ),
        (
            "/api/estimate",
            json!({"model": "meta-llama/Llama-3.1-8B", "gpu": "H100",
                                 "engine": huge}),
            "engine",
        ),
    ] {
        let text = body.to_string();
        assert!(text.len() <= 1 << 20);
        let (status, _, answer) = read(
            agent()
                .post(&url(path))
                .set("Content-Type", "application/json")
                .send_string(&text),
        );
        assert_eq!(status, 422, "{path}: {}", &answer[..answer.len().min(300)]);
        assert!(answer.len() < 2048, "{path}: {} bytes", answer.len());
        let answer: Value = serde_json::from_str(&answer).expect("JSON");
        assert_eq!(answer["field"], json!(field), "{answer}");
    }
}

#[test]
fn error_messages_name_no_rust_types() {
    let error = assert_error(
        post(
            "/api/estimate",
            json!({"model": "meta-llama/Llama-3.1-8B", "gpu": "H100", "concurrency": {"a": 1}}),
        ),
        422,
        "concurrency",
    );
    let message = error["error"].as_str().unwrap_or_default();
    assert!(
        !message.contains("enum") && !message.contains("ConcurrencyList"),
        "{message}"
    );
    assert!(message.contains("\"max\""), "{message}");
}

#[test]
fn idle_connections_are_bounded_and_closed() {
    let addr = start_server(ServeLimits {
        header_read_timeout: Duration::from_secs(1),
        ..ServeLimits::default()
    });
    // 1,100 connections that send nothing, and 100 that stop halfway through their headers:
    // more than the server keeps open.
    let mut idle: Vec<TcpStream> = (0..1100)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    for _ in 0..100 {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x")
            .expect("half a request");
        idle.push(stream);
    }
    let health = health_at(addr);
    assert_eq!(health["status"], "ok");
    // The newest silent connections are closed by the server once the header timeout passes.
    for stream in idle.iter_mut().rev().take(3) {
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        let mut buf = [0u8; 64];
        match stream.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => {
                // hyper may answer a timed-out half request with a 408 before closing.
                let text = String::from_utf8_lossy(&buf[..n]).to_string();
                assert!(text.starts_with("HTTP/1.1 408"), "{text}");
            }
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
        }
    }
}

/// `gpuplan serve` as a real process: SIGTERM while a request runs lets it finish, then the
/// process exits 0.
#[cfg(unix)]
#[test]
fn sigterm_finishes_the_request_in_flight_and_exits_0() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    let home = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpuplan"))
        .args(["serve", "--offline", "--addr", "127.0.0.1:0"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("HF_HOME", home.path().join("hf"))
        .env_remove("GPUPLAN_CATALOG")
        .env_remove("GPUPLAN_ADDR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn gpuplan serve");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("first line");
    let addr: SocketAddr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));

    // A search of a few seconds, well within the time limit.
    let body = json!({"model": "meta-llama/Llama-3.1-70B", "max_gpus": 32,
                      "engine": ["vllm", "sglang"]});
    let request = std::thread::spawn(move || {
        read(
            agent()
                .post(&format!("http://{addr}/api/recommend"))
                .send_string(&body.to_string()),
        )
    });
    wait_for_health(addr, "the request running", |h| {
        h["searches_running"].as_u64() >= Some(1)
    });
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());

    let (status, _, body) = request.join().expect("client thread");
    assert_eq!(status, 200, "{}", &body[..body.len().min(300)]);
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "{exit:?}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("rest of stdout");
    assert!(rest.contains("stopped"), "{rest}");
}

/// A private model in no catalog, planned from its config.json given inline.
fn private_config() -> Value {
    json!({
        "_name_or_path": "acme/private-13b", "model_type": "llama", "hidden_size": 5120,
        "num_hidden_layers": 40, "num_attention_heads": 40, "num_key_value_heads": 8,
        "intermediate_size": 13824, "vocab_size": 64000, "max_position_embeddings": 8192,
        "torch_dtype": "bfloat16"
    })
}

#[test]
fn recommend_plans_an_inline_config() {
    let (status, result) = post(
        "/api/recommend",
        json!({"config": private_config(), "gpus": ["H100"], "concurrency": 8, "plot": false}),
    );
    assert_eq!(status, 200, "{result}");
    assert_eq!(
        result["model"], "acme/private-13b",
        "named from _name_or_path"
    );
    assert_eq!(result["outcome"], "satisfied", "{result}");
    assert_eq!(result["checkpoint_weight_quant"], "bf16");
    let (status, named) = post(
        "/api/recommend",
        json!({"model": "my-model", "config": private_config(), "gpus": ["H100"], "plot": false}),
    );
    assert_eq!(status, 200, "{named}");
    assert_eq!(named["model"], "my-model");
    // The memory panel of the page plans the same inline config.
    let (status, plan) = post(
        "/api/memory",
        json!({"config": private_config(), "gpu": "H100", "tp": 1}),
    );
    assert_eq!(status, 200, "{plan}");
    assert!(
        plan["weights_gib_per_gpu"]
            .as_f64()
            .is_some_and(|w| w > 20.0 && w < 30.0),
        "{plan}"
    );
}

#[test]
fn inline_configs_are_validated() {
    let mut bad = private_config();
    bad["num_key_value_heads"] = json!(7);
    let body = assert_error(
        post("/api/recommend", json!({"config": bad, "gpus": ["H100"]})),
        422,
        "config",
    );
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("valid values")),
        "{body}"
    );
    assert_error(
        post(
            "/api/recommend",
            json!({"config": [1, 2, 3], "gpus": ["H100"]}),
        ),
        422,
        "config",
    );
    let mut huge = private_config();
    huge["padding"] = json!("x".repeat(gpuplan::MAX_INLINE_CONFIG_BYTES));
    let (status, body) = post("/api/recommend", json!({"config": huge, "gpus": ["H100"]}));
    assert!(status == 422 || status == 413, "{status} {body}");
}
