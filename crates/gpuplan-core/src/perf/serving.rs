//! Closed-loop serving model: C clients, each sending a request of `input_len` tokens, waiting for
//! `output_len` tokens, and sending the next. Continuous batching with chunked prefill; the KV
//! capacity caps how many requests run at once, the rest queue.

use super::{Bound, Deployment, MissingHardwareFact, StepShape, StepTime};
use serde::{Deserialize, Serialize};

/// The load: request shape and concurrency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// Prompt tokens per request.
    pub input_len: u64,
    /// Generated tokens per request.
    pub output_len: u64,
    /// Concurrent requests kept in flight by the clients, for the whole deployment
    /// (`None` = saturation: as many as the KV cache and the scheduler admit).
    pub concurrency: Option<u64>,
}

/// Why an estimate could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EstimateError {
    /// A hardware figure is missing.
    #[error(transparent)]
    Hardware(#[from] MissingHardwareFact),
    /// The workload is invalid.
    #[error("invalid workload: {0}")]
    Workload(String),
    /// Not one request fits in the KV cache.
    #[error("no request of {tokens} tokens fits in the KV cache ({capacity} tokens per engine instance)")]
    NoCapacity {
        /// Tokens one request needs.
        tokens: u64,
        /// KV-cache tokens available.
        capacity: u64,
    },
}

/// One concurrency point of an estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstimatePoint {
    /// Concurrent requests the clients keep in flight (whole deployment).
    pub concurrency: u64,
    /// Requests actually running at once (the rest queue for KV capacity or scheduler slots).
    pub running_requests: f64,
    /// Mean time to first token, queueing included (ms).
    pub time_to_first_token_ms: f64,
    /// Mean inter-token latency, excluding the first token (ms).
    pub inter_token_latency_ms: f64,
    /// Mean end-to-end latency of a request: TTFT + (output_len - 1) x ITL (ms).
    pub end_to_end_latency_ms: f64,
    /// Output tokens per second of the whole deployment.
    pub output_throughput_tok_s: f64,
    /// Input + output tokens per second of the whole deployment.
    pub total_throughput_tok_s: f64,
    /// Output tokens per second per GPU.
    pub output_throughput_tok_s_per_gpu: f64,
    /// Output tokens per second each user sees (1000 / ITL).
    pub output_tok_s_per_user: f64,
    /// Completed requests per second (whole deployment).
    pub requests_per_s: f64,
    /// What limits the prefill.
    pub prefill_bound: Bound,
    /// What limits the decode step.
    pub decode_bound: Bound,
    /// Decode step time split by cause (ms), at this point's batch.
    pub decode_step_breakdown_ms: StepBreakdownMs,
    /// Time to first token over requests, queueing included (ms).
    #[serde(default)]
    pub ttft_ms: Percentiles,
    /// Time per output token of each request, (E2E - TTFT) / (output tokens - 1), over requests
    /// (ms), as `vllm bench serve` computes TPOT.
    #[serde(default)]
    pub tpot_ms: Percentiles,
    /// Inter-token latency over every generated token after the first (ms), as `vllm bench
    /// serve` computes ITL.
    #[serde(default)]
    pub itl_ms: Percentiles,
    /// End-to-end request latency over requests (ms).
    #[serde(default)]
    pub e2e_ms: Percentiles,
    /// Wall time of a finite run, first request sent to last token received, drain tail
    /// included (seconds); `None` for a steady closed loop.
    #[serde(default)]
    pub run_duration_s: Option<f64>,
}

/// Mean, median, 90th and 99th percentile of a latency over requests or tokens. Percentiles are
/// the nearest-rank values of the samples (or of the modelled distribution).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Percentiles {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// Which statistic of a latency an SLO limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    /// The mean (what the closed-loop estimate has always reported).
    #[default]
    Mean,
    /// The median.
    P50,
    /// The 90th percentile.
    P90,
    /// The 99th percentile.
    P99,
}

impl Statistic {
    /// Canonical name (`mean`, `p50`, `p90`, `p99`).
    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::Mean => "mean",
            Statistic::P50 => "p50",
            Statistic::P90 => "p90",
            Statistic::P99 => "p99",
        }
    }
}

impl std::fmt::Display for Statistic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Statistic {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mean" | "avg" => Ok(Statistic::Mean),
            "p50" | "median" => Ok(Statistic::P50),
            "p90" => Ok(Statistic::P90),
            "p99" => Ok(Statistic::P99),
            other => Err(format!(
                "unknown statistic '{other}'; expected mean, p50, p90 or p99"
            )),
        }
    }
}

impl Percentiles {
    /// Every statistic equal to `v` (a latency that does not vary).
    pub fn constant(v: f64) -> Self {
        Percentiles {
            mean: v,
            p50: v,
            p90: v,
            p99: v,
        }
    }

    /// The value of one statistic.
    pub fn get(&self, stat: Statistic) -> f64 {
        match stat {
            Statistic::Mean => self.mean,
            Statistic::P50 => self.p50,
            Statistic::P90 => self.p90,
            Statistic::P99 => self.p99,
        }
    }

    /// Adds `d` to every statistic (a shift of the distribution).
    pub fn shifted(self, d: f64) -> Self {
        Percentiles {
            mean: self.mean + d,
            p50: self.p50 + d,
            p90: self.p90 + d,
            p99: self.p99 + d,
        }
    }

    /// Multiplies every statistic by `k` (a change of unit or scale).
    pub fn scaled(self, k: f64) -> Self {
        Percentiles {
            mean: self.mean * k,
            p50: self.p50 * k,
            p90: self.p90 * k,
            p99: self.p99 * k,
        }
    }

    /// The statistics of samples (sorted in place); all zero when empty.
    pub fn of(samples: &mut [f64]) -> Self {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort_by(f64::total_cmp);
        let n = samples.len();
        let rank = |q: f64| samples[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
        Percentiles {
            mean: samples.iter().sum::<f64>() / n as f64,
            p50: rank(0.5),
            p90: rank(0.9),
            p99: rank(0.99),
        }
    }

    /// The statistics of weighted samples `(value, weight)`; `None` when the weights sum to 0.
    pub fn of_weighted(mut samples: Vec<(f64, f64)>) -> Option<Self> {
        samples.retain(|s| s.1 > 0.0);
        let total: f64 = samples.iter().map(|s| s.1).sum();
        if total <= 0.0 {
            return None;
        }
        samples.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mean = samples.iter().map(|s| s.0 * s.1).sum::<f64>() / total;
        let rank = |q: f64| {
            let target = q * total;
            let mut acc = 0.0;
            for s in &samples {
                acc += s.1;
                if acc >= target - 1e-9 * total {
                    return s.0;
                }
            }
            samples.last().map_or(0.0, |s| s.0)
        };
        Some(Percentiles {
            mean,
            p50: rank(0.5),
            p90: rank(0.9),
            p99: rank(0.99),
        })
    }

    /// A two-valued distribution: `low` with probability 1 - `share`, `high` with `share`.
    pub fn two_point(low: f64, high: f64, share: f64) -> Self {
        let s = share.clamp(0.0, 1.0);
        let at = |q: f64| if q > 1.0 - s { high } else { low };
        Percentiles {
            mean: low + s * (high - low),
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
        }
    }

    /// A uniform distribution on [`lo`, `hi`].
    pub fn uniform(lo: f64, hi: f64) -> Self {
        let at = |q: f64| lo + q * (hi - lo);
        Percentiles {
            mean: at(0.5),
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
        }
    }
}

/// The `q` quantile (0..1) of the wait in an M/M/1 queue at utilisation `rho` whose mean
/// service time is `service_s`: P(W > t) = rho exp(-(1 - rho) t / service). Zero when the
/// queue is empty with probability at least `q`.
pub fn mm1_wait_quantile_s(rho: f64, service_s: f64, q: f64) -> f64 {
    if !(rho > 0.0 && rho < 1.0) || 1.0 - q >= rho {
        return 0.0;
    }
    (rho / (1.0 - q)).ln() * service_s / (1.0 - rho)
}

/// A step's time split by cause (ms).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepBreakdownMs {
    /// Total.
    pub total_ms: f64,
    /// FLOP-bound operators.
    pub compute_ms: f64,
    /// Bandwidth-bound operators.
    pub memory_ms: f64,
    /// Collectives.
    pub communication_ms: f64,
    /// Fixed floors and host overhead.
    pub overhead_ms: f64,
}

impl From<StepTime> for StepBreakdownMs {
    fn from(s: StepTime) -> Self {
        StepBreakdownMs {
            total_ms: s.total_s * 1e3,
            compute_ms: s.compute_s * 1e3,
            memory_ms: s.memory_s * 1e3,
            communication_ms: s.communication_s * 1e3,
            overhead_ms: s.overhead_s * 1e3,
        }
    }
}

/// An estimate at one or more concurrencies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Requests that fit in the KV cache at once, whole deployment (at input+output tokens each).
    pub max_concurrent_requests: f64,
    /// One point per requested concurrency.
    pub points: Vec<EstimatePoint>,
}

/// Estimate serving performance of a deployment.
///
/// `kv_tokens_per_instance` is the KV-cache capacity of one engine instance (one attention-DP
/// rank or one replica), from the memory planner.
pub fn estimate(
    dep: &Deployment<'_>,
    kv_tokens_per_instance: f64,
    input_len: u64,
    output_len: u64,
    concurrencies: &[Option<u64>],
) -> Result<Estimate, EstimateError> {
    if input_len == 0 || output_len == 0 {
        return Err(EstimateError::Workload(
            "input and output lengths must be at least 1 token".into(),
        ));
    }
    if input_len > 100_000_000 || output_len > 100_000_000 {
        return Err(EstimateError::Workload(
            "input and output lengths above 100M tokens are not supported".into(),
        ));
    }
    let per_request = (input_len + output_len) as f64;
    let cap_kv = (kv_tokens_per_instance / per_request).floor();
    if cap_kv < 1.0 {
        return Err(EstimateError::NoCapacity {
            tokens: input_len + output_len,
            capacity: kv_tokens_per_instance.max(0.0) as u64,
        });
    }
    let groups = dep.parallelism.dp.max(1) as f64;
    let cap = cap_kv.min(dep.engine.max_num_seqs);
    let mut points = Vec::with_capacity(concurrencies.len());
    for c in concurrencies {
        let conc = match c {
            Some(0) => {
                return Err(EstimateError::Workload(
                    "concurrency must be at least 1".into(),
                ))
            }
            Some(c) => *c,
            None => (cap * groups) as u64,
        };
        points.push(point(dep, cap, groups, input_len, output_len, conc)?);
    }
    Ok(Estimate {
        max_concurrent_requests: cap_kv * groups,
        points,
    })
}

fn point(
    dep: &Deployment<'_>,
    cap: f64,
    groups: f64,
    input_len: u64,
    output_len: u64,
    concurrency: u64,
) -> Result<EstimatePoint, EstimateError> {
    let e = dep.engine;
    let i = input_len as f64;
    let o = output_len as f64;
    let pp = dep.parallelism.pp.max(1) as f64;
    // Attention-DP ranks that hold a request: with fewer clients than ranks the rest idle and
    // add nothing.
    let groups = groups.min(concurrency as f64).max(1.0);
    let c_group = (concurrency as f64 / groups).max(1.0);
    let active = c_group.min(cap);
    let budget = e.max_num_batched_tokens.max(1.0);
    let decode_ctx = i + o / 2.0;

    // Prefill of one request on its own, chunked by the token budget.
    let chunks = (i / budget).ceil().max(1.0);
    let chunk = i / chunks;
    let prefill_alone = dep.step_time(StepShape {
        decode_seqs: 0.0,
        decode_context: 0.0,
        prefill_tokens: chunk,
        prefill_context: i / 2.0,
        prefill_seqs: 1.0 / chunks,
    })?;
    // Marginal GPU time a request's prefill adds when batched with others (no fixed floors).
    let prefill_marginal_s = {
        let n = (budget / i).floor().clamp(1.0, active.max(1.0));
        let batch = dep.step_time(StepShape {
            decode_seqs: 0.0,
            decode_context: 0.0,
            prefill_tokens: i * n,
            prefill_context: i / 2.0,
            prefill_seqs: n,
        })?;
        batch.total_s / n
    };

    let decode_step = |b: f64, prefill_tokens: f64| -> Result<StepTime, MissingHardwareFact> {
        dep.step_time(StepShape {
            decode_seqs: (b / pp).max(if prefill_tokens > 0.0 { 0.0 } else { 1.0 }),
            decode_context: decode_ctx,
            prefill_tokens,
            prefill_context: i / 2.0,
            prefill_seqs: if prefill_tokens > 0.0 {
                prefill_tokens / i
            } else {
                0.0
            },
        })
    };

    // Fixed point on (ITL, TTFT): the batch, the share of steps that carry a prefill chunk and
    // the request rate depend on each other through the closed loop C = X (TTFT + (O-1) ITL).
    //
    // Mixed engines (vLLM, TRT-LLM) put a whole chunk (up to the token budget left after the
    // decodes) into one step, so ITL is bimodal: most steps are pure decode, a share `f` of them
    // carry a chunk. Separate-pass engines (SGLang) run prefill passes between decode steps.
    // Benchmarks start every client at once, and with fixed lengths the clients stay in
    // synchronised waves: each wave's prefills queue behind each other. This is part of every
    // cycle, so it lowers the request rate too (Little's law holds with it).
    let burst = e.burst_share * (active - 1.0).max(0.0) / 2.0 * prefill_marginal_s;
    let pure = decode_step(active, 0.0)?;
    let mut itl = pure.total_s;
    let mut ttft_service = e.ttft_overhead_ms * 1e-3 + prefill_alone.total_s * chunks;
    let mut step = pure;
    // The two step lengths a token sees (pure decode, or a step that carries prefill work):
    // per-token ITL percentiles come from them.
    let (mut itl_low, mut itl_high) = (pure.total_s, pure.total_s);
    for _ in 0..40 {
        let cycle = ttft_service + (o - 1.0) * itl;
        let x = active / cycle.max(1e-9);
        let decoding = (active * (o - 1.0) * itl / cycle.max(1e-9)).clamp(1.0, active);
        let t_decode = decode_step(decoding, 0.0)?;
        let (new_itl, own_prefill) = if e.mixed_prefill {
            let room = (budget - decoding).max(budget * 0.25);
            let n_chunks = (i / room).ceil().max(1.0);
            let chunk = i / n_chunks;
            let t_mix = decode_step(decoding, chunk)?;
            // Share of steps that carry a chunk: chunks per second x step time.
            let f = (x * n_chunks * itl).min(1.0);
            itl_low = t_decode.total_s;
            itl_high = t_decode.total_s
                + e.prefill_interference * (t_mix.total_s - t_decode.total_s).max(0.0);
            (
                t_decode.total_s + e.prefill_interference * f * (t_mix.total_s - t_decode.total_s),
                n_chunks * t_mix.total_s,
            )
        } else {
            let busy = (e.prefill_interference * x * prefill_marginal_s).min(0.9);
            // A gap holds a prefill pass with probability min(1, passes per gap).
            let g = (x * itl).clamp(1e-6, 1.0);
            let new_itl = t_decode.total_s / (1.0 - busy);
            itl_low = t_decode.total_s;
            itl_high = t_decode.total_s + (new_itl - t_decode.total_s) / g;
            (
                new_itl,
                prefill_alone.total_s * chunks + 0.5 * t_decode.total_s,
            )
        };
        let new_ttft =
            e.ttft_overhead_ms * 1e-3 + own_prefill + e.ttft_steps * t_decode.total_s + burst;
        // 0.1% is far below the estimator's error and keeps a point to a few microseconds.
        let converged = (new_itl - itl).abs() < 1e-3 * itl
            && (new_ttft - ttft_service).abs() < 1e-3 * ttft_service;
        itl = 0.5 * itl + 0.5 * new_itl;
        ttft_service = 0.5 * ttft_service + 0.5 * new_ttft;
        step = t_decode;
        if converged {
            break;
        }
    }
    // Physical bounds (see `bounds`): a request's prefill takes at least its FLOPs at the best
    // GEMM rate, and one second of GPU time must hold the second's prefills (at that rate) and
    // decode steps (their bytes at the best HBM bandwidth). Where the closed loop above asks for
    // more, requests wait for the GPU: the rate drops to what fits and TTFT takes the wait.
    let floor = dep.prefill_floor(i, i / 2.0);
    ttft_service = ttft_service.max(floor.total_s());
    let mut cycle = ttft_service + (o - 1.0) * itl;
    let decoding = (active * (o - 1.0) * itl / cycle).clamp(1.0, active);
    let decode_floor = if o > 1.0 {
        dep.decode_floor_s((decoding / pp).max(1.0), decode_ctx)
    } else {
        0.0
    };
    let per_request = floor.per_rank_s + groups * floor.shared_s;
    // Decode steps per second: one every ITL while any request decodes, never more than the
    // decode tokens asked for.
    let busy = |x: f64| x * per_request + (1.0 / itl).min(x * (o - 1.0)) * decode_floor;
    let x0 = active / cycle;
    if busy(x0) > 1.0 {
        // Engines schedule decodes first: the prefills get what is left, the rate drops to the
        // largest x whose work fits, and the rest of the cycle is spent waiting for a prefill.
        let (mut lo, mut hi) = (0.0, x0);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if busy(mid) <= 1.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        cycle = active / lo.max(1e-12);
        ttft_service = (cycle - (o - 1.0) * itl).max(ttft_service);
        cycle = ttft_service + (o - 1.0) * itl;
    }
    let x_group = active / cycle;
    // Requests beyond the running set wait for a slot (Little's law on the queue).
    let queue_wait = if c_group > active {
        (c_group - active) / x_group
    } else {
        0.0
    };
    let ttft = ttft_service + queue_wait;
    let x_total = x_group * groups;
    let num_gpus = dep.parallelism.num_gpus().max(1) as f64;
    // Distributions. With fixed lengths every request of a steady closed loop sees the same
    // mix of steps, so TPOT does not vary; a token's gap is either a pure decode step or one
    // that carries prefill work, in the share that gives the mean ITL; the first-token wait of
    // the clients of one wave spreads evenly over the wave's queued prefills (mean `burst`).
    let itl_p = if itl_high > itl_low {
        Percentiles::two_point(itl_low, itl_high, (itl - itl_low) / (itl_high - itl_low))
    } else {
        Percentiles::constant(itl)
    };
    let itl_p = Percentiles { mean: itl, ..itl_p }.scaled(1e3);
    let ttft_p = Percentiles::uniform(ttft - burst.min(ttft), ttft + burst.min(ttft)).scaled(1e3);
    let e2e_p = ttft_p.shifted((o - 1.0) * itl * 1e3);
    Ok(EstimatePoint {
        concurrency,
        running_requests: active * groups,
        time_to_first_token_ms: ttft * 1e3,
        inter_token_latency_ms: itl * 1e3,
        end_to_end_latency_ms: (ttft + (o - 1.0) * itl) * 1e3,
        output_throughput_tok_s: x_total * o,
        total_throughput_tok_s: x_total * (i + o),
        output_throughput_tok_s_per_gpu: x_total * o / num_gpus,
        output_tok_s_per_user: 1.0 / itl,
        requests_per_s: x_total,
        prefill_bound: prefill_alone.bound(),
        decode_bound: step.bound(),
        decode_step_breakdown_ms: step.into(),
        ttft_ms: ttft_p,
        tpot_ms: Percentiles::constant(itl * 1e3),
        itl_ms: itl_p,
        e2e_ms: e2e_p,
        run_duration_s: None,
    })
}
