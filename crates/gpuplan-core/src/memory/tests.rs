use super::*;
use crate::hardware::{LinkKind, PeakRates, ScaleUpLink, Vendor};
use crate::model::parse_config;
use proptest::prelude::*;

const GIB: f64 = BYTES_PER_GIB;

fn gpu(memory_gib: f64) -> Gpu {
    Gpu {
        id: "test_gpu".into(),
        vendor: Vendor::Nvidia,
        name: "Test GPU".into(),
        aliases: vec![],
        form_factor: "SXM".into(),
        arch: "hopper".into(),
        compute_capability: Some(9.0),
        gfx_target: None,
        memory_gb: memory_gib,
        memory_gib,
        memory_type: "HBM3".into(),
        memory_bandwidth_gb_s: 3350.0,
        peak: PeakRates::default(),
        native_fp8: true,
        native_fp4: false,
        scale_up: ScaleUpLink {
            kind: LinkKind::NvLink,
            name: "NVLink4".into(),
            bandwidth_gb_s_per_direction: 450.0,
            latency_us: 10.0,
        },
        gpus_per_node: 8,
        scale_up_domain: 8,
        scale_out_gb_s_per_gpu: 50.0,
        host_interface: String::new(),
        host_link_gb_s_per_direction: 64.0,
        tdp_w: None,
        confidence: String::new(),
        source: "test".into(),
        corroborated_by: String::new(),
        field_sources: Default::default(),
        notes: String::new(),
    }
}

fn rule(value: f64) -> OverheadRule {
    OverheadRule {
        versions: "*".into(),
        model_types: vec![],
        moe: None,
        min_tp: 1,
        max_tp: None,
        min_pp: 1,
        max_pp: None,
        min_gpu_gib: None,
        max_gpu_gib: None,
        weight_formats: vec![],
        value,
        per_model_gpu: 0.0,
        source: "test".into(),
    }
}

/// Round numbers so the hand arithmetic below stays readable: activation 1 GiB, non-torch
/// 0.5 GiB, CUDA graphs 0.25 GiB, blocks of 16.
fn overheads() -> MemoryOverheads {
    let engine = |engine, rule_kind, block| EngineOverheads {
        engine,
        default_version: "1.0.0".into(),
        kv_block_size: block,
        kv_block_size_source: "test".into(),
        kv_pool_rule: rule_kind,
        kv_pool_rule_source: "test".into(),
        default_memory_fraction: vec![rule(0.9)],
        default_reserved_gib: vec![],
        activation_gib: vec![rule(1.0)],
        activation_pp_scale: vec![],
        non_torch_gib: vec![rule(0.5)],
        cuda_graph_gib: vec![rule(0.25)],
        expert_intermediate_padding: vec![],
    };
    MemoryOverheads {
        engines: vec![
            engine(Engine::Vllm, KvPoolRule::FractionOfTotal, 16),
            engine(Engine::Sglang, KvPoolRule::StaticFractionOfTotal, 1),
            engine(Engine::Trtllm, KvPoolRule::FractionOfFree, 32),
        ],
    }
}

/// Qwen2.5-0.5B's shape: 24 layers, 14 query / 2 KV heads of 64, hidden 896, tied embeddings.
const QWEN25_05B: &str = r#"{
  "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
  "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
  "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936,
  "max_position_embeddings": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "rms_norm_eps": 1e-6, "hidden_act": "silu"
}"#;

fn qwen() -> Architecture {
    parse_config("qwen2.5-0.5b", QWEN25_05B, None).expect("parses")
}

fn request<'a>(
    arch: &'a Architecture,
    gpu: &'a Gpu,
    par: Parallelism,
    len: u64,
) -> MemoryRequest<'a> {
    MemoryRequest {
        arch,
        gpu,
        parallelism: par,
        kv_dtype: KvDtype::Bf16,
        max_model_len: len,
        gpu_memory_utilization: 0.9,
        engine: Engine::Vllm,
        engine_version: None,
    }
}

#[test]
fn gqa_arithmetic_by_hand() {
    let a = qwen();
    // Parameters: embedding 151936 x 896; per layer q (896x896 + 896 bias), k and v
    // (896x128 + 128 each), o (896x896), MLP 3 x 896 x 4864, two norms of 896; final norm 896.
    let embedding = 151_936u64 * 896;
    let attention = 896 * 896 + 896 + 2 * (896 * 128 + 128) + 896 * 896;
    let mlp = 3 * 896 * 4864;
    let per_layer = attention + mlp + 2 * 896;
    let total = embedding + 24 * per_layer + 896;
    assert_eq!(total, 494_032_768);
    assert_eq!(a.params().total, total);

    let g = gpu(80.0);
    let p =
        plan_memory(&request(&a, &g, Parallelism::single(), 32768), &overheads()).expect("plan");
    let weights = total as f64 * 2.0;
    assert!((p.weights_gib_per_gpu * GIB - weights).abs() < 1.0);
    // KV: 24 layers x 2 KV heads x 64 x 2 (K, V) x 2 bytes = 12288 bytes per token.
    assert_eq!(p.kv_cache_bytes_per_token, 12288.0);
    let pool = 80.0 * 0.9 - weights / GIB - 1.0 - 0.5;
    assert!((p.kv_cache_gib_per_gpu - pool).abs() < 1e-9);
    let blocks = (pool * GIB / (12288.0 * 16.0)).floor();
    assert_eq!(p.kv_cache_tokens, blocks as u64 * 16);
    let concurrency = blocks * 16.0 / 32768.0;
    assert!((p.max_concurrent_requests - concurrency).abs() < 1e-9);
    assert_eq!(
        p.max_model_len_fit, 32768,
        "capped at max_position_embeddings"
    );
    assert!(p.fits);
    assert!((p.free_gib_per_gpu - 8.0).abs() < 1e-9);

    // TP2: 2 KV heads split one per GPU; TP7 would break the 14/2 head rule; TP14 keeps one KV
    // head (replicated) per GPU.
    let p2 = plan_memory(
        &request(&a, &gpu(80.0), Parallelism::tensor(2), 32768),
        &overheads(),
    )
    .expect("plan");
    assert_eq!(p2.kv_cache_bytes_per_token, 6144.0);
    let e = plan_memory(
        &request(&a, &g, Parallelism::tensor(7), 32768),
        &overheads(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("2 KV heads") && e.contains("valid: 1, 2, 14"),
        "{e}"
    );
    let p14 = plan_memory(
        &request(&a, &g, Parallelism::tensor(14), 32768),
        &overheads(),
    )
    .expect("plan");
    assert_eq!(p14.kv_cache_bytes_per_token, 6144.0);
}

#[test]
fn pipeline_stages_carry_embedding_and_head() {
    let a = qwen();
    let g = gpu(80.0);
    let par = Parallelism {
        tp: 1,
        pp: 2,
        dp: 1,
        ep: 1,
    };
    let p = plan_memory(&request(&a, &g, par, 4096), &overheads()).expect("plan");
    assert_eq!(p.stages.len(), 2);
    assert_eq!(p.stages[0].num_layers + p.stages[1].num_layers, 24);
    // Tied embeddings: both stages hold a copy (the last one as its LM head).
    let emb = 151_936.0 * 896.0 * 2.0 / GIB;
    assert!(p.stages[0].weights_gib > emb && p.stages[1].weights_gib > emb);
    assert_eq!(p.kv_cache_bytes_per_token, 12288.0 / 2.0);
    assert_eq!(stage_layer_ranges(5, 2), vec![0..3, 3..5]);
    assert_eq!(stage_layer_ranges(10, 4), vec![0..2, 2..5, 5..8, 8..10]);
}

#[test]
fn engines_and_versions_parse() {
    for e in Engine::ALL {
        assert_eq!(e.to_string().parse::<Engine>(), Ok(e));
    }
    assert_eq!("TensorRT-LLM".parse::<Engine>(), Ok(Engine::Trtllm));
    assert!("tgi".parse::<Engine>().is_err());
    assert_eq!(
        serde_json::to_string(&Engine::Sglang).unwrap(),
        "\"sglang\""
    );
    let v = EngineVersion::parse("~0.11").unwrap();
    assert_eq!(v.to_string(), "0.11.0");
    assert!(v.satisfies("<0.17").unwrap());
    assert!(!v.satisfies(">=0.17, <0.18").unwrap());
    assert!(EngineVersion::parse("v0.19.0rc1")
        .unwrap()
        .satisfies(">=0.19")
        .unwrap());
    assert!(EngineVersion::parse("latest").is_err());
    assert!(v.satisfies("<zero").is_err());
}

#[test]
fn bad_requests_are_errors() {
    let a = qwen();
    let g = gpu(80.0);
    let o = overheads();
    let mut r = request(&a, &g, Parallelism::single(), 0);
    assert!(plan_memory(&r, &o).is_err());
    r.max_model_len = 10;
    r.gpu_memory_utilization = 1.5;
    assert!(plan_memory(&r, &o).is_err());
    r.gpu_memory_utilization = f64::NAN;
    assert!(plan_memory(&r, &o).is_err());
    r.gpu_memory_utilization = 0.9;
    r.engine_version = Some("nightly".into());
    assert!(matches!(plan_memory(&r, &o), Err(MemoryError::Version(_))));
    r.engine_version = None;
    let empty = MemoryOverheads { engines: vec![] };
    assert!(matches!(
        plan_memory(&r, &empty),
        Err(MemoryError::Overheads(_))
    ));
    let zero = gpu(0.0);
    assert!(plan_memory(&request(&a, &zero, Parallelism::single(), 10), &o).is_err());
    let dense_ep = Parallelism {
        tp: 2,
        pp: 1,
        dp: 1,
        ep: 2,
    };
    assert!(matches!(
        plan_memory(&request(&a, &g, dense_ep, 10), &o),
        Err(MemoryError::Parallelism(ParallelismError::EpDense { .. }))
    ));
    assert!(matches!(
        Parallelism::tensor(2).validate(&a, 4),
        Err(ParallelismError::GpuCount { .. })
    ));
    let pp = Parallelism {
        tp: 1,
        pp: 25,
        dp: 1,
        ep: 1,
    };
    assert!(pp
        .validate(&a, 25)
        .unwrap_err()
        .to_string()
        .contains("24 layers"));
}

#[test]
fn too_small_gpu_does_not_fit_and_advises() {
    let a = qwen();
    let g = gpu(2.5);
    let p =
        plan_memory(&request(&a, &g, Parallelism::single(), 32768), &overheads()).expect("plan");
    assert!(!p.fits);
    assert_eq!(p.kv_cache_gib_per_gpu, 0.0);
    assert_eq!(p.kv_cache_tokens, 0);
    assert_eq!(p.max_concurrent_requests, 0.0);
    assert!(p.shortfall_gib > 0.0);
    assert!(!p.advice.is_empty());
    assert!(
        p.advice
            .iter()
            .any(|s| s.contains("tensor parallel size 2")),
        "{:?}",
        p.advice
    );
}

#[test]
fn moe_experts_shard_by_tp_or_ep() {
    let cfg = r#"{
      "architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe",
      "hidden_size": 1024, "intermediate_size": 3072, "moe_intermediate_size": 512,
      "num_hidden_layers": 4, "num_attention_heads": 16, "num_key_value_heads": 4,
      "head_dim": 64, "num_experts": 16, "num_experts_per_tok": 2, "vocab_size": 32000,
      "max_position_embeddings": 8192, "tie_word_embeddings": false, "torch_dtype": "bfloat16"
    }"#;
    let a = parse_config("tiny-moe", cfg, None).expect("parses");
    assert_eq!(a.num_experts(), 16);
    let g = gpu(80.0);
    let o = overheads();
    let routed = |par: Parallelism| {
        let p = plan_memory(&request(&a, &g, par, 1024), &o).expect("plan");
        p.weight_bytes_per_gpu_by_class[&TensorClass::RoutedExperts]
    };
    let total = a.first_moe().map_or(0, |m| m.routed_params()) as f64 * 4.0 * 2.0;
    assert!((routed(Parallelism::single()) - total).abs() < 1.0);
    assert!((routed(Parallelism::tensor(4)) - total / 4.0).abs() < 1.0);
    // EP over TP x DP ranks: 8 ranks hold 2 experts each.
    let ep8 = Parallelism {
        tp: 2,
        pp: 1,
        dp: 4,
        ep: 8,
    };
    assert!((routed(ep8) - total / 8.0).abs() < 1.0);
    let bad = Parallelism {
        tp: 2,
        pp: 1,
        dp: 1,
        ep: 3,
    };
    let e = bad.validate(&a, 2).unwrap_err().to_string();
    assert!(
        e.contains("16 experts") && e.contains("valid: 1, 2, 4, 8, 16"),
        "{e}"
    );
    let over = Parallelism {
        tp: 2,
        pp: 1,
        dp: 1,
        ep: 4,
    };
    assert!(over
        .validate(&a, 2)
        .unwrap_err()
        .to_string()
        .contains("tp*dp = 2"));
}

#[test]
fn sglang_and_trtllm_rules() {
    let a = qwen();
    let g = gpu(80.0);
    let o = overheads();
    let mut r = request(&a, &g, Parallelism::single(), 4096);
    r.engine = Engine::Sglang;
    r.gpu_memory_utilization = 0.85;
    let s = plan_memory(&r, &o).expect("plan");
    let w = s.weights_gib_per_gpu;
    assert!((s.kv_cache_gib_per_gpu - (80.0 * 0.85 - w - 0.5)).abs() < 1e-9);
    assert_eq!(
        s.kv_cache_tokens,
        (s.kv_cache_gib_per_gpu * GIB / 12288.0).floor() as u64
    );
    r.engine = Engine::Trtllm;
    r.gpu_memory_utilization = 0.9;
    let t = plan_memory(&r, &o).expect("plan");
    assert!((t.kv_cache_gib_per_gpu - 0.9 * (80.0 - w - 1.0 - 0.5 - 0.25)).abs() < 1e-9);
    assert_eq!(t.kv_block_size, 32);
    let frac = o.default_memory_fraction(Engine::Trtllm, None, 80.0, Parallelism::single());
    assert_eq!(frac, 0.9);
}

#[test]
fn plan_serializes_with_unit_names() {
    let a = qwen();
    let g = gpu(80.0);
    let p = plan_memory(&request(&a, &g, Parallelism::single(), 4096), &overheads()).expect("plan");
    let json = serde_json::to_value(&p).expect("serializes");
    for key in [
        "weights_gib_per_gpu",
        "kv_cache_gib_per_gpu",
        "kv_cache_tokens",
        "max_concurrent_requests",
        "max_model_len_fit",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert!(
        json["weight_bytes_per_gpu_by_class"]["embedding"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}

fn synthetic(
    layers: u32,
    heads: u32,
    kv_heads: u32,
    head_dim: u32,
    ffn: u32,
    vocab: u32,
) -> Architecture {
    let cfg = format!(
        r#"{{"architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": {h}, "intermediate_size": {ffn}, "num_hidden_layers": {layers},
        "num_attention_heads": {heads}, "num_key_value_heads": {kv_heads}, "head_dim": {head_dim},
        "vocab_size": {vocab}, "max_position_embeddings": 131072,
        "tie_word_embeddings": false, "torch_dtype": "bfloat16"}}"#,
        h = heads * head_dim
    );
    parse_config("synthetic", &cfg, None).expect("synthetic config parses")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn concurrency_never_grows_with_context(
        layers in 1u32..48, kv_pow in 0u32..4, group in 1u32..5, len in 1u64..200_000, extra in 1u64..100_000,
    ) {
        let kv = 1 << kv_pow;
        let a = synthetic(layers, kv * group, kv, 64, 1024, 32000);
        let g = gpu(80.0);
        let o = overheads();
        let short = plan_memory(&request(&a, &g, Parallelism::single(), len), &o).expect("plan");
        let long = plan_memory(&request(&a, &g, Parallelism::single(), len + extra), &o).expect("plan");
        prop_assert!(long.max_concurrent_requests <= short.max_concurrent_requests);
        prop_assert!(kv_capacity_requests(&short, len + extra) <= kv_capacity_requests(&short, len));
        // More requests need more memory: n requests fit iff n <= capacity.
        let cap = short.max_concurrent_requests.floor();
        let need = |n: f64| n * short.stages[0].kv_bytes_per_request(len, short.kv_block_size);
        prop_assert!(need(cap) <= short.kv_cache_gib_per_gpu * GIB + 1.0);
        prop_assert!(need(cap + 1.0) >= need(cap));
    }

    #[test]
    fn tp_shards_sum_to_the_whole(
        layers in 1u32..40, kv_pow in 0u32..4, group in 1u32..5, tp_pow in 0u32..4, vocab_k in 1u32..200,
    ) {
        let kv = 1 << kv_pow;
        let tp = 1u32 << tp_pow;
        let heads = kv * group * 8;
        let a = synthetic(layers, heads, kv, 64, 2048, vocab_k * 64);
        let g = gpu(1000.0);
        let o = overheads();
        let one = plan_memory(&request(&a, &g, Parallelism::single(), 1024), &o).expect("plan");
        let sharded = plan_memory(&request(&a, &g, Parallelism::tensor(tp), 1024), &o).expect("plan");
        let total = a.weight_bytes();
        prop_assert!((one.weights_gib_per_gpu * GIB - total).abs() < 1.0);
        // Norms are replicated; KV projections are replicated when TP exceeds the KV heads.
        let norms = one.weight_bytes_per_gpu_by_class.get(&TensorClass::Norm).copied().unwrap_or(0.0);
        let hidden = f64::from(heads * 64);
        let kv_rep = if tp > kv {
            f64::from(layers) * hidden * 128.0 * 2.0 * (f64::from(tp) - f64::from(kv))
        } else {
            0.0
        };
        let want = total + f64::from(tp - 1) * norms + kv_rep;
        let got = sharded.weights_gib_per_gpu * GIB * f64::from(tp);
        prop_assert!((got - want).abs() / want < 1e-9, "got {} want {}", got, want);
        // KV per GPU: heads per rank max(1, kv / tp).
        let per_rank = (f64::from(kv) / f64::from(tp)).max(1.0);
        prop_assert_eq!(sharded.kv_cache_bytes_per_token, f64::from(layers) * per_rank * 64.0 * 2.0 * 2.0);
    }

    #[test]
    fn nothing_is_negative_and_nothing_panics(
        layers in 1u32..64, group in 1u32..8, kv in 1u32..16, tp in 0u32..20, pp in 0u32..8,
        dp in 0u32..4, ep in 0u32..4, mem in 0.5f64..300.0, util in 0.05f64..1.0, len in 1u64..1_000_000,
        engine in 0usize..3,
    ) {
        let a = synthetic(layers, kv * group, kv, 64, 1024, 32000);
        let g = gpu(mem);
        let par = Parallelism { tp, pp, dp, ep };
        let mut r = request(&a, &g, par, len);
        r.gpu_memory_utilization = util;
        r.engine = Engine::ALL[engine];
        match plan_memory(&r, &overheads()) {
            Ok(p) => {
                for (name, v) in [
                    ("weights", p.weights_gib_per_gpu),
                    ("activation", p.activation_gib_per_gpu),
                    ("non_torch", p.non_torch_gib_per_gpu),
                    ("kv", p.kv_cache_gib_per_gpu),
                    ("free", p.free_gib_per_gpu),
                    ("concurrency", p.max_concurrent_requests),
                    ("shortfall", p.shortfall_gib),
                    ("bytes/token", p.kv_cache_bytes_per_token),
                ] {
                    prop_assert!(v >= 0.0 && !v.is_nan(), "{} = {}", name, v);
                }
                prop_assert_eq!(p.fits, p.shortfall_gib == 0.0 && p.max_concurrent_requests >= 1.0);
                prop_assert!(!p.fits || p.max_model_len_fit >= len.min(131072));
            }
            Err(MemoryError::Parallelism(_)) => {
                prop_assert!(par.validate(&a, par.num_gpus()).is_err());
            }
            Err(e) => prop_assert!(false, "unexpected error {}", e),
        }
    }
}
