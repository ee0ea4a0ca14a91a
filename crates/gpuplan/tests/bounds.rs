//! Every answer physically possible: the bounds of `gpuplan_core::perf::bounds` hold on every
//! estimate and every recommended configuration (property tests over catalog models x GPUs x
//! valid layouts x loads x modes), the check catches a deliberately broken bound, and the
//! acceptance cases of issue 12 (disaggregated and multi-node serving, attention-DP with few
//! clients, the GPU budget) hold.

use gpuplan::core::hardware::{ComputeDtype, Gpu};
use gpuplan::core::memory::{Engine, Parallelism};
use gpuplan::core::model::Architecture;
use gpuplan::core::perf::bounds::{self, BoundKind, TransferLink};
use gpuplan::core::perf::{compute_dtype, Deployment, EstimatePoint};
use gpuplan::core::quant::{KvDtypeChoice, WeightFormat};
use gpuplan::core::search::{parallel_layouts, ServingMode};
use gpuplan::estimate::{estimate_deployment, memory_overheads, DeploymentSpec};
use gpuplan::{physical_bound_violations, recommend_with, Configuration, RecommendRequest};
use gpuplan_catalog::{find_model, hardware::embedded_hardware, profiles::embedded_profiles};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestError, TestRunner};

const MODELS: &[&str] = &[
    "meta-llama/Llama-3.1-8B",
    "meta-llama/Llama-3.1-70B",
    "Qwen/Qwen3-32B",
    "Qwen/Qwen3-30B-A3B",
    "Qwen/Qwen3-235B-A22B",
    "openai/gpt-oss-120b",
    "deepseek-ai/DeepSeek-R1",
    "mistralai/Mixtral-8x7B-v0.1",
];
const GPUS: &[&str] = &[
    "h100_sxm",
    "h200_sxm",
    "b200",
    "gb200",
    "a100_sxm_80",
    "mi300x",
    "l40s",
];
const ENGINES: &[Engine] = &[Engine::Vllm, Engine::Sglang, Engine::Trtllm];

fn arch(model: &str) -> Architecture {
    find_model(model)
        .and_then(|m| m.architecture().ok())
        .expect("catalog model")
}

fn gpu(id: &str) -> &'static Gpu {
    embedded_hardware().resolve(id).expect("catalog GPU")
}

fn deployment<'a>(
    arch: &'a Architecture,
    gpu: &'a Gpu,
    parallelism: Parallelism,
    kv_dtype: gpuplan::core::quant::KvDtype,
    engine: Engine,
) -> Deployment<'a> {
    let profiles = embedded_profiles();
    Deployment {
        arch,
        gpu,
        parallelism,
        kv_dtype,
        eff: profiles.arch(&gpu.arch).expect("arch profile"),
        engine: profiles
            .engine(&engine.to_string())
            .expect("engine profile"),
    }
}

/// Peak dense tensor FLOP/s of one GPU at the weight format's compute dtype.
fn peak_flops(gpu: &Gpu, format: WeightFormat) -> f64 {
    gpu.peak_tflops(compute_dtype(format, gpu))
        .or_else(|| gpu.peak_tflops(ComputeDtype::Bf16))
        .unwrap_or(f64::INFINITY)
        * 1e12
}

/// 2 x active non-embedding parameters: FLOPs per prompt token, attention not counted.
fn flops_per_token(arch: &Architecture) -> f64 {
    let p = arch.params();
    2.0 * p.active.saturating_sub(p.embedding + p.lm_head) as f64
}

/// The issue's acceptance bounds on one configuration, independent of the bounds module:
/// prefill within 100% of the prefill GPUs' peak, and dense models never decoding faster than
/// their weights over TP x HBM bandwidth.
fn acceptance_bounds(c: &Configuration, arch: &Architecture, input_len: u64) -> Result<(), String> {
    let g = gpu(&c.gpu);
    let (Some(rps), Some(itl_ms)) = (c.requests_per_s, c.inter_token_latency_ms) else {
        return Ok(());
    };
    let rps_replica = rps / f64::from(c.replicas.max(1));
    let prefill_gpus = c.disagg.as_ref().map_or(c.gpus_per_replica, |d| {
        d.prefill_instances * d.prefill_gpus_per_instance
    });
    let needed = rps_replica * input_len as f64 * flops_per_token(arch);
    let available = f64::from(prefill_gpus) * peak_flops(g, c.weight_quant);
    if needed > available * 1.000_001 {
        return Err(format!(
            "{}: prefill needs {:.0}% of peak",
            c.label(),
            needed / available * 100.0
        ));
    }
    if !arch.is_moe() {
        let floor_ms = arch.with_weight_format(c.weight_quant).weight_bytes()
            / (f64::from(c.tp) * g.memory_bandwidth_bytes_per_s())
            * 1e3;
        if itl_ms < floor_ms * 0.999_999 {
            return Err(format!("{}: ITL {itl_ms} ms < {floor_ms} ms", c.label()));
        }
    }
    Ok(())
}

/// One recommendation: every configuration and frontier entry within the GPU budget and the
/// physical bounds.
fn check_recommendation(request: &RecommendRequest, model: &str) -> Result<usize, String> {
    let a = arch(model);
    let rec = recommend_with(request, &a, embedded_hardware(), embedded_profiles())
        .map_err(|e| e.to_string())?;
    let mut n = 0;
    for c in rec
        .configurations
        .iter()
        .chain(&rec.frontier)
        .chain(rec.near_misses.iter().map(|m| &m.configuration))
    {
        n += 1;
        if c.gpus_per_replica > request.max_gpus {
            return Err(format!(
                "{} above --max-gpus {}",
                c.label(),
                request.max_gpus
            ));
        }
        let arch_f = a.with_weight_format(c.weight_quant);
        let v = physical_bound_violations(
            c,
            &arch_f,
            gpu(&c.gpu),
            embedded_profiles(),
            request.input_len,
            request.output_len,
        );
        if !v.is_empty() {
            return Err(format!("{}: {v:?}", c.label()));
        }
        acceptance_bounds(c, &a, request.input_len)?;
    }
    Ok(n)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Random catalog model x GPU x valid layout x load x engine: every estimated point is
    /// physically possible.
    #[test]
    fn every_estimate_respects_the_bounds(
        m in 0..MODELS.len(), g in 0..GPUS.len(), e in 0..ENGINES.len(),
        n_pow in 0u32..5, layout in 0usize..64,
        isl in 1u64..16384, osl in 1u64..4096, conc in proptest::option::of(1u64..512),
    ) {
        let a = arch(MODELS[m]);
        let gpu = gpu(GPUS[g]);
        let layouts = parallel_layouts(&a, gpu, 1 << n_pow);
        prop_assume!(!layouts.is_empty());
        let par = layouts[layout % layouts.len()];
        let spec = DeploymentSpec {
            arch: &a, gpu, parallelism: par, engine: ENGINES[e],
            kv_dtype: KvDtypeChoice::Auto, max_model_len: None, gpu_memory_utilization: 0.9,
        };
        let Ok(est) = estimate_deployment(&spec, isl, osl, &[conc], embedded_profiles(), memory_overheads()) else {
            return Ok(()); // does not fit: nothing to check
        };
        let dep = deployment(&a, gpu, par, est.kv_dtype, ENGINES[e]);
        for p in &est.points {
            let v = bounds::check_point(&dep, isl, osl, p);
            prop_assert!(v.is_empty(), "{par:?} on {}: {v:?}\n{p:?}", gpu.id);
            // Prefill within the GPUs' peak at the checkpoint's format.
            let needed = p.requests_per_s * isl as f64 * flops_per_token(&a);
            let peak = f64::from(par.num_gpus()) * peak_flops(gpu, a.precision.headline(a.is_moe()));
            prop_assert!(needed <= peak * 1.000_001, "prefill at {:.0}% of peak", needed / peak * 100.0);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, .. ProptestConfig::default() })]

    /// Random model x GPU x load x mode through the whole search: every configuration it
    /// returns (ranked, frontier, near misses) is physically possible and within the budget.
    #[test]
    fn every_recommended_configuration_respects_the_bounds(
        m in 0usize..4, g in 0usize..3, load in 0usize..3, auto in any::<bool>(),
        shape in 0usize..3,
    ) {
        let models = ["meta-llama/Llama-3.1-8B", "Qwen/Qwen3-32B", "Qwen/Qwen3-30B-A3B", "openai/gpt-oss-120b"];
        let gpus = ["h100_sxm", "h200_sxm", "b200"];
        let (isl, osl) = [(4096, 1024), (1024, 8192), (32768, 256)][shape];
        let mut r = RecommendRequest::new(models[m])
            .gpus([gpus[g]])
            .engine([Engine::Vllm])
            .input_len(isl)
            .output_len(osl)
            .max_gpus(8)
            .max_itl_ms(50.0)
            .mode(if auto { ServingMode::Auto } else { ServingMode::Agg });
        r = match load { 0 => r.concurrency(1), 1 => r.concurrency(64), _ => r };
        check_recommendation(&r, models[m]).map_err(TestCaseError::fail)?;
    }
}

/// The check is not vacuous: a bound broken on purpose (the estimator's points with the
/// prefill made faster, the throughput raised or a decode step shortened) is caught, and
/// proptest shrinks to a counter-example.
#[test]
fn a_deliberately_broken_bound_fails_the_property() {
    let a = arch("meta-llama/Llama-3.1-70B");
    let g = gpu("h100_sxm");
    let par = Parallelism {
        tp: 4,
        pp: 1,
        dp: 1,
        ep: 1,
    };
    let spec = DeploymentSpec {
        arch: &a,
        gpu: g,
        parallelism: par,
        engine: Engine::Vllm,
        kv_dtype: KvDtypeChoice::Auto,
        max_model_len: None,
        gpu_memory_utilization: 0.9,
    };
    let est = estimate_deployment(
        &spec,
        4096,
        1024,
        &[Some(64)],
        embedded_profiles(),
        memory_overheads(),
    )
    .expect("fits");
    let dep = deployment(&a, g, par, est.kv_dtype, Engine::Vllm);
    let good = est.points[0].clone();
    assert!(bounds::check_point(&dep, 4096, 1024, &good).is_empty());

    // Each way of breaking physics is flagged with the right bound.
    let mut fast_prefill = good.clone();
    fast_prefill.time_to_first_token_ms = 0.1;
    let mut fast_decode = good.clone();
    fast_decode.inter_token_latency_ms *= 0.1;
    let mut too_many = good.clone();
    too_many.requests_per_s *= 50.0;
    for (p, kind) in [
        (fast_prefill, BoundKind::PrefillCompute),
        (fast_decode, BoundKind::DecodeBandwidth),
        (too_many, BoundKind::GpuTime),
    ] {
        let v = bounds::check_point(&dep, 4096, 1024, &p);
        assert!(
            v.iter().any(|b| b.bound == kind),
            "{kind:?} not flagged: {v:?}"
        );
    }

    // The property run against a broken estimator (throughput scaled by a drawn factor) fails
    // and shrinks to the smallest factor that breaks a bound.
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&(1.0f64..100.0), |factor| {
        let mut p: EstimatePoint = good.clone();
        p.requests_per_s *= factor;
        p.output_throughput_tok_s *= factor;
        let v = bounds::check_point(&dep, 4096, 1024, &p);
        prop_assert!(v.is_empty(), "factor {factor}: {v:?}");
        Ok(())
    });
    match result {
        Err(TestError::Fail(_, factor)) => assert!(factor > 1.0 && factor < 100.0),
        other => panic!("the broken bound was not caught: {other:?}"),
    }
}

/// DeepSeek-R1 disaggregated across nodes: the KV transfer takes at least the KV bytes over
/// the per-GPU scale-out bandwidth (MLA's latent is replicated, so each GPU sends all of it),
/// and the result says where the pools run and over which link.
#[test]
fn deepseek_r1_kv_transfer_between_nodes_respects_the_nic() {
    let model = "deepseek-ai/DeepSeek-R1";
    let a = arch(model);
    let request = RecommendRequest::new(model)
        .gpus(["h200_sxm"])
        .engine([Engine::Sglang])
        .input_len(4096)
        .output_len(1024)
        .max_gpus(32)
        .mode(ServingMode::Disagg)
        .top(20);
    let rec = recommend_with(&request, &a, embedded_hardware(), embedded_profiles()).unwrap();
    let g = gpu("h200_sxm");
    let all: Vec<&Configuration> = rec
        .configurations
        .iter()
        .chain(rec.near_misses.iter().map(|m| &m.configuration))
        .collect();
    assert!(!all.is_empty(), "{}", rec.summary());
    let mut across = 0;
    for c in all {
        let d = c.disagg.as_ref().expect("disagg layout");
        assert!(c.gpus_per_replica <= 32);
        assert_eq!(
            c.gpus_per_replica,
            d.prefill_instances * d.prefill_gpus_per_instance
                + d.decode_instances * d.decode_gpus_per_instance
        );
        assert_eq!(c.nodes_per_replica, c.gpus_per_replica.div_ceil(8));
        if c.gpus_per_replica > 8 {
            across += 1;
            assert_eq!(d.kv_transfer_link, TransferLink::ScaleOut, "{}", c.label());
            let kv = a
                .with_weight_format(c.weight_quant)
                .kv_cache_bytes_per_sequence(4096, c.kv_dtype);
            let floor_ms = kv / (g.scale_out_gb_s_per_gpu * 1e9) * 1e3;
            assert!(
                d.kv_transfer_ms >= floor_ms * 0.999_999,
                "{}: {} ms < {floor_ms} ms",
                c.label(),
                d.kv_transfer_ms
            );
            // TTFT carries the transfer.
            assert!(c.time_to_first_token_ms.unwrap_or(0.0) > d.kv_transfer_ms);
        } else {
            assert_eq!(d.kv_transfer_link, TransferLink::ScaleUp);
        }
    }
    assert!(across > 0, "{}", rec.summary());
}

/// Attention-DP with fewer clients than ranks: idle ranks add nothing, so output tokens/s rise
/// from concurrency 1 to 4 to 8.
#[test]
fn attention_dp_with_few_clients_counts_only_busy_ranks() {
    let a = arch("deepseek-ai/DeepSeek-R1");
    let g = gpu("h200_sxm");
    let spec = DeploymentSpec {
        arch: &a,
        gpu: g,
        parallelism: Parallelism {
            tp: 1,
            pp: 1,
            dp: 8,
            ep: 8,
        },
        engine: Engine::Sglang,
        kv_dtype: KvDtypeChoice::Auto,
        max_model_len: None,
        gpu_memory_utilization: 0.9,
    };
    let est = estimate_deployment(
        &spec,
        4096,
        1024,
        &[Some(1), Some(2), Some(4), Some(8)],
        embedded_profiles(),
        memory_overheads(),
    )
    .expect("fits");
    let p = &est.points;
    assert!((p[0].running_requests - 1.0).abs() < 1e-9);
    assert!((p[2].running_requests - 4.0).abs() < 1e-9);
    assert!(p[0].output_throughput_tok_s < p[2].output_throughput_tok_s);
    assert!(p[2].output_throughput_tok_s < p[3].output_throughput_tok_s);
    assert!(p[0].output_throughput_tok_s < p[1].output_throughput_tok_s);
}

/// `--max-gpus 8` bounds one replica, both disaggregated pools included.
#[test]
fn max_gpus_bounds_both_pools() {
    let request = RecommendRequest::new("meta-llama/Llama-3.1-70B")
        .gpus(["h200_sxm"])
        .engine([Engine::Trtllm])
        .input_len(4000)
        .output_len(1000)
        .max_ttft_ms(1000.0)
        .max_itl_ms(20.0)
        .max_gpus(8)
        .mode(ServingMode::Auto)
        .objective(gpuplan::core::search::Objective::Throughput)
        .top(50);
    let n = check_recommendation(&request, "meta-llama/Llama-3.1-70B").unwrap();
    assert!(n > 0);
}

/// gpt-oss-120b on B200 at best throughput within TPOT 10 ms: no decode step reads faster
/// than the documented achievable HBM bandwidth.
#[test]
fn gpt_oss_decode_steps_stay_within_achievable_bandwidth() {
    let model = "openai/gpt-oss-120b";
    let a = arch(model);
    let request = RecommendRequest::new(model)
        .gpus(["b200"])
        .engine([Engine::Trtllm])
        .input_len(1000)
        .output_len(1000)
        .max_itl_ms(10.0)
        .max_gpus(8)
        .objective(gpuplan::core::search::Objective::Throughput);
    let rec = recommend_with(&request, &a, embedded_hardware(), embedded_profiles()).unwrap();
    let best = rec.configurations.first().expect("a configuration");
    let g = gpu("b200");
    let arch_f = a.with_weight_format(best.weight_quant);
    let dep = deployment(
        &arch_f,
        g,
        best.parallelism(),
        best.kv_dtype,
        Engine::Trtllm,
    );
    let running =
        (best.concurrency_per_replica.unwrap() as f64).min(best.max_concurrent_requests.unwrap());
    let per_rank = running / f64::from(best.dp);
    let itl_s = best.inter_token_latency_ms.unwrap() * 1e-3;
    // Bytes of a step at the mean decoding batch (a request decodes for (O-1) ITL of its
    // E2E), at the mean context.
    let decoding = per_rank * 999.0 * itl_s / (best.end_to_end_latency_ms.unwrap() * 1e-3);
    let bytes = dep.min_decode_bytes_per_gpu(decoding.max(1.0), 1500.0);
    let achievable = dep.max_hbm_bytes_per_s();
    assert!(
        bytes / itl_s <= achievable * 1.000_001,
        "{}: {:.0} GB/s > {:.0} GB/s",
        best.label(),
        bytes / itl_s / 1e9,
        achievable / 1e9
    );
    assert!(achievable < g.memory_bandwidth_bytes_per_s());
}

/// A replica larger than a node keeps TP inside the NVLink domain and says how many nodes it
/// spans.
#[test]
fn multi_node_replicas_keep_tp_in_the_domain_and_count_nodes() {
    let model = "meta-llama/Llama-3.1-405B";
    let a = arch(model);
    let request = RecommendRequest::new(model)
        .gpus(["h100_sxm"])
        .engine([Engine::Vllm])
        .input_len(1024)
        .output_len(256)
        .concurrency(16)
        .max_gpus(16)
        .top(10);
    let rec = recommend_with(&request, &a, embedded_hardware(), embedded_profiles()).unwrap();
    let multi: Vec<&Configuration> = rec
        .configurations
        .iter()
        .filter(|c| c.gpus_per_replica > 8)
        .collect();
    assert!(!multi.is_empty(), "{}", rec.summary());
    for c in multi {
        assert!(c.tp <= 8, "{}", c.label());
        assert_eq!(c.nodes_per_replica, 2, "{}", c.label());
        assert!(c.label().contains("on 2 nodes"));
    }
}

/// A representative subset of the issue's grid (the full grid, 6 models x 3 shapes x 3 loads x
/// agg/auto at --max-gpus 64 on every GPU, runs by hand with the release binary; see
/// docs/estimation.md): every returned configuration passes the bounds.
#[test]
fn issue_grid_subset_is_physically_possible() {
    for (model, gpu_id, isl, osl) in [
        ("Qwen/Qwen3-32B", "h200_sxm", 32768, 256),
        ("Qwen/Qwen3-235B-A22B", "b200", 4096, 1024),
    ] {
        for auto in [false, true] {
            let r = RecommendRequest::new(model)
                .gpus([gpu_id])
                .engine([Engine::Trtllm])
                .input_len(isl)
                .output_len(osl)
                .max_gpus(16)
                .max_itl_ms(50.0)
                .mode(if auto {
                    ServingMode::Auto
                } else {
                    ServingMode::Agg
                });
            check_recommendation(&r, model).unwrap();
        }
    }
}

/// The issue's whole grid: 6 models x 3 length shapes x concurrency 1, 64 and best throughput x
/// agg/auto at `--max-gpus 64` on every catalog GPU. Too slow for a debug `cargo test`; run by
/// hand: `cargo test --release -p gpuplan --test bounds -- --ignored`.
#[test]
#[ignore]
fn issue_grid_is_physically_possible() {
    let mut checked = 0;
    for model in [
        "meta-llama/Llama-3.1-8B",
        "meta-llama/Llama-3.1-70B",
        "deepseek-ai/DeepSeek-R1",
        "openai/gpt-oss-120b",
        "Qwen/Qwen3-235B-A22B",
        "Qwen/Qwen3-32B",
    ] {
        for (isl, osl) in [(4096, 1024), (1024, 8192), (32768, 256)] {
            for load in 0..3 {
                for mode in [ServingMode::Agg, ServingMode::Auto] {
                    let mut r = RecommendRequest::new(model)
                        .input_len(isl)
                        .output_len(osl)
                        .max_gpus(64)
                        .max_itl_ms(50.0)
                        .mode(mode)
                        .top(10);
                    r = match load {
                        0 => r.concurrency(1),
                        1 => r.concurrency(64),
                        _ => r,
                    };
                    checked += check_recommendation(&r, model)
                        .unwrap_or_else(|e| panic!("{model} {isl}/{osl} load {load} {mode}: {e}"));
                }
            }
        }
    }
    eprintln!("{checked} configurations checked");
    assert!(checked > 0);
}
