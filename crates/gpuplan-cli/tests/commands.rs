//! End-to-end tests of the planning commands: `memory`, `estimate`, `validate`, `calibrate` and
//! `recommend`, in JSON and table formats, with their error exit codes and output files.
//!
//! The helpers are those of `tests/cli.rs` (an isolated environment, stdout + stderr + exit code
//! in uv's snapshot layout). JSON snapshots of estimates replace every non-integer number with
//! `[float]` (and a few counts that follow from them with `[int]`): the estimator is recalibrated
//! from time to time, and the snapshots are meant to pin the structure, the inputs echoed back and
//! the chosen GPU and layout, not the figures.

use std::path::{Path, PathBuf};

mod common;

use common::{home, run};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Numbers that follow from the estimator's figures although they are integers.
const DERIVED_COUNTS: &[&str] = &[
    "kv_cache_tokens",
    "max_model_len_fit",
    "concurrency_per_replica",
    "evaluated",
    "fit",
    "met_slos",
];

/// Replaces every non-integer number with "[float]", the integers named in [`DERIVED_COUNTS`]
/// with "[int]", and strings of free text that quote figures (notes, advice, launch commands)
/// with "[text]", keeping keys, structure, identifiers and the inputs echoed back.
fn redact(value: &mut Value) {
    redact_in(value, "");
}

fn redact_in(value: &mut Value, key: &str) {
    match value {
        Value::Number(n) if n.is_f64() => *value = Value::String("[float]".into()),
        Value::Number(_) if DERIVED_COUNTS.contains(&key) => *value = Value::String("[int]".into()),
        Value::String(_) if matches!(key, "notes" | "advice" | "launch") => {
            *value = Value::String("[text]".into())
        }
        Value::Array(items) => items.iter_mut().for_each(|item| redact_in(item, key)),
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                redact_in(v, k);
            }
        }
        _ => {}
    }
}

/// The shape of a value: every leaf replaced by its JSON type.
fn shape(value: &Value) -> Value {
    match value {
        Value::Null => Value::Null,
        Value::Bool(_) => Value::String("[bool]".into()),
        Value::Number(_) => Value::String("[number]".into()),
        Value::String(_) => Value::String("[string]".into()),
        Value::Array(items) => Value::Array(items.iter().take(1).map(shape).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), shape(value)))
                .collect(),
        ),
    }
}

fn assert_json_snapshot(name: &str, value: &Value) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.bind(|| insta::assert_json_snapshot!(name, value));
}

// ---------------------------------------------------------------------------------------------
// gpuplan memory

#[test]
fn memory_json_has_the_plan() {
    let home = home();
    let output = run(
        home.path(),
        &[
            "memory",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--gpu",
            "H100",
            "--max-model-len",
            "8192",
            "--json",
        ],
    );
    output.expect_code(0);
    let json = output.json();
    for key in [
        "weights_gib_per_gpu",
        "activation_gib_per_gpu",
        "non_torch_gib_per_gpu",
        "kv_cache_gib_per_gpu",
        "kv_cache_bytes_per_token",
        "kv_cache_tokens",
        "max_concurrent_requests",
        "max_model_len_fit",
    ] {
        assert!(json[key].is_number(), "{key} missing: {json}");
    }
    assert_eq!(json["fits"], true);
    assert_eq!(json["model"], "meta-llama/Llama-3.1-8B");
    assert_eq!(json["gpu"], "h100_sxm");
    assert_eq!(json["parallelism"]["tp"], 1);
    assert_eq!(json["max_model_len"], 8192);
    // Llama-3.1-8B, bf16: 32 layers x 8 KV heads x 128 x 2 (K and V) x 2 bytes.
    assert_eq!(json["kv_cache_bytes_per_token"], 131072.0);
    let weights = json["weights_gib_per_gpu"].as_f64().unwrap_or_default();
    assert!((14.0..16.0).contains(&weights), "{weights}");
}

#[test]
fn memory_table_and_csv() {
    let home = home();
    let args = [
        "memory",
        "--model",
        "meta-llama/Llama-3.1-70B",
        "--gpu",
        "H100",
        "--tp",
        "4",
        "--max-model-len",
        "32768",
    ];
    let table = run(home.path(), &args);
    table.expect_code(0);
    for text in [
        "Weights",
        "KV cache pool",
        "CUDA graphs",
        "Max concurrent requests",
        "Largest max_model_len",
        "tp4 pp1 dp1 ep1",
    ] {
        assert!(table.stdout.contains(text), "{text}:\n{}", table.stdout);
    }
    let mut csv_args = args.to_vec();
    csv_args.extend(["--format", "csv"]);
    let csv = run(home.path(), &csv_args);
    csv.expect_code(0);
    let mut lines = csv.stdout.lines();
    let header = lines.next().unwrap_or_default();
    assert!(header.starts_with("model,gpu,num_gpus,tp"), "{header}");
    assert!(header.contains("kv_cache_tokens"), "{header}");
    assert!(lines.next().is_some_and(|row| row.contains(",4,")));
}

#[test]
fn memory_that_does_not_fit_says_what_would_fix_it() {
    let home = home();
    let args = [
        "memory",
        "--model",
        "meta-llama/Llama-3.1-70B",
        "--gpu",
        "H100",
        "--max-model-len",
        "4096",
    ];
    // A plan that does not fit is printed (it shows why) and exits 1, as every command whose
    // valid request no configuration satisfies.
    let table = run(home.path(), &args);
    table.expect_code(1);
    assert!(table.stderr.contains("does not fit"), "{}", table.stderr);
    assert!(table.stdout.contains("NO: short by"), "{}", table.stdout);
    assert!(table.stdout.contains("fix:"), "{}", table.stdout);
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let json = run(home.path(), &json_args);
    json.expect_code(1);
    let json = json.json();
    assert_eq!(json["fits"], false);
    assert!(json["shortfall_gib"].as_f64().unwrap_or_default() > 0.0);
    assert!(json["advice"].as_array().is_some_and(|a| !a.is_empty()));
}

#[test]
fn memory_invalid_parallelism_exits_2_naming_the_rule() {
    let home = home();
    let output = run(
        home.path(),
        &[
            "memory",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--gpu",
            "H100",
            "--tp",
            "3",
        ],
    );
    output.expect_code(2);
    assert!(
        output.stderr.contains("tensor parallel size 3"),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("valid: 1, 2, 4, 8"),
        "{}",
        output.stderr
    );
    let output = run(
        home.path(),
        &[
            "memory",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--gpu",
            "H100",
            "--ep",
            "2",
        ],
    );
    output.expect_code(2);
    assert!(output.stderr.contains("dense"), "{}", output.stderr);
}

// ---------------------------------------------------------------------------------------------
// gpuplan estimate

const ESTIMATE_8B: &[&str] = &[
    "estimate",
    "--model",
    "meta-llama/Llama-3.1-8B",
    "--gpu",
    "H100",
    "--input-len",
    "1024",
    "--output-len",
    "256",
    "--concurrency",
    "1,8,max",
];

#[test]
fn estimate_json_snapshot() {
    let home = home();
    let mut args = ESTIMATE_8B.to_vec();
    args.push("--json");
    let output = run(home.path(), &args);
    output.expect_code(0);
    let mut json = output.json();
    for key in [
        "model",
        "gpu",
        "num_gpus",
        "tp",
        "pp",
        "dp",
        "ep",
        "engine",
        "kv_dtype",
        "weight_quant",
        "max_concurrent_requests",
        "memory",
        "points",
    ] {
        assert!(json.get(key).is_some(), "{key} missing");
    }
    let points = json["points"].as_array().cloned().unwrap_or_default();
    assert_eq!(points.len(), 3);
    assert_eq!(points[0]["concurrency"], 1);
    assert_eq!(points[1]["concurrency"], 8);
    let saturation = points[2]["concurrency"].as_u64().unwrap_or_default();
    assert!(saturation > 8, "saturation concurrency {saturation}");
    for point in &points {
        for key in [
            "time_to_first_token_ms",
            "inter_token_latency_ms",
            "end_to_end_latency_ms",
            "output_throughput_tok_s",
            "total_throughput_tok_s",
            "requests_per_s",
        ] {
            let value = point[key].as_f64().unwrap_or(-1.0);
            assert!(value.is_finite() && value > 0.0, "{key} = {value}");
        }
        assert!(point["prefill_bound"].is_string());
        assert!(point["decode_bound"].is_string());
    }
    // Latency grows and throughput rises with concurrency.
    let itl = |i: usize| {
        points[i]["inter_token_latency_ms"]
            .as_f64()
            .unwrap_or_default()
    };
    let tput = |i: usize| {
        points[i]["output_throughput_tok_s"]
            .as_f64()
            .unwrap_or_default()
    };
    assert!(itl(0) <= itl(1) && itl(1) <= itl(2));
    assert!(tput(0) < tput(1) && tput(1) < tput(2));

    redact(&mut json);
    json["points"][2]["concurrency"] = Value::String("[saturation]".into());
    assert_json_snapshot("estimate_llama_3_1_8b_h100", &json);
}

#[test]
fn estimate_table_and_csv() {
    let home = home();
    let table = run(home.path(), ESTIMATE_8B);
    table.expect_code(0);
    for text in [
        "TTFT",
        "ITL",
        "max (",
        "1x h100_sxm (tp1 pp1 dp1 ep1)",
        "KV cache:",
    ] {
        assert!(table.stdout.contains(text), "{text}:\n{}", table.stdout);
    }
    let mut args = ESTIMATE_8B.to_vec();
    args.extend(["--format", "csv"]);
    let csv = run(home.path(), &args);
    csv.expect_code(0);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert!(
        lines[0].starts_with("requested,concurrency,running_requests,time_to_first_token_ms"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 4, "{}", csv.stdout);
    assert!(lines[3].starts_with("max,"), "{}", lines[3]);
}

#[test]
fn estimate_num_gpus_splits_by_tensor_parallelism() {
    let home = home();
    let output = run(
        home.path(),
        &[
            "estimate",
            "--model",
            "meta-llama/Llama-3.1-70B",
            "--gpu",
            "H200",
            "--num-gpus",
            "4",
            "--input-len",
            "2048",
            "--output-len",
            "512",
            "--concurrency",
            "16",
            "--json",
        ],
    );
    output.expect_code(0);
    let json = output.json();
    assert_eq!(json["tp"], 4);
    assert_eq!(json["pp"], 1);
    assert_eq!(json["dp"], 1);
    assert_eq!(json["num_gpus"], 4);
}

#[test]
fn num_gpus_is_filled_by_the_sizes_left_out() {
    // One rule in every front end (gpuplan::limits::resolve_parallelism): --pp 2 --num-gpus 8 is
    // tp4 pp2, and --tp 2 --num-gpus 8 leaves four data-parallel replicas.
    let home = home();
    for (extra, layout) in [
        (&["--pp", "2", "--num-gpus", "8"][..], (4, 2, 1)),
        (&["--tp", "2", "--num-gpus", "8"][..], (2, 1, 4)),
    ] {
        for command in ["memory", "estimate"] {
            let mut args = vec![
                command,
                "--model",
                "meta-llama/Llama-3.1-70B",
                "--gpu",
                "H100",
                "--max-model-len",
                "4096",
                "--json",
            ];
            if command == "estimate" {
                args.extend(["--input-len", "1024", "--output-len", "128"]);
            }
            args.extend_from_slice(extra);
            let output = run(home.path(), &args);
            output.expect_code(0);
            let json = output.json();
            // memory reports a `parallelism` object, estimate its sizes at the top level.
            let p = json.get("parallelism").unwrap_or(&json);
            assert_eq!(
                (p["tp"].as_u64(), p["pp"].as_u64(), p["dp"].as_u64()),
                (Some(layout.0), Some(layout.1), Some(layout.2)),
                "{command} {extra:?}: {json}"
            );
            assert_eq!(json["num_gpus"].as_u64(), Some(8), "{command} {extra:?}");
        }
    }
}

#[test]
fn estimate_errors_exit_2() {
    let home = home();
    let base = [
        "estimate",
        "--model",
        "meta-llama/Llama-3.1-8B",
        "--gpu",
        "H100",
    ];
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "--num-gpus",
                "6",
                "--tp",
                "4",
                "--input-len",
                "8",
                "--output-len",
                "8",
            ],
            "num_gpus 6 is not a multiple of tp 4 x pp 1",
        ),
        (&["--input-len", "0", "--output-len", "8"], "--input-len"),
        (&["--input-len", "8", "--output-len=-5"], "--output-len"),
        (
            &["--input-len", "99999999999", "--output-len", "8"],
            "--input-len",
        ),
        (
            &[
                "--input-len",
                "8",
                "--output-len",
                "8",
                "--concurrency",
                "0",
            ],
            "not a concurrency",
        ),
        (
            &["--input-len", "8", "--output-len", "8", "--tp", "3"],
            "tensor parallel size 3",
        ),
    ];
    for (extra, message) in cases {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let output = run(home.path(), &args);
        output.expect_code(2);
        assert!(
            output.stderr.contains(message),
            "{args:?}: expected '{message}' in:\n{}",
            output.stderr
        );
    }
}

#[test]
fn estimate_that_does_not_fit_exits_2_with_advice() {
    let home = home();
    let output = run(
        home.path(),
        &[
            "estimate",
            "--model",
            "meta-llama/Llama-3.1-70B",
            "--gpu",
            "H100",
            "--input-len",
            "1024",
            "--output-len",
            "256",
        ],
    );
    output.expect_code(1);
    assert!(output.stderr.contains("does not fit"), "{}", output.stderr);
    assert!(
        output.stderr.contains("gpuplan memory"),
        "{}",
        output.stderr
    );
}

#[test]
fn estimate_plot_writes_an_svg() {
    let home = home();
    let plot = home.path().join("curve.svg");
    let mut args = ESTIMATE_8B.to_vec();
    args.extend(["--plot", path_str(&plot)]);
    run(home.path(), &args).expect_code(0);
    let svg = std::fs::read_to_string(&plot).expect("plot written");
    assert!(svg.contains("<svg"), "{svg}");
    assert!(svg.contains("TTFT") && svg.contains("ITL"), "three panels");
}

// ---------------------------------------------------------------------------------------------
// gpuplan validate / calibrate

#[test]
fn validate_json_scores_rows_and_reports_row_errors() {
    let home = home();
    let file = fixture("measurements_small.csv");
    let output = run(home.path(), &["validate", path_str(&file), "--json"]);
    output.expect_code(0);
    let json = output.json();
    assert_eq!(json["rows_total"], 6);
    assert_eq!(json["rows_predicted"], 5);
    for metric in ["ttft", "itl", "output_tok_s"] {
        let summary = &json["summary"][metric];
        assert!(summary["n"].is_u64(), "{metric}: {summary}");
        assert!(summary["median_ape"].is_number(), "{metric}: {summary}");
        assert!(summary["within_25pct"].is_number(), "{metric}: {summary}");
    }
    assert_eq!(json["summary"]["ttft"]["n"], 4);
    assert_eq!(json["summary"]["output_tok_s"]["n"], 1);
    for group in ["by_engine", "by_gpu", "by_model"] {
        assert!(json[group].is_object(), "{group}");
    }
    assert!(json["by_engine"]["sglang"].is_object());
    let rows = json["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 6);
    let bad = rows
        .iter()
        .find(|r| r["id"] == "unknown_gpu_row")
        .expect("the unknown-GPU row is reported");
    assert!(
        bad["error"].as_str().is_some_and(|e| e.contains("tpu_v99")),
        "{bad}"
    );
    let good = rows.iter().find(|r| r["id"] == "pub054").expect("pub054");
    assert!(good["error"].is_null());
    assert!(good["predicted_output_tok_s"].as_f64().is_some());
}

#[test]
fn validate_table() {
    let home = home();
    let file = fixture("measurements_small.csv");
    let output = run(home.path(), &["validate", path_str(&file)]);
    output.expect_code(0);
    for text in [
        "5 of 6 rows predicted",
        "all",
        "engine vllm",
        "gpu h100_sxm",
        "row unknown_gpu_row not predicted",
    ] {
        assert!(output.stdout.contains(text), "{text}:\n{}", output.stdout);
    }
}

#[test]
fn validate_malformed_csv_exits_2_naming_file_and_row() {
    let home = home();
    let file = home.path().join("broken.csv");
    let good = std::fs::read_to_string(fixture("measurements_small.csv")).expect("fixture");
    let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
    // Row 3 (the second data row) gets a non-numeric input length.
    lines[2] = lines[2].replacen(",1024,", ",lots,", 1);
    std::fs::write(&file, lines.join("\n")).expect("write");
    let output = run(home.path(), &["validate", path_str(&file)]);
    output.expect_code(2);
    assert!(output.stderr.contains("broken.csv"), "{}", output.stderr);
    // One numbering: the line of the file (the header is line 1), not csv's 0-based record.
    assert!(
        output.stderr.contains("line 3: ") && output.stderr.contains("'lots'"),
        "{}",
        output.stderr
    );
    assert!(!output.stderr.contains("record"), "{}", output.stderr);

    let missing = run(home.path(), &["validate", "no-such-file.csv"]);
    missing.expect_code(2);
    assert!(
        missing.stderr.contains("no-such-file.csv"),
        "{}",
        missing.stderr
    );
}

#[test]
fn calibrate_writes_a_profile_that_estimate_and_validate_load() {
    let home = home();
    let file = fixture("measurements_small.csv");
    let profile = home.path().join("fitted.toml");
    let output = run(
        home.path(),
        &[
            "calibrate",
            path_str(&file),
            "-o",
            path_str(&profile),
            "--rounds",
            "2",
            "--json",
        ],
    );
    output.expect_code(0);
    let json = output.json();
    assert_eq!(json["rows_total"], 6);
    assert!(json["before"]["ttft"]["median_ape"].is_number());
    assert!(json["after"]["ttft"]["median_ape"].is_number());
    let engines = json["engines_fitted"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(engines.len(), 3, "{engines:?}");
    let text = std::fs::read_to_string(&profile).expect("profile written");
    assert!(text.contains("[[engine]]"), "{text}");

    let mut args = ESTIMATE_8B.to_vec();
    args.extend(["--profile", path_str(&profile), "--json"]);
    let estimate = run(home.path(), &args);
    estimate.expect_code(0);
    assert_eq!(estimate.json()["points"].as_array().map(Vec::len), Some(3));

    let validate = run(
        home.path(),
        &["validate", path_str(&file), "--profile", path_str(&profile)],
    );
    validate.expect_code(0);

    // The table shows the errors before and after.
    let table = run(
        home.path(),
        &[
            "calibrate",
            path_str(&file),
            "-o",
            path_str(&profile),
            "--rounds",
            "1",
        ],
    );
    table.expect_code(0);
    assert!(table.stdout.contains("before") && table.stdout.contains("after"));
    assert!(table.stdout.contains("--profile"), "{}", table.stdout);
}

#[test]
fn profile_errors_exit_2() {
    let home = home();
    let bad = home.path().join("bad.toml");
    std::fs::write(&bad, "this is = = not toml").expect("write");
    let mut args = ESTIMATE_8B.to_vec();
    args.extend(["--profile", path_str(&bad)]);
    let output = run(home.path(), &args);
    output.expect_code(2);
    assert!(output.stderr.contains("bad.toml"), "{}", output.stderr);
}

// ---------------------------------------------------------------------------------------------
// gpuplan recommend

const ACCEPTANCE: &[&str] = &[
    "recommend",
    "--model",
    "meta-llama/Llama-3.1-70B",
    "--input-len",
    "2048",
    "--output-len",
    "512",
    "--max-ttft-ms",
    "1000",
    "--max-itl-ms",
    "50",
    "--concurrency",
    "32",
];

#[test]
fn recommend_acceptance_json_snapshot() {
    let home = home();
    let mut args = ACCEPTANCE.to_vec();
    args.push("--json");
    let output = run(home.path(), &args);
    output.expect_code(0);
    let mut json = output.json();
    assert_eq!(json["outcome"], "satisfied");
    let configurations = json["configurations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!configurations.is_empty() && configurations.len() <= 5);
    for c in &configurations {
        let ttft = c["time_to_first_token_ms"]
            .as_f64()
            .unwrap_or(f64::INFINITY);
        let itl = c["inter_token_latency_ms"]
            .as_f64()
            .unwrap_or(f64::INFINITY);
        assert!(ttft <= 1000.0 && itl <= 50.0, "{c}");
    }
    // Every configuration carries its launch plan: commands per node and role.
    for c in &configurations {
        let pools = c["launch"]["pools"].as_array().expect("launch plan");
        assert!(!pools.is_empty(), "{c}");
        for p in pools {
            let argv = p["nodes"][0]["argv"].as_array().expect("argv");
            assert_eq!(argv[0], "vllm", "{c}");
        }
    }
    // The chosen configuration in full (figures redacted); of the other lists only the shape
    // of one entry, as their order follows the figures.
    json["configurations"] = Value::Array(configurations.into_iter().take(1).collect());
    for list in ["frontier", "near_misses"] {
        let first = json[list].get(0).map(shape);
        json[list] = Value::Array(first.into_iter().collect());
    }
    redact(&mut json);
    assert_json_snapshot("recommend_llama_3_1_70b_acceptance", &json);
}

#[test]
fn recommend_emit_plans_for_the_engine_or_refuses() {
    let home = home();
    // --emit sglang without --engine plans for SGLang.
    let mut args = ACCEPTANCE.to_vec();
    args.extend(["--gpus", "H100", "--emit", "sglang", "--top", "2", "--json"]);
    let output = run(home.path(), &args);
    output.expect_code(0);
    let json = output.json();
    for c in json["configurations"].as_array().expect("configurations") {
        assert_eq!(c["engine"], "sglang", "{c}");
    }
    let launch = json["launch"].as_str().expect("launch");
    assert!(
        launch.contains("python -m sglang.launch_server"),
        "{launch}"
    );
    // ... and refuses when --engine names others.
    let mut args = ACCEPTANCE.to_vec();
    args.extend(["--gpus", "H100", "--engine", "vllm", "--emit", "sglang"]);
    let output = run(home.path(), &args);
    output.expect_code(2);
    assert!(
        output.stderr.contains("--engine sglang"),
        "{}",
        output.stderr
    );
    // llm-d values and Kubernetes manifests.
    for (target, needle) in [("llm-d", "modelArtifacts:"), ("k8s", "kind: Deployment")] {
        let mut args = ACCEPTANCE.to_vec();
        args.extend(["--gpus", "H100", "--emit", target, "--top", "1"]);
        let output = run(home.path(), &args);
        output.expect_code(0);
        assert!(
            output.stdout.contains(needle),
            "{target}:\n{}",
            output.stdout
        );
    }
}

#[test]
fn recommend_table_with_launch_command() {
    let home = home();
    let mut args = ACCEPTANCE.to_vec();
    args.extend(["--gpus", "H100,H200", "--emit", "vllm", "--top", "3"]);
    let output = run(home.path(), &args);
    output.expect_code(0);
    for text in [
        "GPU",
        "TTFT",
        "$/Mtok",
        "ITL room",
        "Launch command (vllm):",
        "vllm serve",
    ] {
        assert!(output.stdout.contains(text), "{text}:\n{}", output.stdout);
    }
    let mut csv_args = ACCEPTANCE.to_vec();
    csv_args.extend(["--gpus", "H100,H200", "--format", "csv"]);
    let csv = run(home.path(), &csv_args);
    csv.expect_code(0);
    assert!(
        csv.stdout.starts_with("rank,gpu,num_gpus,tp,pp,dp,ep,"),
        "{}",
        csv.stdout
    );
}

#[test]
fn recommend_impossible_exits_1_with_the_closest_misses() {
    let home = home();
    let args = [
        "recommend",
        "--model",
        "meta-llama/Llama-3.1-8B",
        "--gpus",
        "H100",
        "--input-len",
        "2048",
        "--output-len",
        "512",
        "--concurrency",
        "32",
        "--max-ttft-ms",
        "1",
    ];
    let output = run(home.path(), &args);
    output.expect_code(1);
    assert!(
        output.stdout.contains("Closest misses"),
        "{}",
        output.stdout
    );
    assert!(output.stdout.contains("max_ttft_ms"), "{}", output.stdout);
    assert!(
        output
            .stderr
            .contains("no configuration satisfies the request"),
        "{}",
        output.stderr
    );
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let json = run(home.path(), &json_args);
    json.expect_code(1);
    let json = json.json();
    assert_eq!(json["outcome"], "no_configuration");
    assert_eq!(json["near_misses"][0]["excluded_by"], "max_ttft_ms");
}

#[test]
fn recommend_plot_and_report_write_files() {
    let home = home();
    let plot = home.path().join("pareto.svg");
    let report = home.path().join("report.html");
    let mut args = ACCEPTANCE.to_vec();
    args.extend([
        "--gpus",
        "H100,H200",
        "--emit",
        "k8s",
        "--plot",
        path_str(&plot),
        "--report",
        path_str(&report),
        "--json",
    ]);
    run(home.path(), &args).expect_code(0);
    let svg = std::fs::read_to_string(&plot).expect("plot written");
    assert!(svg.contains("<svg"), "{svg}");
    let html = std::fs::read_to_string(&report).expect("report written");
    for text in [
        "<table id=\"ranked\"",
        "<svg",
        "id=\"pareto\"",
        "id=\"memory\"",
        "id=\"latency\"",
        "id=\"launch\"",
    ] {
        assert!(html.contains(text), "{text} missing from the report");
    }
}

#[test]
fn recommend_usage_errors_exit_2() {
    let home = home();
    let cases: &[(&[&str], &str)] = &[
        (&["--input-len", "0", "--max-itl-ms", "50"], "--input-len"),
        (&["--gpus", "NoSuchGpu"], "NoSuchGpu"),
        (&["--price", "H100"], "GPU=USD_PER_HOUR"),
        (
            &["--concurrency", "8", "--request-rate", "2"],
            "--request-rate",
        ),
        (&["--max-ttft-ms=-3"], "--max-ttft-ms"),
    ];
    for (extra, message) in cases {
        let mut args = vec!["recommend", "--model", "meta-llama/Llama-3.1-8B"];
        args.extend_from_slice(extra);
        let output = run(home.path(), &args);
        output.expect_code(2);
        assert!(
            output.stderr.contains(message),
            "{args:?}: expected '{message}' in:\n{}",
            output.stderr
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A newcomer's first hour: what the recommend table shows at a glance

#[test]
fn recommend_table_shows_engine_and_concurrency_and_folds_variants() {
    let home = home();
    let args = [
        "recommend",
        "--model",
        "meta-llama/Llama-3.1-8B",
        "--gpus",
        "H100",
        "--engine",
        "vllm,sglang,trtllm",
        "--allow-quant",
        "fp8",
        "--kv-dtype",
        "auto,fp8",
        "--top",
        "3",
    ];
    let output = run(home.path(), &args);
    output.expect_code(0);
    let out = &output.stdout;
    assert!(
        out.contains("Engine") && out.contains("Concurrency"),
        "{out}"
    );
    let rows: Vec<&str> = out.lines().filter(|l| l.contains(" h100_sxm ")).collect();
    assert_eq!(rows.len(), 3, "three deployments, variants folded:\n{out}");
    assert!(
        rows.iter()
            .any(|r| r.contains("vllm") || r.contains("sglang") || r.contains("trtllm")),
        "{out}"
    );
    assert!(
        out.contains("--all-variants"),
        "the fold is announced:\n{out}"
    );
    assert!(
        out.contains("*: weights requantized from the checkpoint's bf16"),
        "{out}"
    );

    let mut all = args.to_vec();
    all.push("--all-variants");
    let output = run(home.path(), &all);
    output.expect_code(0);
    let all_rows = output
        .stdout
        .lines()
        .filter(|l| l.contains(" h100_sxm "))
        .count();
    assert!(all_rows > 3, "every variant shown:\n{}", output.stdout);

    let mut json = args.to_vec();
    json.push("--json");
    let value = run(home.path(), &json).json();
    assert_eq!(
        value["configurations"].as_array().map(Vec::len),
        Some(all_rows),
        "JSON keeps every variant"
    );

    // One engine: no engine column; the operating concurrency is shown in best-throughput mode.
    let output = run(
        home.path(),
        &[
            "recommend",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--gpus",
            "H100",
        ],
    );
    output.expect_code(0);
    assert!(!output.stdout.contains("Engine"), "{}", output.stdout);
    assert!(output.stdout.contains("Concurrency"), "{}", output.stdout);
}

#[test]
fn recommend_is_native_by_default_and_names_the_requantization_saving() {
    let home = home();
    for extra in [
        &[][..],
        &["--allow-quant", "native"][..],
        &["--allow-quant", "none"][..],
    ] {
        let mut args = vec![
            "recommend",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--gpus",
            "H100",
            "--concurrency",
            "16",
            "--json",
        ];
        args.extend_from_slice(extra);
        let value = run(home.path(), &args).json();
        let configs = value["configurations"].as_array().expect("configurations");
        assert!(!configs.is_empty());
        for c in configs {
            assert_eq!(c["weight_quant"], "bf16", "{extra:?}: {c}");
            assert_eq!(c["kv_dtype"], "bf16", "{extra:?}: {c}");
            assert_eq!(c["requantized"], false, "{extra:?}: {c}");
        }
        let notes = value["notes"].to_string();
        assert!(
            notes.contains("planned in the checkpoint's own format")
                && notes.contains("--allow-quant fp8"),
            "{extra:?}: {notes}"
        );
    }
    let bad = run(
        home.path(),
        &[
            "recommend",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--allow-quant",
            "fp7",
        ],
    );
    bad.expect_code(2);
    assert!(bad.stderr.contains("native"), "{}", bad.stderr);
}

#[test]
fn piped_tables_are_not_truncated() {
    let home = home();
    let mut cmd = common::gpuplan(home.path());
    cmd.env_remove("COLUMNS").args(["gpus"]);
    let out = cmd.output().expect("run gpuplan");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains('…'),
        "a pipe gets every character:\n{stdout}"
    );
    assert!(!stdout.contains("hidden to fit"), "{stdout}");
    assert!(
        stdout.contains("NVLink bridge (2- or 4-way) 450 GB/s x4")
            || stdout.contains("NVLink bridge (2- or 4-way) 450 GB/s"),
        "{stdout}"
    );
}

#[test]
fn plot_and_report_say_where_they_wrote_and_the_report_has_a_launch_command() {
    let home = home();
    let plot = home.path().join("pareto.svg");
    let report = home.path().join("report.html");
    let output = run(
        home.path(),
        &[
            "recommend",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--gpus",
            "H100,L40S",
            "--concurrency",
            "16",
            "--plot",
            plot.to_str().expect("utf-8 path"),
            "--report",
            report.to_str().expect("utf-8 path"),
        ],
    );
    output.expect_code(0);
    assert!(
        output
            .stderr
            .contains(&format!("wrote the Pareto plot to {}", plot.display())),
        "{}",
        output.stderr
    );
    assert!(
        output
            .stderr
            .contains(&format!("wrote the HTML report to {}", report.display())),
        "{}",
        output.stderr
    );
    let html = std::fs::read_to_string(&report).expect("report written");
    assert!(
        html.contains("vllm serve meta-llama/Llama-3.1-8B"),
        "launch command without --emit"
    );
}

#[test]
fn recommend_help_is_grouped_under_headings() {
    let home = home();
    let output = run(home.path(), &["recommend", "--help"]);
    output.expect_code(0);
    let help = &output.stdout;
    let position = |heading: &str| {
        help.find(&format!("\n{heading}:\n"))
            .unwrap_or_else(|| panic!("no {heading} heading:\n{help}"))
    };
    let order = ["Model", "Workload", "Limits", "Search", "Output", "Global"].map(position);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{help}");
    // Global flags sit under Global, after the search flags.
    let global = position("Global");
    for flag in ["--json", "--catalog", "--offline", "--revision"] {
        assert!(
            help[global..].contains(flag),
            "{flag} not under Global:\n{help}"
        );
    }
    assert!(
        help[position("Search")..global].contains("--allow-quant"),
        "{help}"
    );
}

#[test]
fn gpus_filter_by_vendor_and_memory() {
    let home = home();
    let value = run(
        home.path(),
        &["gpus", "--vendor", "amd", "--min-memory", "150", "--json"],
    )
    .json();
    let rows = value["rows"]
        .as_array()
        .or_else(|| value.as_array())
        .expect("rows");
    assert!(!rows.is_empty(), "{value}");
    for row in rows {
        let id = row["id"].as_str().expect("id");
        assert!(id.starts_with("mi"), "{id}");
        assert!(row["memory_gib"].as_f64().expect("memory") >= 150.0, "{id}");
    }
    assert!(
        !rows.iter().any(|r| r["id"] == "mi250x"),
        "128 GiB is below 150"
    );
    let bad = run(home.path(), &["gpus", "--vendor", "acme"]);
    bad.expect_code(2);
    // GPUs people plan on every day are in the catalog, with sourced specs.
    let value = run(
        home.path(),
        &[
            "gpus",
            "RTX 3090",
            "RTX A6000",
            "A40",
            "A30",
            "L20",
            "H800",
            "A800",
            "MI210",
            "--json",
        ],
    )
    .json();
    let ids: Vec<&str> = value
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "rtx_3090",
            "rtx_a6000",
            "a40",
            "a30",
            "l20",
            "h800",
            "a800_sxm_80",
            "mi210"
        ]
    );
    // A vLLM log naming the GPU 'rtx_3090' can be planned.
    let output = run(
        home.path(),
        &[
            "memory",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--gpu",
            "rtx_3090",
            "--tp",
            "1",
            "--max-model-len",
            "4096",
        ],
    );
    output.expect_code(0);
}

#[test]
fn heterogeneous_attention_and_kv_head_errors() {
    let home = home();
    let output = run(
        home.path(),
        &["model", "nvidia/Llama-3_3-Nemotron-Super-49B-v1"],
    );
    output.expect_code(0);
    assert!(
        output.stdout.contains("gqa (64 heads, 8 KV heads"),
        "{}",
        output.stdout
    );
    assert!(
        output
            .stdout
            .contains("49 attention (64 heads, 8 KV heads); 31 no attention (MLP only)"),
        "{}",
        output.stdout
    );
    let config = home.path().join("config.json");
    std::fs::write(
        &config,
        r#"{"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32,
            "num_attention_heads": 32, "num_key_value_heads": 7, "intermediate_size": 14336,
            "vocab_size": 128256}"#,
    )
    .expect("write config");
    let output = run(
        home.path(),
        &["model", config.to_str().expect("utf-8 path")],
    );
    output.expect_code(2);
    assert!(
        output.stderr.contains("num_key_value_heads")
            && output.stderr.contains("valid values: 1, 2, 4, 8, 16, 32"),
        "{}",
        output.stderr
    );
}

#[test]
fn estimate_models_bursts_and_poisson_runs_and_says_which() {
    let home = home();
    let burst = run(
        home.path(),
        &[
            "estimate",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--gpu",
            "H100",
            "--dataset",
            "sharegpt",
            "--request-rate",
            "inf",
            "--num-prompts",
            "1000",
            "--json",
        ],
    );
    burst.expect_code(0);
    let json = burst.json();
    assert!(
        json["workload"]
            .as_str()
            .is_some_and(|w| w.starts_with("burst of 1000 requests, all sent at t=0")),
        "{}",
        json["workload"]
    );
    let point = &json["points"][0];
    assert!(point["run_duration_s"].as_f64().is_some_and(|s| s > 0.0));
    for metric in ["ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"] {
        let p = &point[metric];
        let (p50, p90, p99) = (
            p["p50"].as_f64().unwrap_or(f64::NAN),
            p["p90"].as_f64().unwrap_or(f64::NAN),
            p["p99"].as_f64().unwrap_or(f64::NAN),
        );
        assert!(p50 <= p90 && p90 <= p99, "{metric}: {p}");
    }
    let saturation = run(
        home.path(),
        &[
            "estimate",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--gpu",
            "H100",
            "--input-len",
            "215",
            "--output-len",
            "194",
            "--concurrency",
            "max",
            "--json",
        ],
    );
    let sat = saturation.json()["points"][0]["output_throughput_tok_s"]
        .as_f64()
        .unwrap_or(0.0);
    let burst_tok_s = point["output_throughput_tok_s"]
        .as_f64()
        .unwrap_or(f64::MAX);
    assert!(burst_tok_s < sat, "burst {burst_tok_s} vs saturation {sat}");
    // The table names the workload in one line; --max-concurrency is the flag, --concurrency
    // its alias.
    let table = run(
        home.path(),
        &[
            "estimate",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--gpu",
            "H100",
            "--input-len",
            "215",
            "--output-len",
            "194",
            "--request-rate",
            "16",
            "--max-concurrency",
            "64",
        ],
    );
    table.expect_code(0);
    assert!(
        table.stdout.contains(
            "workload: 1000 requests, Poisson arrivals at 16 req/s, at most 64 in flight"
        ),
        "{}",
        table.stdout
    );
    let bad = run(
        home.path(),
        &[
            "estimate",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--gpu",
            "H100",
            "--input-len",
            "215",
            "--output-len",
            "194",
            "--request-rate",
            "-3",
        ],
    );
    bad.expect_code(2);
    let no_lengths = run(
        home.path(),
        &[
            "estimate",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--gpu",
            "H100",
        ],
    );
    no_lengths.expect_code(2);
    assert!(
        no_lengths.stderr.contains("--input-len"),
        "{}",
        no_lengths.stderr
    );
}

#[test]
fn validate_reads_benchmark_columns_and_length_files_beside_the_csv() {
    let home = home();
    // Run from elsewhere: the row's lengths.csv is found beside the CSV, not in the cwd.
    let file = fixture("bench/runs.csv");
    let output = run(home.path(), &["validate", path_str(&file), "--json"]);
    output.expect_code(0);
    let json = output.json();
    assert_eq!(json["rows_predicted"], 3, "{json}");
    for row in json["rows"].as_array().cloned().unwrap_or_default() {
        for field in [
            "predicted_ttft_ms",
            "predicted_tpot_ms",
            "predicted_output_tok_s",
        ] {
            assert!(
                row[field].as_f64().is_some_and(|v| v > 0.0),
                "{field}: {row}"
            );
        }
    }
    let server = &json["rows"][2];
    assert!(
        server["workload"].as_str().is_some_and(
            |w| w.contains("Poisson arrivals at 30 req/s") && w.contains("lengths.csv")
        ),
        "{server}"
    );
}

#[test]
fn recommend_filters_on_the_slo_percentile() {
    let home = home();
    let output = run(
        home.path(),
        &[
            "recommend",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--gpus",
            "H100",
            "--request-rate",
            "10",
            "--max-ttft-ms",
            "500",
            "--slo-percentile",
            "p90",
            "--json",
        ],
    );
    output.expect_code(0);
    let json = output.json();
    assert_eq!(json["slo"]["percentile"], "p90");
    for c in json["configurations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        assert!(
            c["ttft_ms"]["p90"].as_f64().is_some_and(|v| v <= 500.0),
            "{c}"
        );
    }
    let bad = run(
        home.path(),
        &[
            "recommend",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--slo-percentile",
            "p95",
        ],
    );
    bad.expect_code(2);
}
