//! Safetensors headers: tensor names, dtypes and shapes, read without touching the weights.
//!
//! A safetensors file starts with an 8-byte little-endian `u64` N, then N bytes of JSON:
//! `{"name": {"dtype": "BF16", "shape": [4096, 4096], "data_offsets": [begin, end]}, ...,
//! "__metadata__": {...}}`. That header is all gpuplan reads.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::HubError;

/// The largest header accepted, in bytes (the safetensors library's own limit).
pub const MAX_HEADER_BYTES: u64 = 100_000_000;

/// Name used in errors when the caller did not say which file a header came from.
const UNNAMED: &str = "safetensors header";

/// One tensor as stored in a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorInfo {
    /// Tensor name, e.g. `model.layers.0.self_attn.q_proj.weight`.
    pub name: String,
    /// Safetensors dtype as stored, e.g. `BF16`, `F8_E4M3`, `U8` (packed fp4 blocks), `I32` (GPTQ qweight).
    pub dtype: String,
    /// Shape as stored (for packed dtypes this is the packed shape, not the logical one).
    pub shape: Vec<u64>,
    /// Stored elements: the product of `shape` (1 for a scalar). Packed formats count packed elements.
    pub params: u64,
    /// Stored bytes: `params` times the dtype's size (rounded up to whole bytes for sub-byte dtypes);
    /// for a dtype this crate does not know, the span of `data_offsets`.
    pub bytes: u64,
}

/// Totals over every tensor of a checkpoint's safetensors files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetensorsSummary {
    /// Stored elements over all tensors (packed dtypes count packed elements: see `params_by_dtype`).
    pub total_params: u64,
    /// Stored weight bytes over all tensors: what the weights occupy on disk and, unconverted, in memory.
    pub total_bytes: u64,
    /// Stored elements per safetensors dtype.
    pub params_by_dtype: BTreeMap<String, u64>,
    /// Stored bytes per safetensors dtype.
    pub bytes_by_dtype: BTreeMap<String, u64>,
    /// Number of tensors.
    pub num_tensors: usize,
    /// Number of safetensors files read.
    pub num_shards: usize,
    /// A tensor named `lm_head.weight` (or `*.lm_head.weight`) exists: the output embedding is not tied.
    pub has_lm_head: bool,
    /// A tensor name contains `mtp` or `nextn`: multi-token-prediction weights are present.
    pub has_mtp: bool,
    /// A tensor name contains `vision` or `visual`: a vision tower is present.
    pub has_vision: bool,
    /// Every tensor, sorted by name.
    pub tensors: Vec<TensorInfo>,
}

impl SafetensorsSummary {
    /// Sums the tensors of `num_shards` files. A name seen twice counts once (the first one).
    pub fn from_tensors(tensors: Vec<TensorInfo>, num_shards: usize) -> Self {
        let mut seen = BTreeSet::new();
        let mut unique: Vec<TensorInfo> = tensors
            .into_iter()
            .filter(|t| seen.insert(t.name.clone()))
            .collect();
        unique.sort_by(|a, b| a.name.cmp(&b.name));

        let mut summary = SafetensorsSummary {
            num_tensors: unique.len(),
            num_shards,
            ..SafetensorsSummary::default()
        };
        for tensor in &unique {
            summary.total_params = summary.total_params.saturating_add(tensor.params);
            summary.total_bytes = summary.total_bytes.saturating_add(tensor.bytes);
            let params = summary
                .params_by_dtype
                .entry(tensor.dtype.clone())
                .or_default();
            *params = params.saturating_add(tensor.params);
            let bytes = summary
                .bytes_by_dtype
                .entry(tensor.dtype.clone())
                .or_default();
            *bytes = bytes.saturating_add(tensor.bytes);

            let lower = tensor.name.to_ascii_lowercase();
            summary.has_lm_head |= lower == "lm_head.weight" || lower.ends_with(".lm_head.weight");
            summary.has_mtp |= lower.contains("mtp") || lower.contains("nextn");
            summary.has_vision |= lower.contains("vision") || lower.contains("visual");
        }
        summary.tensors = unique;
        summary
    }
}

/// Bits per stored element of a safetensors dtype, or `None` for a dtype this crate does not know.
pub fn dtype_bits(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E4M3" | "F8_E5M2" | "F8_E8M0" | "E8M0" => 8,
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        _ => return None,
    })
}

/// Reads the length prefix of a safetensors file: the number of header bytes after the first 8.
///
/// Fails when fewer than 8 bytes are given or the length exceeds [`MAX_HEADER_BYTES`].
pub fn header_len(prefix: &[u8]) -> Result<u64, HubError> {
    let first8: [u8; 8] = prefix
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            HubError::malformed(
                UNNAMED,
                format!(
                    "file is {} bytes, shorter than the 8-byte length prefix",
                    prefix.len()
                ),
            )
        })?;
    let len = u64::from_le_bytes(first8);
    if len > MAX_HEADER_BYTES {
        return Err(HubError::malformed(
            UNNAMED,
            format!("header length {len} exceeds the {MAX_HEADER_BYTES}-byte limit"),
        ));
    }
    Ok(len)
}

/// Parses the start of a safetensors file (the 8-byte length, then the JSON header; any bytes
/// after the header are ignored) into its tensors, sorted by name. `__metadata__` is skipped.
///
/// Never panics: a short file, a length past the data, non-JSON, a missing or ill-typed field,
/// an overflowing shape or offsets that disagree with dtype and shape are errors.
pub fn parse_safetensors_header(bytes: &[u8]) -> Result<Vec<TensorInfo>, HubError> {
    let len = header_len(bytes)?;
    let end = 8u64.saturating_add(len);
    let json = usize::try_from(end)
        .ok()
        .and_then(|end| bytes.get(8..end))
        .ok_or_else(|| {
            HubError::malformed(
                UNNAMED,
                format!(
                    "header length {len} runs past the end of the data ({} bytes)",
                    bytes.len()
                ),
            )
        })?;
    parse_header_json(json)
}

/// Parses the JSON part of a safetensors header (without the 8-byte length prefix).
pub fn parse_header_json(json: &[u8]) -> Result<Vec<TensorInfo>, HubError> {
    let value: serde_json::Value = serde_json::from_slice(json)
        .map_err(|e| HubError::malformed(UNNAMED, format!("header is not JSON: {e}")))?;
    let object = value
        .as_object()
        .ok_or_else(|| HubError::malformed(UNNAMED, "header is not a JSON object"))?;
    object
        .iter()
        .filter(|(name, _)| name.as_str() != "__metadata__")
        .map(|(name, entry)| parse_tensor(name, entry))
        .collect()
}

fn parse_tensor(name: &str, entry: &serde_json::Value) -> Result<TensorInfo, HubError> {
    let bad = |detail: String| HubError::malformed(UNNAMED, format!("tensor {name:?}: {detail}"));
    let dtype = entry
        .get("dtype")
        .and_then(|d| d.as_str())
        .ok_or_else(|| bad("missing or non-string \"dtype\"".into()))?;
    let shape: Vec<u64> = entry
        .get("shape")
        .and_then(|s| s.as_array())
        .ok_or_else(|| bad("missing or non-array \"shape\"".into()))?
        .iter()
        .map(|d| d.as_u64())
        .collect::<Option<_>>()
        .ok_or_else(|| bad("\"shape\" holds a value that is not a non-negative integer".into()))?;
    let offsets = entry
        .get("data_offsets")
        .and_then(|o| o.as_array())
        .filter(|o| o.len() == 2)
        .and_then(|o| Some((o[0].as_u64()?, o[1].as_u64()?)))
        .ok_or_else(|| bad("missing or invalid \"data_offsets\" (want [begin, end])".into()))?;
    let (begin, end) = offsets;
    if end < begin {
        return Err(bad(format!(
            "data_offsets [{begin}, {end}] end before they begin"
        )));
    }
    let params = shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad(format!("shape {shape:?} overflows")))?;
    let span = end - begin;
    let bytes = match dtype_bits(dtype) {
        Some(bits) => {
            let bytes = params
                .checked_mul(bits)
                .map(|b| b.div_ceil(8))
                .ok_or_else(|| bad(format!("shape {shape:?} overflows")))?;
            if bytes != span {
                return Err(bad(format!(
                    "data_offsets span {span} bytes but {dtype} {shape:?} needs {bytes}"
                )));
            }
            bytes
        }
        // A dtype newer than this crate: trust the stored span, which is exact.
        None => span,
    };
    Ok(TensorInfo {
        name: name.to_string(),
        dtype: dtype.to_string(),
        shape,
        params,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(json: &str) -> Vec<u8> {
        let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(json.as_bytes());
        bytes
    }

    #[test]
    fn parses_tensors_and_skips_metadata() {
        let bytes = file(
            r#"{"__metadata__":{"format":"pt"},
                "b":{"dtype":"BF16","shape":[128256,4096],"data_offsets":[0,1050673152]},
                "a":{"dtype":"F32","shape":[],"data_offsets":[1050673152,1050673156]}}  "#,
        );
        let tensors = parse_safetensors_header(&bytes).expect("valid header");
        assert_eq!(tensors.len(), 2);
        let b = tensors.iter().find(|t| t.name == "b").expect("b");
        assert_eq!(b.params, 128256 * 4096);
        assert_eq!(b.bytes, 128256 * 4096 * 2);
        let a = tensors.iter().find(|t| t.name == "a").expect("a");
        assert_eq!((a.params, a.bytes), (1, 4));
    }

    #[test]
    fn bytes_after_the_header_are_ignored() {
        let mut bytes = file(r#"{"x":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}}"#);
        bytes.extend_from_slice(&[1, 2, 3]);
        assert_eq!(parse_safetensors_header(&bytes).expect("valid").len(), 1);
    }

    #[test]
    fn packed_and_sub_byte_dtypes() {
        let bytes = file(
            r#"{"w_blocks":{"dtype":"U8","shape":[32,2880,90,16],"data_offsets":[0,132710400]},
                "q":{"dtype":"I32","shape":[512,4096],"data_offsets":[132710400,141099008]},
                "f4":{"dtype":"F4","shape":[3],"data_offsets":[141099008,141099010]}}"#,
        );
        let tensors = parse_safetensors_header(&bytes).expect("valid header");
        let summary = SafetensorsSummary::from_tensors(tensors, 1);
        assert_eq!(summary.params_by_dtype["U8"], 32 * 2880 * 90 * 16);
        assert_eq!(summary.bytes_by_dtype["I32"], 512 * 4096 * 4);
        assert_eq!(summary.bytes_by_dtype["F4"], 2);
    }

    #[test]
    fn unknown_dtype_uses_the_stored_span() {
        let bytes = file(r#"{"x":{"dtype":"F3_NEW","shape":[8],"data_offsets":[0,3]}}"#);
        let tensors = parse_safetensors_header(&bytes).expect("accepted");
        assert_eq!((tensors[0].params, tensors[0].bytes), (8, 3));
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![1, 2, 3],
            // length larger than the data
            {
                let mut b = 1000u64.to_le_bytes().to_vec();
                b.extend_from_slice(b"{}");
                b
            },
            // absurd length
            u64::MAX.to_le_bytes().to_vec(),
            file("not json"),
            file("[1,2]"),
            file("\u{0}\u{1}"),
            file(r#"{"x":{"shape":[1],"data_offsets":[0,2]}}"#),
            file(r#"{"x":{"dtype":"BF16","data_offsets":[0,2]}}"#),
            file(r#"{"x":{"dtype":"BF16","shape":[1]}}"#),
            file(r#"{"x":{"dtype":7,"shape":[1],"data_offsets":[0,2]}}"#),
            file(r#"{"x":{"dtype":"BF16","shape":[-1],"data_offsets":[0,2]}}"#),
            file(r#"{"x":{"dtype":"BF16","shape":[1.5],"data_offsets":[0,2]}}"#),
            file(r#"{"x":{"dtype":"BF16","shape":[1],"data_offsets":[2,0]}}"#),
            file(r#"{"x":{"dtype":"BF16","shape":[1],"data_offsets":[0]}}"#),
            file(r#"{"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,2]}}"#),
            file(r#"{"x":{"dtype":"BF16","shape":[18446744073709551615,4],"data_offsets":[0,2]}}"#),
            file(r#"{"x":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,2]}}"#),
            file(r#"{"x":"BF16"}"#),
        ];
        for (i, case) in cases.iter().enumerate() {
            let err = parse_safetensors_header(case).expect_err(&format!("case {i} must fail"));
            assert!(err.is_malformed(), "case {i}: {err}");
        }
    }

    #[test]
    fn flags_from_names() {
        let t = |name: &str| TensorInfo {
            name: name.into(),
            dtype: "BF16".into(),
            shape: vec![2],
            params: 2,
            bytes: 4,
        };
        let s = SafetensorsSummary::from_tensors(
            vec![
                t("lm_head.weight"),
                t("model.visual.blocks.0.attn.qkv.weight"),
                t("model.layers.61.eh_proj.weight"),
                t("lm_head.weight"),
            ],
            2,
        );
        assert!(s.has_lm_head && s.has_vision && !s.has_mtp);
        assert_eq!((s.num_tensors, s.total_params, s.total_bytes), (3, 6, 12));
        let s = SafetensorsSummary::from_tensors(vec![t("mtp.layers.0.w"), t("embed")], 1);
        assert!(s.has_mtp && !s.has_lm_head && !s.has_vision);
    }
}
