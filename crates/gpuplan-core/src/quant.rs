//! Number formats: how many bytes a weight or a KV-cache element takes, scales included.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How a weight tensor is stored in memory (and read from HBM at run time).
///
/// Byte sizes include the quantization scales the format carries (block, group or channel
/// scales), because those are read from memory too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum WeightFormat {
    /// IEEE float32, 4 bytes.
    F32,
    /// bfloat16, 2 bytes.
    Bf16,
    /// float16, 2 bytes.
    Fp16,
    /// float8 (e4m3) with per-tensor or per-channel scales: 1 byte (+ negligible scales).
    Fp8,
    /// float8 (e4m3) with one fp32 scale per 128x128 block (DeepSeek style): 1 + 4/16384 bytes.
    Fp8Block,
    /// int8 with per-channel scales (W8A8 or W8A16): 1 byte.
    Int8,
    /// int4 with one fp16 scale (and, for asymmetric AWQ/GPTQ, one packed zero point) per group.
    Int4,
    /// NVIDIA fp4 (e2m1) with one fp8 scale per 16 elements: 0.5 + 1/16 bytes.
    Nvfp4,
    /// OCP microscaling fp4 (e2m1) with one e8m0 scale per 32 elements: 0.5 + 1/32 bytes.
    Mxfp4,
}

/// Group size assumed for int4 weight-only checkpoints (AWQ/GPTQ default).
pub const INT4_GROUP_SIZE: f64 = 128.0;

impl WeightFormat {
    /// Bytes per parameter, scales included.
    pub fn bytes_per_param(self) -> f64 {
        match self {
            WeightFormat::F32 => 4.0,
            WeightFormat::Bf16 | WeightFormat::Fp16 => 2.0,
            WeightFormat::Fp8 | WeightFormat::Int8 => 1.0,
            WeightFormat::Fp8Block => 1.0 + 4.0 / (128.0 * 128.0),
            // fp16 scale + 4-bit zero point per group of 128.
            WeightFormat::Int4 => 0.5 + (2.0 + 0.5) / INT4_GROUP_SIZE,
            WeightFormat::Nvfp4 => 0.5 + 1.0 / 16.0,
            WeightFormat::Mxfp4 => 0.5 + 1.0 / 32.0,
        }
    }

    /// True for 4-bit formats.
    pub fn is_4bit(self) -> bool {
        matches!(
            self,
            WeightFormat::Int4 | WeightFormat::Nvfp4 | WeightFormat::Mxfp4
        )
    }

    /// True for 8-bit float formats.
    pub fn is_fp8(self) -> bool {
        matches!(self, WeightFormat::Fp8 | WeightFormat::Fp8Block)
    }

    /// The canonical lower-case name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            WeightFormat::F32 => "fp32",
            WeightFormat::Bf16 => "bf16",
            WeightFormat::Fp16 => "fp16",
            WeightFormat::Fp8 => "fp8",
            WeightFormat::Fp8Block => "fp8_block",
            WeightFormat::Int8 => "int8",
            WeightFormat::Int4 => "int4",
            WeightFormat::Nvfp4 => "nvfp4",
            WeightFormat::Mxfp4 => "mxfp4",
        }
    }

    /// Every format, for help texts and search spaces.
    pub const ALL: [WeightFormat; 9] = [
        WeightFormat::F32,
        WeightFormat::Bf16,
        WeightFormat::Fp16,
        WeightFormat::Fp8,
        WeightFormat::Fp8Block,
        WeightFormat::Int8,
        WeightFormat::Int4,
        WeightFormat::Nvfp4,
        WeightFormat::Mxfp4,
    ];
}

impl fmt::Display for WeightFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an unknown format name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{name}'; expected one of: {expected}")]
pub struct UnknownFormat {
    /// What was being parsed ("weight quantization", "KV dtype").
    pub what: &'static str,
    /// The name given.
    pub name: String,
    /// The accepted names.
    pub expected: String,
}

impl FromStr for WeightFormat {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let k = s.trim().to_ascii_lowercase().replace('-', "_");
        Ok(match k.as_str() {
            "fp32" | "f32" | "float32" => WeightFormat::F32,
            "bf16" | "bfloat16" => WeightFormat::Bf16,
            "fp16" | "f16" | "float16" | "half" => WeightFormat::Fp16,
            "fp8" | "fp8_e4m3" | "float8" | "fp8_tensor" => WeightFormat::Fp8,
            "fp8_block" | "fp8block" | "fp8_blockwise" => WeightFormat::Fp8Block,
            "int8" | "w8a8" | "int8_wo" => WeightFormat::Int8,
            "int4" | "int4_wo" | "awq" | "gptq" | "w4a16" => WeightFormat::Int4,
            "nvfp4" | "fp4" => WeightFormat::Nvfp4,
            "mxfp4" => WeightFormat::Mxfp4,
            _ => {
                return Err(UnknownFormat {
                    what: "weight quantization",
                    name: s.to_string(),
                    expected: "bf16, fp16, fp32, fp8, fp8_block, int8, int4, nvfp4, mxfp4".into(),
                })
            }
        })
    }
}

/// Element type of the KV cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum KvDtype {
    /// float32 (rare; Gemma-2 checkpoints declare it but engines serve bf16).
    F32,
    /// bfloat16 / float16: 2 bytes per element.
    Bf16,
    /// float8: 1 byte per element.
    Fp8,
}

impl KvDtype {
    /// Bytes per cached element.
    pub fn bytes(self) -> f64 {
        match self {
            KvDtype::F32 => 4.0,
            KvDtype::Bf16 => 2.0,
            KvDtype::Fp8 => 1.0,
        }
    }
    /// Canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            KvDtype::F32 => "fp32",
            KvDtype::Bf16 => "bf16",
            KvDtype::Fp8 => "fp8",
        }
    }
}

impl fmt::Display for KvDtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The KV dtype a user asks for: `auto` keeps the model's (engine's) default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum KvDtypeChoice {
    /// The model's native KV dtype (its activation dtype; bf16 for fp32 checkpoints).
    #[default]
    Auto,
    /// bf16 / fp16.
    Bf16,
    /// fp8 (e4m3 / e5m2).
    Fp8,
}

impl KvDtypeChoice {
    /// Resolve against the model's native KV dtype.
    pub fn resolve(self, native: KvDtype) -> KvDtype {
        match self {
            KvDtypeChoice::Auto => native,
            KvDtypeChoice::Bf16 => KvDtype::Bf16,
            KvDtypeChoice::Fp8 => KvDtype::Fp8,
        }
    }
    /// Canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            KvDtypeChoice::Auto => "auto",
            KvDtypeChoice::Bf16 => "bf16",
            KvDtypeChoice::Fp8 => "fp8",
        }
    }
}

impl FromStr for KvDtypeChoice {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(KvDtypeChoice::Auto),
            "bf16" | "bfloat16" | "fp16" | "float16" | "half" => Ok(KvDtypeChoice::Bf16),
            "fp8" | "fp8_e4m3" | "fp8_e5m2" | "float8" => Ok(KvDtypeChoice::Fp8),
            _ => Err(UnknownFormat {
                what: "KV dtype",
                name: s.to_string(),
                expected: "auto, bf16, fp8".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_include_scales() {
        assert_eq!(WeightFormat::Bf16.bytes_per_param(), 2.0);
        assert!((WeightFormat::Nvfp4.bytes_per_param() - 0.5625).abs() < 1e-12);
        assert!((WeightFormat::Mxfp4.bytes_per_param() - 0.53125).abs() < 1e-12);
        assert!(WeightFormat::Fp8Block.bytes_per_param() > 1.0);
        assert!(WeightFormat::Int4.bytes_per_param() > 0.5);
    }

    #[test]
    fn names_round_trip() {
        for f in WeightFormat::ALL {
            assert_eq!(f.as_str().parse::<WeightFormat>().unwrap(), f);
        }
        assert!("fp7".parse::<WeightFormat>().is_err());
        assert_eq!(
            "auto".parse::<KvDtypeChoice>().unwrap(),
            KvDtypeChoice::Auto
        );
        assert!("int3".parse::<KvDtypeChoice>().is_err());
    }
}
