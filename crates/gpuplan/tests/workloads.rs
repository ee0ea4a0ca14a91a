//! Acceptance tests of benchmark-style workloads: bursts, Poisson rates, length distributions,
//! percentiles (issue 13).

use gpuplan::core::memory::{Engine, Parallelism};
use gpuplan::core::perf::{EstimatePoint, Percentiles, Statistic};
use gpuplan::core::quant::KvDtypeChoice;
use gpuplan::estimate::{estimate_workloads, DeploymentSpec};
use gpuplan::validate::{parse_measurements, resolve_datasets, validate_with_catalog};
use gpuplan::workload::{Dataset, RequestRate, Workload};
use gpuplan::{recommend, RecommendRequest};

fn ordered(name: &str, p: &Percentiles) {
    assert!(
        p.p50 <= p.p90 && p.p90 <= p.p99 && p.p50 > 0.0,
        "{name}: p50 {} p90 {} p99 {}",
        p.p50,
        p.p90,
        p.p99
    );
}

fn check_point(p: &EstimatePoint) {
    ordered("ttft", &p.ttft_ms);
    ordered("tpot", &p.tpot_ms);
    ordered("itl", &p.itl_ms);
    ordered("e2e", &p.e2e_ms);
    assert!((p.ttft_ms.mean - p.time_to_first_token_ms).abs() < 1e-9);
    assert!((p.itl_ms.mean - p.inter_token_latency_ms).abs() < 1e-9);
}

fn llama8b() -> gpuplan::core::model::Architecture {
    gpuplan::catalog::find_model("meta-llama/Llama-3.1-8B")
        .expect("catalog model")
        .architecture()
        .expect("architecture")
}

fn estimate(workloads: &[Workload], dp: u32) -> Vec<EstimatePoint> {
    let arch = llama8b();
    let gpu = gpuplan::catalog::hardware::embedded_hardware()
        .resolve("H100")
        .expect("gpu");
    let spec = DeploymentSpec {
        arch: &arch,
        gpu,
        parallelism: Parallelism {
            tp: 1,
            pp: 1,
            dp,
            ep: 1,
        },
        engine: Engine::Vllm,
        kv_dtype: KvDtypeChoice::Auto,
        max_model_len: None,
        gpu_memory_utilization: 0.9,
    };
    estimate_workloads(
        &spec,
        workloads,
        &[],
        gpuplan::catalog::profiles::embedded_profiles(),
        gpuplan::estimate::memory_overheads(),
    )
    .expect("estimate")
    .points
}

fn burst(n: u64) -> Workload {
    Workload {
        input_len: 215,
        output_len: 194,
        request_rate: Some(RequestRate::INF),
        num_prompts: Some(n),
        dataset: Dataset::Sharegpt,
        ..Workload::default()
    }
}

#[test]
fn a_sharegpt_burst_drains_below_closed_loop_saturation() {
    let points = estimate(
        &[
            burst(1000),
            Workload::closed_loop(215, 194, None),
            Workload {
                dataset: Dataset::Random,
                ..burst(1000)
            },
        ],
        1,
    );
    let (b, sat, fixed) = (&points[0], &points[1], &points[2]);
    // The long-output tail runs at a small batch after the bulk has finished.
    assert!(
        b.output_throughput_tok_s < 0.8 * sat.output_throughput_tok_s,
        "burst {} vs saturation {}",
        b.output_throughput_tok_s,
        sat.output_throughput_tok_s
    );
    // Fixed lengths drain too, but less.
    assert!(b.output_throughput_tok_s < fixed.output_throughput_tok_s);
    assert!(fixed.output_throughput_tok_s < sat.output_throughput_tok_s);
    // Throughput is output tokens over the run's wall time.
    let run_s = b.run_duration_s.expect("finite run");
    assert!((b.requests_per_s * run_s - 1000.0).abs() < 1.0);
    // Queueing behind 1000 prefills: the p99 TTFT is well above the median.
    assert!(b.ttft_ms.p99 > 1.2 * b.ttft_ms.p50);
    for p in &points {
        check_point(p);
    }
}

#[test]
fn percentiles_are_ordered_in_every_output_and_steady_loops_centre_on_the_mean() {
    let mut workloads = vec![
        Workload::closed_loop(1024, 256, Some(1)),
        Workload::closed_loop(1024, 256, Some(32)),
        Workload::closed_loop(1024, 256, None),
        Workload {
            request_rate: Some(RequestRate(16.0)),
            ..Workload::closed_loop(215, 194, None)
        },
        Workload {
            max_concurrency: Some(64),
            ..burst(300)
        },
        Workload {
            random_range_ratio: 0.5,
            num_prompts: Some(200),
            ..Workload::closed_loop(512, 128, Some(16))
        },
    ];
    workloads.push(Workload {
        request_rate: Some(RequestRate(8.0)),
        ..burst(400)
    });
    for (dp, points) in [(1, estimate(&workloads, 1)), (2, estimate(&workloads, 2))] {
        for p in &points {
            check_point(p);
        }
        for steady in &points[..3] {
            let rel = (steady.ttft_ms.p50 / steady.ttft_ms.mean - 1.0).abs();
            assert!(
                rel < 0.05,
                "dp {dp}: p50 {} mean {}",
                steady.ttft_ms.p50,
                steady.ttft_ms.mean
            );
            assert!(steady.run_duration_s.is_none());
        }
    }
}

#[test]
fn a_poisson_run_carries_its_rate() {
    let p = &estimate(
        &[Workload {
            request_rate: Some(RequestRate(16.0)),
            num_prompts: Some(1000),
            ..Workload::closed_loop(215, 194, None)
        }],
        1,
    )[0];
    // 16 req/s x 194 tokens, within the arrival noise of 1000 requests and the drain.
    assert!(
        (p.output_throughput_tok_s / (16.0 * 194.0) - 1.0).abs() < 0.1,
        "{}",
        p.output_throughput_tok_s
    );
    // Far from saturation, TTFT is a prefill, not a queue.
    assert!(p.ttft_ms.p50 < 200.0, "{}", p.ttft_ms.p50);
}

const HEADER: &str = "id,model,config,gpu,tp,engine,isl,osl,concurrency,request_rate,num_prompts,max_concurrency,dataset,ttft_ms,itl_ms,tpot_ms,output_tok_s,ttft_p99_ms\n";

#[test]
fn validate_predicts_bursts_poisson_rows_and_length_files_beside_the_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lengths = String::from("input_len,output_len\n");
    for k in 0..50u64 {
        lengths.push_str(&format!("{},{}\n", 100 + 37 * k, 20 + (k * 53) % 400));
    }
    std::fs::write(dir.path().join("lengths.csv"), lengths).expect("write");
    let csv = format!(
        "{HEADER}\
         burst,meta-llama/Llama-3.1-8B,meta-llama__Llama-3.1-8B.json,h100_sxm,1,vllm,215,194,,inf,1000,,sharegpt,2000,30,40,8000,4000\n\
         poisson,meta-llama/Llama-3.1-8B,meta-llama__Llama-3.1-8B.json,h100_sxm,1,vllm,215,194,,16,,,,60,9,9,3000,\n\
         mlperf,meta-llama/Llama-3.1-8B,meta-llama__Llama-3.1-8B.json,h100_sxm,1,vllm,,,,30,,,lengths.csv,100,10,,,\n\
         closed,meta-llama/Llama-3.1-8B,meta-llama__Llama-3.1-8B.json,h100_sxm,1,vllm,1024,256,32,,,,,130,11,,2700,\n"
    );
    let mut rows = parse_measurements("runs.csv", &csv).expect("parses");
    resolve_datasets(&mut rows, dir.path());
    let report = validate_with_catalog(
        &rows,
        None,
        gpuplan::catalog::profiles::embedded_profiles(),
        gpuplan::estimate::memory_overheads(),
    );
    assert_eq!(
        report.rows_predicted,
        4,
        "{:?}",
        report.rows.iter().map(|r| &r.error).collect::<Vec<_>>()
    );
    for r in &report.rows {
        for v in [
            r.predicted_ttft_ms,
            r.predicted_tpot_ms,
            r.predicted_output_tok_s,
        ] {
            assert!(
                v.is_some_and(|x| x.is_finite() && x > 0.0),
                "{}: {v:?}",
                r.id
            );
        }
        ordered("ttft", &r.predicted_ttft_percentiles_ms.expect("ttft"));
        ordered("tpot", &r.predicted_tpot_percentiles_ms.expect("tpot"));
        ordered("itl", &r.predicted_itl_percentiles_ms.expect("itl"));
    }
    let by_id = |id: &str| report.rows.iter().find(|r| r.id == id).expect("row");
    assert!(by_id("burst")
        .workload
        .starts_with("burst of 1000 requests"));
    assert!(by_id("burst").percentile_errors.contains_key("ttft_p99"));
    assert!(by_id("poisson")
        .workload
        .contains("Poisson arrivals at 16 req/s"));
    assert!(by_id("closed").workload.starts_with("steady closed loop"));
    assert_eq!(report.summary.tpot.n, 2);
    // The file's distribution, not its mean: long prompts make the TTFT spread.
    let mlperf = by_id("mlperf");
    assert!(
        mlperf.workload.contains("lengths.csv"),
        "{}",
        mlperf.workload
    );
    let ttft = mlperf.predicted_ttft_percentiles_ms.expect("ttft");
    assert!(ttft.p99 > 1.5 * ttft.p50, "{ttft:?}");
    // 30 req/s x the file's mean output.
    let mean_out = (0..50u64)
        .map(|k| (20 + (k * 53) % 400) as f64)
        .sum::<f64>()
        / 50.0;
    let tok_s = mlperf.predicted_output_tok_s.expect("tok/s");
    assert!(
        (tok_s / (30.0 * mean_out) - 1.0).abs() < 0.15,
        "{tok_s} vs {}",
        30.0 * mean_out
    );
    // A missing file is that row's error, not a failed run.
    let mut missing = parse_measurements(
        "runs.csv",
        &format!("{HEADER}x,meta-llama/Llama-3.1-8B,meta-llama__Llama-3.1-8B.json,h100_sxm,1,vllm,,,,30,,,nope.csv,,,,,\n"),
    )
    .expect("parses");
    resolve_datasets(&mut missing, dir.path());
    let report = validate_with_catalog(
        &missing,
        None,
        gpuplan::catalog::profiles::embedded_profiles(),
        gpuplan::estimate::memory_overheads(),
    );
    assert!(report.rows[0]
        .error
        .as_deref()
        .unwrap_or("")
        .contains("nope.csv"));
}

#[test]
fn recommend_ranks_on_the_requested_percentile() {
    let base = RecommendRequest::new("meta-llama/Llama-3.1-8B")
        .gpus(["H100", "L40S", "A100"])
        .input_len(1024)
        .output_len(256)
        .request_rate(10.0)
        .max_ttft_ms(500.0);
    let by_p90 = recommend(&base.clone().slo_percentile(Statistic::P90)).expect("valid");
    assert!(by_p90.is_satisfied(), "{}", by_p90.summary());
    for c in &by_p90.configurations {
        let ttft = c.ttft_ms.expect("percentiles");
        assert!(ttft.p90 <= 500.0, "{}: p90 {}", c.label(), ttft.p90);
        ordered("ttft", &ttft);
    }
    assert_eq!(by_p90.slo.percentile, Statistic::P90);
    // Every configuration the mean admits but the p90 does not is excluded.
    let by_mean = recommend(&base.clone().top(100)).expect("valid");
    let p90_all = recommend(&base.slo_percentile(Statistic::P90).top(100)).expect("valid");
    assert!(p90_all.configurations.len() <= by_mean.configurations.len());
    for c in &by_mean.configurations {
        let ttft = c.ttft_ms.expect("percentiles");
        let kept = p90_all
            .configurations
            .iter()
            .any(|x| x.label() == c.label());
        if ttft.p90 > 500.0 {
            assert!(!kept, "{} kept with p90 {}", c.label(), ttft.p90);
        }
    }
}

#[test]
fn recommend_accepts_a_p99_limit_and_a_length_distribution() {
    let request = RecommendRequest::new("meta-llama/Llama-3.1-8B")
        .gpus(["H100"])
        .input_len(215)
        .output_len(194)
        .dataset(Dataset::Sharegpt)
        .concurrency(32)
        .max_ttft_p99_ms(2000.0);
    let rec = recommend(&request).expect("valid");
    assert!(rec.is_satisfied(), "{}", rec.summary());
    let best = &rec.configurations[0];
    let ttft = best.ttft_ms.expect("percentiles");
    assert!(ttft.p99 <= 2000.0);
    // The engine is configured for the longest sampled request, above the means' sum.
    assert!(best.max_model_len > 215 + 194, "{}", best.max_model_len);
}
