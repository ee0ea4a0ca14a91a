//! Search over deployments: which parallel layouts and weight formats to try, how a load is
//! carried (replicas, Little's law for request rates), which configurations meet the SLOs, how
//! they rank, the Pareto frontier of throughput per GPU against per-user speed, and why the
//! near-misses were excluded.
//!
//! Everything here is pure: evaluating a candidate is the caller's closure, so the facade decides
//! how to plan memory and estimate performance and this module only decides what to try and how
//! to judge the answers.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::hardware::Gpu;
use crate::memory::Parallelism;
use crate::model::Architecture;
use crate::perf::{mm1_wait_quantile_s, EstimatePoint, Percentiles, Statistic};
use crate::quant::WeightFormat;

/// What "best" means when ranking configurations. Ties are broken by the other two objectives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Lowest dollars per million output tokens at the achieved throughput.
    #[default]
    Cost,
    /// Highest output tokens per second per GPU.
    Throughput,
    /// Lowest end-to-end latency per request (then lowest time to first token).
    Latency,
}

impl Objective {
    /// Canonical name (`cost`, `throughput`, `latency`).
    pub fn as_str(self) -> &'static str {
        match self {
            Objective::Cost => "cost",
            Objective::Throughput => "throughput",
            Objective::Latency => "latency",
        }
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Objective {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cost" => Ok(Objective::Cost),
            "throughput" => Ok(Objective::Throughput),
            "latency" => Ok(Objective::Latency),
            other => Err(format!(
                "unknown objective '{other}'; expected cost, throughput or latency"
            )),
        }
    }
}

/// How prefill and decode are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServingMode {
    /// Aggregated: every engine instance does both prefill and decode.
    #[default]
    Agg,
    /// Disaggregated: prefill and decode run on separate GPU pools (llm-d / Dynamo style) and
    /// the KV cache moves between them over the scale-out network.
    Disagg,
    /// Search both and rank them together.
    Auto,
}

impl ServingMode {
    /// Canonical name (`agg`, `disagg`, `auto`).
    pub fn as_str(self) -> &'static str {
        match self {
            ServingMode::Agg => "agg",
            ServingMode::Disagg => "disagg",
            ServingMode::Auto => "auto",
        }
    }
}

impl fmt::Display for ServingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ServingMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "agg" | "aggregated" => Ok(ServingMode::Agg),
            "disagg" | "disaggregated" => Ok(ServingMode::Disagg),
            "auto" => Ok(ServingMode::Auto),
            other => Err(format!(
                "unknown mode '{other}'; expected agg, disagg or auto"
            )),
        }
    }
}

/// Service-level objectives; `None` means "no constraint".
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    /// Largest acceptable mean time to first token, milliseconds (queueing included).
    pub max_ttft_ms: Option<f64>,
    /// Largest acceptable mean inter-token latency, milliseconds (excludes the first token).
    pub max_itl_ms: Option<f64>,
    /// Largest acceptable mean end-to-end request latency, milliseconds.
    pub max_e2e_ms: Option<f64>,
    /// Smallest acceptable output throughput of the whole deployment, tokens per second.
    pub min_throughput_tok_s: Option<f64>,
    /// Which statistic `max_ttft_ms`, `max_itl_ms` and `max_e2e_ms` limit (default: the mean).
    #[serde(default)]
    pub percentile: Statistic,
    /// Largest acceptable 99th-percentile time to first token, milliseconds.
    #[serde(default)]
    pub max_ttft_p99_ms: Option<f64>,
    /// Largest acceptable 99th-percentile inter-token latency, milliseconds.
    #[serde(default)]
    pub max_itl_p99_ms: Option<f64>,
}

/// One SLO constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SloConstraint {
    /// `max_ttft_ms`.
    MaxTtftMs,
    /// `max_itl_ms`.
    MaxItlMs,
    /// `max_e2e_ms`.
    MaxE2eMs,
    /// `min_throughput_tok_s`.
    MinThroughputTokS,
    /// `max_ttft_p99_ms`.
    MaxTtftP99Ms,
    /// `max_itl_p99_ms`.
    MaxItlP99Ms,
}

impl SloConstraint {
    /// The flag / field name of the constraint, e.g. `max_ttft_ms`.
    pub fn as_str(self) -> &'static str {
        match self {
            SloConstraint::MaxTtftMs => "max_ttft_ms",
            SloConstraint::MaxItlMs => "max_itl_ms",
            SloConstraint::MaxE2eMs => "max_e2e_ms",
            SloConstraint::MinThroughputTokS => "min_throughput_tok_s",
            SloConstraint::MaxTtftP99Ms => "max_ttft_p99_ms",
            SloConstraint::MaxItlP99Ms => "max_itl_p99_ms",
        }
    }
}

impl fmt::Display for SloConstraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A constraint a configuration misses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SloViolation {
    /// Which constraint.
    pub constraint: SloConstraint,
    /// The limit asked for (ms or tokens/s, as the constraint's name says).
    pub limit: f64,
    /// The value the configuration achieves (same unit as `limit`).
    pub actual: f64,
    /// How far off, as a factor > 1: actual / limit for maxima, limit / actual for minima.
    pub miss_factor: f64,
}

/// The figures of one evaluated configuration that SLOs, objectives and the frontier look at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Mean time to first token, milliseconds.
    pub time_to_first_token_ms: f64,
    /// Mean inter-token latency (first token excluded), milliseconds.
    pub inter_token_latency_ms: f64,
    /// Mean end-to-end request latency, milliseconds.
    pub end_to_end_latency_ms: f64,
    /// Output tokens per second of the whole deployment (all replicas).
    pub output_throughput_tok_s: f64,
    /// Output tokens per second per GPU.
    pub output_throughput_tok_s_per_gpu: f64,
    /// Output tokens per second one user sees (1000 / ITL).
    pub output_tok_s_per_user: f64,
    /// GPUs of the whole deployment (all replicas).
    pub num_gpus: u32,
    /// Price of the whole deployment, US dollars per hour, when the GPU has a price.
    pub usd_per_hour: Option<f64>,
    /// Time to first token over requests (ms).
    #[serde(default)]
    pub ttft_ms: Percentiles,
    /// Inter-token latency over tokens (ms).
    #[serde(default)]
    pub itl_ms: Percentiles,
    /// End-to-end latency over requests (ms).
    #[serde(default)]
    pub e2e_ms: Percentiles,
}

impl Metrics {
    /// US dollars per million output tokens at the achieved throughput, when priced.
    pub fn usd_per_million_output_tokens(&self) -> Option<f64> {
        let tok_per_hour = self.output_throughput_tok_s * 3600.0;
        match self.usd_per_hour {
            Some(usd) if tok_per_hour > 0.0 => Some(usd / tok_per_hour * 1e6),
            _ => None,
        }
    }
}

/// Spare room on each SLO as a fraction of its limit: 0.2 means 20% below a maximum (or above a
/// minimum); `None` where no limit was set. Never negative: 0 when the constraint is met exactly
/// or missed (by how much a miss is, the configuration's [`SloViolation::miss_factor`] says).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Headroom {
    /// (max_ttft_ms - TTFT) / max_ttft_ms.
    pub ttft_headroom: Option<f64>,
    /// (max_itl_ms - ITL) / max_itl_ms.
    pub itl_headroom: Option<f64>,
    /// (max_e2e_ms - E2E) / max_e2e_ms.
    pub e2e_headroom: Option<f64>,
    /// (throughput - min_throughput_tok_s) / min_throughput_tok_s.
    pub throughput_headroom: Option<f64>,
}

impl Slo {
    /// True when no constraint is set.
    pub fn is_empty(&self) -> bool {
        self.min_throughput_tok_s.is_none() && !self.has_latency_limits()
    }

    /// True when any per-request latency constraint (TTFT, ITL, E2E) is set.
    pub fn has_latency_limits(&self) -> bool {
        self.max_ttft_ms.is_some()
            || self.max_itl_ms.is_some()
            || self.max_e2e_ms.is_some()
            || self.max_ttft_p99_ms.is_some()
            || self.max_itl_p99_ms.is_some()
    }

    /// The statistic of a latency the limits apply to: the mean, or the chosen percentile.
    fn stat(&self, dist: &Percentiles, mean: f64) -> f64 {
        match self.percentile {
            Statistic::Mean => mean,
            s => dist.get(s),
        }
    }

    /// The latency limits and the values `m` reaches, constraint by constraint.
    fn maxima(&self, m: &Metrics) -> [(SloConstraint, Option<f64>, f64); 5] {
        [
            (
                SloConstraint::MaxTtftMs,
                self.max_ttft_ms,
                self.stat(&m.ttft_ms, m.time_to_first_token_ms),
            ),
            (
                SloConstraint::MaxItlMs,
                self.max_itl_ms,
                self.stat(&m.itl_ms, m.inter_token_latency_ms),
            ),
            (
                SloConstraint::MaxE2eMs,
                self.max_e2e_ms,
                self.stat(&m.e2e_ms, m.end_to_end_latency_ms),
            ),
            (
                SloConstraint::MaxTtftP99Ms,
                self.max_ttft_p99_ms,
                m.ttft_ms.p99,
            ),
            (
                SloConstraint::MaxItlP99Ms,
                self.max_itl_p99_ms,
                m.itl_ms.p99,
            ),
        ]
    }

    /// Every constraint `m` misses, worst first.
    pub fn violations(&self, m: &Metrics) -> Vec<SloViolation> {
        let mut v = Vec::new();
        let maxima = self.maxima(m);
        for (constraint, limit, actual) in maxima {
            if let Some(limit) = limit {
                // NaN counts as a miss.
                if !matches!(
                    actual.partial_cmp(&limit),
                    Some(Ordering::Less | Ordering::Equal)
                ) {
                    v.push(SloViolation {
                        constraint,
                        limit,
                        actual,
                        miss_factor: if limit > 0.0 {
                            actual / limit
                        } else {
                            f64::INFINITY
                        },
                    });
                }
            }
        }
        if let Some(limit) = self.min_throughput_tok_s {
            let actual = m.output_throughput_tok_s;
            if !matches!(
                actual.partial_cmp(&limit),
                Some(Ordering::Greater | Ordering::Equal)
            ) {
                v.push(SloViolation {
                    constraint: SloConstraint::MinThroughputTokS,
                    limit,
                    actual,
                    miss_factor: if actual > 0.0 {
                        limit / actual
                    } else {
                        f64::INFINITY
                    },
                });
            }
        }
        v.sort_by(|a, b| b.miss_factor.total_cmp(&a.miss_factor));
        v
    }

    /// True when one engine instance's point meets the per-request latency constraints (the
    /// throughput minimum is judged on the whole deployment, replicas included).
    pub fn latency_ok(&self, p: &EstimatePoint) -> bool {
        let m = Metrics {
            time_to_first_token_ms: p.time_to_first_token_ms,
            inter_token_latency_ms: p.inter_token_latency_ms,
            end_to_end_latency_ms: p.end_to_end_latency_ms,
            output_throughput_tok_s: p.output_throughput_tok_s,
            output_throughput_tok_s_per_gpu: p.output_throughput_tok_s_per_gpu,
            output_tok_s_per_user: p.output_tok_s_per_user,
            num_gpus: 1,
            usd_per_hour: None,
            ttft_ms: p.ttft_ms,
            itl_ms: p.itl_ms,
            e2e_ms: p.e2e_ms,
        };
        self.maxima(&m)
            .iter()
            .all(|(_, limit, actual)| limit.is_none_or(|l| *actual <= l))
    }

    /// Spare room on each constraint.
    pub fn headroom(&self, m: &Metrics) -> Headroom {
        let below = |limit: Option<f64>, actual: f64| limit.map(|l| ((l - actual) / l).max(0.0));
        let [ttft, itl, e2e, ttft99, itl99] = self.maxima(m);
        let tightest = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        Headroom {
            ttft_headroom: tightest(below(ttft.1, ttft.2), below(ttft99.1, ttft99.2)),
            itl_headroom: tightest(below(itl.1, itl.2), below(itl99.1, itl99.2)),
            e2e_headroom: below(e2e.1, e2e.2),
            throughput_headroom: self
                .min_throughput_tok_s
                .map(|l| ((m.output_throughput_tok_s - l) / l).max(0.0)),
        }
    }
}

/// The worst miss factor of a list of violations (1.0 when empty).
pub fn worst_miss(violations: &[SloViolation]) -> f64 {
    violations.iter().map(|v| v.miss_factor).fold(1.0, f64::max)
}

fn cost_key(m: &Metrics) -> f64 {
    m.usd_per_million_output_tokens().unwrap_or(f64::INFINITY)
}

/// Orders two configurations by `objective`, best first (`Less` means `a` is better); ties go to
/// the other objectives, then to fewer GPUs.
pub fn compare(objective: Objective, a: &Metrics, b: &Metrics) -> Ordering {
    let cost = || cost_key(a).total_cmp(&cost_key(b));
    let throughput = || {
        b.output_throughput_tok_s_per_gpu
            .total_cmp(&a.output_throughput_tok_s_per_gpu)
    };
    let latency = || {
        a.end_to_end_latency_ms
            .total_cmp(&b.end_to_end_latency_ms)
            .then(
                a.time_to_first_token_ms
                    .total_cmp(&b.time_to_first_token_ms),
            )
    };
    let order = match objective {
        Objective::Cost => cost().then_with(throughput).then_with(latency),
        Objective::Throughput => throughput().then_with(cost).then_with(latency),
        Objective::Latency => latency().then_with(cost).then_with(throughput),
    };
    order.then(a.num_gpus.cmp(&b.num_gpus))
}

/// Indices of the points on the Pareto frontier when both coordinates are to be maximized
/// (throughput per GPU, tokens per second per user): no other point is at least as good on both
/// and better on one. Sorted by the first coordinate, highest first.
pub fn pareto_frontier(points: &[(f64, f64)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].0.is_finite() && points[i].1.is_finite())
        .collect();
    order.sort_by(|&a, &b| {
        points[b]
            .0
            .total_cmp(&points[a].0)
            .then(points[b].1.total_cmp(&points[a].1))
    });
    let mut frontier = Vec::new();
    let mut best_y = f64::NEG_INFINITY;
    for i in order {
        if points[i].1 > best_y {
            best_y = points[i].1;
            frontier.push(i);
        }
    }
    frontier
}

/// GPU counts per replica to try: 1..=min(max_gpus, GPUs per node), then whole nodes up to
/// `max_gpus`.
pub fn gpu_counts(gpu: &Gpu, max_gpus: u32) -> Vec<u32> {
    let node = gpu.gpus_per_node.max(1);
    let mut counts: Vec<u32> = (1..=max_gpus.min(node)).collect();
    let mut n = 2 * node;
    while n <= max_gpus {
        counts.push(n);
        n += node;
    }
    counts
}

/// True when tensor parallelism `tp` divides the model's attention heads (the query heads must
/// split evenly, and KV heads must either split evenly or be replicated whole).
pub fn tp_divides_heads(arch: &Architecture, tp: u32) -> bool {
    let (q, kv) = arch.attention_heads_for_tp();
    let tp = u64::from(tp.max(1));
    q.is_multiple_of(tp) && (kv == 0 || kv.is_multiple_of(tp) || tp.is_multiple_of(kv))
}

/// Largest tensor-parallel group worth trying on `gpu`: TP all-reduces every layer, so it stays
/// inside one node or scale-up domain, whichever is larger.
pub fn max_tp(gpu: &Gpu) -> u32 {
    gpu.gpus_per_node.max(gpu.scale_up_domain).max(1)
}

/// Parallel layouts of `num_gpus` GPUs that are valid for `arch` on `gpu`.
///
/// Pruned on purpose: data parallelism inside one deployment is only tried for MoE models (it is
/// attention-DP next to expert parallelism; for a dense model it equals replicas, which the
/// search sizes separately), and pipeline parallelism only where tensor parallelism cannot use
/// the GPUs alone (beyond the scale-up fabric, or heads that do not divide). For MoE models
/// expert parallelism is tried off (EP = 1) and across the whole group (EP = TP x DP) when the
/// experts divide.
pub fn parallel_layouts(arch: &Architecture, gpu: &Gpu, num_gpus: u32) -> Vec<Parallelism> {
    let mut out = Vec::new();
    let layers = u32::try_from(arch.num_layers()).unwrap_or(u32::MAX).max(1);
    let moe = arch.is_moe();
    let experts = arch.num_experts();
    let tp_cap = max_tp(gpu).min(num_gpus);
    // Can TP alone (possibly with DP for MoE) use all the GPUs?
    let tp_alone = (1..=tp_cap).any(|tp| {
        num_gpus.is_multiple_of(tp) && tp_divides_heads(arch, tp) && (tp == num_gpus || moe)
    });
    for tp in 1..=tp_cap {
        if !num_gpus.is_multiple_of(tp) || !tp_divides_heads(arch, tp) {
            continue;
        }
        let rest = num_gpus / tp;
        for pp in 1..=rest.min(layers) {
            if !rest.is_multiple_of(pp) {
                continue;
            }
            let dp = rest / pp;
            if dp > 1 && !moe {
                continue;
            }
            if pp > 1 && tp_alone {
                continue;
            }
            out.push(Parallelism { tp, pp, dp, ep: 1 });
            let ep = tp * dp;
            if moe && ep > 1 && experts.is_multiple_of(u64::from(ep)) {
                out.push(Parallelism { tp, pp, dp, ep });
            }
        }
    }
    out
}

/// True when `gpu` runs weights stored as `format` at full speed or as a standard weight-only
/// scheme: fp8 needs native fp8 tensor cores, nvfp4 / mxfp4 native fp4; 16/32-bit, int8 and int4
/// (weight-only) run everywhere.
pub fn format_runs_natively(format: WeightFormat, gpu: &Gpu) -> bool {
    match format {
        WeightFormat::Fp8 | WeightFormat::Fp8Block => gpu.native_fp8,
        WeightFormat::Nvfp4 | WeightFormat::Mxfp4 => gpu.native_fp4,
        _ => true,
    }
}

/// Weight formats to try on `gpu`: the checkpoint's own (always: engines ship weight-only
/// kernels for it) plus each allowed format the GPU supports natively, without duplicates.
pub fn weight_formats_for(
    checkpoint: WeightFormat,
    allow: &[WeightFormat],
    gpu: &Gpu,
) -> Vec<WeightFormat> {
    let mut out = vec![checkpoint];
    for &f in allow {
        if !out.contains(&f) && format_runs_natively(f, gpu) {
            out.push(f);
        }
    }
    out
}

/// The load a deployment must carry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Load {
    /// This many requests in flight at all times (closed loop), whole deployment.
    Concurrency(u64),
    /// Poisson arrivals at this many requests per second, whole deployment.
    RequestRate(f64),
    /// No load given: the highest throughput within the SLOs.
    BestThroughput,
}

/// How a load is carried: replicas of one engine deployment and the operating point of each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadFit {
    /// Identical replicas of the deployment.
    pub replicas: u32,
    /// Requests in flight per replica.
    pub concurrency_per_replica: u64,
    /// Operating point of one replica (queueing for Poisson arrivals included in TTFT and E2E).
    pub point: EstimatePoint,
    /// Mean wait for a free slot added by Poisson arrivals, milliseconds (0 for closed loops).
    pub queue_wait_ms: f64,
}

/// Most replicas the load sizing will propose.
pub const MAX_REPLICAS: u32 = 4096;

/// The most requests per replica that still meet the latency SLOs, by doubling then bisecting
/// (latency grows with concurrency). Returns the best passing point and the most requests per
/// second seen (the replica's saturation capacity), or the failing point at concurrency 1.
fn capacity<F>(
    slo: &Slo,
    max_concurrency: u64,
    eval: &mut F,
) -> Result<(u64, EstimatePoint, f64), Option<Box<EstimatePoint>>>
where
    F: FnMut(u64) -> Option<EstimatePoint>,
{
    let max_c = max_concurrency.max(1);
    if !slo.has_latency_limits() {
        let p = eval(max_c).ok_or(None)?;
        let rps = p.requests_per_s;
        return Ok((max_c, p, rps));
    }
    let first = eval(1).ok_or(None)?;
    if !slo.latency_ok(&first) {
        return Err(Some(Box::new(first)));
    }
    let mut max_rps = first.requests_per_s;
    let (mut lo, mut lo_p) = (1u64, first);
    let mut hi = None;
    while lo < max_c {
        let c = (lo * 2).min(max_c);
        match eval(c) {
            Some(p) => {
                max_rps = max_rps.max(p.requests_per_s);
                if slo.latency_ok(&p) {
                    lo = c;
                    lo_p = p;
                } else {
                    hi = Some(c);
                    break;
                }
            }
            None => {
                hi = Some(c);
                break;
            }
        }
    }
    if let Some(mut hi) = hi {
        // A few bisection steps: enough to land within ~12% of the true capacity.
        for _ in 0..3 {
            if hi - lo <= 1 {
                break;
            }
            let mid = lo + (hi - lo) / 2;
            match eval(mid) {
                Some(p) if slo.latency_ok(&p) => {
                    max_rps = max_rps.max(p.requests_per_s);
                    lo = mid;
                    lo_p = p;
                }
                _ => hi = mid,
            }
        }
    }
    Ok((lo, lo_p, max_rps))
}

fn ceil_div(a: f64, b: f64) -> u32 {
    if b > 0.0 && a.is_finite() {
        (a / b).ceil().clamp(1.0, f64::from(MAX_REPLICAS)) as u32
    } else {
        MAX_REPLICAS
    }
}

/// Sizes replicas and finds each replica's operating point for `load`.
///
/// `eval(c)` estimates one replica at `c` concurrent requests (`None` when it cannot run them);
/// `max_concurrency` is the most requests one replica can hold at once. With a concurrency the
/// load is split over `ceil(C / capacity)` replicas when one replica misses the latency SLOs; with
/// a request rate the concurrency follows from Little's law (C = R x E2E, iterated) plus an
/// M/M/1 wait rho / (1 - rho) / mu for Poisson bursts, and replicas are added until utilization
/// stays below 1 and the SLOs hold; with no load the highest-throughput point within the SLOs is
/// kept, replicated up to `min_throughput_tok_s`.
///
/// `Err` carries the closest point (the one to report as a near miss), if any could be evaluated.
pub fn fit_load<F>(
    load: Load,
    slo: &Slo,
    max_concurrency: u64,
    mut eval: F,
) -> Result<LoadFit, Option<Box<EstimatePoint>>>
where
    F: FnMut(u64) -> Option<EstimatePoint>,
{
    let fit = |replicas: u32, c: u64, point: EstimatePoint| LoadFit {
        replicas,
        concurrency_per_replica: c,
        point,
        queue_wait_ms: 0.0,
    };
    match load {
        Load::Concurrency(total) => {
            let total = total.max(1);
            if total <= max_concurrency {
                if let Some(p) = eval(total) {
                    if slo.latency_ok(&p) {
                        return Ok(fit(1, total, p));
                    }
                }
            }
            let (cap, cap_point, _) = capacity(slo, max_concurrency, &mut eval)?;
            let replicas = ceil_div(total as f64, cap as f64);
            let per = total.div_ceil(u64::from(replicas)).max(1);
            match eval(per) {
                Some(p) if slo.latency_ok(&p) => Ok(fit(replicas, per, p)),
                _ => Ok(fit(replicas, cap, cap_point)),
            }
        }
        Load::BestThroughput => {
            let (cap, p, _) = capacity(slo, max_concurrency, &mut eval)?;
            let replicas = slo
                .min_throughput_tok_s
                .map_or(1, |min| ceil_div(min, p.output_throughput_tok_s));
            Ok(fit(replicas, cap, p))
        }
        Load::RequestRate(rate) => {
            let (cap, cap_point, max_rps) = capacity(slo, max_concurrency, &mut eval)?;
            if rate.is_nan() || rate <= 0.0 {
                return Ok(fit(1, cap, cap_point));
            }
            let mut replicas = ceil_div(rate, cap_point.requests_per_s);
            let mut last = Err(Some(Box::new(cap_point.clone())));
            for _ in 0..6 {
                let r = rate / f64::from(replicas);
                let mut c = ((r * cap_point.end_to_end_latency_ms / 1e3).ceil() as u64)
                    .clamp(1, max_concurrency.max(1));
                let mut point = None;
                for _ in 0..8 {
                    let Some(p) = eval(c) else { break };
                    let next = ((r * p.end_to_end_latency_ms / 1e3).ceil() as u64)
                        .clamp(1, max_concurrency.max(1));
                    point = Some(p);
                    if next == c {
                        break;
                    }
                    c = next;
                }
                let Some(mut p) = point else { break };
                let mu = max_rps.max(p.requests_per_s);
                let rho = r / mu;
                if rho < 1.0 {
                    let wait_ms = rho / (1.0 - rho) / mu * 1e3;
                    // Percentiles of the wait (M/M/1 at the same utilisation) added to the
                    // service distribution's: an upper bound of the sum's percentile.
                    let wait = Percentiles {
                        mean: wait_ms,
                        p50: mm1_wait_quantile_s(rho, 1.0 / mu, 0.5) * 1e3,
                        p90: mm1_wait_quantile_s(rho, 1.0 / mu, 0.9) * 1e3,
                        p99: mm1_wait_quantile_s(rho, 1.0 / mu, 0.99) * 1e3,
                    };
                    let add = |a: Percentiles| Percentiles {
                        mean: a.mean + wait.mean,
                        p50: a.p50 + wait.p50,
                        p90: a.p90 + wait.p90,
                        p99: a.p99 + wait.p99,
                    };
                    p.ttft_ms = add(p.ttft_ms);
                    p.e2e_ms = add(p.e2e_ms);
                    // The closed-loop point at C = R x E2E carries rate r; scale its throughputs
                    // to exactly r.
                    let scale = if p.requests_per_s > 0.0 {
                        r / p.requests_per_s
                    } else {
                        1.0
                    };
                    p.time_to_first_token_ms += wait_ms;
                    p.end_to_end_latency_ms += wait_ms;
                    p.output_throughput_tok_s *= scale;
                    p.total_throughput_tok_s *= scale;
                    p.output_throughput_tok_s_per_gpu *= scale;
                    p.requests_per_s = r;
                    let ok = slo.latency_ok(&p);
                    let candidate = LoadFit {
                        replicas,
                        concurrency_per_replica: c,
                        point: p,
                        queue_wait_ms: wait_ms,
                    };
                    if ok {
                        return Ok(candidate);
                    }
                    last = Ok(candidate);
                }
                if replicas >= MAX_REPLICAS {
                    break;
                }
                replicas = (replicas + 1).max((f64::from(replicas) * 1.25) as u32);
                replicas = replicas.min(MAX_REPLICAS);
            }
            // No replica count met the SLOs: report the last attempt (its SLO check fails).
            last
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perf::{Bound, StepBreakdownMs};

    fn point(c: u64) -> EstimatePoint {
        // A toy replica: ITL grows with the batch, 100 output tokens per request.
        let itl = 10.0 + c as f64;
        let ttft = 50.0 + 2.0 * c as f64;
        let e2e = ttft + 99.0 * itl;
        let rps = c as f64 / (e2e / 1e3);
        EstimatePoint {
            concurrency: c,
            running_requests: c as f64,
            time_to_first_token_ms: ttft,
            inter_token_latency_ms: itl,
            end_to_end_latency_ms: e2e,
            output_throughput_tok_s: rps * 100.0,
            total_throughput_tok_s: rps * 200.0,
            output_throughput_tok_s_per_gpu: rps * 100.0,
            output_tok_s_per_user: 1e3 / itl,
            requests_per_s: rps,
            prefill_bound: Bound::Compute,
            decode_bound: Bound::Memory,
            decode_step_breakdown_ms: StepBreakdownMs {
                total_ms: itl,
                compute_ms: 0.0,
                memory_ms: itl,
                communication_ms: 0.0,
                overhead_ms: 0.0,
            },
            // Spread: the p90 TTFT is 1.5x the mean.
            ttft_ms: Percentiles {
                mean: ttft,
                p50: ttft,
                p90: 1.5 * ttft,
                p99: 2.0 * ttft,
            },
            tpot_ms: Percentiles::constant(itl),
            itl_ms: Percentiles::constant(itl),
            e2e_ms: Percentiles::constant(e2e),
            run_duration_s: None,
        }
    }

    fn metrics(usd: f64, tput: f64, e2e: f64) -> Metrics {
        Metrics {
            time_to_first_token_ms: 100.0,
            inter_token_latency_ms: 10.0,
            end_to_end_latency_ms: e2e,
            output_throughput_tok_s: tput,
            output_throughput_tok_s_per_gpu: tput,
            output_tok_s_per_user: 100.0,
            num_gpus: 1,
            usd_per_hour: Some(usd),
            ttft_ms: Percentiles::constant(100.0),
            itl_ms: Percentiles::constant(10.0),
            e2e_ms: Percentiles::constant(e2e),
        }
    }

    #[test]
    fn frontier_keeps_only_undominated_points() {
        let pts = [
            (10.0, 1.0),
            (5.0, 5.0),
            (4.0, 4.0),
            (1.0, 10.0),
            (10.0, 0.5),
        ];
        assert_eq!(pareto_frontier(&pts), vec![0, 1, 3]);
    }

    #[test]
    fn violations_name_the_constraint_and_sort_worst_first() {
        let slo = Slo {
            max_ttft_ms: Some(1.0),
            max_itl_ms: Some(5.0),
            ..Slo::default()
        };
        let v = slo.violations(&metrics(1.0, 100.0, 1000.0));
        assert_eq!(v[0].constraint, SloConstraint::MaxTtftMs);
        assert_eq!(v[1].constraint, SloConstraint::MaxItlMs);
        assert!((v[0].miss_factor - 100.0).abs() < 1e-9);
        let h = slo.headroom(&metrics(1.0, 100.0, 1000.0));
        // Missed: no room (the violation says by how much), never a negative share.
        assert_eq!(h.ttft_headroom, Some(0.0));
        assert_eq!(h.e2e_headroom, None);
    }

    #[test]
    fn cost_ranks_by_dollars_per_token_then_throughput() {
        let cheap = metrics(1.0, 1000.0, 100.0);
        let pricey = metrics(10.0, 1000.0, 50.0);
        assert_eq!(compare(Objective::Cost, &cheap, &pricey), Ordering::Less);
        assert_eq!(
            compare(Objective::Latency, &cheap, &pricey),
            Ordering::Greater
        );
        assert!((cheap.usd_per_million_output_tokens().unwrap_or(0.0) - 1e6 / 3.6e6).abs() < 1e-9);
    }

    #[test]
    fn concurrency_beyond_capacity_adds_replicas() {
        let slo = Slo {
            max_itl_ms: Some(30.0),
            ..Slo::default()
        };
        let fit = fit_load(Load::Concurrency(100), &slo, 1000, |c| Some(point(c)));
        let fit = fit.expect("fits");
        assert!(fit.point.inter_token_latency_ms <= 30.0);
        assert!(fit.replicas >= 5, "{}", fit.replicas);
        assert!(u64::from(fit.replicas) * fit.concurrency_per_replica >= 100);
    }

    #[test]
    fn request_rate_uses_littles_law() {
        let slo = Slo {
            max_itl_ms: Some(40.0),
            ..Slo::default()
        };
        let fit = fit_load(Load::RequestRate(2.0), &slo, 1000, |c| Some(point(c))).expect("fits");
        assert!((fit.point.requests_per_s * f64::from(fit.replicas) - 2.0).abs() < 1e-9);
        assert!(fit.queue_wait_ms > 0.0);
        assert!(fit.point.inter_token_latency_ms <= 40.0);
    }

    #[test]
    fn impossible_slo_reports_the_point_at_concurrency_one() {
        let slo = Slo {
            max_ttft_ms: Some(1.0),
            ..Slo::default()
        };
        let err = fit_load(Load::BestThroughput, &slo, 64, |c| Some(point(c))).unwrap_err();
        assert_eq!(err.map(|p| p.concurrency), Some(1));
    }

    #[test]
    fn a_percentile_slo_limits_that_percentile() {
        // Mean TTFT at concurrency c is 50 + 2c, its p90 1.5x that.
        let mean = Slo {
            max_ttft_ms: Some(150.0),
            ..Slo::default()
        };
        let p90 = Slo {
            percentile: Statistic::P90,
            ..mean
        };
        let by_mean =
            fit_load(Load::BestThroughput, &mean, 1000, |c| Some(point(c))).expect("fits");
        let by_p90 = fit_load(Load::BestThroughput, &p90, 1000, |c| Some(point(c))).expect("fits");
        assert!(by_p90.point.ttft_ms.p90 <= 150.0);
        assert!(by_mean.point.ttft_ms.p90 > 150.0);
        assert!(by_p90.concurrency_per_replica < by_mean.concurrency_per_replica);
        let p99 = Slo {
            max_ttft_p99_ms: Some(150.0),
            ..Slo::default()
        };
        let v = p99.violations(&Metrics {
            ttft_ms: Percentiles {
                mean: 100.0,
                p50: 100.0,
                p90: 140.0,
                p99: 300.0,
            },
            ..metrics(1.0, 1.0, 1.0)
        });
        assert_eq!(v[0].constraint, SloConstraint::MaxTtftP99Ms);
        assert!((v[0].miss_factor - 2.0).abs() < 1e-9);
    }

    #[test]
    fn mm1_wait_quantiles_are_ordered() {
        let (p50, p90, p99) = (
            mm1_wait_quantile_s(0.8, 1.0, 0.5),
            mm1_wait_quantile_s(0.8, 1.0, 0.9),
            mm1_wait_quantile_s(0.8, 1.0, 0.99),
        );
        assert!(p50 <= p90 && p90 <= p99 && p99 > 0.0);
        // Empty queue with probability 1 - rho = 0.8 > 0.5.
        assert_eq!(mm1_wait_quantile_s(0.2, 1.0, 0.5), 0.0);
    }

    #[test]
    fn best_throughput_stops_at_the_slo() {
        let slo = Slo {
            max_itl_ms: Some(20.0),
            ..Slo::default()
        };
        let fit = fit_load(Load::BestThroughput, &slo, 1000, |c| Some(point(c))).expect("fits");
        assert_eq!(fit.concurrency_per_replica, 10);
    }
}
