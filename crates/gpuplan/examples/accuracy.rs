//! Quick accuracy check over the calibration file (development aid):
//! `cargo run --release -p gpuplan --example accuracy [fit]`.
use gpuplan::validate::{calibrate, parse_measurements, validate_with_catalog};

fn main() {
    let text = include_str!("../../../data/measurements/perf_calibration.csv");
    let rows = parse_measurements("perf_calibration.csv", text).expect("parses");
    let profiles = gpuplan_catalog::profiles::profiles_with_file(
        std::env::var("PROFILE")
            .ok()
            .as_deref()
            .map(std::path::Path::new),
    )
    .expect("profile");
    let overheads = gpuplan::estimate::memory_overheads().clone();
    if let Ok(id) = std::env::var("ID") {
        let hw = gpuplan_catalog::hardware::embedded_hardware();
        for r in rows.iter().filter(|r| r.id.contains(&id)) {
            let res = gpuplan::validate::predict_row(r, None, hw, &profiles, &overheads);
            println!("{}", serde_json::to_string_pretty(&res).unwrap_or_default());
            let arch = gpuplan::validate::apply_row_quant(
                &gpuplan_catalog::find_model(r.config.trim_end_matches(".json"))
                    .unwrap()
                    .architecture()
                    .unwrap(),
                &r.weight_quant,
                &r.notes,
            );
            let gpu = hw.resolve(&r.gpu).unwrap();
            let spec = gpuplan::estimate::DeploymentSpec {
                arch: &arch,
                gpu,
                parallelism: gpuplan_core::memory::Parallelism {
                    tp: r.tp.unwrap_or(1).max(1),
                    pp: 1,
                    dp: r.dp.unwrap_or(1).max(1),
                    ep: r.ep.unwrap_or(1).max(1),
                },
                engine: r.engine.parse().unwrap(),
                kv_dtype: Default::default(),
                max_model_len: None,
                gpu_memory_utilization: 0.9,
            };
            let c = r.concurrency.parse::<u64>().ok();
            let e = gpuplan::estimate::estimate_deployment(
                &spec,
                r.isl,
                r.osl,
                &[c],
                &profiles,
                &overheads,
            );
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &e.map(|e| (e.kv_dtype, e.max_concurrent_requests, e.points))
                        .map_err(|e| e.to_string())
                )
                .unwrap_or_default()
            );
        }
        return;
    }
    let report = if std::env::args().nth(1).as_deref() == Some("fit") {
        let rounds = std::env::var("ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(12);
        let (p, r) = calibrate(&rows, None, &profiles, &overheads, rounds);
        std::fs::write("/tmp/fit.toml", toml::to_string(&p).unwrap_or_default()).ok();
        r
    } else {
        validate_with_catalog(&rows, None, &profiles, &overheads)
    };
    println!("predicted {}/{}", report.rows_predicted, report.rows_total);
    let s = report.summary;
    println!(
        "ALL   ttft {:.3} ({})  itl {:.3} ({})  tok/s {:.3} ({})",
        s.ttft.median_ape,
        s.ttft.n,
        s.itl.median_ape,
        s.itl.n,
        s.output_tok_s.median_ape,
        s.output_tok_s.n
    );
    for (k, s) in report
        .by_engine
        .iter()
        .chain(report.by_gpu.iter())
        .chain(report.by_model.iter())
    {
        println!(
            "{k:40} ttft {:.3} ({:3})  itl {:.3} ({:3})  tok/s {:.3} ({})",
            s.ttft.median_ape,
            s.ttft.n,
            s.itl.median_ape,
            s.itl.n,
            s.output_tok_s.median_ape,
            s.output_tok_s.n
        );
    }
    let mut errs: Vec<_> = report.rows.iter().filter_map(|r| r.error.clone()).collect();
    errs.sort();
    errs.dedup();
    for e in errs.iter().take(15) {
        println!("ERR {e}");
    }
    if let Ok(p) = std::env::var("DUMP") {
        std::fs::write(p, serde_json::to_string(&report.rows).unwrap_or_default()).ok();
    }
    if std::env::var("ROWS").is_ok() {
        for r in &report.rows {
            println!(
                "{} {:?} {:?} {:?}",
                r.id,
                r.ttft_error.map(|x| (x * 100.0).round()),
                r.itl_error.map(|x| (x * 100.0).round()),
                r.output_tok_s_error.map(|x| (x * 100.0).round())
            );
        }
    }
}

#[allow(dead_code)]
fn unused() {}
