//! The workload a deployment is estimated under, named as benchmark tools (`vllm bench serve`,
//! SGLang's `bench_serving`) name it: how requests arrive (`max_concurrency`, `request_rate`,
//! `num_prompts`) and how long they are (`dataset`: fixed or random lengths, ShareGPT-like, or
//! a file of per-request lengths). Every front end (CLI flags, HTTP fields, Python keywords,
//! validate columns) converts into [`Workload`]; its defaults and limits are declared here.
//!
//! A steady closed loop with fixed lengths is estimated analytically (the calibrated model);
//! every other workload is a finite run, simulated request by request
//! ([`gpuplan_core::perf::estimate_run`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use gpuplan_core::perf::{poisson_arrivals, RunRequest, SplitMix64, MAX_RUN_REQUESTS};
use serde::{Deserialize, Serialize};

/// Prompts of a run when `num_prompts` is not given (the `vllm bench serve` default).
pub const DEFAULT_NUM_PROMPTS: u64 = 1000;
/// Most prompts of one run.
pub const MAX_NUM_PROMPTS: u64 = MAX_RUN_REQUESTS as u64;
/// Mean prompt tokens of the ShareGPT histogram (`--dataset sharegpt` without `--input-len`;
/// see `gpuplan-catalog/data/sharegpt_lengths.csv`).
pub const SHAREGPT_MEAN_INPUT_LEN: u64 = 215;
/// Mean output tokens of the ShareGPT histogram (as [`SHAREGPT_MEAN_INPUT_LEN`]).
pub const SHAREGPT_MEAN_OUTPUT_LEN: u64 = 194;
/// Seed of the length sampler and of Poisson arrivals: the same workload always gives the same
/// requests.
pub const WORKLOAD_SEED: u64 = 0;

/// Why a workload is invalid or its file cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct WorkloadError {
    /// The field (or file) at fault.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn err(field: &str, message: impl Into<String>) -> WorkloadError {
    WorkloadError {
        field: field.into(),
        message: message.into(),
    }
}

/// Requests per second of Poisson arrivals, or `inf`: every request at t=0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequestRate(pub f64);

impl RequestRate {
    /// All requests at once (`--request-rate inf`).
    pub const INF: RequestRate = RequestRate(f64::INFINITY);
    /// True for `inf`.
    pub fn is_inf(self) -> bool {
        self.0.is_infinite()
    }
}

impl FromStr for RequestRate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("inf") || t.eq_ignore_ascii_case("infinity") {
            return Ok(RequestRate::INF);
        }
        match t.parse::<f64>() {
            Ok(v) if v > 0.0 && !v.is_nan() => Ok(RequestRate(v)),
            _ => Err(format!(
                "'{s}' is not a request rate: give requests per second > 0, or 'inf'"
            )),
        }
    }
}

impl fmt::Display for RequestRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_inf() {
            f.write_str("inf")
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl Serialize for RequestRate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.is_inf() {
            s.serialize_str("inf")
        } else {
            s.serialize_f64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for RequestRate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Num(f64),
            Text(String),
        }
        match Repr::deserialize(d)? {
            Repr::Num(v) => RequestRate::from_str(&v.to_string()),
            Repr::Text(t) => RequestRate::from_str(&t),
        }
        .map_err(serde::de::Error::custom)
    }
}

/// Where request lengths come from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Dataset {
    /// `input_len`/`output_len` each, or uniform within +-`random_range_ratio` of them.
    #[default]
    Random,
    /// The ShareGPT length distribution, rescaled so its means are `input_len`/`output_len`.
    Sharegpt,
    /// A CSV or JSON-lines file of requests with `input_len`, `output_len` and optionally
    /// `arrival_s` (seconds from the start: a trace).
    File(PathBuf),
}

impl FromStr for Dataset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "" => Err("empty dataset: give random, sharegpt or a file path".into()),
            t if t.eq_ignore_ascii_case("random") => Ok(Dataset::Random),
            t if t.eq_ignore_ascii_case("sharegpt") => Ok(Dataset::Sharegpt),
            t => Ok(Dataset::File(PathBuf::from(t))),
        }
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dataset::Random => f.write_str("random"),
            Dataset::Sharegpt => f.write_str("sharegpt"),
            Dataset::File(p) => write!(f, "{}", p.display()),
        }
    }
}

impl Serialize for Dataset {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dataset {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Dataset::from_str(&s).map_err(serde::de::Error::custom)
    }
}

/// The load a deployment is estimated under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Workload {
    /// Prompt tokens per request (the mean for `sharegpt`; ignored for a file).
    pub input_len: u64,
    /// Generated tokens per request (the mean for `sharegpt`; ignored for a file).
    pub output_len: u64,
    /// Most requests in flight at once, whole deployment (`--max-concurrency`; the benchmark
    /// client's semaphore). `None`: no client-side cap (the engine still queues).
    pub max_concurrency: Option<u64>,
    /// Arrival process (`--request-rate`): Poisson at this rate, or `inf` (all at t=0).
    /// `None` with no `num_prompts` and fixed lengths: a steady closed loop.
    pub request_rate: Option<RequestRate>,
    /// Requests in a finite run (`--num-prompts`) [default 1000 when the run is finite].
    pub num_prompts: Option<u64>,
    /// Request lengths (`--dataset`).
    pub dataset: Dataset,
    /// For `random`: lengths uniform in [(1 - r) x len, (1 + r) x len] (`--random-range-ratio`,
    /// as in vLLM bench) [default 0: fixed].
    pub random_range_ratio: f64,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            input_len: 2048,
            output_len: 512,
            max_concurrency: None,
            request_rate: None,
            num_prompts: None,
            dataset: Dataset::Random,
            random_range_ratio: 0.0,
        }
    }
}

/// One row of a per-request length file.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct LengthRow {
    /// Prompt tokens.
    pub input_len: u64,
    /// Generated tokens.
    pub output_len: u64,
    /// Send time, seconds from the start of the run.
    #[serde(default)]
    pub arrival_s: Option<f64>,
}

impl Workload {
    /// Fixed lengths, steady closed loop at `max_concurrency` (`None`: saturation).
    pub fn closed_loop(input_len: u64, output_len: u64, max_concurrency: Option<u64>) -> Self {
        Workload {
            input_len,
            output_len,
            max_concurrency,
            ..Workload::default()
        }
    }

    /// True when every request has the same lengths (`random` with range ratio 0).
    pub fn fixed_lengths(&self) -> bool {
        self.dataset == Dataset::Random && self.random_range_ratio == 0.0
    }

    /// True for a steady closed loop with fixed lengths: estimated by the analytic model.
    pub fn is_steady_closed_loop(&self) -> bool {
        self.fixed_lengths() && self.request_rate.is_none() && self.num_prompts.is_none()
    }

    /// True when the requests are sent at the times of a length file (`arrival_s` on every
    /// row, and no request rate given).
    pub fn is_trace(&self, file_rows: &[LengthRow]) -> bool {
        matches!(self.dataset, Dataset::File(_))
            && self.request_rate.is_none()
            && !file_rows.is_empty()
            && file_rows.iter().all(|r| r.arrival_s.is_some())
    }

    /// The number of requests of a finite run: `num_prompts`, else every row of a trace, else
    /// [`DEFAULT_NUM_PROMPTS`] (a length file's rows are cycled in order).
    pub fn prompts(&self, file_rows: &[LengthRow]) -> u64 {
        self.num_prompts.unwrap_or(if self.is_trace(file_rows) {
            file_rows.len() as u64
        } else {
            DEFAULT_NUM_PROMPTS
        })
    }

    /// Checks the fields (the file, if any, is read later).
    pub fn validate(&self) -> Result<(), WorkloadError> {
        if !matches!(self.dataset, Dataset::File(_)) {
            if self.input_len == 0 {
                return Err(err("input_len", "must be at least 1 token"));
            }
            if self.output_len == 0 {
                return Err(err("output_len", "must be at least 1 token"));
            }
        }
        if self.max_concurrency == Some(0) {
            return Err(err("max_concurrency", "must be at least 1"));
        }
        if let Some(n) = self.num_prompts {
            if n == 0 || n > MAX_NUM_PROMPTS {
                return Err(err(
                    "num_prompts",
                    format!("must be between 1 and {MAX_NUM_PROMPTS}"),
                ));
            }
        }
        if let Some(r) = self.request_rate {
            if r.0.is_nan() || r.0 <= 0.0 {
                return Err(err("request_rate", "must be > 0 or inf"));
            }
        }
        if !(0.0..1.0).contains(&self.random_range_ratio) {
            return Err(err("random_range_ratio", "must be in [0, 1)"));
        }
        if self.random_range_ratio > 0.0 && self.dataset != Dataset::Random {
            return Err(err(
                "random_range_ratio",
                "applies to the random dataset only",
            ));
        }
        Ok(())
    }

    /// The file of a `File` dataset, resolved against `base_dir` when relative.
    pub fn dataset_path(&self, base_dir: Option<&Path>) -> Option<PathBuf> {
        match &self.dataset {
            Dataset::File(p) if p.is_relative() => {
                Some(base_dir.map_or_else(|| p.clone(), |d| d.join(p)))
            }
            Dataset::File(p) => Some(p.clone()),
            _ => None,
        }
    }

    /// The requests of the finite run this workload describes (whole deployment), from a fixed
    /// seed. `file_rows` are the rows of a `File` dataset (see [`read_lengths`]).
    pub fn run_requests(&self, file_rows: &[LengthRow]) -> Result<Vec<RunRequest>, WorkloadError> {
        self.validate()?;
        let n = self.prompts(file_rows) as usize;
        let mut rng = SplitMix64::new(WORKLOAD_SEED);
        let lengths: Vec<(u64, u64)> = match &self.dataset {
            Dataset::Random => {
                let r = self.random_range_ratio;
                let mut pick = |len: u64| {
                    if r == 0.0 {
                        return len;
                    }
                    let lo = ((len as f64) * (1.0 - r)).floor().max(1.0) as u64;
                    let hi = ((len as f64) * (1.0 + r)).ceil() as u64;
                    lo + (rng.next_f64() * (hi - lo + 1) as f64) as u64
                };
                (0..n)
                    .map(|_| (pick(self.input_len), pick(self.output_len)))
                    .collect()
            }
            Dataset::Sharegpt => {
                let h = sharegpt_histogram();
                let sin = self.input_len as f64 / h.mean(&h.input);
                let sout = self.output_len as f64 / h.mean(&h.output);
                (0..n)
                    .map(|_| {
                        let i = (h.sample(&h.input, &mut rng) * sin).round().max(1.0) as u64;
                        let o = (h.sample(&h.output, &mut rng) * sout).round().max(1.0) as u64;
                        (i, o)
                    })
                    .collect()
            }
            Dataset::File(p) => {
                if file_rows.is_empty() {
                    return Err(err("dataset", format!("{} has no requests", p.display())));
                }
                (0..n)
                    .map(|k| {
                        let r = file_rows[k % file_rows.len()];
                        (r.input_len, r.output_len)
                    })
                    .collect()
            }
        };
        let trace = self.is_trace(file_rows);
        let arrivals: Vec<f64> = if trace {
            let period = file_rows
                .iter()
                .filter_map(|r| r.arrival_s)
                .fold(0.0, f64::max);
            (0..n)
                .map(|k| {
                    let lap = (k / file_rows.len()) as f64;
                    file_rows[k % file_rows.len()].arrival_s.unwrap_or(0.0) + lap * period
                })
                .collect()
        } else {
            let rate = self.request_rate.map_or(f64::INFINITY, |r| r.0);
            poisson_arrivals(n, rate, WORKLOAD_SEED ^ 0x5EED)
        };
        Ok(lengths
            .into_iter()
            .zip(arrivals)
            .map(|((input_len, output_len), arrival_s)| RunRequest {
                input_len,
                output_len,
                arrival_s,
            })
            .collect())
    }

    /// One line saying which workload is modelled, e.g. "burst of 1000 requests, all sent at
    /// t=0, drain included; ShareGPT-like lengths (mean 215 in / 194 out tokens)".
    pub fn describe(&self, file_rows: &[LengthRow]) -> String {
        let lengths = self.describe_lengths();
        if self.is_steady_closed_loop() {
            return match self.max_concurrency {
                Some(c) => format!(
                    "steady closed loop: {c} clients, each sending its next request when the last \
                     completes; {lengths}"
                ),
                None => format!(
                    "steady closed loop at saturation (as many requests as the KV cache and \
                     scheduler admit); {lengths}"
                ),
            };
        }
        let n = self.prompts(file_rows);
        let cap = self
            .max_concurrency
            .map(|c| format!(", at most {c} in flight"))
            .unwrap_or_default();
        let trace = self.is_trace(file_rows);
        match self.request_rate {
            Some(r) if !r.is_inf() => {
                format!("{n} requests, Poisson arrivals at {r} req/s{cap}; {lengths}")
            }
            _ if trace => {
                format!("{n} requests sent at the file's arrival_s times{cap}; {lengths}")
            }
            _ if self.max_concurrency.is_some() => {
                format!("{n} requests{cap} (closed loop that drains); {lengths}")
            }
            _ => format!("burst of {n} requests, all sent at t=0, drain included; {lengths}"),
        }
    }

    /// The request lengths in words, e.g. "1024 in / 256 out tokens each".
    pub fn describe_lengths(&self) -> String {
        match &self.dataset {
            Dataset::Random if self.random_range_ratio == 0.0 => format!(
                "{} in / {} out tokens each",
                self.input_len, self.output_len
            ),
            Dataset::Random => format!(
                "random lengths {} in / {} out tokens +-{:.0}%",
                self.input_len,
                self.output_len,
                self.random_range_ratio * 100.0
            ),
            Dataset::Sharegpt => format!(
                "ShareGPT-like lengths (mean {} in / {} out tokens)",
                self.input_len, self.output_len
            ),
            Dataset::File(p) => format!("lengths from {}", p.display()),
        }
    }
}

/// Reads a per-request length file: CSV with a header (`input_len,output_len[,arrival_s]`,
/// other columns ignored) or JSON lines (`.jsonl`/`.json`) with the same fields.
pub fn read_lengths(path: &Path) -> Result<Vec<LengthRow>, WorkloadError> {
    let name = path.display().to_string();
    // Only a regular file below the user-file cap: never a device or a FIFO.
    let text = gpuplan_catalog::read_user_file(path, gpuplan_catalog::MAX_USER_FILE_BYTES)
        .map_err(|e| err("dataset", format!("cannot read {name}: {e}")))?;
    parse_lengths(&name, &text)
}

/// Parses the text of a per-request length file (see [`read_lengths`]); `name` picks the format
/// by its extension (`.jsonl`/`.json`: JSON lines, else CSV) and appears in errors.
pub fn parse_lengths(name: &str, text: &str) -> Result<Vec<LengthRow>, WorkloadError> {
    let lower = name.to_ascii_lowercase();
    let mut rows = Vec::new();
    if lower.ends_with(".jsonl") || lower.ends_with(".json") {
        for (k, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let row: LengthRow = serde_json::from_str(line)
                .map_err(|e| err("dataset", format!("{name} line {}: {e}", k + 1)))?;
            rows.push(row);
        }
    } else {
        let mut rdr = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        for (k, rec) in rdr.deserialize::<LengthRow>().enumerate() {
            rows.push(rec.map_err(|e| err("dataset", format!("{name} row {}: {e}", k + 2)))?);
        }
    }
    if rows.is_empty() {
        return Err(err("dataset", format!("{name} has no requests")));
    }
    for (k, r) in rows.iter().enumerate() {
        if r.input_len == 0 || r.output_len == 0 {
            return Err(err(
                "dataset",
                format!(
                    "{name} request {}: input_len and output_len must be >= 1",
                    k + 1
                ),
            ));
        }
        if r.arrival_s.is_some_and(|a| !(a.is_finite() && a >= 0.0)) {
            return Err(err(
                "dataset",
                format!("{name} request {}: arrival_s must be >= 0", k + 1),
            ));
        }
    }
    if rows.len() > MAX_RUN_REQUESTS {
        return Err(err(
            "dataset",
            format!("{name} has more than {MAX_RUN_REQUESTS} requests"),
        ));
    }
    Ok(rows)
}

/// The ShareGPT length histogram shipped in the catalog.
struct Histogram {
    input: Vec<(f64, f64, f64)>,
    output: Vec<(f64, f64, f64)>,
}

impl Histogram {
    fn mean(&self, bins: &[(f64, f64, f64)]) -> f64 {
        bins.iter()
            .map(|(lo, hi, w)| w * (lo + hi) / 2.0)
            .sum::<f64>()
            / bins.iter().map(|b| b.2).sum::<f64>()
    }
    fn sample(&self, bins: &[(f64, f64, f64)], rng: &mut SplitMix64) -> f64 {
        let total: f64 = bins.iter().map(|b| b.2).sum();
        let mut u = rng.next_f64() * total;
        let v = rng.next_f64();
        for &(lo, hi, w) in bins {
            if u < w {
                return lo + v * (hi - lo);
            }
            u -= w;
        }
        bins.last().map_or(1.0, |b| b.1)
    }
}

fn sharegpt_histogram() -> Histogram {
    #[derive(Deserialize)]
    struct Bin {
        kind: String,
        lo_tokens: f64,
        hi_tokens: f64,
        share: f64,
    }
    let mut h = Histogram {
        input: Vec::new(),
        output: Vec::new(),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(gpuplan_catalog::datasets::SHAREGPT_LENGTHS_CSV.as_bytes());
    // The file is embedded and checked by a test; a malformed row is skipped.
    for b in rdr.deserialize::<Bin>().flatten() {
        let bin = (b.lo_tokens, b.hi_tokens, b.share);
        if b.kind == "input" {
            h.input.push(bin);
        } else {
            h.output.push(bin);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sharegpt_histogram_is_complete_and_rescaled_to_the_means() {
        let h = sharegpt_histogram();
        assert!(h.input.len() > 5 && h.output.len() > 5);
        for bins in [&h.input, &h.output] {
            let total: f64 = bins.iter().map(|b| b.2).sum();
            assert!((total - 1.0).abs() < 1e-3, "{total}");
        }
        let w = Workload {
            input_len: 215,
            output_len: 194,
            dataset: Dataset::Sharegpt,
            num_prompts: Some(5000),
            request_rate: Some(RequestRate::INF),
            ..Workload::default()
        };
        let reqs = w.run_requests(&[]).expect("requests");
        assert_eq!(reqs.len(), 5000);
        let mean_in = reqs.iter().map(|r| r.input_len as f64).sum::<f64>() / 5000.0;
        let mean_out = reqs.iter().map(|r| r.output_len as f64).sum::<f64>() / 5000.0;
        assert!((mean_in / 215.0 - 1.0).abs() < 0.05, "{mean_in}");
        assert!((mean_out / 194.0 - 1.0).abs() < 0.05, "{mean_out}");
        // A long tail: some requests far above the mean.
        assert!(reqs.iter().any(|r| r.output_len > 800));
        assert!(reqs.iter().all(|r| r.arrival_s == 0.0));
    }

    #[test]
    fn random_range_ratio_spreads_lengths_as_vllm_bench() {
        let w = Workload {
            input_len: 1000,
            output_len: 100,
            random_range_ratio: 0.5,
            num_prompts: Some(2000),
            ..Workload::default()
        };
        let reqs = w.run_requests(&[]).expect("requests");
        assert!(reqs.iter().all(|r| (500..=1500).contains(&r.input_len)));
        assert!(reqs.iter().any(|r| r.input_len < 600) && reqs.iter().any(|r| r.input_len > 1400));
    }

    #[test]
    fn poisson_rate_sets_the_arrival_span() {
        let w = Workload {
            input_len: 100,
            output_len: 100,
            request_rate: Some(RequestRate(10.0)),
            num_prompts: Some(1000),
            ..Workload::default()
        };
        let reqs = w.run_requests(&[]).expect("requests");
        let span = reqs.last().map_or(0.0, |r| r.arrival_s);
        assert!((span / 100.0 - 1.0).abs() < 0.1, "{span}");
        assert_eq!(w.run_requests(&[]).expect("again"), reqs, "deterministic");
    }

    #[test]
    fn length_files_parse_as_csv_or_jsonl_and_report_bad_rows() {
        let csv = parse_lengths("l.csv", "input_len,output_len\n100,20\n300,40\n").expect("csv");
        assert_eq!(csv.len(), 2);
        let jsonl = parse_lengths(
            "l.jsonl",
            "{\"input_len\": 5, \"output_len\": 6, \"arrival_s\": 0.5}\n",
        )
        .expect("jsonl");
        assert_eq!(jsonl[0].arrival_s, Some(0.5));
        let bad = parse_lengths("l.csv", "input_len,output_len\n0,20\n").unwrap_err();
        assert!(bad.message.contains("request 1"), "{bad}");
        assert!(parse_lengths("l.csv", "input_len,output_len\nx,1\n").is_err());
        let w = Workload {
            dataset: Dataset::File("l.jsonl".into()),
            num_prompts: Some(3),
            ..Workload::default()
        };
        let reqs = w.run_requests(&jsonl).expect("trace");
        assert_eq!(reqs.len(), 3);
        assert!(reqs[1].arrival_s > reqs[0].arrival_s);
    }

    #[test]
    fn request_rate_and_dataset_round_trip_through_serde() {
        let w = Workload {
            request_rate: Some(RequestRate::INF),
            dataset: Dataset::Sharegpt,
            ..Workload::default()
        };
        let json = serde_json::to_string(&w).expect("json");
        assert!(json.contains("\"request_rate\":\"inf\""), "{json}");
        assert!(json.contains("\"dataset\":\"sharegpt\""), "{json}");
        let back: Workload = serde_json::from_str(&json).expect("back");
        assert_eq!(back, w);
        let r: RequestRate = serde_json::from_str("16").expect("number");
        assert_eq!(r, RequestRate(16.0));
        assert!(serde_json::from_str::<RequestRate>("-1").is_err());
        assert!(Workload {
            random_range_ratio: 1.5,
            ..Workload::default()
        }
        .validate()
        .is_err());
    }

    #[test]
    fn describe_names_the_load_shape() {
        let burst = Workload {
            input_len: 215,
            output_len: 194,
            dataset: Dataset::Sharegpt,
            request_rate: Some(RequestRate::INF),
            num_prompts: Some(1000),
            ..Workload::default()
        };
        let d = burst.describe(&[]);
        assert!(
            d.starts_with("burst of 1000 requests, all sent at t=0"),
            "{d}"
        );
        assert!(d.contains("ShareGPT"), "{d}");
        let closed = Workload::closed_loop(1024, 256, Some(32));
        assert!(closed.describe(&[]).contains("32 clients"));
        let poisson = Workload {
            request_rate: Some(RequestRate(16.0)),
            ..Workload::default()
        };
        assert!(poisson
            .describe(&[])
            .contains("Poisson arrivals at 16 req/s"));
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;

    #[test]
    fn a_length_file_must_be_a_regular_file() {
        let e = read_lengths(Path::new("/dev/zero")).expect_err("a device is refused");
        assert_eq!(e.field, "dataset");
        let dir = tempfile::tempdir().expect("tempdir");
        let e = read_lengths(dir.path()).expect_err("a directory is refused");
        assert_eq!(e.field, "dataset");
    }
}
