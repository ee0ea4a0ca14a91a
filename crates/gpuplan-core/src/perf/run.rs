//! Finite benchmark runs: a deterministic discrete-event simulation of one engine instance's
//! continuous batching over a list of requests with their own lengths and arrival times, as
//! `vllm bench serve` (or SGLang's `bench_serving`) drives a server.
//!
//! Requests arrive (all at t=0 for `--request-rate inf`, Poisson for a finite rate, or at the
//! times of a trace); at most `max_concurrency` are in flight at once (the benchmark client's
//! semaphore). The engine admits waiting requests while the KV cache and `max_num_seqs` allow,
//! and every step carries one token per decoding sequence plus prefill chunks up to the token
//! budget (mixed engines) or runs a prefill-only pass (separate-pass engines). Each step's time
//! comes from [`Deployment::step_time`], the same cost model as the closed-loop estimate. Steps
//! in which nothing but decoding happens are advanced together up to the next event (an arrival,
//! a completion or a full KV cache), so the cost grows with the number of requests, not tokens.
//!
//! Out come per-request TTFT, TPOT and end-to-end latency, per-token ITL, and the run's wall
//! time; throughput is output tokens over the wall time, the drain tail included.

use super::serving::{EstimateError, EstimatePoint, Percentiles};
use super::{Deployment, StepShape, StepTime};

/// One request of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunRequest {
    /// Prompt tokens.
    pub input_len: u64,
    /// Generated tokens (at least 1).
    pub output_len: u64,
    /// When the client sends it, seconds from the start of the run.
    pub arrival_s: f64,
}

/// Most requests one run may carry (whole deployment).
pub const MAX_RUN_REQUESTS: usize = 200_000;

/// Most simulated (macro) steps per engine instance before the run is refused.
const MAX_EVENTS: usize = 5_000_000;

/// A small deterministic generator (SplitMix64): the same seed gives the same run on every
/// platform, so estimates are reproducible.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Poisson arrival times of `n` requests at `rate` requests per second (exponential gaps, the
/// first request at t=0 as benchmark clients send it), from a fixed seed. A non-finite rate
/// releases every request at t=0.
pub fn poisson_arrivals(n: usize, rate: f64, seed: u64) -> Vec<f64> {
    if !(rate.is_finite() && rate > 0.0) {
        return vec![0.0; n];
    }
    let mut rng = SplitMix64::new(seed);
    let mut t = 0.0;
    (0..n)
        .map(|k| {
            if k > 0 {
                t += -(1.0 - rng.next_f64()).ln() / rate;
            }
            t
        })
        .collect()
}

/// A sequence the engine holds. After a preemption it is recomputed: its prompt and the
/// tokens it had generated are prefilled again (`target`), and decoding resumes.
#[derive(Debug, Clone)]
struct Live {
    idx: usize,
    target: u64,
    prefilled: u64,
    decoded: u64,
    resumed_at: u64,
    last_token_s: f64,
}

impl Live {
    /// Tokens held in the KV cache.
    fn tokens(&self) -> u64 {
        self.prefilled + (self.decoded - self.resumed_at)
    }
    fn prefill_done(&self) -> bool {
        self.prefilled >= self.target
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Outcome {
    release_s: f64,
    first_token_s: f64,
    finish_s: f64,
    extra_ttft_s: f64,
}

/// Per-instance result of a simulation.
struct InstanceRun {
    outcomes: Vec<Outcome>,
    itl_samples: Vec<(f64, f64)>,
    wall_s: f64,
    busy_running_s: f64,
    mean_decode_batch: f64,
    mean_decode_context: f64,
}

/// Simulates one engine instance serving `requests` (sorted by arrival) with at most
/// `max_concurrency` in flight.
fn simulate_instance(
    dep: &Deployment<'_>,
    kv_tokens: f64,
    requests: &[RunRequest],
    max_concurrency: Option<u64>,
) -> Result<InstanceRun, EstimateError> {
    let e = dep.engine;
    let pp = dep.parallelism.pp.max(1) as f64;
    let budget = e.max_num_batched_tokens.max(1.0) as u64;
    let max_seqs = e.max_num_seqs.max(1.0) as usize;
    let cap = max_concurrency.map_or(usize::MAX, |c| c.max(1) as usize);
    let kv = kv_tokens.max(0.0) as u64;
    let n = requests.len();
    let mut outcomes = vec![Outcome::default(); n];
    let mut itl: Vec<(f64, f64)> = Vec::new();
    let mut next = 0usize; // next request the client has not released
    let mut blocked_since_check = false;
    let mut in_flight = 0usize;
    // Released requests the engine has not admitted: (request, tokens generated before a
    // preemption).
    let mut waiting: std::collections::VecDeque<(usize, u64)> = std::collections::VecDeque::new();
    let mut running: Vec<Live> = Vec::new();
    let mut done = 0usize;
    let mut now = 0.0f64;
    let mut busy_running_s = 0.0;
    let (mut dec_weight, mut dec_batch_sum, mut dec_ctx_sum) = (0.0, 0.0, 0.0);
    let ttft_extra = e.ttft_overhead_ms * 1e-3;
    let mut events = 0usize;
    while done < n {
        events += 1;
        if events > MAX_EVENTS {
            return Err(EstimateError::Workload(format!(
                "the run needs more than {MAX_EVENTS} simulated steps; use fewer prompts"
            )));
        }
        // The client releases every request that has arrived, while slots are free.
        while next < n && requests[next].arrival_s <= now && in_flight < cap {
            let r = &requests[next];
            outcomes[next].release_s = if blocked_since_check {
                now.max(r.arrival_s)
            } else {
                r.arrival_s
            };
            waiting.push_back((next, 0));
            in_flight += 1;
            next += 1;
        }
        blocked_since_check = next < n && requests[next].arrival_s <= now && in_flight >= cap;
        // Admission: FCFS while the sequences' current tokens plus the new prompt fit the KV
        // cache and the scheduler has a slot.
        let mut used: u64 = running.iter().map(Live::tokens).sum();
        while let Some(&(idx, resume)) = waiting.front() {
            let need = requests[idx].input_len + resume;
            if running.len() >= max_seqs || used + need > kv {
                break;
            }
            waiting.pop_front();
            used += need;
            running.push(Live {
                idx,
                target: need,
                prefilled: 0,
                decoded: resume,
                resumed_at: resume,
                last_token_s: now,
            });
        }
        if running.is_empty() {
            // Idle: jump to the next arrival.
            if next < n {
                now = now.max(requests[next].arrival_s);
                continue;
            }
            return Err(EstimateError::Workload(
                "the simulated engine stalled (a request does not fit the KV cache)".into(),
            ));
        }
        let prefilling: Vec<usize> = (0..running.len())
            .filter(|&k| !running[k].prefill_done())
            .collect();
        let decoding: Vec<usize> = (0..running.len())
            .filter(|&k| running[k].prefill_done())
            .collect();
        if !prefilling.is_empty() {
            // A step with prefill chunks (and, for mixed engines, every decode).
            let with_decodes = e.mixed_prefill;
            let n_dec = if with_decodes { decoding.len() } else { 0 };
            let mut room = budget.saturating_sub(n_dec as u64);
            if room == 0 {
                room = (budget / 4).max(1);
            }
            let mut chunks: Vec<(usize, u64)> = Vec::new();
            let (mut p_tokens, mut p_ctx_weighted, mut finishing) = (0u64, 0.0f64, 0.0f64);
            for &k in &prefilling {
                if room == 0 {
                    break;
                }
                let left = running[k].target - running[k].prefilled;
                let take = left.min(room);
                room -= take;
                let start = running[k].prefilled as f64;
                p_ctx_weighted += take as f64 * (start + take as f64 / 2.0);
                p_tokens += take;
                if take == left {
                    finishing += 1.0;
                }
                chunks.push((k, take));
            }
            let dec_ctx = mean_context(&running, &decoding);
            let step = dep.step_time(StepShape {
                decode_seqs: n_dec as f64 / pp,
                decode_context: dec_ctx,
                prefill_tokens: p_tokens as f64,
                prefill_context: p_ctx_weighted / (p_tokens.max(1)) as f64,
                prefill_seqs: finishing,
            })?;
            let t = step_s(&step);
            let end = now + t;
            busy_running_s += t * running.len() as f64;
            for (k, take) in chunks {
                let l = &mut running[k];
                l.prefilled += take;
                if l.prefill_done() && l.decoded == 0 {
                    // The prefill's last chunk produces the first token.
                    l.decoded = 1;
                    l.resumed_at = 0;
                    l.last_token_s = end;
                    outcomes[l.idx].first_token_s = end;
                    outcomes[l.idx].extra_ttft_s = ttft_extra + e.ttft_steps * t;
                }
            }
            if with_decodes {
                for &k in &decoding {
                    let l = &mut running[k];
                    itl.push((end - l.last_token_s, 1.0));
                    l.decoded += 1;
                    l.last_token_s = end;
                }
                if n_dec > 0 {
                    dec_weight += t;
                    dec_batch_sum += t * n_dec as f64;
                    dec_ctx_sum += t * dec_ctx;
                }
            }
            now = end;
        } else {
            // Pure decode steps, advanced together up to the next event.
            let n_dec = decoding.len();
            let mut k_steps = decoding
                .iter()
                .map(|&k| {
                    let l = &running[k];
                    requests[l.idx].output_len.saturating_sub(l.decoded).max(1)
                })
                .min()
                .unwrap_or(1);
            let free = kv.saturating_sub(used);
            let kv_steps = free / (n_dec.max(1) as u64);
            if kv_steps == 0 {
                // The cache is full: preempt the most recently admitted sequence (it is
                // recomputed from its prompt later, as vLLM does).
                let victim = running.pop().expect("running is non-empty");
                waiting.push_front((victim.idx, victim.decoded));
                continue;
            }
            k_steps = k_steps.min(kv_steps);
            let ctx0 = mean_context(&running, &decoding);
            let probe = dep.step_time(StepShape {
                decode_seqs: n_dec as f64 / pp,
                decode_context: ctx0 + k_steps as f64 / 2.0,
                prefill_tokens: 0.0,
                prefill_context: 0.0,
                prefill_seqs: 0.0,
            })?;
            let t = step_s(&probe);
            // New arrivals (or freed client slots) end the run of pure decode steps.
            if next < n && in_flight < cap {
                let until = requests[next].arrival_s - now;
                if until > 0.0 {
                    k_steps = k_steps.min(((until / t).ceil() as u64).max(1));
                } else {
                    k_steps = 1;
                }
            }
            let end = now + t * k_steps as f64;
            busy_running_s += (end - now) * running.len() as f64;
            dec_weight += end - now;
            dec_batch_sum += (end - now) * n_dec as f64;
            dec_ctx_sum += (end - now) * (ctx0 + k_steps as f64 / 2.0);
            let mut same_gap = 0.0;
            for &k in &decoding {
                let l = &mut running[k];
                let first_gap = now + t - l.last_token_s;
                if (first_gap - t).abs() <= 1e-12 {
                    same_gap += 1.0;
                } else {
                    itl.push((first_gap, 1.0));
                }
                l.decoded += k_steps;
                l.last_token_s = end;
            }
            itl.push((t, same_gap + (k_steps - 1) as f64 * n_dec as f64));
            now = end;
        }
        // Completions free their KV blocks and client slots.
        let mut k = 0;
        while k < running.len() {
            let l = &running[k];
            let r = &requests[l.idx];
            if l.prefill_done() && l.decoded >= r.output_len {
                outcomes[l.idx].finish_s = l.last_token_s;
                running.swap_remove(k);
                done += 1;
                in_flight -= 1;
            } else {
                k += 1;
            }
        }
        // Keep admission order (FCFS; preemption takes the newest).
        running.sort_by_key(|l| l.idx);
    }
    let wall_s = outcomes
        .iter()
        .map(|o| o.finish_s + ttft_extra)
        .fold(0.0, f64::max)
        - requests.first().map_or(0.0, |r| r.arrival_s);
    Ok(InstanceRun {
        outcomes,
        itl_samples: itl,
        wall_s,
        busy_running_s,
        mean_decode_batch: if dec_weight > 0.0 {
            dec_batch_sum / dec_weight
        } else {
            1.0
        },
        mean_decode_context: if dec_weight > 0.0 {
            dec_ctx_sum / dec_weight
        } else {
            0.0
        },
    })
}

fn step_s(s: &StepTime) -> f64 {
    s.total_s.max(1e-6)
}

fn mean_context(running: &[Live], decoding: &[usize]) -> f64 {
    if decoding.is_empty() {
        return 0.0;
    }
    decoding
        .iter()
        .map(|&k| running[k].tokens() as f64)
        .sum::<f64>()
        / decoding.len() as f64
}

/// Estimates a finite run: `requests` for the whole deployment (any order), at most
/// `max_concurrency` in flight (whole deployment; `None` = no client-side cap). Requests are
/// spread round-robin over the attention-DP ranks; one rank is simulated and the deployment's
/// throughput is that rank's times the number of ranks.
pub fn estimate_run(
    dep: &Deployment<'_>,
    kv_tokens_per_instance: f64,
    requests: &[RunRequest],
    max_concurrency: Option<u64>,
) -> Result<EstimatePoint, EstimateError> {
    if requests.is_empty() {
        return Err(EstimateError::Workload("the run has no requests".into()));
    }
    if requests.len() > MAX_RUN_REQUESTS {
        return Err(EstimateError::Workload(format!(
            "{} requests in one run; at most {MAX_RUN_REQUESTS} are supported",
            requests.len()
        )));
    }
    if max_concurrency == Some(0) {
        return Err(EstimateError::Workload(
            "max concurrency must be at least 1".into(),
        ));
    }
    for r in requests {
        if r.input_len == 0 || r.output_len == 0 {
            return Err(EstimateError::Workload(
                "every request needs at least 1 input and 1 output token".into(),
            ));
        }
        if !(r.arrival_s.is_finite() && r.arrival_s >= 0.0) {
            return Err(EstimateError::Workload(
                "arrival times must be finite and >= 0 seconds".into(),
            ));
        }
        if (r.input_len + r.output_len) as f64 > kv_tokens_per_instance {
            return Err(EstimateError::NoCapacity {
                tokens: r.input_len + r.output_len,
                capacity: kv_tokens_per_instance.max(0.0) as u64,
            });
        }
    }
    let groups = dep.parallelism.dp.max(1) as usize;
    let mut sorted: Vec<RunRequest> = requests.to_vec();
    sorted.sort_by(|a, b| a.arrival_s.total_cmp(&b.arrival_s));
    let mine: Vec<RunRequest> = sorted.iter().step_by(groups).copied().collect();
    let cap = max_concurrency.map(|c| c.div_ceil(groups as u64).max(1));
    let run = simulate_instance(dep, kv_tokens_per_instance, &mine, cap)?;

    let mut ttft = Vec::with_capacity(mine.len());
    let mut e2e = Vec::with_capacity(mine.len());
    let mut tpot = Vec::with_capacity(mine.len());
    for (o, r) in run.outcomes.iter().zip(&mine) {
        let t = o.first_token_s - o.release_s + o.extra_ttft_s;
        ttft.push(t * 1e3);
        e2e.push((o.finish_s - o.release_s + o.extra_ttft_s) * 1e3);
        if r.output_len > 1 {
            tpot.push((o.finish_s - o.first_token_s) / (r.output_len - 1) as f64 * 1e3);
        }
    }
    let itl_ms: Vec<(f64, f64)> = run.itl_samples.iter().map(|&(v, w)| (v * 1e3, w)).collect();
    let ttft_p = Percentiles::of(&mut ttft);
    let e2e_p = Percentiles::of(&mut e2e);
    let tpot_p = if tpot.is_empty() {
        Percentiles::default()
    } else {
        Percentiles::of(&mut tpot)
    };
    let itl_p = Percentiles::of_weighted(itl_ms).unwrap_or(tpot_p);
    let g = groups as f64;
    let wall = run.wall_s.max(1e-9);
    let out_tokens: f64 = mine.iter().map(|r| r.output_len as f64).sum();
    let in_tokens: f64 = mine.iter().map(|r| r.input_len as f64).sum();
    let x_out = out_tokens * g / wall;
    let num_gpus = dep.parallelism.num_gpus().max(1) as f64;
    let decode = dep.step_time(StepShape {
        decode_seqs: (run.mean_decode_batch / dep.parallelism.pp.max(1) as f64).max(1.0),
        decode_context: run.mean_decode_context,
        prefill_tokens: 0.0,
        prefill_context: 0.0,
        prefill_seqs: 0.0,
    })?;
    let mean_in = in_tokens / mine.len() as f64;
    let chunk = mean_in.min(dep.engine.max_num_batched_tokens.max(1.0));
    let prefill = dep.step_time(StepShape {
        decode_seqs: 0.0,
        decode_context: 0.0,
        prefill_tokens: chunk,
        prefill_context: mean_in / 2.0,
        prefill_seqs: 1.0,
    })?;
    let conc = match max_concurrency {
        Some(c) => c.min(requests.len() as u64),
        None => {
            // Mean requests in flight (Little's law), at least one.
            let mean_e2e_s = e2e_p.mean / 1e3;
            ((mine.len() as f64 / wall * mean_e2e_s * g).round() as u64).max(1)
        }
    };
    Ok(EstimatePoint {
        concurrency: conc,
        running_requests: run.busy_running_s / wall * g,
        time_to_first_token_ms: ttft_p.mean,
        inter_token_latency_ms: itl_p.mean,
        end_to_end_latency_ms: e2e_p.mean,
        output_throughput_tok_s: x_out,
        total_throughput_tok_s: (out_tokens + in_tokens) * g / wall,
        output_throughput_tok_s_per_gpu: x_out / num_gpus,
        output_tok_s_per_user: 1e3 / itl_p.mean.max(1e-9),
        requests_per_s: mine.len() as f64 * g / wall,
        prefill_bound: prefill.bound(),
        decode_bound: decode.bound(),
        decode_step_breakdown_ms: decode.into(),
        ttft_ms: ttft_p,
        tpot_ms: tpot_p,
        itl_ms: itl_p,
        e2e_ms: e2e_p,
        run_duration_s: Some(wall),
    })
}
