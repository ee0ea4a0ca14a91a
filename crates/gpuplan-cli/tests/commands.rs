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
    let table = run(home.path(), &args);
    table.expect_code(0);
    assert!(table.stdout.contains("NO: short by"), "{}", table.stdout);
    assert!(table.stdout.contains("fix:"), "{}", table.stdout);
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let json = run(home.path(), &json_args);
    json.expect_code(0);
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
                "4",
                "--tp",
                "2",
                "--input-len",
                "8",
                "--output-len",
                "8",
            ],
            "--num-gpus must equal tp*pp*dp",
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
    output.expect_code(2);
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
    assert!(output.stderr.contains("row 3"), "{}", output.stderr);

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
