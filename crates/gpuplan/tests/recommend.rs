//! Acceptance tests of `gpuplan::recommend`, the Python-style estimate API and the launch
//! command emitters.

use gpuplan::core::memory::Engine;
use gpuplan::core::quant::{KvDtypeChoice, WeightFormat};
use gpuplan::core::search::{compare, Metrics, Objective, ServingMode, SloConstraint};
use gpuplan::{
    estimate_performance, estimate_performance_batch, launch_command, recommend, Configuration,
    EmitTarget, Outcome, PerformanceRequest, RecommendRequest,
};

fn metrics(c: &Configuration) -> Metrics {
    Metrics {
        time_to_first_token_ms: c.time_to_first_token_ms.unwrap_or(f64::INFINITY),
        inter_token_latency_ms: c.inter_token_latency_ms.unwrap_or(f64::INFINITY),
        end_to_end_latency_ms: c.end_to_end_latency_ms.unwrap_or(f64::INFINITY),
        output_throughput_tok_s: c.output_throughput_tok_s.unwrap_or(0.0),
        output_throughput_tok_s_per_gpu: c.output_throughput_tok_s_per_gpu.unwrap_or(0.0),
        output_tok_s_per_user: c.output_tok_s_per_user.unwrap_or(0.0),
        num_gpus: c.num_gpus,
        usd_per_hour: c.usd_per_hour,
        ttft_ms: c.ttft_ms.unwrap_or_default(),
        itl_ms: c.itl_ms.unwrap_or_default(),
        e2e_ms: c.e2e_ms.unwrap_or_default(),
    }
}

#[test]
fn llama_70b_results_fit_meet_slos_and_are_sorted() {
    let request = RecommendRequest::new("meta-llama/Llama-3.1-70B")
        .input_len(2048)
        .output_len(512)
        .max_ttft_ms(1000.0)
        .max_itl_ms(50.0)
        .concurrency(32)
        .top(10);
    let rec = recommend(&request).expect("valid request");
    assert_eq!(rec.outcome, Outcome::Satisfied, "{}", rec.summary());
    assert!(!rec.configurations.is_empty());
    assert!(rec.counts.evaluated >= rec.counts.fit && rec.counts.fit >= rec.counts.met_slos);
    for c in &rec.configurations {
        assert!(c.kv_cache_tokens >= 2048 + 512, "{}", c.label());
        assert!(c.time_to_first_token_ms.unwrap_or(f64::INFINITY) <= 1000.0);
        assert!(c.inter_token_latency_ms.unwrap_or(f64::INFINITY) <= 50.0);
        assert!(c.headroom.ttft_headroom.unwrap_or(-1.0) >= 0.0);
        assert!(c.headroom.itl_headroom.unwrap_or(-1.0) >= 0.0);
        assert!(c.replicas >= 1 && c.num_gpus == c.gpus_per_replica * c.replicas);
        // The replicas carry the whole load.
        assert!(u64::from(c.replicas) * c.concurrency_per_replica.unwrap_or(0) >= 32);
    }
    for pair in rec.configurations.windows(2) {
        assert_ne!(
            compare(Objective::Cost, &metrics(&pair[0]), &metrics(&pair[1])),
            std::cmp::Ordering::Greater,
            "not sorted: {} before {}",
            pair[0].label(),
            pair[1].label()
        );
    }
    assert!(!rec.frontier.is_empty());
    let json = serde_json::to_string_pretty(&rec).expect("serializes");
    for field in [
        "\"time_to_first_token_ms\"",
        "\"inter_token_latency_ms\"",
        "\"output_throughput_tok_s\"",
        "\"output_throughput_tok_s_per_gpu\"",
        "\"usd_per_hour\"",
        "\"usd_per_million_output_tokens\"",
        "\"ttft_headroom\"",
        "\"itl_headroom\"",
    ] {
        assert!(json.contains(field), "missing {field}");
    }
}

#[test]
fn deepseek_r1_on_h200_considers_expert_parallelism() {
    let request = RecommendRequest::new("deepseek-ai/DeepSeek-R1")
        .gpus(["H200"])
        .max_gpus(8)
        .concurrency(64)
        .objective(Objective::Throughput)
        .top(50);
    let rec = recommend(&request).expect("valid request");
    assert!(rec.counts.fit > 0, "{}", rec.summary());
    let with_ep = rec
        .configurations
        .iter()
        .chain(rec.near_misses.iter().map(|m| &m.configuration))
        .chain(rec.frontier.iter())
        .any(|c| c.ep > 1 && c.gpus_per_replica == 8);
    assert!(with_ep, "{}", rec.summary());
}

#[test]
fn gpt_oss_120b_fits_one_h100_at_mxfp4() {
    let request = RecommendRequest::new("openai/gpt-oss-120b")
        .gpus(["H100"])
        .concurrency(4)
        .top(100);
    let rec = recommend(&request).expect("valid request");
    let one = rec
        .configurations
        .iter()
        .find(|c| c.gpus_per_replica == 1)
        .unwrap_or_else(|| panic!("no 1x H100 configuration:\n{}", rec.summary()));
    assert_eq!(one.weight_quant, WeightFormat::Mxfp4);
    assert_eq!(one.gpu, "h100_sxm");
}

#[test]
fn llama_405b_bf16_needs_at_least_16_h100() {
    let request = RecommendRequest::new("meta-llama/Llama-3.1-405B")
        .gpus(["H100"])
        .max_gpus(32)
        .allow_quant([])
        .top(100);
    let rec = recommend(&request).expect("valid request");
    assert!(rec.is_satisfied(), "{}", rec.summary());
    for c in rec
        .configurations
        .iter()
        .chain(rec.near_misses.iter().map(|m| &m.configuration))
    {
        assert_eq!(c.weight_quant, WeightFormat::Bf16);
        assert!(c.gpus_per_replica >= 16, "{}", c.label());
    }
}

#[test]
fn impossible_ttft_reports_the_closest_misses() {
    let request = RecommendRequest::new("meta-llama/Llama-3.1-8B")
        .gpus(["H100", "A100"])
        .max_ttft_ms(1.0)
        .concurrency(8);
    let rec = recommend(&request).expect("valid request");
    assert_eq!(rec.outcome, Outcome::NoConfiguration);
    assert_eq!(rec.exit_code(), gpuplan::EXIT_NO_SOLUTION);
    assert!(rec.configurations.is_empty());
    assert!(!rec.near_misses.is_empty());
    for m in &rec.near_misses {
        assert_eq!(m.excluded_by, SloConstraint::MaxTtftMs);
    }
    assert!(rec.summary().contains("max_ttft_ms"), "{}", rec.summary());
}

#[test]
fn batch_reports_errors_per_entry() {
    let base = PerformanceRequest::default()
        .input_length(2048)
        .output_length(512)
        .batch_size(8);
    let results = estimate_performance_batch(
        "meta-llama/Llama-3.1-8B",
        &[("H100", 1), ("H100", 3), ("NoSuchGPU", 1), ("A100", 2)],
        &base,
    );
    assert_eq!(results.len(), 4);
    assert!(results[0].error.is_none(), "{:?}", results[0].error);
    assert!(results[0].time_to_first_token_ms.unwrap_or(0.0) > 0.0);
    assert!(results[0].throughput_tokens_per_sec.unwrap_or(0.0) > 0.0);
    assert!(results[0].max_concurrent_requests.unwrap_or(0.0) >= 1.0);
    let tp3 = results[1].error.as_deref().unwrap_or_default();
    assert!(tp3.contains("tensor parallel size 3"), "{tp3}");
    assert!(results[1].time_to_first_token_ms.is_none());
    let unknown = results[2].error.as_deref().unwrap_or_default();
    assert!(unknown.contains("NoSuchGPU"), "{unknown}");
    assert!(results[3].error.is_none(), "{:?}", results[3].error);

    let one = estimate_performance(&PerformanceRequest::new(
        "meta-llama/Llama-3.1-8B",
        "H100",
        2,
    ));
    assert!(one.error.is_none());
    assert_eq!(one.tensor_parallel_size, 2);
}

#[test]
fn launch_commands_carry_the_configuration() {
    let rec = recommend(
        &RecommendRequest::new("deepseek-ai/DeepSeek-R1")
            .gpus(["H200"])
            .concurrency(16)
            .top(200),
    )
    .expect("valid request");
    let cfg = rec
        .configurations
        .iter()
        .find(|c| c.ep > 1 && c.dp > 1)
        .or_else(|| rec.configurations.iter().find(|c| c.ep > 1))
        .unwrap_or_else(|| panic!("no EP configuration:\n{}", rec.summary()))
        .clone();
    let vllm = launch_command(EmitTarget::Vllm, &cfg).expect("planned for vllm");
    assert!(
        vllm.contains("vllm serve deepseek-ai/DeepSeek-R1"),
        "{vllm}"
    );
    assert!(
        vllm.contains(&format!("--tensor-parallel-size {}", cfg.tp)),
        "{vllm}"
    );
    assert!(vllm.contains(&format!("--pipeline-parallel-size {}", cfg.pp)));
    assert!(vllm.contains("--max-model-len 2560"));
    assert!(vllm.contains("--gpu-memory-utilization 0.9"));
    assert!(vllm.contains("--enable-expert-parallel"));
    if cfg.dp > 1 {
        assert!(vllm.contains(&format!("--data-parallel-size {}", cfg.dp)));
    }
    // Commands for another engine than planned are refused.
    assert!(launch_command(EmitTarget::Sglang, &cfg).is_err());
    assert!(launch_command(EmitTarget::Trtllm, &cfg).is_err());

    // A requantized fp8 configuration with an fp8 KV cache on Llama.
    let rec = recommend(
        &RecommendRequest::new("meta-llama/Llama-3.1-70B")
            .gpus(["H100"])
            .allow_quant([WeightFormat::Fp8])
            .kv_dtype([KvDtypeChoice::Auto, KvDtypeChoice::Fp8])
            .concurrency(8)
            .top(100),
    )
    .expect("valid request");
    let fp8 = rec
        .configurations
        .iter()
        .find(|c| c.weight_quant == WeightFormat::Fp8 && c.kv_dtype.as_str() == "fp8")
        .unwrap_or_else(|| panic!("no fp8 configuration:\n{}", rec.summary()));
    let vllm = launch_command(EmitTarget::Vllm, fp8).expect("planned for vllm");
    assert!(vllm.contains("--quantization fp8_per_tensor"), "{vllm}");
    assert!(vllm.contains("--kv-cache-dtype fp8"), "{vllm}");

    let yaml = launch_command(EmitTarget::K8s, fp8).expect("manifest");
    assert!(yaml.contains("apiVersion: apps/v1"));
    assert!(yaml.contains("kind: Deployment"));
    assert!(yaml.contains("image: vllm/vllm-openai"));
    assert!(
        yaml.contains(&format!("nvidia.com/gpu: {}", fp8.tp * fp8.pp * fp8.dp)),
        "{yaml}"
    );
    // Valid-looking YAML: no tabs, every non-comment line is a key, a list item or a scalar
    // under an indented key.
    assert!(!yaml.contains('\t'));
    for line in yaml.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let t = line.trim_start();
        assert!(
            t == "---" || t.starts_with("- ") || t.contains(": ") || t.ends_with(':'),
            "odd YAML line: {line}"
        );
        assert_eq!((line.len() - t.len()) % 2, 0, "odd indentation: {line}");
    }
}

#[test]
fn request_rate_and_best_throughput_loads() {
    let rate = recommend(
        &RecommendRequest::new("meta-llama/Llama-3.1-8B")
            .gpus(["H100"])
            .request_rate(20.0)
            .max_ttft_ms(2000.0)
            .max_itl_ms(60.0),
    )
    .expect("valid request");
    assert!(rate.is_satisfied(), "{}", rate.summary());
    for c in &rate.configurations {
        let rps = c.requests_per_s.unwrap_or(0.0);
        assert!((rps - 20.0).abs() < 1e-6, "{rps}");
    }
    let best = recommend(
        &RecommendRequest::new("meta-llama/Llama-3.1-8B")
            .gpus(["H100"])
            .max_itl_ms(30.0)
            .objective(Objective::Throughput),
    )
    .expect("valid request");
    assert!(best.is_satisfied(), "{}", best.summary());
    assert!(best.configurations[0].concurrency_per_replica.unwrap_or(0) > 1);
}

#[test]
fn disaggregated_search_returns_xpyd_layouts() {
    let rec = recommend(
        &RecommendRequest::new("meta-llama/Llama-3.1-70B")
            .gpus(["H100"])
            .mode(ServingMode::Disagg)
            .concurrency(64)
            .max_ttft_ms(2000.0)
            .max_itl_ms(50.0)
            .engine([Engine::Vllm]),
    )
    .expect("valid request");
    assert!(rec.is_satisfied(), "{}", rec.summary());
    for c in &rec.configurations {
        let d = c.disagg.as_ref().expect("disagg layout");
        assert!(d.prefill_instances >= 1 && d.decode_instances >= 1);
        assert!(d.kv_transfer_ms > 0.0);
        assert_eq!(
            c.gpus_per_replica,
            d.prefill_instances * d.prefill_gpus_per_instance
                + d.decode_instances * d.decode_gpus_per_instance
        );
    }
}

#[test]
fn memory_only_ranking_without_performance() {
    let rec = recommend(
        &RecommendRequest::new("meta-llama/Llama-3.1-70B")
            .gpus(["H100", "A100"])
            .estimate_performance(false),
    )
    .expect("valid request");
    assert!(rec.is_satisfied(), "{}", rec.summary());
    let c = &rec.configurations[0];
    assert!(c.time_to_first_token_ms.is_none());
    for pair in rec.configurations.windows(2) {
        assert!(
            pair[0].usd_per_hour.unwrap_or(f64::INFINITY)
                <= pair[1].usd_per_hour.unwrap_or(f64::INFINITY)
        );
    }
}

#[test]
fn invalid_requests_are_usage_errors() {
    let both = RecommendRequest::new("meta-llama/Llama-3.1-8B")
        .concurrency(4)
        .request_rate(1.0);
    let err = recommend(&both).expect_err("both loads");
    assert_eq!(err.exit_code(), gpuplan::EXIT_USAGE);
    let gpu = RecommendRequest::new("meta-llama/Llama-3.1-8B").gpus(["H1000000"]);
    assert!(recommend(&gpu).is_err());
}

/// The search's bounds: its size is known before it runs, a budget refuses it, a raised flag
/// or a passed deadline stops it, and progress counts every candidate.
#[test]
fn search_control_bounds_the_search() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    let request = RecommendRequest::new("meta-llama/Llama-3.1-8B")
        .gpus(["H100", "A100"])
        .concurrency(8);
    let arch = gpuplan::resolve_model(&request.model, &request.resolve)
        .expect("catalog model")
        .arch;
    let hardware = gpuplan::catalog::hardware::embedded_hardware();
    let profiles = gpuplan::catalog::profiles::embedded_profiles();
    let size =
        gpuplan::search_size(&request, &arch, hardware, profiles, usize::MAX - 1).expect("size");
    assert!(size > 10, "{size}");
    assert_eq!(
        gpuplan::search_size(&request, &arch, hardware, profiles, 5).expect("capped"),
        6
    );

    let progress = Arc::new(AtomicUsize::new(0));
    let control = gpuplan::SearchControl {
        progress: Some(Arc::clone(&progress)),
        ..gpuplan::SearchControl::default()
    };
    let done = gpuplan::recommend_controlled(&request, &arch, hardware, profiles, &control)
        .expect("unbounded search");
    // The search size counts the work, the requantization probes included; `evaluated` counts
    // the configurations asked for.
    assert!(done.counts.evaluated > 0 && done.counts.evaluated <= size);
    assert_eq!(progress.load(Ordering::Relaxed), size);

    let budget = gpuplan::SearchControl {
        max_candidates: Some(size - 1),
        ..gpuplan::SearchControl::default()
    };
    let err = gpuplan::recommend_controlled(&request, &arch, hardware, profiles, &budget)
        .expect_err("over budget");
    assert!(
        matches!(err, gpuplan::Error::SearchTooLarge { .. }),
        "{err}"
    );
    assert_eq!(err.exit_code(), gpuplan::EXIT_USAGE);

    let cancelled = gpuplan::SearchControl {
        cancel: Some(Arc::new(AtomicBool::new(true))),
        progress: Some(Arc::new(AtomicUsize::new(0))),
        ..gpuplan::SearchControl::default()
    };
    let err = gpuplan::recommend_controlled(&request, &arch, hardware, profiles, &cancelled)
        .expect_err("cancelled");
    assert!(err.to_string().contains("cancelled"), "{err}");
    let evaluated = cancelled
        .progress
        .as_ref()
        .map(|p| p.load(Ordering::Relaxed));
    assert_eq!(evaluated, Some(0));

    let late = gpuplan::SearchControl {
        deadline: Some(std::time::Instant::now()),
        ..gpuplan::SearchControl::default()
    };
    let err = gpuplan::recommend_controlled(&request, &arch, hardware, profiles, &late)
        .expect_err("past its deadline");
    assert!(err.to_string().contains("time limit"), "{err}");
}

#[test]
fn native_by_default_with_a_note_on_what_requantizing_saves() {
    let base = RecommendRequest::new("meta-llama/Llama-3.1-8B")
        .gpus(["H100"])
        .concurrency(16)
        .max_itl_ms(50.0)
        .top(10);
    assert!(
        RecommendRequest::default().allow_quant.is_empty(),
        "the default plans the checkpoint as it is"
    );
    let native = recommend(&base).expect("valid request");
    assert!(native.is_satisfied(), "{}", native.summary());
    assert_eq!(native.checkpoint_weight_quant, WeightFormat::Bf16);
    for c in &native.configurations {
        assert!(!c.requantized, "{}", c.label());
        assert_eq!(c.weight_quant, WeightFormat::Bf16, "{}", c.label());
        assert_eq!(c.kv_dtype.as_str(), "bf16", "{}", c.label());
    }
    // fp8 on an H100 is cheaper per token: the note names the saving, and the same search with
    // fp8 allowed returns that configuration.
    let note = native
        .notes
        .iter()
        .find(|n| n.contains("planned in the checkpoint's own format"))
        .unwrap_or_else(|| panic!("no requantization note in {:?}", native.notes));
    assert!(
        note.contains("fp8 weights") && note.contains("--allow-quant fp8"),
        "{note}"
    );
    assert!(note.contains("per million output tokens (-"), "{note}");

    let explicit = recommend(&base.clone().allow_quant(Vec::new())).expect("valid request");
    assert_eq!(explicit.configurations, native.configurations);

    let opted_in = recommend(
        &base
            .clone()
            .allow_quant([WeightFormat::Fp8])
            .kv_dtype([KvDtypeChoice::Auto, KvDtypeChoice::Fp8]),
    )
    .expect("valid request");
    let best = &opted_in.configurations[0];
    assert!(
        best.requantized && best.weight_quant == WeightFormat::Fp8,
        "{}",
        best.label()
    );
    assert!(
        best.usd_per_million_output_tokens < native.configurations[0].usd_per_million_output_tokens,
        "the note's saving is real"
    );
    assert!(
        !opted_in
            .notes
            .iter()
            .any(|n| n.contains("planned in the checkpoint's own format")),
        "nothing to add once opted in: {:?}",
        opted_in.notes
    );
}

#[test]
fn allow_quant_parses_native_and_none() {
    use gpuplan::AllowQuant;
    assert_eq!("native".parse::<AllowQuant>(), Ok(AllowQuant(Vec::new())));
    assert_eq!("none".parse::<AllowQuant>(), Ok(AllowQuant(Vec::new())));
    assert_eq!(
        "fp8,nvfp4".parse::<AllowQuant>(),
        Ok(AllowQuant(vec![WeightFormat::Fp8, WeightFormat::Nvfp4]))
    );
    let err = "fp7".parse::<AllowQuant>().unwrap_err();
    assert!(err.contains("native"), "{err}");
    let json: RecommendRequest =
        serde_json::from_str(r#"{"model": "x", "allow_quant": ["native"]}"#).expect("parses");
    assert!(json.allow_quant.is_empty());
    let json: RecommendRequest =
        serde_json::from_str(r#"{"model": "x", "allow_quant": ["fp8"]}"#).expect("parses");
    assert_eq!(json.allow_quant, vec![WeightFormat::Fp8]);
}

#[test]
fn variants_of_a_top_deployment_are_kept_together() {
    let rec = recommend(
        &RecommendRequest::new("meta-llama/Llama-3.1-8B")
            .gpus(["H100"])
            .concurrency(16)
            .allow_quant([WeightFormat::Fp8])
            .kv_dtype([KvDtypeChoice::Auto, KvDtypeChoice::Fp8])
            .top(2),
    )
    .expect("valid request");
    let mut keys: Vec<String> = Vec::new();
    for c in &rec.configurations {
        let key = c.deployment_key();
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    assert_eq!(keys.len(), 2, "two deployments: {keys:?}");
    assert!(
        rec.configurations.len() > 2,
        "their weight-format and KV variants are kept: {}",
        rec.summary()
    );
}

#[test]
fn unpriced_gpus_are_named_when_ranking_by_cost() {
    let rec = recommend(
        &RecommendRequest::new("meta-llama/Llama-3.1-8B")
            .gpus(["H100", "H20"])
            .concurrency(16),
    )
    .expect("valid request");
    let note = rec
        .notes
        .iter()
        .find(|n| n.starts_with("no price for"))
        .unwrap_or_else(|| panic!("no unpriced note in {:?}", rec.notes));
    assert!(note.contains("h20") && !note.contains("h100"), "{note}");
    let priced = recommend(
        &RecommendRequest::new("meta-llama/Llama-3.1-8B")
            .gpus(["H100", "H20"])
            .concurrency(16)
            .price("H20", 1.5),
    )
    .expect("valid request");
    assert!(!priced.notes.iter().any(|n| n.starts_with("no price for")));
    // MI300X, GB200 and B300 carry sourced, dated prices.
    let hw = gpuplan::catalog::hardware::embedded_hardware();
    for id in ["mi300x", "gb200", "b300"] {
        let price = hw.price(id).unwrap_or_else(|| panic!("{id} has no price"));
        assert!(
            price.usd_per_hour > 0.5 && price.usd_per_hour < 30.0,
            "{id}"
        );
        assert!(price.source.contains("https://"), "{id}: {}", price.source);
        assert!(price.as_of.starts_with("2026-"), "{id}: {}", price.as_of);
    }
}

#[test]
fn inline_configs_resolve_and_are_validated() {
    let config = r#"{"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32,
        "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336,
        "vocab_size": 128256, "torch_dtype": "bfloat16"}"#;
    let resolved = gpuplan::resolve_inline_config("acme/private-8b", config).expect("parses");
    assert_eq!(resolved.source, gpuplan::source::INLINE);
    assert_eq!(resolved.arch.name, "acme/private-8b");
    let bad = config.replace("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 7");
    let err = gpuplan::resolve_inline_config("acme/private-8b", &bad).unwrap_err();
    assert!(err.to_string().contains("1, 2, 4, 8, 16, 32"), "{err}");
    let huge = format!(
        "{{\"pad\": \"{}\"}}",
        "x".repeat(gpuplan::MAX_INLINE_CONFIG_BYTES)
    );
    assert!(gpuplan::resolve_inline_config("big", &huge).is_err());
    assert!(gpuplan::resolve_inline_config("list", "[1, 2]").is_err());
}
