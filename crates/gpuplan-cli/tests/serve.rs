//! `gpuplan serve` over real HTTP: one in-process server on an ephemeral 127.0.0.1 port (offline,
//! so no test touches the network), every endpoint's happy path, bad input of every kind
//! (each a 4xx JSON error naming the field, never a 500), the body limits, and a bounded
//! concurrent load.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use gpuplan_cli::args::GlobalArgs;
use gpuplan_cli::serve::{serve_listener, AppState};
use gpuplan_cli::Context;
use serde_json::{json, Value};

/// The address of the shared test server, started on first use.
fn server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let global = GlobalArgs {
            offline: true,
            ..GlobalArgs::default()
        };
        let ctx = Context::new(&global).expect("context");
        let state = AppState::from_context(&ctx).expect("server state");
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
                serve_listener(listener, state).await.expect("serve");
            });
        });
        rx.recv_timeout(Duration::from_secs(30))
            .expect("server started")
    })
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
            json!({"model": "meta-llama/Llama-3.1-8B", "gpu": "H100", "tp": 2, "num_gpus": 8}),
        ),
        422,
        "num_gpus",
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
