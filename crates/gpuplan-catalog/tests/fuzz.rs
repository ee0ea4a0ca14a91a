//! Bounded fuzzing (proptest, a few hundred cases each, part of `cargo test`) of the two loaders
//! that read files users hand in: the `config.json` parser, over mutations of the real configs
//! of the catalog's data, and the GPU catalog override loader. Neither may panic; what they
//! accept must be physically possible (finite, non-negative sizes; positive GPU rates).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use gpuplan_core::model::parse_config;
use gpuplan_core::quant::KvDtype;
use proptest::prelude::*;
use serde_json::Value;

/// The real `config.json` files of the catalog (not the `hf_quant_config.json` files).
fn real_configs() -> &'static [(String, String)] {
    static CONFIGS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/models");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("data/models")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|e| e == "json")
                    && !p.to_string_lossy().ends_with("hf_quant_config.json")
            })
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).expect("config");
                (p.display().to_string(), text)
            })
            .collect()
    })
}

/// Values a mutated field may take: the edge cases of every type.
fn json_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        Just(Value::from(0)),
        Just(Value::from(-1)),
        Just(Value::from(1)),
        Just(Value::from(3)),
        Just(Value::from(u64::MAX)),
        Just(Value::from(i64::MIN)),
        Just(Value::from(1e308)),
        Just(Value::from(-0.5)),
        Just(Value::from(0.5)),
        (0u64..100_000).prop_map(Value::from),
        "[a-z_]{0,12}".prop_map(Value::from),
        Just(Value::Array(Vec::new())),
        Just(serde_json::json!([1, 2, 3])),
        Just(serde_json::json!({"quant_method": "awq", "bits": 1000})),
        Just(Value::Object(serde_json::Map::new())),
    ]
}

/// What a parsed architecture must satisfy, whatever the config said.
fn check_sane(name: &str, text: &str) -> Result<(), TestCaseError> {
    if let Ok(arch) = parse_config(name, text, None) {
        let p = arch.params();
        prop_assert!(p.active <= p.total, "{name}: active > total");
        let weights = arch.weight_bytes();
        prop_assert!(
            weights.is_finite() && weights >= 0.0,
            "{name}: weights {weights}"
        );
        for dtype in [KvDtype::Bf16, KvDtype::Fp8] {
            let kv = arch.kv_cache_bytes_per_token(4096, dtype);
            prop_assert!(kv.is_finite() && kv >= 0.0, "{name}: kv {kv}");
        }
        let state = arch.state_bytes_per_sequence();
        prop_assert!(state.is_finite() && state >= 0.0, "{name}: state {state}");
    }
    Ok(())
}

fn fuzz_cases() -> u32 {
    std::env::var("GPUPLAN_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(384)
}

proptest! {
    // GPUPLAN_FUZZ_CASES raises the count for a longer run by hand (CI keeps the default).
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), failure_persistence: None, .. ProptestConfig::default() })]

    /// One top-level field of a real config set to an edge value (or removed).
    #[test]
    fn mutated_real_configs_never_panic(
        which in any::<prop::sample::Index>(),
        key in any::<prop::sample::Index>(),
        value in prop::option::of(json_value()),
    ) {
        let (name, text) = which.get(real_configs());
        let cleaned = gpuplan_core::model::replace_non_json_numbers(text);
        let mut config: Value = serde_json::from_str(&cleaned).expect("catalog configs are JSON");
        let object = config.as_object_mut().expect("object");
        let keys: Vec<String> = object.keys().cloned().collect();
        let key = key.get(&keys).clone();
        match value {
            Some(v) => { object.insert(key, v); }
            None => { object.remove(&key); }
        }
        check_sane(name, &config.to_string())?;
    }

    /// A real config cut anywhere, or with a Python non-number spliced in.
    #[test]
    fn truncated_and_spliced_real_configs_never_panic(
        which in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        splice in prop::option::of(prop_oneof![
            Just("Infinity"), Just("-Infinity"), Just("NaN"), Just("\""), Just("{"), Just("]")
        ]),
    ) {
        let (name, text) = which.get(real_configs());
        let mut cut = at.index(text.len().max(1));
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let mutated = match splice {
            Some(token) => format!("{}{token}{}", &text[..cut], &text[cut..]),
            None => text[..cut].to_string(),
        };
        check_sane(name, &mutated)?;
    }

    /// A user catalog file overriding one field of an existing or a new GPU with an edge value:
    /// loaded and merged, or refused with an error; a merged catalog is valid.
    #[test]
    fn catalog_overrides_never_panic(
        new_gpu in any::<bool>(),
        field in prop::sample::select(vec![
            "memory_gb", "memory_gib", "memory_bandwidth_gb_s", "scale_out_gb_s_per_gpu",
            "gpus_per_node", "scale_up_domain", "tdp_w", "peak.bf16_tflops", "peak.fp8_tflops",
            "peak.fp4_tflops", "scale_up.bandwidth_gb_s_per_direction", "name",
        ]),
        value in prop::sample::select(vec![
            "0", "-1", "1e308", "nan", "inf", "-inf", "0.5", "80", "4096", "\"x\"", "true", "[]",
        ]),
    ) {
        let id = if new_gpu { "fuzz_gpu" } else { "h100_sxm" };
        let toml = match field.split_once('.') {
            Some((table, key)) => format!("[[gpu]]\nid = \"{id}\"\n[gpu.{table}]\n{key} = {value}\n"),
            None => format!("[[gpu]]\nid = \"{id}\"\n{field} = {value}\n"),
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("catalog.toml");
        std::fs::write(&path, &toml).expect("write");
        if let Ok(overrides) = gpuplan_catalog::hardware::load_overrides(&path) {
            let mut catalog = gpuplan_catalog::hardware::embedded_hardware().clone();
            if catalog.merge(overrides).is_ok() {
                prop_assert!(catalog.validate().is_ok(), "{toml}");
                for gpu in &catalog.gpus {
                    prop_assert!(gpu.memory_bytes() > 0.0 && gpu.memory_bytes().is_finite(), "{toml}");
                    prop_assert!(gpu.memory_bandwidth_gb_s > 0.0, "{toml}");
                }
            }
        }
    }
}
