//! Bad and hostile input at the edge of the `gpuplan` binary: files that are not files, configs
//! written by Python's json, impossible catalog and config values, huge names, a Hub that
//! trickles or is busy. Each must end quickly with a clear error (exit 2) or a correct answer.

#[path = "../../gpuplan-hub/tests/support/mod.rs"]
mod support;

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{home, run, run_with_env};
use serde_json::Value;
use support::{serve_repo, Route, Server, LLAMA_CONFIG};

/// A model config of the embedded catalog's data (real `config.json` files from the Hub).
fn catalog_config(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../gpuplan-catalog/data/models")
        .join(file)
}

/// A catalog config with some fields replaced, written into `dir`.
fn mutated_config(dir: &Path, file: &str, edit: impl FnOnce(&mut Value)) -> String {
    let text = std::fs::read_to_string(catalog_config(file)).expect("catalog config");
    let mut value: Value = serde_json::from_str(&text).expect("JSON");
    edit(&mut value);
    let path = dir.join(format!("mutated-{file}"));
    std::fs::write(&path, value.to_string()).expect("write");
    path.display().to_string()
}

/// Every number in a JSON document, with its path.
fn numbers(value: &Value, path: &str, out: &mut Vec<(String, f64)>) {
    match value {
        Value::Number(n) => out.push((path.to_string(), n.as_f64().unwrap_or(0.0))),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                numbers(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                numbers(item, &format!("{path}.{key}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(unix)]
#[test]
fn devices_and_fifos_are_refused_without_reading_them() {
    let home = home();
    let out = run(home.path(), &["model", "/dev/zero"]);
    out.expect_code(2);
    assert!(out.stderr.contains("not a regular file"), "{}", out.stderr);

    for args in [
        &["--catalog", "/dev/zero", "gpus"][..],
        &["validate", "/dev/zero"][..],
        &[
            "recommend",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--profile",
            "/dev/zero",
        ][..],
    ] {
        let out = run(home.path(), args);
        out.expect_code(2);
        assert!(
            out.stderr.contains("not a regular file"),
            "{args:?}: {}",
            out.stderr
        );
    }

    let fifo = home.path().join("config.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let fifo = fifo.display().to_string();
    for args in [&["model", &fifo][..], &["--catalog", &fifo, "gpus"][..]] {
        let out = run(home.path(), args);
        out.expect_code(2);
        assert!(
            out.stderr.contains("not a regular file"),
            "{args:?}: {}",
            out.stderr
        );
    }
}

#[test]
fn configs_with_infinity_parse() {
    let home = home();
    for file in [
        "nvidia__Nemotron-H-56B-Base-8K.json",
        "nvidia__NVIDIA-Nemotron-3-Super-120B-A12B-FP8.json",
    ] {
        let path = catalog_config(file);
        let text = std::fs::read_to_string(&path).expect("config");
        assert!(text.contains("Infinity"), "{file} no longer has Infinity");
        let out = run(
            home.path(),
            &["model", &path.display().to_string(), "--json"],
        );
        out.expect_code(0);
        assert!(out.json()["total_params"].as_f64() > Some(1e10), "{file}");
    }
}

#[test]
fn impossible_catalog_values_name_the_field() {
    let home = home();
    for (toml, field) in [
        (
            "[[gpu]]\nid = \"h100_sxm\"\n[gpu.peak]\nbf16_tflops = 0\n",
            "peak.bf16_tflops",
        ),
        (
            "[[gpu]]\nid = \"h100_sxm\"\n[gpu.peak]\nfp8_tflops = -5\n",
            "fp8_tflops",
        ),
        (
            "[[gpu]]\nid = \"h100_sxm\"\nmemory_gib = 1e308\n",
            "memory_gib",
        ),
    ] {
        let catalog = home.path().join("catalog.toml");
        std::fs::write(&catalog, toml).expect("write");
        let out = run(
            home.path(),
            &[
                "--catalog",
                &catalog.display().to_string(),
                "recommend",
                "--model",
                "meta-llama/Llama-3.1-8B",
                "--gpus",
                "H100",
            ],
        );
        out.expect_code(2);
        assert!(out.stderr.contains(field), "{field}: {}", out.stderr);
    }
}

#[test]
fn inconsistent_configs_are_refused_or_noted() {
    let home = home();
    let dir = home.path();
    let refused = [
        (
            mutated_config(dir, "mistralai__Mixtral-8x7B-v0.1.json", |v| {
                v["num_local_experts"] = 0.into();
            }),
            "num_local_experts",
        ),
        (
            mutated_config(dir, "deepseek-ai__DeepSeek-V3.json", |v| {
                v["kv_lora_rank"] = 0.into();
            }),
            "kv_lora_rank",
        ),
        (
            mutated_config(dir, "meta-llama__Llama-3.1-8B.json", |v| {
                v["hidden_size"] = 4097.into();
                v.as_object_mut().expect("object").remove("head_dim");
            }),
            "head_dim",
        ),
    ];
    for (path, field) in refused {
        let out = run(dir, &["model", &path]);
        out.expect_code(2);
        assert!(out.stderr.contains(field), "{field}: {}", out.stderr);
    }
    let awq = mutated_config(dir, "meta-llama__Llama-3.1-8B.json", |v| {
        v["quantization_config"] = serde_json::json!({"quant_method": "awq", "bits": 1000});
    });
    let out = run(dir, &["model", &awq, "--json"]);
    out.expect_code(0);
    assert!(out.stdout.contains("bits = 1000"), "{}", out.stdout);
    assert_ne!(out.json()["weight_format"], "int8", "{}", out.stdout);
}

#[test]
fn no_negative_number_in_json_output() {
    let home = home();
    for args in [
        &[
            "memory",
            "--model",
            "meta-llama/Llama-3.1-70B",
            "--gpu",
            "H100",
            "--json",
        ][..],
        &[
            "memory",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--gpu",
            "H100",
            "--json",
        ][..],
        &[
            "estimate",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--gpu",
            "H100",
            "--input-len",
            "1024",
            "--output-len",
            "256",
            "--json",
        ][..],
        // Nothing meets a 1 ms TTFT: the near misses and frontier carry no negative room.
        &[
            "recommend",
            "--model",
            "meta-llama/Llama-3.1-70B",
            "--gpus",
            "H100",
            "--max-ttft-ms",
            "1",
            "--json",
        ][..],
    ] {
        let out = run(home.path(), args);
        let mut found = Vec::new();
        numbers(&out.json(), "", &mut found);
        let negative: Vec<_> = found.iter().filter(|(_, n)| *n < 0.0).collect();
        assert!(negative.is_empty(), "{args:?}: {negative:?}");
    }
    // The plan that does not fit says by how much instead.
    let out = run(
        home.path(),
        &[
            "memory",
            "--model",
            "meta-llama/Llama-3.1-70B",
            "--gpu",
            "H100",
            "--json",
        ],
    );
    let stage = &out.json()["stages"][0];
    assert_eq!(stage["kv_pool_gib"].as_f64(), Some(0.0));
    assert!(
        stage["kv_pool_shortfall_gib"].as_f64() > Some(10.0),
        "{stage}"
    );
}

#[test]
fn errors_are_short_and_say_things_once() {
    let home = home();
    let out = run(
        home.path(),
        &["--catalog", "/nonexistent/catalog.toml", "gpus"],
    );
    out.expect_code(2);
    assert_eq!(
        out.stderr.matches("os error 2").count(),
        1,
        "{}",
        out.stderr
    );

    let long = "y".repeat(100_000);
    let out = run(home.path(), &["model", &long]);
    out.expect_code(2);
    assert!(out.stderr.len() < 2_200, "{} bytes", out.stderr.len());
    let out = run(
        home.path(),
        &[
            "memory",
            "--model",
            "meta-llama/Llama-3.1-8B",
            "--gpu",
            &long,
        ],
    );
    out.expect_code(2);
    assert!(out.stderr.len() < 2_200, "{} bytes", out.stderr.len());
}

#[test]
fn a_trickling_hub_is_abandoned_and_a_busy_one_retried() {
    let home = home();
    let hub = Server::start();
    hub.route(
        "/org/trickle/resolve/main/config.json",
        Route::trickle(vec![b' '; 10_000], Duration::from_millis(300)),
    );
    let endpoint = hub.url();
    let env = [
        ("HF_ENDPOINT", endpoint.as_str()),
        ("GPUPLAN_HUB_DEADLINE", "2"),
    ];
    let out = run_with_env(home.path(), &["model", "org/trickle"], &env);
    out.expect_code(2);
    assert!(
        out.stderr.contains("GPUPLAN_HUB_DEADLINE"),
        "{}",
        out.stderr
    );

    serve_repo(
        &hub,
        None,
        "org/busy",
        "0123456789abcdef0123456789abcdef01234567",
        &["main"],
        &[("config.json", LLAMA_CONFIG.as_bytes().to_vec())],
    );
    hub.route_once(
        "/org/busy/resolve/main/config.json",
        Route::status(503).header("Retry-After", "1"),
    );
    let out = run_with_env(home.path(), &["model", "org/busy", "--json"], &env);
    out.expect_code(0);
    assert!(out.json()["total_params"].as_f64() > Some(8e9));
}
