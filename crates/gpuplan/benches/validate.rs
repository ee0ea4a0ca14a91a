//! `gpuplan validate` over the whole calibration file (1,170 measured runs), in-process.

use criterion::{criterion_group, criterion_main, Criterion};
use gpuplan::validate::{parse_measurements, validate_with_catalog};

fn bench(c: &mut Criterion) {
    let text = include_str!("../../../data/measurements/perf_calibration.csv");
    let rows = parse_measurements("perf_calibration.csv", text).expect("parses");
    let profiles = gpuplan_catalog::profiles::embedded_profiles();
    let overheads = gpuplan::estimate::memory_overheads();
    let mut group = c.benchmark_group("validate");
    group.sample_size(10);
    group.bench_function("perf_calibration_csv_all_rows", |b| {
        b.iter(|| validate_with_catalog(&rows, None, profiles, overheads))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
