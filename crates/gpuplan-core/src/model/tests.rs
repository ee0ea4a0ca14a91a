use super::*;
use proptest::prelude::*;

const LLAMA_LIKE: &str = r#"{"model_type":"llama","hidden_size":4096,"num_hidden_layers":32,
 "num_attention_heads":32,"num_key_value_heads":8,"intermediate_size":14336,"vocab_size":128256,
 "torch_dtype":"bfloat16"}"#;

fn parse(s: &str) -> Result<Architecture, ModelError> {
    parse_config("test.json", s, None)
}

#[test]
fn bad_input_names_file_and_field() {
    let e = parse("{not json").unwrap_err();
    assert!(
        e.to_string().starts_with("test.json: malformed JSON"),
        "{e}"
    );
    let e = parse(&LLAMA_LIKE.replace("\"hidden_size\":4096,", "")).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("hidden_size"));
    let e = parse(&LLAMA_LIKE.replace("4096", "0")).unwrap_err();
    assert!(e.to_string().contains("must be positive"), "{e}");
    let e = parse(&LLAMA_LIKE.replace("14336", "-5")).unwrap_err();
    assert!(e.to_string().contains("negative"), "{e}");
    let e = parse(&LLAMA_LIKE.replace("128256", "99999999999")).unwrap_err();
    assert!(e.to_string().contains("implausibly large"), "{e}");
    let e = parse(&LLAMA_LIKE.replace("\"num_key_value_heads\":8", "\"num_key_value_heads\":64"))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("num_key_value_heads"));
    // Each KV head serves a whole group of query heads: 7 does not divide 32.
    let e = parse(&LLAMA_LIKE.replace("\"num_key_value_heads\":8", "\"num_key_value_heads\":7"))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("num_key_value_heads"));
    assert!(
        e.to_string().contains("valid values: 1, 2, 4, 8, 16, 32"),
        "{e}"
    );
    let e = parse("[1,2]").unwrap_err();
    assert!(e.to_string().contains("object"));
}

#[test]
fn unknown_model_type_falls_back_or_names_missing_field() {
    let a = parse(&LLAMA_LIKE.replace("\"llama\"", "\"my_new_arch\"")).unwrap();
    assert!(a.notes.iter().any(|n| n.contains("generic decoder")));
    assert_eq!(a.params().total, 8_030_261_248);
    let e = parse(r#"{"model_type":"weird","hidden_size":8}"#).unwrap_err();
    assert!(e.to_string().contains("unknown model_type 'weird'"), "{e}");
    assert_eq!(e.field.as_deref(), Some("num_hidden_layers"));
}

#[test]
fn python_infinity_is_accepted() {
    let s = LLAMA_LIKE.replace(
        "\"torch_dtype\"",
        "\"limit\":[0.0, Infinity],\"nan\":NaN,\"s\":\"Infinity\",\"torch_dtype\"",
    );
    assert!(parse(&s).is_ok());
}

#[test]
fn quantization_configs() {
    let fp8 = LLAMA_LIKE.replace(
        "\"torch_dtype\"",
        r#""quantization_config":{"quant_method":"fp8","weight_block_size":[128,128]},"torch_dtype""#,
    );
    let a = parse(&fp8).unwrap();
    assert_eq!(a.precision.dense_mlp, crate::quant::WeightFormat::Fp8Block);
    assert_eq!(a.precision.embedding, crate::quant::WeightFormat::Bf16);
    let awq = LLAMA_LIKE.replace(
        "\"torch_dtype\"",
        r#""quantization_config":{"quant_method":"awq","bits":4,"group_size":128},"torch_dtype""#,
    );
    assert_eq!(
        parse(&awq).unwrap().precision.attention,
        crate::quant::WeightFormat::Int4
    );
    let bnb = LLAMA_LIKE.replace(
        "\"torch_dtype\"",
        r#""quantization_config":{"quant_method":"bitsandbytes","load_in_8bit":true},"torch_dtype""#,
    );
    assert_eq!(
        parse(&bnb).unwrap().precision.attention,
        crate::quant::WeightFormat::Int8
    );
    let hfq = r#"{"quantization":{"quant_algo":"NVFP4","kv_cache_quant_algo":"FP8","exclude_modules":["lm_head"]}}"#;
    let a = parse_config("t", LLAMA_LIKE, Some(hfq)).unwrap();
    assert_eq!(a.precision.dense_mlp, crate::quant::WeightFormat::Nvfp4);
    assert_eq!(a.precision.lm_head, crate::quant::WeightFormat::Bf16);
    assert_eq!(a.checkpoint_kv_dtype, Some(crate::quant::KvDtype::Fp8));
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        (-1e6f64..1e6).prop_map(serde_json::Value::from),
        "[a-z_]{0,12}".prop_map(serde_json::Value::from),
        prop::collection::vec(0u64..200, 0..6).prop_map(serde_json::Value::from),
    ]
}

const KEYS: &[&str] = &[
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "intermediate_size",
    "vocab_size",
    "head_dim",
    "num_local_experts",
    "num_experts_per_tok",
    "moe_intermediate_size",
    "kv_lora_rank",
    "q_lora_rank",
    "layer_types",
    "sliding_window",
    "hybrid_override_pattern",
    "first_k_dense_replace",
    "moe_layer_freq",
    "model_type",
    "tie_word_embeddings",
    "quantization_config",
    "text_config",
    "mamba_num_heads",
    "full_attention_interval",
    "n_shared_experts",
    "torch_dtype",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    /// Mutating any field of a valid config to any JSON value never panics; a success is sane.
    #[test]
    fn parser_never_panics(idx in 0..KEYS.len(), v in json_value()) {
        let mut base: serde_json::Value = serde_json::from_str(LLAMA_LIKE).unwrap();
        base[KEYS[idx]] = v;
        if let Ok(a) = parse(&base.to_string()) {
            let p = a.params();
            prop_assert!(p.active <= p.total);
            prop_assert!(a.weight_bytes() >= 0.0);
            prop_assert!(a.kv_cache_bytes_per_token(1024, crate::quant::KvDtype::Bf16) >= 0.0);
        }
    }

    /// Arbitrary bytes never panic.
    #[test]
    fn arbitrary_text_never_panics(s in ".{0,200}") {
        let _ = parse(&s);
    }

    /// Sizes scale the way the arithmetic says: params grow with layers.
    #[test]
    fn params_monotone_in_layers(layers in 1u64..64) {
        let s = LLAMA_LIKE.replace("\"num_hidden_layers\":32", &format!("\"num_hidden_layers\":{layers}"));
        let s2 = LLAMA_LIKE.replace("\"num_hidden_layers\":32", &format!("\"num_hidden_layers\":{}", layers + 1));
        prop_assert!(parse(&s2).unwrap().params().total > parse(&s).unwrap().params().total);
    }
}
