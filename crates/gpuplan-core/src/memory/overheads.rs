//! The shape of the memory-overhead data (`memory_overheads.toml` in gpuplan-catalog): per engine,
//! lists of rules, each scoped to engine versions, model families and parallelism, each with its
//! source. The first rule of a list that applies wins, so specific rules come before catch-alls.

use super::{Engine, Parallelism};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An engine version such as `0.19.0` (a leading `v` or `~` and suffixes like `rc1` are ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EngineVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
}

/// An unreadable version or version range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid engine version '{text}': {reason}")]
pub struct VersionError {
    /// The text given.
    pub text: String,
    /// What is wrong.
    pub reason: String,
}

impl EngineVersion {
    /// Reads `0.19`, `0.19.0`, `v0.19.0rc1`, `~0.11` (approximately 0.11, read as 0.11.0).
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        let err = |reason: &str| VersionError {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let t = text.trim().trim_start_matches(['~', 'v', 'V', '=']);
        let mut nums = [0u32; 3];
        let mut parts = t.split('.');
        for (i, n) in nums.iter_mut().enumerate() {
            let Some(part) = parts.next() else {
                if i == 0 {
                    return Err(err("expected a number"));
                }
                break;
            };
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            if digits.is_empty() {
                if i == 0 {
                    return Err(err("expected a number such as 0.19.0"));
                }
                break;
            }
            *n = digits.parse().map_err(|_| err("number too large"))?;
            if digits.len() != part.len() {
                break;
            }
        }
        Ok(EngineVersion {
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
        })
    }

    /// True when the version satisfies `range`: comma-separated comparators such as
    /// `">=0.17, <0.18"`; `"*"` or `""` match every version.
    pub fn satisfies(&self, range: &str) -> Result<bool, VersionError> {
        for clause in range.split(',').map(str::trim) {
            if clause.is_empty() || clause == "*" {
                continue;
            }
            let (op, rest) = ["<=", ">=", "==", "<", ">", "="]
                .iter()
                .find_map(|op| clause.strip_prefix(op).map(|r| (*op, r)))
                .unwrap_or(("=", clause));
            let v = EngineVersion::parse(rest)?;
            let ok = match op {
                "<=" => *self <= v,
                ">=" => *self >= v,
                "<" => *self < v,
                ">" => *self > v,
                _ => *self == v,
            };
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl fmt::Display for EngineVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// How an engine sizes its KV pool from device memory `M` and the fraction `f`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvPoolRule {
    /// vLLM: `M * f - weights - activation - non_torch` (`gpu_memory_utilization` caps total memory).
    FractionOfTotal,
    /// SGLang: `M * f - weights - non_torch` (`mem_fraction_static` covers weights and KV pool).
    StaticFractionOfTotal,
    /// TensorRT-LLM: `f * (M - weights - activation - non_torch - cuda_graphs)`.
    FractionOfFree,
}

/// One value and the conditions under which it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverheadRule {
    /// Engine versions, e.g. `">=0.17, <0.18"` (`"*"`: all).
    #[serde(default = "any_version")]
    pub versions: String,
    /// `model_type`s (lower case, `_text` suffix dropped) it holds for; empty: every model.
    #[serde(default)]
    pub model_types: Vec<String>,
    /// Only for MoE (`true`) or dense (`false`) models; absent: both.
    #[serde(default)]
    pub moe: Option<bool>,
    /// Smallest tensor-parallel size it holds for.
    #[serde(default = "one")]
    pub min_tp: u32,
    /// Largest tensor-parallel size it holds for (absent: no limit).
    #[serde(default)]
    pub max_tp: Option<u32>,
    /// Smallest pipeline-parallel size it holds for.
    #[serde(default = "one")]
    pub min_pp: u32,
    /// Largest pipeline-parallel size it holds for (absent: no limit).
    #[serde(default)]
    pub max_pp: Option<u32>,
    /// Smallest device memory it holds for, GiB.
    #[serde(default)]
    pub min_gpu_gib: Option<f64>,
    /// Largest device memory it holds for (exclusive), GiB.
    #[serde(default)]
    pub max_gpu_gib: Option<f64>,
    /// Weight formats it holds for (`expert_intermediate_padding` only; names as `WeightFormat`).
    #[serde(default)]
    pub weight_formats: Vec<String>,
    /// The value; its unit is in the name of the list that holds the rule.
    pub value: f64,
    /// Added per GPU of the model replica (`tp * pp`), same unit (`default_reserved_gib` only).
    #[serde(default)]
    pub per_model_gpu: f64,
    /// Where the value comes from.
    pub source: String,
}

fn any_version() -> String {
    "*".into()
}
fn one() -> u32 {
    1
}

impl OverheadRule {
    /// Whether the rule holds for this engine version, model family and deployment. An
    /// unreadable version range never matches (validation reports it).
    pub fn matches(
        &self,
        version: &EngineVersion,
        model_type: &str,
        moe: bool,
        par: Parallelism,
        gpu_gib: f64,
    ) -> bool {
        version.satisfies(&self.versions).unwrap_or(false)
            && (self.model_types.is_empty()
                || self
                    .model_types
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(model_type)))
            && self.moe.is_none_or(|m| m == moe)
            && par.tp >= self.min_tp
            && self.max_tp.is_none_or(|t| par.tp <= t)
            && par.pp >= self.min_pp
            && self.max_pp.is_none_or(|p| par.pp <= p)
            && self.min_gpu_gib.is_none_or(|g| gpu_gib >= g)
            && self.max_gpu_gib.is_none_or(|g| gpu_gib < g)
    }
}

/// Memory rules and overhead constants of one engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineOverheads {
    /// The engine.
    pub engine: Engine,
    /// Version assumed when the caller names none (the newest the data describes).
    pub default_version: String,
    /// Tokens per KV block.
    pub kv_block_size: u32,
    /// Where the block size comes from.
    pub kv_block_size_source: String,
    /// How the KV pool is sized.
    pub kv_pool_rule: KvPoolRule,
    /// Where the pool rule comes from.
    pub kv_pool_rule_source: String,
    /// Default memory fraction (fraction of 1).
    #[serde(default)]
    pub default_memory_fraction: Vec<OverheadRule>,
    /// Default memory kept outside the static pool, GiB (fraction = 1 - reserved / memory);
    /// consulted when no `default_memory_fraction` rule applies.
    #[serde(default)]
    pub default_reserved_gib: Vec<OverheadRule>,
    /// Peak activation memory of the profiling run, GiB per GPU.
    #[serde(default)]
    pub activation_gib: Vec<OverheadRule>,
    /// Factor on the activation peak under pipeline parallelism.
    #[serde(default)]
    pub activation_pp_scale: Vec<OverheadRule>,
    /// Memory outside the torch allocator (NCCL buffers and the like), GiB per GPU.
    #[serde(default)]
    pub non_torch_gib: Vec<OverheadRule>,
    /// CUDA-graph memory, GiB per GPU.
    #[serde(default)]
    pub cuda_graph_gib: Vec<OverheadRule>,
    /// Multiple (elements) to which each rank's share of an expert's intermediate dim is padded.
    #[serde(default)]
    pub expert_intermediate_padding: Vec<OverheadRule>,
}

/// The whole memory-overhead data set (`Default`: no engines, so every plan reports that no
/// entry applies; use `gpuplan_catalog::embedded_memory_overheads()` for the shipped data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MemoryOverheads {
    /// Per-engine rules.
    #[serde(rename = "engine")]
    pub engines: Vec<EngineOverheads>,
}

impl MemoryOverheads {
    /// The rules of `engine`.
    pub fn engine(&self, engine: Engine) -> Option<&EngineOverheads> {
        self.engines.iter().find(|e| e.engine == engine)
    }

    /// The engine's default memory fraction for this GPU and parallelism (vLLM
    /// `gpu_memory_utilization`, SGLang `mem_fraction_static`, TRT-LLM
    /// `kv_cache_free_gpu_memory_fraction`); 0.9 when the data has no rule for it.
    pub fn default_memory_fraction(
        &self,
        engine: Engine,
        version: Option<&str>,
        gpu_memory_gib: f64,
        par: Parallelism,
    ) -> f64 {
        let Some(e) = self.engine(engine) else {
            return 0.9;
        };
        let Ok(v) = EngineVersion::parse(version.unwrap_or(&e.default_version)) else {
            return 0.9;
        };
        if let Some(r) = e
            .default_memory_fraction
            .iter()
            .find(|r| r.matches(&v, "", false, par, gpu_memory_gib))
        {
            return r.value;
        }
        if let Some(r) = e
            .default_reserved_gib
            .iter()
            .find(|r| r.matches(&v, "", false, par, gpu_memory_gib))
        {
            let reserved = r.value + r.per_model_gpu * f64::from(par.tp) * f64::from(par.pp);
            if gpu_memory_gib > 0.0 {
                return ((gpu_memory_gib - reserved) / gpu_memory_gib).clamp(0.05, 1.0);
            }
        }
        0.9
    }

    /// Checks every rule: readable versions, finite values, non-empty sources, catch-alls present.
    pub fn validate(&self) -> Result<(), String> {
        for e in &self.engines {
            let name = e.engine;
            EngineVersion::parse(&e.default_version).map_err(|x| format!("{name}: {x}"))?;
            if e.kv_block_size == 0 {
                return Err(format!("{name}: kv_block_size must be at least 1"));
            }
            let lists: [(&str, &Vec<OverheadRule>); 7] = [
                ("default_memory_fraction", &e.default_memory_fraction),
                ("default_reserved_gib", &e.default_reserved_gib),
                ("activation_gib", &e.activation_gib),
                ("activation_pp_scale", &e.activation_pp_scale),
                ("non_torch_gib", &e.non_torch_gib),
                ("cuda_graph_gib", &e.cuda_graph_gib),
                (
                    "expert_intermediate_padding",
                    &e.expert_intermediate_padding,
                ),
            ];
            for (list, rules) in lists {
                for r in rules {
                    EngineVersion::default()
                        .satisfies(&r.versions)
                        .map_err(|x| format!("{name}.{list}: {x}"))?;
                    if !(r.value.is_finite() && r.value >= 0.0 && r.per_model_gpu.is_finite()) {
                        return Err(format!(
                            "{name}.{list}: value must be >= 0, got {}",
                            r.value
                        ));
                    }
                    if r.source.trim().is_empty() {
                        return Err(format!("{name}.{list}: every value needs a source"));
                    }
                }
            }
            for (list, rules) in [
                ("activation_gib", &e.activation_gib),
                ("non_torch_gib", &e.non_torch_gib),
            ] {
                let catch_all = rules.iter().any(|r| {
                    r.versions.trim() == "*"
                        && r.model_types.is_empty()
                        && r.moe.is_none()
                        && r.min_tp <= 1
                        && r.max_tp.is_none()
                        && r.min_pp <= 1
                        && r.max_pp.is_none()
                });
                if !catch_all {
                    return Err(format!(
                        "{name}.{list}: needs a final catch-all rule (versions = \"*\", no scope)"
                    ));
                }
            }
        }
        Ok(())
    }
}
