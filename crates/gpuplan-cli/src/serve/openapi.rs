//! The OpenAPI 3 description of the HTTP API, written by hand: every endpoint, request body and
//! response body. The `serve` tests check that every route is listed here.

use serde_json::{json, Value};

/// Every path the API serves, for tests and docs.
pub const PATHS: [&str; 8] = [
    "/api/models",
    "/api/gpus",
    "/api/memory",
    "/api/estimate",
    "/api/recommend",
    "/api/validate",
    "/api/openapi.json",
    "/healthz",
];

fn number(description: &str) -> Value {
    json!({"type": "number", "description": description})
}

fn integer(description: &str) -> Value {
    json!({"type": "integer", "minimum": 0, "description": description})
}

fn nullable(mut schema: Value) -> Value {
    if let Some(t) = schema.get("type").cloned() {
        schema["type"] = json!([t, "null"]);
    }
    schema
}

fn string(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn enumeration(values: &[&str], description: &str) -> Value {
    json!({"type": "string", "enum": values, "description": description})
}

const WEIGHT_FORMATS: [&str; 9] = [
    "f32",
    "bf16",
    "fp16",
    "fp8",
    "fp8_block",
    "int8",
    "int4",
    "nvfp4",
    "mxfp4",
];
const KV_CHOICES: [&str; 3] = ["auto", "bf16", "fp8"];
const ENGINES: [&str; 3] = ["vllm", "sglang", "trtllm"];

fn json_body(schema: &str, description: &str) -> Value {
    json!({
        "required": true,
        "description": description,
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
    })
}

fn ok(schema: &str, description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
    })
}

fn errors() -> Value {
    let error = |description: &str| {
        json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        })
    };
    json!({
        "400": error("The body is not valid JSON (or not UTF-8)."),
        "413": error("The body is larger than the limit (1 MiB; 10 MiB for /api/validate)."),
        "422": error("A field holds an unusable value: wrong type, unknown field, unknown model or GPU (with suggestions), impossible parallel layout. `field` names it."),
        "429": error("Every slot for large searches (over 20,000 candidates) is taken; retry after the `Retry-After` header's seconds."),
        "502": error("The Hugging Face Hub could not be reached for a model outside the catalog."),
        "503": error("The request ran past the 30 s time limit (its work is stopped)."),
    })
}

fn post(summary: &str, body: Value, response: Value) -> Value {
    let mut responses = errors();
    responses["200"] = response;
    json!({"post": {"summary": summary, "requestBody": body, "responses": responses}})
}

fn get(summary: &str, response: Value) -> Value {
    json!({"get": {"summary": summary, "responses": {"200": response}}})
}

fn layout_properties() -> serde_json::Map<String, Value> {
    let mut p = serde_json::Map::new();
    p.insert(
        "model".into(),
        string("Catalog id (see /api/models) or Hugging Face repo id (org/name). Required unless config is given."),
    );
    p.insert(
        "gpu".into(),
        string("GPU id, name or alias (see /api/gpus). Required."),
    );
    p.insert(
        "tp".into(),
        integer("Tensor-parallel size (default num_gpus / (pp x dp), else 1)."),
    );
    p.insert("pp".into(), integer("Pipeline-parallel size (default 1)."));
    p.insert(
        "dp".into(),
        integer("Data-parallel (attention-DP) size (default 1)."),
    );
    p.insert("ep".into(), integer("Expert-parallel size (default 1)."));
    p.insert(
        "num_gpus".into(),
        integer("GPUs of the deployment; must equal tp x pp x dp when given."),
    );
    p.insert(
        "input_len".into(),
        integer("Prompt tokens per request (default 2048)."),
    );
    p.insert(
        "output_len".into(),
        integer("Generated tokens per request (default 512)."),
    );
    p.insert(
        "max_model_len".into(),
        integer("Longest request the engine is configured for, tokens (default input_len + output_len)."),
    );
    p.insert(
        "weight_quant".into(),
        enumeration(
            &WEIGHT_FORMATS,
            "Serve the weights in this format instead of the checkpoint's.",
        ),
    );
    p.insert(
        "kv_dtype".into(),
        enumeration(&KV_CHOICES, "KV-cache dtype (default auto)."),
    );
    p.insert(
        "engine".into(),
        enumeration(&ENGINES, "Serving engine (default vllm)."),
    );
    p.insert(
        "gpu_memory_utilization".into(),
        number("Fraction of GPU memory the engine may use, in (0, 1] (default 0.9)."),
    );
    p.insert("config".into(), inline_config_schema());
    p
}

/// The `config` field: a model's config.json inline.
fn inline_config_schema() -> Value {
    json!({
        "type": "object",
        "description": format!(
            "A model's config.json inline (a model in no catalog), at most {} bytes; model then only names it.",
            gpuplan::MAX_INLINE_CONFIG_BYTES
        ),
    })
}

fn object(properties: serde_json::Map<String, Value>, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties,
    })
}

fn configuration_schema() -> Value {
    let mut p = serde_json::Map::new();
    for (name, schema) in [
        ("gpu", string("Catalog id of the GPU.")),
        ("gpu_name", string("Display name of the GPU.")),
        ("gpu_vendor", string("GPU vendor.")),
        ("num_gpus", integer("GPUs of the whole deployment.")),
        (
            "gpus_per_replica",
            integer("GPUs of one replica (both pools when disaggregated)."),
        ),
        (
            "nodes_per_replica",
            integer("Nodes one replica spans (gpus_per_node GPUs each)."),
        ),
        (
            "replicas",
            integer("Identical replicas behind a load balancer."),
        ),
        ("tp", integer("Tensor-parallel size.")),
        ("pp", integer("Pipeline-parallel size.")),
        ("dp", integer("Data-parallel size.")),
        ("ep", integer("Expert-parallel size.")),
        (
            "weight_quant",
            enumeration(&WEIGHT_FORMATS, "Weight format served."),
        ),
        (
            "requantized",
            json!({"type": "boolean", "description": "The weight format differs from the checkpoint's."}),
        ),
        ("kv_dtype", string("KV-cache dtype.")),
        ("engine", string("Serving engine.")),
        ("mode", enumeration(&["agg", "disagg"], "Serving mode.")),
        (
            "disagg",
            json!({"type": ["object", "null"], "description": "Prefill/decode split of a disaggregated configuration: instances, layouts, nodes per pool, the KV transfer link (scale_up, host or scale_out), its per-GPU bandwidth and kv_transfer_ms."}),
        ),
        (
            "max_model_len",
            integer("Longest request the engine is configured for, tokens."),
        ),
        (
            "kv_cache_tokens",
            integer("KV-cache capacity of one engine instance, tokens."),
        ),
        (
            "max_concurrent_requests",
            nullable(number("Requests that fit in memory at once per replica.")),
        ),
        (
            "concurrency_per_replica",
            nullable(integer("Requests in flight per replica.")),
        ),
        (
            "time_to_first_token_ms",
            nullable(number("Mean time to first token, ms.")),
        ),
        (
            "inter_token_latency_ms",
            nullable(number(
                "Mean inter-token latency (first token excluded), ms.",
            )),
        ),
        (
            "end_to_end_latency_ms",
            nullable(number("Mean end-to-end latency, ms.")),
        ),
        (
            "output_throughput_tok_s",
            nullable(number("Output tokens/s of the deployment.")),
        ),
        (
            "output_throughput_tok_s_per_gpu",
            nullable(number("Output tokens/s per GPU.")),
        ),
        (
            "output_tok_s_per_user",
            nullable(number("Output tokens/s one user sees.")),
        ),
        (
            "requests_per_s",
            nullable(number("Completed requests per second.")),
        ),
        (
            "queue_wait_ms",
            nullable(number("Mean queueing delay, ms.")),
        ),
        (
            "usd_per_hour",
            nullable(number("Price of the deployment, USD per hour.")),
        ),
        (
            "usd_per_million_output_tokens",
            nullable(number("USD per million output tokens.")),
        ),
        (
            "ttft_headroom",
            nullable(number("Spare room on the TTFT limit, fraction of it.")),
        ),
        (
            "itl_headroom",
            nullable(number("Spare room on the ITL limit, fraction of it.")),
        ),
        (
            "e2e_headroom",
            nullable(number("Spare room on the E2E limit, fraction of it.")),
        ),
        (
            "throughput_headroom",
            nullable(number(
                "Spare room on the throughput minimum, fraction of it.",
            )),
        ),
    ] {
        p.insert(name.into(), schema);
    }
    json!({"type": "object", "properties": p})
}

fn memory_plan_properties() -> serde_json::Map<String, Value> {
    let mut p = serde_json::Map::new();
    for (name, schema) in [
        ("model", string("The model's canonical name.")),
        ("gpu", string("Catalog id of the GPU.")),
        ("gpu_name", string("Display name of the GPU.")),
        (
            "num_gpus",
            integer("GPUs of the deployment (tp x pp x dp)."),
        ),
        (
            "weight_quant",
            enumeration(&WEIGHT_FORMATS, "Weight format served."),
        ),
        ("engine", enumeration(&ENGINES, "Serving engine.")),
        (
            "engine_version",
            string("Engine version whose overheads were used."),
        ),
        (
            "parallelism",
            json!({"$ref": "#/components/schemas/Parallelism"}),
        ),
        ("kv_dtype", string("KV-cache dtype used.")),
        ("gpu_memory_gib", number("Memory of one GPU, GiB.")),
        (
            "gpu_memory_utilization",
            number("Fraction the engine may use."),
        ),
        (
            "usable_gib",
            number("Memory the engine may use per GPU, GiB."),
        ),
        (
            "free_gib_per_gpu",
            number("Memory left after weights, activations and overheads, GiB."),
        ),
        ("weights_gib_per_gpu", number("Weights per GPU, GiB.")),
        (
            "weight_bytes_per_gpu_by_class",
            json!({"type": "object", "additionalProperties": {"type": "number"}, "description": "Weight bytes per GPU by tensor class."}),
        ),
        (
            "activation_gib_per_gpu",
            number("Activation workspace per GPU, GiB."),
        ),
        (
            "non_torch_gib_per_gpu",
            number("CUDA context and other non-PyTorch memory per GPU, GiB."),
        ),
        (
            "cuda_graph_gib_per_gpu",
            number("CUDA graph memory per GPU, GiB."),
        ),
        (
            "kv_cache_gib_per_gpu",
            number("KV-cache pool per GPU, GiB."),
        ),
        (
            "kv_cache_bytes_per_token",
            number("KV-cache bytes per token per GPU."),
        ),
        ("kv_cache_tokens", integer("Tokens the KV cache holds.")),
        ("kv_block_size", integer("KV-cache block size, tokens.")),
        (
            "max_concurrent_requests",
            number("Requests of max_model_len tokens that fit at once."),
        ),
        (
            "max_model_len",
            integer("Longest request planned for, tokens."),
        ),
        (
            "max_model_len_fit",
            integer("Longest request that fits, tokens."),
        ),
        (
            "fits",
            json!({"type": "boolean", "description": "Whether the model fits with room for at least one request."}),
        ),
        (
            "shortfall_gib",
            number("Missing memory per GPU when it does not fit, GiB."),
        ),
        (
            "advice",
            json!({"type": "array", "items": {"type": "string"}, "description": "What to change when it does not fit."}),
        ),
        (
            "stages",
            json!({"type": "array", "items": {"type": "object"}, "description": "Per pipeline stage: layers, weights, KV pool."}),
        ),
        (
            "notes",
            json!({"type": "array", "items": {"type": "string"}}),
        ),
    ] {
        p.insert(name.into(), schema);
    }
    p
}

/// The request-length fields `/api/estimate` and `/api/recommend` share.
fn workload_properties() -> Vec<(String, Value)> {
    vec![
        (
            "num_prompts".into(),
            integer("Requests of a finite run (default 1000)."),
        ),
        (
            "dataset".into(),
            json!({"type": "string", "enum": ["random", "sharegpt"], "description": "Request lengths: random (fixed, or spread by random_range_ratio) or sharegpt (the ShareGPT distribution with input_len/output_len as its means). Default random."}),
        ),
        (
            "random_range_ratio".into(),
            number("Spread of random lengths in [0, 1): uniform in [(1-r) len, (1+r) len] (default 0)."),
        ),
        (
            "max_concurrency".into(),
            json!({"description": "Alias of concurrency."}),
        ),
    ]
}

fn schemas() -> Value {
    let memory_request = object(layout_properties(), &["gpu"]);

    let mut estimate_props = layout_properties();
    estimate_props.insert(
        "concurrency".into(),
        json!({
            "description": "Requests in flight: a number, \"max\" (as many as fit), or a list of those (default [1, \"max\"]).",
            "oneOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "enum": ["max"]},
                {"type": "array", "items": {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": ["max"]}]}}
            ]
        }),
    );
    for (name, schema) in workload_properties() {
        estimate_props.insert(name, schema);
    }
    estimate_props.insert(
        "request_rate".into(),
        json!({
            "description": "Poisson arrivals, requests/s, or \"inf\" (every request at t=0): a finite run of num_prompts requests.",
            "oneOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "enum": ["inf"]}]
        }),
    );
    let estimate_request = object(estimate_props, &["gpu"]);

    let mut estimate_response = memory_plan_properties();
    estimate_response.retain(|k, _| {
        matches!(
            k.as_str(),
            "model" | "gpu" | "gpu_name" | "num_gpus" | "weight_quant" | "engine" | "kv_dtype"
        )
    });
    estimate_response.insert("tp".into(), integer("Tensor-parallel size."));
    estimate_response.insert("pp".into(), integer("Pipeline-parallel size."));
    estimate_response.insert(
        "dp".into(),
        integer("Data-parallel size (engine instances)."),
    );
    estimate_response.insert("ep".into(), integer("Expert-parallel size."));
    estimate_response.insert("input_len".into(), integer("Prompt tokens per request."));
    estimate_response.insert(
        "output_len".into(),
        integer("Generated tokens per request."),
    );
    estimate_response.insert(
        "workload".into(),
        string("The workload modelled, in one line."),
    );
    estimate_response.insert(
        "memory".into(),
        json!({"$ref": "#/components/schemas/MemoryPlan"}),
    );
    estimate_response.insert(
        "max_concurrent_requests".into(),
        nullable(number(
            "Requests that fit at once at input + output tokens, whole deployment.",
        )),
    );
    estimate_response.insert(
        "points".into(),
        json!({"type": "array", "items": {"$ref": "#/components/schemas/EstimatePoint"}}),
    );

    let mut recommend_props = serde_json::Map::new();
    for (name, schema) in [
        (
            "model",
            string("Catalog id or Hugging Face repo id. Required unless config is given (then it only names the model)."),
        ),
        ("config", inline_config_schema()),
        (
            "input_len",
            integer("Prompt tokens per request (default 2048)."),
        ),
        (
            "output_len",
            integer("Generated tokens per request (default 512)."),
        ),
        (
            "concurrency",
            integer("Requests in flight at all times, whole deployment."),
        ),
        (
            "request_rate",
            number("Poisson arrivals, requests/s (instead of concurrency)."),
        ),
        (
            "max_ttft_ms",
            number("Largest mean time to first token, ms."),
        ),
        (
            "max_itl_ms",
            number("Largest mean inter-token latency, ms."),
        ),
        ("max_e2e_ms", number("Largest mean end-to-end latency, ms.")),
        (
            "min_throughput_tok_s",
            number("Smallest output throughput of the deployment, tokens/s."),
        ),
        (
            "slo_percentile",
            json!({"type": "string", "enum": ["mean", "p50", "p90", "p99"], "description": "The statistic max_ttft_ms, max_itl_ms and max_e2e_ms limit (default mean)."}),
        ),
        (
            "max_ttft_p99_ms",
            number("Largest 99th-percentile time to first token, ms."),
        ),
        (
            "max_itl_p99_ms",
            number("Largest 99th-percentile inter-token latency, ms."),
        ),
        (
            "gpus",
            json!({"type": "array", "items": {"type": "string"}, "description": "GPUs to consider; empty = all."}),
        ),
        ("max_gpus", integer("Most GPUs in one replica (default 8).")),
        (
            "allow_quant",
            json!({"type": "array", "items": {"type": "string"}, "description": "Weight formats to try besides the checkpoint's (bf16, fp8, fp8_block, int8, int4, nvfp4, mxfp4); default [] or [\"native\"]: the checkpoint as it is. A note names what requantizing would save."}),
        ),
        (
            "kv_dtype",
            json!({"type": "array", "items": {"type": "string", "enum": KV_CHOICES}, "description": "KV dtypes to try (default [\"auto\"]: the checkpoint's own)."}),
        ),
        (
            "engine",
            json!({"type": "array", "items": {"type": "string", "enum": ENGINES}, "description": "Engines to try (default [\"vllm\"])."}),
        ),
        (
            "mode",
            enumeration(&["agg", "disagg", "auto"], "Serving mode (default agg)."),
        ),
        (
            "objective",
            enumeration(
                &["cost", "throughput", "latency"],
                "Ranking objective (default cost).",
            ),
        ),
        (
            "price",
            json!({"type": "object", "additionalProperties": {"type": "number"}, "description": "USD per GPU-hour by GPU name, replacing the catalog's."}),
        ),
        (
            "top",
            integer("Configurations to return (default 5, at most 100)."),
        ),
        (
            "emit",
            enumeration(
                &["vllm", "sglang", "trtllm", "k8s", "llm-d"],
                "Launch target of `launch` (default none). vllm/sglang/trtllm need that engine in `engine`.",
            ),
        ),
        (
            "estimate_performance",
            json!({"type": "boolean", "description": "Estimate performance (default true)."}),
        ),
        (
            "gpu_memory_utilization",
            number("Fraction of GPU memory the engine may use (default 0.9)."),
        ),
        (
            "max_model_len",
            integer("Longest request the engine is configured for (default input + output)."),
        ),
        (
            "plot",
            json!({"type": "boolean", "description": "Return the Pareto plot SVG in pareto_svg (default true)."}),
        ),
    ] {
        recommend_props.insert(name.into(), schema);
    }
    for (name, schema) in workload_properties() {
        recommend_props.insert(name, schema);
    }
    let recommend_request = object(recommend_props, &[]);

    json!({
        "Error": {
            "type": "object",
            "required": ["error", "field"],
            "properties": {
                "error": string("What went wrong and what to do about it."),
                "field": {"type": ["string", "null"], "description": "The request field to fix (\"body\" for the body as a whole)."},
                "suggestions": {"type": "array", "items": {"type": "string"}, "description": "Close valid names for an unknown model or GPU."}
            }
        },
        "Health": {
            "type": "object",
            "properties": {
                "status": enumeration(&["ok"], "Always ok."),
                "version": string("gpuplan version."),
                "cached_models": integer("Architectures in the look-up cache."),
                "searches_running": integer("Recommend searches running now."),
                "searches_stopped": integer("Searches stopped before they finished (client gone, time limit) since the start.")
            }
        },
        "Model": {
            "type": "object",
            "description": "One catalog model, as `gpuplan models --json`.",
            "properties": {
                "id": string("Hugging Face id."),
                "model_type": string("config.json model_type."),
                "total_params": integer("Parameters."),
                "active_params": integer("Parameters active per token."),
                "attention": string("Attention family (mha, gqa, mqa, mla, ...)."),
                "num_experts": integer("Routed experts (0 for dense models)."),
                "experts_per_token": integer("Experts per token."),
                "weight_format": string("Checkpoint weight format."),
                "kv_cache_bytes_per_token": number("KV bytes per token at the native KV dtype.")
            }
        },
        "Gpu": {
            "type": "object",
            "description": "One GPU, as `gpuplan gpus --json`.",
            "properties": {
                "id": string("Catalog id."),
                "name": string("Display name."),
                "memory_gib": number("Memory, GiB."),
                "memory_bandwidth_gb_s": number("Memory bandwidth, GB/s."),
                "bf16_tflops": nullable(number("Dense BF16 peak, TFLOPS.")),
                "fp8_tflops": nullable(number("Dense FP8 peak, TFLOPS (null: not native).")),
                "fp4_tflops": nullable(number("Dense FP4 peak, TFLOPS (null: not native).")),
                "link": string("Scale-up link name."),
                "link_gb_s_per_direction": number("Scale-up bandwidth per direction, GB/s."),
                "price_usd_per_hour": nullable(number("USD per GPU-hour."))
            }
        },
        "Parallelism": {
            "type": "object",
            "properties": {
                "tp": integer("Tensor-parallel size."),
                "pp": integer("Pipeline-parallel size."),
                "dp": integer("Data-parallel size."),
                "ep": integer("Expert-parallel size.")
            }
        },
        "MemoryRequest": memory_request,
        "MemoryPlan": {"type": "object", "properties": memory_plan_properties()},
        "EstimateRequest": estimate_request,
        "EstimatePoint": {
            "type": "object",
            "description": "The estimate at one concurrency.",
            "properties": {
                "concurrency": number("Requests in flight, whole deployment."),
                "time_to_first_token_ms": number("Mean time to first token, ms."),
                "inter_token_latency_ms": number("Mean inter-token latency (first token excluded), ms."),
                "end_to_end_latency_ms": number("Mean end-to-end latency, ms."),
                "output_throughput_tok_s": number("Output tokens/s of the deployment (a finite run: output tokens / run time)."),
                "ttft_ms": {"$ref": "#/components/schemas/Percentiles"},
                "tpot_ms": {"$ref": "#/components/schemas/Percentiles"},
                "itl_ms": {"$ref": "#/components/schemas/Percentiles"},
                "e2e_ms": {"$ref": "#/components/schemas/Percentiles"},
                "run_duration_s": nullable(number("Wall time of a finite run, drain included, s."))
            },
            "additionalProperties": true
        },
        "EstimateResponse": {"type": "object", "properties": estimate_response},
        "Percentiles": {
            "type": "object",
            "description": "Mean, median, 90th and 99th percentile of a latency, ms.",
            "properties": {
                "mean": number("Mean."),
                "p50": number("Median."),
                "p90": number("90th percentile."),
                "p99": number("99th percentile.")
            }
        },
        "RecommendRequest": recommend_request,
        "Configuration": configuration_schema(),
        "RecommendResponse": {
            "type": "object",
            "properties": {
                "model": string("The model as requested."),
                "input_len": integer("Prompt tokens per request."),
                "output_len": integer("Generated tokens per request."),
                "load": {"description": "{\"concurrency\": n}, {\"request_rate\": r} or \"best_throughput\"."},
                "slo": {"type": "object", "description": "The SLOs applied (max_ttft_ms, max_itl_ms, max_e2e_ms, min_throughput_tok_s)."},
                "objective": string("Ranking objective."),
                "mode": string("Serving modes searched."),
                "outcome": enumeration(&["satisfied", "no_configuration"], "Whether anything met the SLOs."),
                "configurations": {"type": "array", "items": {"$ref": "#/components/schemas/Configuration"}, "description": "Best first."},
                "frontier": {"type": "array", "items": {"$ref": "#/components/schemas/Configuration"}, "description": "Pareto frontier, tokens/s per GPU vs per user."},
                "near_misses": {"type": "array", "items": {"type": "object", "properties": {
                    "configuration": {"$ref": "#/components/schemas/Configuration"},
                    "excluded_by": string("The constraint missed worst."),
                    "violations": {"type": "array", "items": {"type": "object"}}
                }}},
                "counts": {"type": "object", "properties": {"evaluated": integer("Candidates."), "fit": integer("Fit in memory."), "met_slos": integer("Met every SLO.")}},
                "launch": {"type": ["string", "null"], "description": "Launch command of the best configuration."},
                "notes": {"type": "array", "items": {"type": "string"}},
                "emit": {"type": ["string", "null"], "description": "Launch target asked for; launch_commands of configurations planned for another engine use their own engine."},
                "launch_commands": {"type": "array", "items": {"type": "string"}, "description": "Launch command of each configuration."},
                "pareto_svg": {"type": ["string", "null"], "description": "The Pareto plot, a standalone SVG document."}
            }
        },
        "ValidationReport": {
            "type": "object",
            "description": "As `gpuplan validate --json`.",
            "properties": {
                "rows_total": integer("Rows in the CSV."),
                "rows_predicted": integer("Rows the estimator could predict."),
                "summary": {"type": "object", "description": "ttft, itl, output_tok_s: n, median_ape, within_25pct."},
                "by_engine": {"type": "object"},
                "by_gpu": {"type": "object"},
                "by_model": {"type": "object"},
                "rows": {"type": "array", "items": {"type": "object", "description": "id, model, gpu, engine, predicted_*, measured_*, *_error, error."}}
            }
        }
    })
}

/// The OpenAPI 3.1 document of the API.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    paths.insert(
        "/api/models".into(),
        get(
            "The embedded model catalog",
            json!({"description": "One object per model.", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Model"}}}}}),
        ),
    );
    paths.insert(
        "/api/gpus".into(),
        get(
            "The GPU catalog with the server's overrides and prices",
            json!({"description": "One object per GPU.", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Gpu"}}}}}),
        ),
    );
    paths.insert(
        "/api/memory".into(),
        post(
            "Memory plan of one GPU for a deployment",
            json_body("MemoryRequest", "Model, GPU and parallel layout."),
            ok(
                "MemoryPlan",
                "The plan (fits: false with advice when the model does not fit).",
            ),
        ),
    );
    paths.insert(
        "/api/estimate".into(),
        post(
            "Latency and throughput of one deployment at one or more concurrencies",
            json_body(
                "EstimateRequest",
                "Model, GPU, parallel layout and workload.",
            ),
            ok(
                "EstimateResponse",
                "Memory plan and one point per concurrency.",
            ),
        ),
    );
    paths.insert(
        "/api/recommend".into(),
        post(
            "Which GPUs, how many and how to split the model to meet the SLOs at the lowest cost",
            json_body("RecommendRequest", "Model, workload, SLOs and search space."),
            ok("RecommendResponse", "Ranked configurations, Pareto frontier, near misses, launch commands and the Pareto plot. outcome is no_configuration when nothing meets the SLOs."),
        ),
    );
    paths.insert(
        "/api/validate".into(),
        post(
            "Score the estimator against a measurement CSV",
            json!({
                "required": true,
                "description": "A CSV with the columns of data/measurements/perf_calibration.csv (id, model, config, weight_quant, kv_dtype, gpu, tp, pp, dp, ep, engine, isl, osl, concurrency, ttft_ms, itl_ms, output_tok_s, notes). At most 10 MiB.",
                "content": {"text/csv": {"schema": {"type": "string"}}}
            }),
            ok("ValidationReport", "Per-row predictions and error statistics."),
        ),
    );
    paths.insert(
        "/api/openapi.json".into(),
        get(
            "This document",
            json!({"description": "OpenAPI 3.1 JSON.", "content": {"application/json": {"schema": {"type": "object"}}}}),
        ),
    );
    paths.insert(
        "/healthz".into(),
        get("Liveness", ok("Health", "The server is up.")),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "gpuplan",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Which GPUs, how many, and how to split an LLM across them to meet latency SLOs at the lowest cost. Field names are those of the CLI's JSON output; errors are {\"error\", \"field\"}."
        },
        "paths": paths,
        "components": {"schemas": schemas()}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_documented_and_refs_resolve() {
        let doc = document();
        for path in PATHS {
            assert!(doc["paths"].get(path).is_some(), "{path} missing");
        }
        let text = doc.to_string();
        for piece in text.split("#/components/schemas/").skip(1) {
            let name: String = piece.chars().take_while(|c| c.is_alphanumeric()).collect();
            assert!(
                doc["components"]["schemas"].get(&name).is_some(),
                "dangling $ref {name}"
            );
        }
    }
}
