//! The estimator never beats physics, and its serving model is self-consistent.

use gpuplan::estimate::{estimate_deployment, DeploymentSpec};
use gpuplan_catalog::{find_model, hardware::embedded_hardware, profiles::embedded_profiles};
use gpuplan_core::hardware::ComputeDtype;
use gpuplan_core::memory::{Engine, MemoryOverheads, Parallelism};
use gpuplan_core::perf::Deployment;
use gpuplan_core::quant::KvDtypeChoice;
use proptest::prelude::*;

const MODELS: &[&str] = &[
    "meta-llama/Llama-3.1-8B",
    "meta-llama/Llama-3.1-70B",
    "Qwen/Qwen3-32B",
    "Qwen/Qwen3-30B-A3B",
    "openai/gpt-oss-120b",
    "deepseek-ai/DeepSeek-V3",
    "mistralai/Mixtral-8x7B-v0.1",
];
const GPUS: &[&str] = &[
    "h100_sxm",
    "h200_sxm",
    "b200",
    "a100_sxm_80",
    "mi300x",
    "l40s",
];
const ENGINES: &[Engine] = &[Engine::Vllm, Engine::Sglang, Engine::Trtllm];

fn overheads() -> MemoryOverheads {
    gpuplan::estimate::memory_overheads().clone()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn never_faster_than_physics(
        m in 0..MODELS.len(), g in 0..GPUS.len(), e in 0..ENGINES.len(), tp_pow in 0u32..4,
        isl in 1u64..8192, osl in 2u64..2048, conc in 1u64..256,
    ) {
        let arch = find_model(MODELS[m]).unwrap().architecture().unwrap();
        let hw = embedded_hardware();
        let gpu = hw.resolve(GPUS[g]).unwrap();
        let tp = 1u32 << tp_pow;
        let par = Parallelism { tp, pp: 1, dp: 1, ep: 1 };
        let spec = DeploymentSpec {
            arch: &arch, gpu, parallelism: par, engine: ENGINES[e],
            kv_dtype: KvDtypeChoice::Auto, max_model_len: None, gpu_memory_utilization: 0.9,
        };
        let profiles = embedded_profiles();
        let Ok(est) = estimate_deployment(&spec, isl, osl, &[Some(conc)], profiles, &overheads()) else {
            return Ok(()); // does not fit / invalid parallelism: nothing to check
        };
        let p = &est.points[0];
        let dep = Deployment {
            arch: &arch, gpu, parallelism: par, kv_dtype: est.kv_dtype,
            eff: profiles.arch(&gpu.arch).unwrap(),
            engine: profiles.engine(&ENGINES[e].to_string()).unwrap(),
        };
        // ITL >= bytes one decode step reads (one sequence at the prompt's context) / peak HBM BW.
        let floor_s = dep.min_decode_bytes_per_gpu(1.0, isl as f64)
            / gpu.memory_bandwidth_bytes_per_s();
        prop_assert!(p.inter_token_latency_ms * 1e-3 >= floor_s * 0.999,
            "ITL {} ms < physics floor {} ms", p.inter_token_latency_ms, floor_s * 1e3);
        // Prefill >= FLOPs / the fastest peak the GPUs have.
        let peak = [ComputeDtype::Fp4, ComputeDtype::Fp8, ComputeDtype::Bf16]
            .iter().filter_map(|d| gpu.peak_tflops(*d)).fold(0.0, f64::max) * 1e12;
        let flops = 2.0 * arch.params().active as f64 * isl as f64;
        prop_assert!(p.time_to_first_token_ms * 1e-3 >= flops / (peak * tp as f64) * 0.999);
        // Throughput cannot exceed what the running requests produce at this ITL.
        prop_assert!(p.output_throughput_tok_s
            <= p.running_requests * 1000.0 / p.inter_token_latency_ms * 1.0001);
        for v in [p.time_to_first_token_ms, p.inter_token_latency_ms, p.end_to_end_latency_ms,
                  p.output_throughput_tok_s, p.total_throughput_tok_s, p.requests_per_s] {
            prop_assert!(v.is_finite() && v > 0.0);
        }
        // Little's law: completed requests x latency cannot exceed the clients in the loop.
        prop_assert!(p.requests_per_s * p.end_to_end_latency_ms * 1e-3
            <= p.concurrency as f64 * 1.0001 + 1e-9);
    }
}

#[test]
fn itl_grows_and_throughput_rises_with_concurrency() {
    let arch = find_model("meta-llama/Llama-3.1-70B")
        .unwrap()
        .architecture()
        .unwrap();
    let gpu = embedded_hardware().resolve("H100").unwrap();
    let spec = DeploymentSpec {
        arch: &arch,
        gpu,
        parallelism: Parallelism {
            tp: 4,
            pp: 1,
            dp: 1,
            ep: 1,
        },
        engine: Engine::Vllm,
        kv_dtype: KvDtypeChoice::Auto,
        max_model_len: None,
        gpu_memory_utilization: 0.9,
    };
    let cs: Vec<Option<u64>> = [1, 2, 4, 8, 16, 32, 64, 128]
        .iter()
        .map(|c| Some(*c))
        .collect();
    let est =
        estimate_deployment(&spec, 2048, 512, &cs, embedded_profiles(), &overheads()).unwrap();
    for w in est.points.windows(2) {
        assert!(w[1].inter_token_latency_ms >= w[0].inter_token_latency_ms * 0.99);
        assert!(w[1].output_throughput_tok_s >= w[0].output_throughput_tok_s * 0.99);
    }
    // 70B on 4xH100: a quarter of 141 GB of bf16 weights per GPU at 3.35 TB/s is 10.5 ms, which
    // the roofline library the old recommender used undercut (7.7 ms).
    assert!(est.points[0].inter_token_latency_ms > 10.5);
}

#[test]
fn tensor_parallel_speeds_up_decode_but_pays_communication() {
    let arch = find_model("meta-llama/Llama-3.1-70B")
        .unwrap()
        .architecture()
        .unwrap();
    let gpu = embedded_hardware().resolve("H100").unwrap();
    let point = |tp: u32| {
        let spec = DeploymentSpec {
            arch: &arch,
            gpu,
            parallelism: Parallelism {
                tp,
                pp: 1,
                dp: 1,
                ep: 1,
            },
            engine: Engine::Vllm,
            kv_dtype: KvDtypeChoice::Auto,
            max_model_len: None,
            gpu_memory_utilization: 0.9,
        };
        estimate_deployment(
            &spec,
            1024,
            256,
            &[Some(1)],
            embedded_profiles(),
            &overheads(),
        )
        .unwrap()
        .points[0]
            .clone()
    };
    let (t2, t4, t8) = (point(2), point(4), point(8));
    assert!(t4.inter_token_latency_ms < t2.inter_token_latency_ms);
    assert!(t8.inter_token_latency_ms < t4.inter_token_latency_ms);
    // Not linear: all-reduce latency and fixed kernel floors do not shrink with TP.
    assert!(t8.inter_token_latency_ms > t2.inter_token_latency_ms / 4.0);
    assert!(
        t8.decode_step_breakdown_ms.communication_ms > t2.decode_step_breakdown_ms.communication_ms
    );
}
