//! Length distributions of benchmark datasets, shipped as histograms with their sources.

/// The ShareGPT input/output length histogram (`kind,lo_tokens,hi_tokens,share`; `#` lines are
/// comments naming the source). See `scripts/sharegpt_histogram.py`.
pub const SHAREGPT_LENGTHS_CSV: &str = include_str!("../data/sharegpt_lengths.csv");
