//! Benchmarks: the default 70B sweep, one estimate point, and parsing a config.json.
//! `cargo bench -p gpuplan --bench recommend`.

// Reports what it measured on the console.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use gpuplan::core::memory::{Engine, Parallelism};
use gpuplan::estimate::{estimate_deployment, DeploymentSpec};
use gpuplan::{recommend_with, RecommendRequest};

const LLAMA_70B: &str = "meta-llama/Llama-3.1-70B";

fn bench(c: &mut Criterion) {
    let hardware = gpuplan_catalog::hardware::embedded_hardware();
    let profiles = gpuplan_catalog::profiles::embedded_profiles();
    let Some(model) = gpuplan_catalog::find_model(LLAMA_70B) else {
        eprintln!("{LLAMA_70B} is not in the catalog");
        return;
    };
    let Ok(arch) = model.architecture() else {
        eprintln!("{LLAMA_70B} does not parse");
        return;
    };
    // The default sweep: every catalog GPU, 1-8 GPUs, every valid layout, native and fp8
    // weights, auto and fp8 KV, vLLM, aggregated, best throughput.
    let request = RecommendRequest::new(LLAMA_70B);
    c.bench_function("recommend_default_sweep_llama_70b", |b| {
        b.iter(|| recommend_with(black_box(&request), &arch, hardware, profiles))
    });
    let slo_request = RecommendRequest::new(LLAMA_70B)
        .concurrency(32)
        .max_ttft_ms(1000.0)
        .max_itl_ms(50.0);
    c.bench_function("recommend_slo_sweep_llama_70b", |b| {
        b.iter(|| recommend_with(black_box(&slo_request), &arch, hardware, profiles))
    });
    if let Ok(gpu) = hardware.resolve("H100") {
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
            kv_dtype: Default::default(),
            max_model_len: None,
            gpu_memory_utilization: 0.9,
        };
        let overheads = gpuplan::estimate::memory_overheads().clone();
        // The estimator alone (KV capacity given), as the search calls it per load point.
        let dep = gpuplan::core::perf::Deployment {
            arch: spec.arch,
            gpu: spec.gpu,
            parallelism: spec.parallelism,
            kv_dtype: gpuplan::core::quant::KvDtype::Bf16,
            eff: profiles.arch(&spec.gpu.arch).expect("arch profile"),
            engine: profiles.engine("vllm").expect("vllm profile"),
        };
        c.bench_function("perf_estimate_one_point_llama_70b_4xh100", |b| {
            b.iter(|| {
                gpuplan::core::perf::estimate(black_box(&dep), 400_000.0, 2048, 512, &[Some(32)])
                    .expect("estimates")
            })
        });
        c.bench_function("estimate_one_point_llama_70b_4xh100", |b| {
            b.iter(|| {
                estimate_deployment(
                    black_box(&spec),
                    2048,
                    512,
                    &[Some(32)],
                    profiles,
                    &overheads,
                )
                .expect("estimates")
            })
        });
    }
    c.bench_function("parse_config_llama_70b", |b| {
        b.iter(|| black_box(model).architecture())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
