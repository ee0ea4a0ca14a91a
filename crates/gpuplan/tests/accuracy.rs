//! Acceptance: the estimator on the measured serving runs of `data/measurements/perf_calibration.csv`
//! (copied from shared/reference/measurements/): at least 95% of rows predicted, median absolute
//! percentage error ITL <= 15%, TTFT <= 30%, output throughput <= 15%. docs/accuracy.md holds the
//! breakdown (regenerate: `gpuplan validate data/measurements/perf_calibration.csv --format markdown`).

use gpuplan::validate::{parse_measurements, validate_with_catalog};

#[test]
fn calibration_file_accuracy() {
    let text = include_str!("../../../data/measurements/perf_calibration.csv");
    let rows = parse_measurements("perf_calibration.csv", text).expect("parses");
    assert!(rows.len() > 1000);
    let report = validate_with_catalog(
        &rows,
        None,
        gpuplan_catalog::profiles::embedded_profiles(),
        gpuplan::estimate::memory_overheads(),
    );
    let share = report.rows_predicted as f64 / report.rows_total as f64;
    let s = report.summary;
    let msg = format!(
        "predicted {:.1}%, median APE ttft {:.1}% (n={}), itl {:.1}% (n={}), output tok/s {:.1}% (n={})",
        share * 100.0,
        s.ttft.median_ape * 100.0,
        s.ttft.n,
        s.itl.median_ape * 100.0,
        s.itl.n,
        s.output_tok_s.median_ape * 100.0,
        s.output_tok_s.n
    );
    eprintln!("{msg}");
    assert!(share >= 0.95, "{msg}");
    assert!(s.itl.median_ape <= 0.15, "{msg}");
    assert!(s.ttft.median_ape <= 0.30, "{msg}");
    assert!(s.output_tok_s.median_ape <= 0.15, "{msg}");
    // Every row without a prediction says why.
    assert!(report
        .rows
        .iter()
        .all(|r| r.error.is_some() || r.predicted_itl_ms.is_some()));
}

#[test]
fn every_row_is_predictable_offline_from_the_catalog() {
    let text = include_str!("../../../data/measurements/perf_calibration.csv");
    let rows = parse_measurements("perf_calibration.csv", text).expect("parses");
    for r in &rows {
        let stem = r.config.trim_end_matches(".json");
        assert!(
            gpuplan_catalog::find_model(stem).is_some(),
            "{}: {} not in the catalog",
            r.id,
            r.config
        );
    }
}
