//! Acceptance tests of `gpuplan::recommend`, the Python-style estimate API and the launch
//! command emitters.

use gpuplan::core::memory::Engine;
use gpuplan::core::quant::WeightFormat;
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
    assert!(tp3.contains("tensor_parallel_size 3"), "{tp3}");
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
    let vllm = launch_command(EmitTarget::Vllm, "deepseek-ai/DeepSeek-R1", &cfg);
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
    let sglang = launch_command(EmitTarget::Sglang, "deepseek-ai/DeepSeek-R1", &cfg);
    assert!(sglang.contains("python -m sglang.launch_server --model-path deepseek-ai/DeepSeek-R1"));
    assert!(
        sglang.contains(&format!("--ep-size {}", cfg.ep)),
        "{sglang}"
    );
    let trt = launch_command(EmitTarget::Trtllm, "deepseek-ai/DeepSeek-R1", &cfg);
    assert!(trt.contains(&format!("--ep_size {}", cfg.ep)), "{trt}");

    // A requantized fp8 configuration with an fp8 KV cache on Llama.
    let rec = recommend(
        &RecommendRequest::new("meta-llama/Llama-3.1-70B")
            .gpus(["H100"])
            .allow_quant([WeightFormat::Fp8])
            .concurrency(8)
            .top(100),
    )
    .expect("valid request");
    let fp8 = rec
        .configurations
        .iter()
        .find(|c| c.weight_quant == WeightFormat::Fp8 && c.kv_dtype.as_str() == "fp8")
        .unwrap_or_else(|| panic!("no fp8 configuration:\n{}", rec.summary()));
    let vllm = launch_command(EmitTarget::Vllm, "meta-llama/Llama-3.1-70B", fp8);
    assert!(vllm.contains("--quantization fp8"), "{vllm}");
    assert!(vllm.contains("--kv-cache-dtype fp8"), "{vllm}");

    let yaml = launch_command(EmitTarget::K8s, "meta-llama/Llama-3.1-70B", fp8);
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
            t.starts_with("- ") || t.contains(": ") || t.ends_with(':'),
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
