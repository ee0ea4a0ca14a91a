//! Request limits and the parallel-layout rule, declared once: the CLI's flag ranges, the HTTP
//! API's checks and the Python package's all come from here, so one request gets one answer (or
//! one error) from every front end.

use gpuplan_core::memory::{Parallelism, ParallelismError};
use gpuplan_core::model::Architecture;

use crate::Error;

/// Most tokens in a prompt, a generation or a `max_model_len` (10 M: above the longest context
/// any catalog model supports).
pub const MAX_TOKENS: u64 = 10_000_000;

/// Most GPUs in one deployment, and the largest size of any one parallel dimension.
pub const MAX_GPUS: u32 = 4096;

/// Checks a token count (`input_len`, `output_len`, `max_model_len`, ...): 1 to [`MAX_TOKENS`].
pub fn check_tokens(field: &str, value: u64) -> Result<u64, Error> {
    if value == 0 || value > MAX_TOKENS {
        return Err(Error::invalid_request(
            field,
            format!("{field} must be between 1 and {MAX_TOKENS} tokens, got {value}"),
        ));
    }
    Ok(value)
}

/// The one rule for a parallel layout given as optional sizes and an optional GPU count.
///
/// `pp` and `ep` default to 1. With `num_gpus`, the sizes left out fill it: `tp` defaults to
/// `num_gpus / (pp x dp)`, and when `tp` is given the GPUs left over are data-parallel replicas
/// (`dp = num_gpus / (tp x pp)`); the count must be a multiple of what is given. Without
/// `num_gpus`, `tp` and `dp` default to 1 and the count is `tp x pp x dp`. The layout is then
/// checked against the model (heads, layers, experts) with the memory planner's rules; every
/// failure names the request field to fix (`tp`, `pp`, `dp`, `ep`, `num_gpus`).
pub fn resolve_parallelism(
    tp: Option<u32>,
    pp: Option<u32>,
    dp: Option<u32>,
    ep: Option<u32>,
    num_gpus: Option<u32>,
    arch: &Architecture,
) -> Result<(Parallelism, u32), Error> {
    for (field, value) in [
        ("tp", tp),
        ("pp", pp),
        ("dp", dp),
        ("ep", ep),
        ("num_gpus", num_gpus),
    ] {
        if let Some(v) = value {
            if v == 0 || v > MAX_GPUS {
                return Err(Error::invalid_request(
                    field,
                    format!(
                        "invalid parallelism: {field} must be between 1 and {MAX_GPUS}, got {v}"
                    ),
                ));
            }
        }
    }
    let pp = pp.unwrap_or(1);
    let ep = ep.unwrap_or(1);
    let not_multiple = |n: u32, of: &str, by: u64| {
        Error::invalid_request(
            "num_gpus",
            format!("invalid parallelism: num_gpus {n} is not a multiple of {of} = {by}"),
        )
    };
    let (tp, dp) = match (tp, dp, num_gpus) {
        (Some(tp), Some(dp), _) => (tp, dp),
        (Some(tp), None, Some(n)) => {
            let by = u64::from(tp) * u64::from(pp);
            if !u64::from(n).is_multiple_of(by) {
                return Err(not_multiple(n, &format!("tp {tp} x pp {pp}"), by));
            }
            (tp, (u64::from(n) / by) as u32)
        }
        (None, dp, Some(n)) => {
            let dp = dp.unwrap_or(1);
            let by = u64::from(pp) * u64::from(dp);
            if !u64::from(n).is_multiple_of(by) {
                return Err(not_multiple(n, &format!("pp {pp} x dp {dp}"), by));
            }
            ((u64::from(n) / by) as u32, dp)
        }
        (tp, dp, None) => (tp.unwrap_or(1), dp.unwrap_or(1)),
    };
    let product = u64::from(tp) * u64::from(pp) * u64::from(dp);
    if product > u64::from(MAX_GPUS) {
        return Err(Error::invalid_request(
            "num_gpus",
            format!(
                "invalid parallelism: tp x pp x dp = {tp} x {pp} x {dp} = {product} GPUs, more \
                 than {MAX_GPUS}"
            ),
        ));
    }
    let total = product as u32;
    if let Some(n) = num_gpus {
        if n != total {
            return Err(Error::invalid_request(
                "num_gpus",
                format!(
                    "invalid parallelism: tp x pp x dp = {tp} x {pp} x {dp} = {total} GPUs, but \
                     num_gpus is {n}"
                ),
            ));
        }
    }
    let layout = Parallelism { tp, pp, dp, ep };
    layout.validate(arch, total).map_err(|e| {
        Error::invalid_request(parallelism_field(&e), format!("invalid parallelism: {e}"))
    })?;
    Ok((layout, total))
}

/// The request field a layout error blames.
pub fn parallelism_field(error: &ParallelismError) -> &'static str {
    use ParallelismError as P;
    match error {
        P::Zero { what } => match *what {
            w if w.starts_with("pipeline") => "pp",
            w if w.starts_with("data") => "dp",
            w if w.starts_with("expert") => "ep",
            _ => "tp",
        },
        P::TpHeads { .. } | P::TpKvHeads { .. } => "tp",
        P::EpDense { .. } | P::EpExperts { .. } | P::EpRanks { .. } => "ep",
        P::PpLayers { .. } => "pp",
        P::GpuCount { .. } => "num_gpus",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn llama_70b() -> Architecture {
        gpuplan_catalog::models::find_model("meta-llama/Llama-3.1-70B")
            .expect("catalog model")
            .architecture()
            .expect("parses")
    }

    #[test]
    fn sizes_left_out_fill_the_gpu_count() {
        let arch = llama_70b();
        let (p, n) = resolve_parallelism(None, Some(2), None, None, Some(8), &arch).unwrap();
        assert_eq!((p.tp, p.pp, p.dp, n), (4, 2, 1, 8));
        let (p, n) = resolve_parallelism(Some(2), None, None, None, Some(8), &arch).unwrap();
        assert_eq!((p.tp, p.pp, p.dp, n), (2, 1, 4, 8));
        let (p, n) = resolve_parallelism(None, None, Some(2), None, Some(8), &arch).unwrap();
        assert_eq!((p.tp, p.pp, p.dp, n), (4, 1, 2, 8));
        let (p, n) = resolve_parallelism(Some(4), Some(2), None, None, None, &arch).unwrap();
        assert_eq!((p.tp, p.pp, p.dp, n), (4, 2, 1, 8));
        let (p, n) = resolve_parallelism(None, None, None, None, None, &arch).unwrap();
        assert_eq!((p.tp, p.pp, p.dp, n), (1, 1, 1, 1));
    }

    #[test]
    fn each_failure_names_its_field() {
        let arch = llama_70b();
        let field = |r: Result<(Parallelism, u32), Error>| r.unwrap_err().field().map(String::from);
        assert_eq!(
            field(resolve_parallelism(
                None,
                Some(3),
                None,
                None,
                Some(8),
                &arch
            ))
            .as_deref(),
            Some("num_gpus")
        );
        assert_eq!(
            field(resolve_parallelism(
                Some(4),
                Some(2),
                Some(1),
                None,
                Some(4),
                &arch
            ))
            .as_deref(),
            Some("num_gpus")
        );
        assert_eq!(
            field(resolve_parallelism(Some(0), None, None, None, None, &arch)).as_deref(),
            Some("tp")
        );
        assert_eq!(
            field(resolve_parallelism(Some(3), None, None, None, None, &arch)).as_deref(),
            Some("tp")
        );
        assert_eq!(
            field(resolve_parallelism(None, None, None, Some(2), None, &arch)).as_deref(),
            Some("ep")
        );
        assert_eq!(
            field(resolve_parallelism(
                Some(4096),
                Some(2),
                None,
                None,
                None,
                &arch
            ))
            .as_deref(),
            Some("num_gpus")
        );
    }

    #[test]
    fn token_limits() {
        assert!(check_tokens("input_len", 0).is_err());
        assert!(check_tokens("input_len", MAX_TOKENS + 1).is_err());
        assert_eq!(check_tokens("input_len", MAX_TOKENS).unwrap(), MAX_TOKENS);
    }
}
