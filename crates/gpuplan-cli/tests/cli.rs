//! End-to-end tests of the `gpuplan` binary. Every test goes through [`gpuplan`] (a command with
//! an isolated environment) and [`run`] / [`gpuplan_snapshot!`] (stdout, stderr and exit code,
//! with temporary paths and ports filtered), in the style of uv's CLI tests.
//!
//! Snapshots live in `tests/snapshots/`. Review changes with `cargo insta review`; with
//! `CI=true` (or `INSTA_UPDATE=no`) a changed snapshot fails the test and nothing is written.

// The Hub stand-in server and fixture builders of gpuplan-hub's tests, shared rather than copied.
#[path = "../../gpuplan-hub/tests/support/mod.rs"]
mod support;

mod common;

use std::path::Path;

use common::{home, run_with_env as run};
use support::{index_json, llama_8b_shards, safetensors_header, serve_repo, Server, LLAMA_CONFIG};

/// Exact figures of Llama-3.1-8B's checkpoint (291 BF16 tensors in 4 shards).
const LLAMA_8B_PARAMS: u64 = 8_030_261_248;
const LLAMA_8B_BYTES: u64 = 16_060_522_496;

/// Filters for what changes from run to run: temporary directories and server ports.
fn filters(home: &Path) -> Vec<(String, String)> {
    let home = regex_escape(&home.display().to_string());
    vec![
        (home, "[HOME]".to_string()),
        (
            r"127\.0\.0\.1:\d+".to_string(),
            "127.0.0.1:[PORT]".to_string(),
        ),
    ]
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// Runs `gpuplan ARGS` in a fresh home and snapshots stdout, stderr and the exit code.
macro_rules! gpuplan_snapshot {
    ($name:expr, $args:expr) => {{
        let home = tempfile::tempdir().expect("tempdir");
        gpuplan_snapshot!($name, home.path(), $args, &[])
    }};
    ($name:expr, $home:expr, $args:expr, $env:expr) => {{
        let output = run($home, $args, $env);
        let filters = filters($home);
        let mut settings = insta::Settings::clone_current();
        for (pattern, replacement) in &filters {
            settings.add_filter(pattern, replacement.as_str());
        }
        settings.set_snapshot_path("snapshots");
        settings.bind(|| insta::assert_snapshot!($name, output.snapshot()));
        output
    }};
}

// ---------------------------------------------------------------------------------------------
// gpuplan model

#[test]
fn model_json_snapshots() {
    for (name, spec) in [
        ("model_llama_3_1_8b", "meta-llama/Llama-3.1-8B"),
        ("model_deepseek_v3", "deepseek-ai/DeepSeek-V3"),
        ("model_gpt_oss_120b", "openai/gpt-oss-120b"),
        ("model_nemotron_h_56b", "nvidia/Nemotron-H-56B-Base-8K"),
    ] {
        let home = home();
        let output = run(home.path(), &["model", spec, "--json"], &[]);
        assert_eq!(output.code, 0, "{}", output.snapshot());
        assert_eq!(output.stderr, "");
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots");
        settings.bind(|| insta::assert_json_snapshot!(name, output.json()));
    }
}

#[test]
fn model_table() {
    gpuplan_snapshot!(
        "model_table_llama_3_1_70b",
        &["model", "meta-llama/Llama-3.1-70B"]
    );
}

#[test]
fn model_flags_change_the_figures() {
    let home = home();
    let base = run(home.path(), &["model", "Llama-3.1-8B", "--json"], &[]).json();
    let fp8 = run(
        home.path(),
        &[
            "model",
            "llama-3.1-8b",
            "--weight-quant",
            "fp8",
            "--kv-dtype",
            "fp8",
            "--json",
        ],
        &[],
    )
    .json();
    assert_eq!(base["model"], "meta-llama/Llama-3.1-8B");
    assert_eq!(base["kv_dtype"], "bf16");
    assert_eq!(base["kv_cache_bytes_per_token"], 131072.0);
    assert_eq!(fp8["kv_dtype"], "fp8");
    assert_eq!(fp8["kv_cache_bytes_per_token"], 65536.0);
    assert_eq!(fp8["weight_format"], "fp8");
    assert!(fp8["weight_bytes"].as_f64() < base["weight_bytes"].as_f64());
    // Every flag is also an environment variable.
    let env = run(
        home.path(),
        &["model", "Llama-3.1-8B"],
        &[("GPUPLAN_JSON", "1"), ("GPUPLAN_KV_DTYPE", "fp8")],
    );
    assert_eq!(env.json()["kv_dtype"], "fp8");
}

#[test]
fn model_works_for_every_catalog_model() {
    let home = home();
    let list = run(home.path(), &["models", "--json"], &[]);
    assert_eq!(list.code, 0, "{}", list.snapshot());
    let rows = list.json();
    let ids: Vec<&str> = rows
        .as_array()
        .expect("array")
        .iter()
        .map(|row| row["id"].as_str().expect("id"))
        .collect();
    assert!(ids.len() >= 90, "{} models", ids.len());
    for id in ids {
        let output = run(home.path(), &["model", id, "--json"], &[]);
        assert_eq!(output.code, 0, "{id}:\n{}", output.snapshot());
        let json = output.json();
        assert_eq!(json["model"], id);
        assert_eq!(json["source"], "catalog");
        assert!(json["total_params"].as_u64() > Some(0), "{id}");
        let table = run(home.path(), &["model", id], &[]);
        assert_eq!(table.code, 0, "{id}:\n{}", table.snapshot());
        assert!(table.stdout.contains("KV cache per token"), "{id}");
    }
}

#[test]
fn model_from_a_config_file_and_a_directory() {
    let home = home();
    let dir = home.path().join("my-model");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let config = dir.join("config.json");
    std::fs::write(&config, LLAMA_CONFIG).expect("write");
    for spec in [config.display().to_string(), dir.display().to_string()] {
        let output = run(home.path(), &["model", &spec, "--json"], &[]);
        assert_eq!(output.code, 0, "{}", output.snapshot());
        let json = output.json();
        assert_eq!(json["source"], "local");
        assert_eq!(json["total_params"], LLAMA_8B_PARAMS);
        assert!(
            json.get("checkpoint").is_none(),
            "no safetensors beside the config"
        );
    }
}

#[test]
fn local_safetensors_headers_win_over_the_config() {
    let home = home();
    let dir = home.path().join("ckpt");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("config.json"), LLAMA_CONFIG).expect("write");
    let shards = llama_8b_shards();
    for (file, tensors) in &shards {
        std::fs::write(dir.join(file), safetensors_header(tensors)).expect("write");
    }
    std::fs::write(
        dir.join("model.safetensors.index.json"),
        index_json(&shards),
    )
    .expect("write");
    let json = run(
        home.path(),
        &["model", &dir.display().to_string(), "--json"],
        &[],
    )
    .json();
    assert_eq!(json["checkpoint"]["total_params"], LLAMA_8B_PARAMS);
    assert_eq!(json["checkpoint"]["weight_bytes"], LLAMA_8B_BYTES);
    assert_eq!(json["checkpoint"]["num_shards"], 4);
    assert_eq!(json["weight_bytes"], LLAMA_8B_BYTES as f64);
}

// ---------------------------------------------------------------------------------------------
// The Hugging Face path, end to end against a local server.

#[test]
fn hub_model_end_to_end_then_offline_from_the_cache() {
    let hub = Server::start();
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let shards = llama_8b_shards();
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        ("config.json", LLAMA_CONFIG.as_bytes().to_vec()),
        ("model.safetensors.index.json", index_json(&shards)),
    ];
    for (file, tensors) in &shards {
        files.push((file.as_str(), safetensors_header(tensors)));
    }
    serve_repo(&hub, None, "test-org/tiny-llama", commit, &["main"], &files);

    let home = home();
    let hf_home = home.path().join("hf-home");
    let endpoint = hub.url();
    let env = [
        ("HF_ENDPOINT", endpoint.as_str()),
        ("HF_HOME", hf_home.to_str().expect("utf-8 path")),
    ];
    let online = run(
        home.path(),
        &["model", "test-org/tiny-llama", "--json"],
        &env,
    );
    assert_eq!(online.code, 0, "{}", online.snapshot());
    let json = online.json();
    assert_eq!(json["source"], "hub");
    assert_eq!(json["model"], "test-org/tiny-llama");
    assert_eq!(json["commit"], commit);
    assert_eq!(json["checkpoint"]["total_params"], LLAMA_8B_PARAMS);
    assert_eq!(json["checkpoint"]["weight_bytes"], LLAMA_8B_BYTES);
    assert_eq!(json["checkpoint"]["num_shards"], 4);
    assert_eq!(json["total_params"], LLAMA_8B_PARAMS);
    assert_eq!(json["weight_bytes"], LLAMA_8B_BYTES as f64);

    let requests = hub.requests().len();
    let offline = run(
        home.path(),
        &["model", "test-org/tiny-llama", "--json", "--offline"],
        &env,
    );
    assert_eq!(offline.code, 0, "{}", offline.snapshot());
    let json = offline.json();
    assert_eq!(json["source"], "hf-cache");
    assert_eq!(json["checkpoint"]["total_params"], LLAMA_8B_PARAMS);
    assert_eq!(json["checkpoint"]["weight_bytes"], LLAMA_8B_BYTES);
    assert_eq!(
        hub.requests().len(),
        requests,
        "offline touched the network"
    );
}

#[test]
fn hub_errors_exit_2() {
    let hub = Server::start();
    let home = home();
    let endpoint = hub.url();
    gpuplan_snapshot!(
        "error_hub_not_found",
        home.path(),
        &["model", "test-org/missing"],
        &[("HF_ENDPOINT", endpoint.as_str())]
    );
}

// ---------------------------------------------------------------------------------------------
// gpuplan models / gpus in every format

#[test]
fn models_in_every_format() {
    for format in ["table", "json", "csv", "markdown"] {
        gpuplan_snapshot!(format!("models_{format}"), &["models", "--format", format]);
    }
}

#[test]
fn gpus_in_every_format() {
    for format in ["table", "json", "csv", "markdown"] {
        gpuplan_snapshot!(format!("gpus_{format}"), &["gpus", "--format", format]);
    }
    let home = home();
    let json = run(home.path(), &["--json", "gpus", "H100 SXM", "b200"], &[]).json();
    let ids: Vec<&str> = json
        .as_array()
        .expect("array")
        .iter()
        .map(|g| g["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["h100_sxm", "b200"]);
}

#[test]
fn user_config_and_catalog_overrides_set_prices() {
    let home = home();
    let config_dir = home.path().join(".config").join("gpuplan");
    std::fs::create_dir_all(&config_dir).expect("mkdir");
    std::fs::write(
        config_dir.join("config.toml"),
        "gpus = [\"h100_sxm\"]\nengine = \"vllm\"\n[prices]\n\"H100 SXM\" = 1.25\n",
    )
    .expect("write");
    let json = run(home.path(), &["gpus", "h100_sxm", "--json"], &[]).json();
    assert_eq!(json[0]["price_usd_per_hour"], 1.25);

    let catalog = home.path().join("prices.toml");
    std::fs::write(
        &catalog,
        "[[price]]\ngpu_id = \"b200\"\nusd_per_hour = 4.5\nsource = \"test\"\nas_of = \"2025-01-01\"\n",
    )
    .expect("write");
    let json = run(
        home.path(),
        &[
            "gpus",
            "b200",
            "--json",
            "--catalog",
            catalog.to_str().expect("utf-8"),
        ],
        &[],
    )
    .json();
    assert_eq!(json[0]["price_usd_per_hour"], 4.5);
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn malformed_config_file_exit_2_naming_the_file() {
    let home = home();
    let bad = home.path().join("broken.json");
    std::fs::write(&bad, "{\"hidden_size\": 4096,").expect("write");
    let output = gpuplan_snapshot!(
        "error_malformed_config",
        home.path(),
        &["model", bad.to_str().expect("utf-8")],
        &[]
    );
    assert_eq!(output.code, 2);
    assert!(output.stderr.contains("broken.json"), "{}", output.stderr);
}

#[test]
fn unknown_model_exit_2_with_suggestions() {
    let output = gpuplan_snapshot!("error_unknown_model", &["model", "Llama-3.1-8"]);
    assert_eq!(output.code, 2);
    assert!(output.stderr.contains("meta-llama/Llama-3.1-8B"));
}

#[test]
fn unknown_gpu_exit_2_with_suggestions() {
    let output = gpuplan_snapshot!("error_unknown_gpu", &["gpus", "h1000"]);
    assert_eq!(output.code, 2);
}

#[test]
fn bad_weight_quant_exit_2() {
    let output = gpuplan_snapshot!(
        "error_bad_weight_quant",
        &["model", "Llama-3.1-8B", "--weight-quant", "fp7"]
    );
    assert_eq!(output.code, 2);
}

#[test]
fn usage_errors_exit_2() {
    let output = gpuplan_snapshot!("error_unknown_command", &["modles"]);
    assert_eq!(output.code, 2);
    let home = home();
    assert_eq!(run(home.path(), &["model"], &[]).code, 2, "missing MODEL");
    assert_eq!(run(home.path(), &["gpus", "--format", "xml"], &[]).code, 2);
    assert_eq!(run(home.path(), &["completions", "tcsh"], &[]).code, 2);
    assert_eq!(run(home.path(), &["--help"], &[]).code, 0);
}

#[test]
fn offline_unknown_repo_id_exit_2() {
    let output = gpuplan_snapshot!(
        "error_offline_unknown_repo",
        &["model", "nobody/not-a-model", "--offline"]
    );
    assert_eq!(output.code, 2);
}

#[test]
fn invalid_user_config_exit_2() {
    let home = home();
    let config = home.path().join("config.toml");
    std::fs::write(&config, "gpu = [\"h100\"]\n").expect("write");
    let output = run(
        home.path(),
        &["gpus"],
        &[("GPUPLAN_CONFIG", config.to_str().expect("utf-8"))],
    );
    assert_eq!(output.code, 2, "{}", output.snapshot());
    assert!(
        output.stderr.starts_with("error: invalid config file"),
        "{}",
        output.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Help and completions

#[test]
fn every_command_has_examples_in_its_help() {
    let home = home();
    for command in ["models", "model", "gpus", "completions"] {
        let output = run(home.path(), &[command, "--help"], &[]);
        assert_eq!(output.code, 0);
        assert!(output.stdout.contains("Examples:"), "{command}");
    }
}

#[test]
fn completions_for_each_shell() {
    let home = home();
    for shell in ["bash", "zsh", "fish"] {
        let output = run(home.path(), &["completions", shell], &[]);
        assert_eq!(output.code, 0, "{shell}");
        assert!(output.stdout.contains("gpuplan"), "{shell}");
    }
}
