//! Hardware catalog types: accelerators, their peak rates and interconnects, and hourly prices.
//!
//! This module is pure: it holds the types, name resolution, validation and the merge of user
//! overrides. Loading the embedded data files and user TOML files lives in `gpuplan-catalog`.
//!
//! Conventions (all fields carry their unit in the name):
//! - `*_gb` / `*_gb_s` are decimal (1e9 bytes, 1e9 bytes/s); `*_gib` are binary (2^30 bytes).
//! - Peak compute rates are **dense** (no 2:4 sparsity) and are the vendor's peak; achieved
//!   efficiency is modelled elsewhere.
//! - Link bandwidths are **per direction** (vendors usually quote the bidirectional sum).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// Bytes in one GiB (2^30).
pub const BYTES_PER_GIB: f64 = 1_073_741_824.0;

/// Accelerator vendor.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// NVIDIA (CUDA).
    Nvidia,
    /// AMD (ROCm / HIP).
    Amd,
    /// Intel (Gaudi / SynapseAI).
    Intel,
    /// Google (Cloud TPU).
    Google,
}

/// A numeric format a matrix unit computes in, used to look up peak rates.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum ComputeDtype {
    /// IEEE fp32 on the non-tensor (CUDA-core / vector) units.
    Fp32,
    /// TF32 on tensor cores.
    Tf32,
    /// bfloat16.
    Bf16,
    /// IEEE fp16.
    Fp16,
    /// 8-bit float (E4M3 / E5M2, OCP FP8).
    Fp8,
    /// 8-bit integer (rate in TOPS).
    Int8,
    /// 4-bit float (NVFP4 / MXFP4).
    Fp4,
}

/// Dense peak compute rates of one accelerator, per number format. `None` means the hardware has
/// no native matrix path for that format (or the vendor publishes no figure).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PeakRates {
    /// fp32 on the vector / CUDA cores, TFLOPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp32_tflops: Option<f64>,
    /// TF32 tensor, dense TFLOPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tf32_tflops: Option<f64>,
    /// BF16 tensor, dense TFLOPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bf16_tflops: Option<f64>,
    /// FP16 tensor, dense TFLOPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp16_tflops: Option<f64>,
    /// FP8 tensor, dense TFLOPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp8_tflops: Option<f64>,
    /// INT8 tensor, dense TOPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8_tops: Option<f64>,
    /// FP4 tensor (NVFP4 / MXFP4), dense TFLOPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp4_tflops: Option<f64>,
}

impl PeakRates {
    /// The dense peak for `dtype` exactly as catalogued (TFLOPS, or TOPS for int8).
    pub fn get(&self, dtype: ComputeDtype) -> Option<f64> {
        match dtype {
            ComputeDtype::Fp32 => self.fp32_tflops,
            ComputeDtype::Tf32 => self.tf32_tflops,
            ComputeDtype::Bf16 => self.bf16_tflops,
            ComputeDtype::Fp16 => self.fp16_tflops,
            ComputeDtype::Fp8 => self.fp8_tflops,
            ComputeDtype::Int8 => self.int8_tops,
            ComputeDtype::Fp4 => self.fp4_tflops,
        }
    }

    fn fields(&self) -> [(&'static str, Option<f64>); 7] {
        [
            ("fp32_tflops", self.fp32_tflops),
            ("tf32_tflops", self.tf32_tflops),
            ("bf16_tflops", self.bf16_tflops),
            ("fp16_tflops", self.fp16_tflops),
            ("fp8_tflops", self.fp8_tflops),
            ("int8_tops", self.int8_tops),
            ("fp4_tflops", self.fp4_tflops),
        ]
    }
}

/// Kind of GPU-to-GPU fabric inside a scale-up domain.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// NVIDIA NVLink (switched in HGX / NVL72, bridged on PCIe cards).
    #[serde(rename = "nvlink")]
    NvLink,
    /// AMD Infinity Fabric (point-to-point mesh).
    InfinityFabric,
    /// PCIe peer-to-peer (no dedicated GPU fabric).
    Pcie,
    /// Ethernet (RoCE) used as the scale-up fabric, e.g. Intel Gaudi.
    Ethernet,
    /// Google TPU inter-chip interconnect.
    Ici,
    /// No peer-to-peer path: GPU-to-GPU data is staged through host memory.
    None,
}

/// The fastest GPU-to-GPU link within a scale-up domain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScaleUpLink {
    /// Fabric kind.
    pub kind: LinkKind,
    /// Human-readable link name, e.g. "NVLink4".
    pub name: String,
    /// Per-GPU bandwidth into the fabric, GB/s (1e9 B/s) in ONE direction. 0 when `kind` is `None`.
    pub bandwidth_gb_s_per_direction: f64,
    /// Startup latency of one point-to-point transfer, microseconds.
    pub latency_us: f64,
}

/// One accelerator model (a GPU, or a TPU / Gaudi chip) with the facts the estimator needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Gpu {
    /// Stable catalog id, e.g. `h100_sxm`.
    pub id: String,
    /// Vendor.
    pub vendor: Vendor,
    /// Display name, e.g. "H100 SXM5 80GB".
    pub name: String,
    /// Other names that resolve to this GPU (short names, `nvidia-smi` names); matched
    /// case-insensitively ignoring separators.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Physical form factor, e.g. "SXM5", "PCIe dual-slot".
    pub form_factor: String,
    /// Architecture family in lowercase, e.g. "hopper", "blackwell", "cdna3", "gaudi3".
    pub arch: String,
    /// NVIDIA compute capability (e.g. 9.0 for Hopper, 10.3 for Blackwell Ultra); `None` for
    /// other vendors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_capability: Option<f64>,
    /// AMD LLVM target (e.g. "gfx942"); `None` for other vendors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gfx_target: Option<String>,
    /// Capacity as the vendor markets it, in "GB" (for HBM parts this is in practice binary GiB
    /// of physical memory: H100 "80GB" has 81920 MiB).
    pub memory_gb: f64,
    /// Total device memory as the CUDA/HIP runtime reports it (torch `total_memory`), GiB.
    /// This is the number engines such as vLLM multiply by `gpu_memory_utilization`.
    pub memory_gib: f64,
    /// Memory technology, e.g. "HBM3".
    pub memory_type: String,
    /// Peak memory bandwidth, GB/s (1e9 B/s).
    pub memory_bandwidth_gb_s: f64,
    /// Dense peak compute per number format.
    #[serde(default)]
    pub peak: PeakRates,
    /// Whether the matrix units execute FP8 natively (NVIDIA cc >= 8.9, AMD gfx94x/gfx95x, Gaudi 3).
    pub native_fp8: bool,
    /// Whether the matrix units execute FP4 natively (NVIDIA Blackwell, AMD MI355X MXFP4).
    pub native_fp4: bool,
    /// GPU-to-GPU link inside the scale-up domain.
    pub scale_up: ScaleUpLink,
    /// GPUs in one server / compute tray (the unit you rent or that shares a host).
    pub gpus_per_node: u32,
    /// GPUs that reach each other over `scale_up` with peer-to-peer (8 for HGX, 72 for NVL72,
    /// 2 for bridged PCIe pairs, 1 when there is no peer-to-peer). May exceed `gpus_per_node`.
    pub scale_up_domain: u32,
    /// Scale-out (inter-node network) bandwidth per GPU, GB/s in ONE direction
    /// (400 Gb/s NDR = 50, 800 Gb/s CX8 = 100).
    pub scale_out_gb_s_per_gpu: f64,
    /// Host interface as written by the vendor, e.g. "PCIe Gen5 x16 (128 GB/s)".
    #[serde(default)]
    pub host_interface: String,
    /// Host (CPU) link bandwidth, GB/s in ONE direction (PCIe Gen5 x16 = 64; NVLink-C2C = 450).
    pub host_link_gb_s_per_direction: f64,
    /// Board / module power, watts; `None` where the vendor publishes none (TPUs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tdp_w: Option<f64>,
    /// Confidence in the spec figures: "high", "medium", "low", ...
    #[serde(default)]
    pub confidence: String,
    /// Primary source of the spec figures.
    pub source: String,
    /// Independent sources that agree with `source`.
    #[serde(default)]
    pub corroborated_by: String,
    /// Where individual fields came from when not from `source` (key: field name, dotted for
    /// nested fields such as `scale_up.latency_us`).
    #[serde(default)]
    pub field_sources: BTreeMap<String, String>,
    /// Caveats that matter when planning on this part.
    #[serde(default)]
    pub notes: String,
}

impl Gpu {
    /// Dense peak rate for `dtype` (TFLOPS; TOPS for int8), with these fallbacks:
    /// - `Bf16` on a part without BF16 tensor cores (Volta, Turing) returns the FP16 rate, since
    ///   engines run such models in fp16 there;
    /// - `Tf32` without TF32 tensor cores returns the fp32 rate;
    /// - `Fp8`, `Fp4` and `Int8` never fall back: a GPU without the native path returns `None`
    ///   (weight-only schemes that upcast to 16 bits should ask for `Bf16`/`Fp16`).
    /// - `None` is also returned when the vendor publishes no rate (e.g. A10G tensor rates).
    pub fn peak_tflops(&self, dtype: ComputeDtype) -> Option<f64> {
        match dtype {
            ComputeDtype::Fp8 if !self.native_fp8 => None,
            ComputeDtype::Fp4 if !self.native_fp4 => None,
            ComputeDtype::Bf16 => self.peak.bf16_tflops.or(self.peak.fp16_tflops),
            ComputeDtype::Tf32 => self.peak.tf32_tflops.or(self.peak.fp32_tflops),
            other => self.peak.get(other),
        }
    }

    /// Total device memory in bytes, as the runtime reports it (`memory_gib` * 2^30).
    pub fn memory_bytes(&self) -> f64 {
        self.memory_gib * BYTES_PER_GIB
    }

    /// Peak memory bandwidth in bytes per second.
    pub fn memory_bandwidth_bytes_per_s(&self) -> f64 {
        self.memory_bandwidth_gb_s * 1e9
    }

    /// Whether GPUs of this kind can exchange data peer-to-peer (any scale-up link at all).
    pub fn has_peer_to_peer(&self) -> bool {
        self.scale_up.kind != LinkKind::None && self.scale_up_domain > 1
    }

    /// Checks that every number is finite, non-negative and consistent; the error names the field.
    pub fn validate(&self) -> Result<(), HardwareError> {
        let invalid = |field: &str, reason: String| HardwareError::InvalidValue {
            gpu_id: self.id.clone(),
            field: field.to_string(),
            reason,
        };
        if self.id.trim().is_empty() {
            return Err(invalid("id", "must not be empty".into()));
        }
        if normalize(&self.id).is_empty() {
            return Err(invalid("id", "must contain a letter or digit".into()));
        }
        let positive = [
            ("memory_gb", self.memory_gb),
            ("memory_gib", self.memory_gib),
            ("memory_bandwidth_gb_s", self.memory_bandwidth_gb_s),
        ];
        for (field, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(invalid(
                    field,
                    format!("must be a finite number > 0 (got {value})"),
                ));
            }
        }
        // Upper bounds far above any accelerator made, so that a typo (a value in bytes, an
        // exponent) is caught instead of planned with.
        let at_most = [
            ("memory_gb", self.memory_gb, MAX_MEMORY_GB),
            ("memory_gib", self.memory_gib, MAX_MEMORY_GB),
            (
                "memory_bandwidth_gb_s",
                self.memory_bandwidth_gb_s,
                MAX_BANDWIDTH_GB_S,
            ),
        ];
        for (field, value, max) in at_most {
            if value > max {
                return Err(invalid(
                    field,
                    format!("is implausibly large (got {value:e}, at most {max})"),
                ));
            }
        }
        let non_negative = [
            ("scale_out_gb_s_per_gpu", Some(self.scale_out_gb_s_per_gpu)),
            (
                "host_link_gb_s_per_direction",
                Some(self.host_link_gb_s_per_direction),
            ),
            ("tdp_w", self.tdp_w),
            (
                "scale_up.bandwidth_gb_s_per_direction",
                Some(self.scale_up.bandwidth_gb_s_per_direction),
            ),
            ("scale_up.latency_us", Some(self.scale_up.latency_us)),
            ("compute_capability", self.compute_capability),
        ];
        for (field, value) in non_negative {
            if let Some(value) = value {
                check_non_negative(value).map_err(|reason| invalid(field, reason))?;
            }
        }
        for (field, value) in self.peak.fields() {
            if let Some(value) = value {
                // Zero would make every step take forever (all latencies null); a GPU without
                // a format leaves its rate out instead.
                if !(value.is_finite() && value > 0.0 && value <= MAX_PEAK_TFLOPS) {
                    return Err(invalid(
                        &format!("peak.{field}"),
                        format!(
                            "must be a number > 0 and at most {MAX_PEAK_TFLOPS} (got {value}); \
                             leave it out when the GPU lacks the format"
                        ),
                    ));
                }
            }
        }
        if self.gpus_per_node == 0 {
            return Err(invalid("gpus_per_node", "must be at least 1".into()));
        }
        if self.scale_up_domain == 0 {
            return Err(invalid("scale_up_domain", "must be at least 1".into()));
        }
        // Already checked finite and >= 0 above, so `<= 0.0` means exactly zero.
        if self.scale_up_domain > 1 && self.scale_up.bandwidth_gb_s_per_direction <= 0.0 {
            return Err(invalid(
                "scale_up.bandwidth_gb_s_per_direction",
                format!(
                    "must be > 0 when scale_up_domain is {}",
                    self.scale_up_domain
                ),
            ));
        }
        if self.scale_up_domain > 1 && self.scale_up.kind == LinkKind::None {
            return Err(invalid(
                "scale_up.kind",
                "is \"none\" (no peer-to-peer) but scale_up_domain > 1".into(),
            ));
        }
        Ok(())
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str())
            .chain(std::iter::once(self.name.as_str()))
            .chain(self.aliases.iter().map(String::as_str))
    }
}

/// Largest memory a catalog GPU may declare, GB (or GiB): 10 TB, some 35 times today's largest.
pub const MAX_MEMORY_GB: f64 = 10_000.0;
/// Largest memory bandwidth a catalog GPU may declare, GB/s: 1 PB/s, over 100 times today's.
pub const MAX_BANDWIDTH_GB_S: f64 = 1_000_000.0;
/// Largest dense peak rate a catalog GPU may declare, TFLOPS (or TOPS): 1 EFLOPS.
pub const MAX_PEAK_TFLOPS: f64 = 1_000_000.0;

fn check_non_negative(value: f64) -> Result<(), String> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(format!("must be a finite number >= 0 (got {value})"))
    }
}

/// Hourly price of one GPU.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GpuPrice {
    /// Catalog id of the GPU this price is for.
    pub gpu_id: String,
    /// On-demand price, US dollars per GPU-hour.
    pub usd_per_hour: f64,
    /// Where the price comes from.
    pub source: String,
    /// When the price was observed (free text; ISO date where known).
    pub as_of: String,
}

impl GpuPrice {
    /// Checks the price is a finite non-negative number and the strings are present.
    pub fn validate(&self) -> Result<(), HardwareError> {
        check_non_negative(self.usd_per_hour).map_err(|reason| HardwareError::InvalidPrice {
            gpu_id: self.gpu_id.clone(),
            field: "usd_per_hour".into(),
            reason,
        })
    }
}

/// Partial description of a GPU in a user catalog file: every field but `id` is optional.
/// An entry whose `id` exists in the catalog overrides just the fields given; an entry with a
/// new `id` adds a GPU and must then give every required field.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GpuOverride {
    /// Catalog id to override or add.
    pub id: String,
    /// See [`Gpu::vendor`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<Vendor>,
    /// See [`Gpu::name`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Replaces [`Gpu::aliases`] when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aliases: Option<Vec<String>>,
    /// See [`Gpu::form_factor`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_factor: Option<String>,
    /// See [`Gpu::arch`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// See [`Gpu::compute_capability`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_capability: Option<f64>,
    /// See [`Gpu::gfx_target`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gfx_target: Option<String>,
    /// See [`Gpu::memory_gb`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_gb: Option<f64>,
    /// See [`Gpu::memory_gib`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_gib: Option<f64>,
    /// See [`Gpu::memory_type`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_type: Option<String>,
    /// See [`Gpu::memory_bandwidth_gb_s`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bandwidth_gb_s: Option<f64>,
    /// Per-format overrides; only the rates given replace the catalogued ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak: Option<PeakRates>,
    /// See [`Gpu::native_fp8`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native_fp8: Option<bool>,
    /// See [`Gpu::native_fp4`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native_fp4: Option<bool>,
    /// Link fields to override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_up: Option<ScaleUpLinkOverride>,
    /// See [`Gpu::gpus_per_node`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpus_per_node: Option<u32>,
    /// See [`Gpu::scale_up_domain`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_up_domain: Option<u32>,
    /// See [`Gpu::scale_out_gb_s_per_gpu`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_out_gb_s_per_gpu: Option<f64>,
    /// See [`Gpu::host_interface`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_interface: Option<String>,
    /// See [`Gpu::host_link_gb_s_per_direction`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_link_gb_s_per_direction: Option<f64>,
    /// See [`Gpu::tdp_w`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tdp_w: Option<f64>,
    /// See [`Gpu::confidence`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<String>,
    /// See [`Gpu::source`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// See [`Gpu::corroborated_by`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corroborated_by: Option<String>,
    /// Entries merged into [`Gpu::field_sources`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_sources: Option<BTreeMap<String, String>>,
    /// See [`Gpu::notes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Partial [`ScaleUpLink`] for overrides.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScaleUpLinkOverride {
    /// See [`ScaleUpLink::kind`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<LinkKind>,
    /// See [`ScaleUpLink::name`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// See [`ScaleUpLink::bandwidth_gb_s_per_direction`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_gb_s_per_direction: Option<f64>,
    /// See [`ScaleUpLink::latency_us`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<f64>,
}

/// The contents of a user catalog file: `[[gpu]]` overrides / additions and `[[price]]` entries
/// (a price replaces the catalogued price of the same `gpu_id`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CatalogOverrides {
    /// GPU overrides and additions.
    #[serde(default)]
    pub gpu: Vec<GpuOverride>,
    /// Prices to add or replace.
    #[serde(default)]
    pub price: Vec<GpuPrice>,
}

/// Errors from hardware lookup, validation and override merging.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HardwareError {
    /// No GPU matches the name; `suggestions` holds the closest "id (name)" strings.
    #[error("unknown GPU '{name}'; closest: {}", suggestions.join(", "))]
    UnknownGpu {
        /// The name as the user gave it.
        name: String,
        /// Closest matches, best first, formatted "id (name)".
        suggestions: Vec<String>,
    },
    /// A GPU field holds an impossible value.
    #[error("GPU '{gpu_id}': field `{field}` {reason}")]
    InvalidValue {
        /// GPU id.
        gpu_id: String,
        /// Field name (dotted for nested fields).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A price entry holds an impossible value or names an unknown GPU.
    #[error("price for GPU '{gpu_id}': field `{field}` {reason}")]
    InvalidPrice {
        /// GPU id the price is for.
        gpu_id: String,
        /// Field name.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// An override cannot be applied (e.g. a new GPU misses required fields).
    #[error("invalid override: field `{field}`: {reason}")]
    InvalidOverride {
        /// Field (prefixed with the entry, e.g. `gpu[my_gpu].memory_gib`).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Two GPUs share an id.
    #[error("duplicate GPU id '{id}'")]
    DuplicateId {
        /// The id.
        id: String,
    },
    /// One name (id, display name or alias) would resolve to two GPUs.
    #[error("name '{name}' is ambiguous: it resolves to both '{first}' and '{second}'")]
    AmbiguousName {
        /// The clashing name.
        name: String,
        /// First GPU id.
        first: String,
        /// Second GPU id.
        second: String,
    },
}

/// All known accelerators and their prices.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct HardwareCatalog {
    /// Accelerators, in catalog order.
    pub gpus: Vec<Gpu>,
    /// Hourly prices (at most one per GPU id).
    pub prices: Vec<GpuPrice>,
}

/// Lowercases and keeps only ASCII letters and digits, so "H100-SXM", "h100 sxm" and "h100_sxm"
/// compare equal.
pub fn normalize(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Vendor / brand words that `nvidia-smi`, `rocm-smi` and users put before the model name.
const BRAND_PREFIXES: &[&str] = &[
    "nvidia", "amd", "instinct", "intel", "google", "cloud", "geforce", "tesla",
];

fn strip_brand(normalized: &str) -> &str {
    let mut rest = normalized;
    loop {
        let before = rest;
        for prefix in BRAND_PREFIXES {
            if let Some(stripped) = rest.strip_prefix(prefix) {
                if !stripped.is_empty() {
                    rest = stripped;
                }
            }
        }
        if rest == before {
            return rest;
        }
    }
}

impl HardwareCatalog {
    /// Finds a GPU by id, display name, alias or `nvidia-smi` name, ignoring case, separators and
    /// vendor prefixes ("NVIDIA", "AMD Instinct", ...). Unknown names give
    /// [`HardwareError::UnknownGpu`] listing the five closest GPUs.
    pub fn resolve(&self, name: &str) -> Result<&Gpu, HardwareError> {
        if crate::limits::name_too_long(name) {
            return Err(HardwareError::UnknownGpu {
                name: crate::limits::quote(name),
                suggestions: Vec::new(),
            });
        }
        let key = normalize(name);
        if !key.is_empty() {
            let stripped = strip_brand(&key);
            for candidate in [key.as_str(), stripped] {
                if let Some(gpu) = self.gpus.iter().find(|gpu| {
                    gpu.names().any(|n| {
                        normalize(n) == candidate || strip_brand(&normalize(n)) == candidate
                    })
                }) {
                    return Ok(gpu);
                }
            }
        }
        Err(HardwareError::UnknownGpu {
            name: crate::limits::quote(name),
            suggestions: self
                .closest(name, 5)
                .into_iter()
                .map(|gpu| format!("{} ({})", gpu.id, gpu.name))
                .collect(),
        })
    }

    /// The GPU with exactly this id, if any.
    pub fn get(&self, id: &str) -> Option<&Gpu> {
        self.gpus.iter().find(|gpu| gpu.id == id)
    }

    /// Hourly price of the GPU with this id, if one is known.
    pub fn price(&self, gpu_id: &str) -> Option<&GpuPrice> {
        self.prices.iter().find(|price| price.gpu_id == gpu_id)
    }

    /// Up to `n` GPUs whose names are most similar to `name` (Jaro-Winkler over normalized
    /// names), best first.
    pub fn closest(&self, name: &str, n: usize) -> Vec<&Gpu> {
        let name: String = name.chars().take(crate::limits::MAX_NAME_CHARS).collect();
        let key = normalize(&name);
        let key = strip_brand(&key);
        let mut scored: Vec<(f64, usize)> = self
            .gpus
            .iter()
            .enumerate()
            .map(|(index, gpu)| {
                let score = gpu
                    .names()
                    .map(|n| {
                        let candidate = normalize(n);
                        strsim::jaro_winkler(key, strip_brand(&candidate))
                    })
                    .fold(0.0_f64, f64::max);
                (score, index)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored
            .into_iter()
            .take(n)
            .map(|(_, index)| &self.gpus[index])
            .collect()
    }

    /// Checks every GPU and price, unique ids, unambiguous names, and that prices name known GPUs.
    pub fn validate(&self) -> Result<(), HardwareError> {
        let mut names: HashMap<String, &str> = HashMap::new();
        let mut ids: HashMap<&str, ()> = HashMap::new();
        for gpu in &self.gpus {
            gpu.validate()?;
            if ids.insert(gpu.id.as_str(), ()).is_some() {
                return Err(HardwareError::DuplicateId { id: gpu.id.clone() });
            }
            for name in gpu.names() {
                let key = normalize(name);
                if key.is_empty() {
                    continue;
                }
                if let Some(first) = names.insert(key, gpu.id.as_str()) {
                    if first != gpu.id {
                        return Err(HardwareError::AmbiguousName {
                            name: name.to_string(),
                            first: first.to_string(),
                            second: gpu.id.clone(),
                        });
                    }
                }
            }
        }
        let mut priced: HashMap<&str, ()> = HashMap::new();
        for price in &self.prices {
            price.validate()?;
            if self.get(&price.gpu_id).is_none() {
                return Err(HardwareError::InvalidPrice {
                    gpu_id: price.gpu_id.clone(),
                    field: "gpu_id".into(),
                    reason: "names no GPU in the catalog".into(),
                });
            }
            if priced.insert(price.gpu_id.as_str(), ()).is_some() {
                return Err(HardwareError::InvalidPrice {
                    gpu_id: price.gpu_id.clone(),
                    field: "gpu_id".into(),
                    reason: "has more than one price".into(),
                });
            }
        }
        Ok(())
    }

    /// Applies user overrides: GPU entries with a known id replace just the fields they give,
    /// entries with a new id are added (and must be complete), prices replace the price of the
    /// same GPU or are added. The result is validated; on error `self` is left unchanged.
    pub fn merge(&mut self, overrides: CatalogOverrides) -> Result<(), HardwareError> {
        let mut merged = self.clone();
        for entry in overrides.gpu {
            let id = entry.id.clone();
            let patch =
                serde_json::to_value(&entry).map_err(|err| HardwareError::InvalidOverride {
                    field: format!("gpu[{id}]"),
                    reason: err.to_string(),
                })?;
            let position = merged.gpus.iter().position(|gpu| gpu.id == id);
            let mut base = match position {
                Some(index) => serde_json::to_value(&merged.gpus[index]).map_err(|err| {
                    HardwareError::InvalidOverride {
                        field: format!("gpu[{id}]"),
                        reason: err.to_string(),
                    }
                })?,
                None => serde_json::Value::Object(serde_json::Map::new()),
            };
            merge_json(&mut base, patch);
            let gpu: Gpu =
                serde_json::from_value(base).map_err(|err| HardwareError::InvalidOverride {
                    field: format!("gpu[{id}]"),
                    reason: if position.is_none() {
                        format!("new GPU is incomplete: {err}")
                    } else {
                        err.to_string()
                    },
                })?;
            match position {
                Some(index) => merged.gpus[index] = gpu,
                None => merged.gpus.push(gpu),
            }
        }
        for price in overrides.price {
            match merged.prices.iter_mut().find(|p| p.gpu_id == price.gpu_id) {
                Some(existing) => *existing = price,
                None => merged.prices.push(price),
            }
        }
        merged.validate()?;
        *self = merged;
        Ok(())
    }
}

/// Recursively overlays `patch` onto `base`: objects merge key by key, anything else replaces.
fn merge_json(base: &mut serde_json::Value, patch: serde_json::Value) {
    match (base, patch) {
        (serde_json::Value::Object(base), serde_json::Value::Object(patch)) => {
            for (key, value) in patch {
                match base.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge_json(existing, value)
                    }
                    _ => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, patch) => *base = patch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_gpu(id: &str) -> Gpu {
        Gpu {
            id: id.into(),
            vendor: Vendor::Nvidia,
            name: format!("{id} name"),
            aliases: vec![],
            form_factor: "SXM".into(),
            arch: "hopper".into(),
            compute_capability: Some(9.0),
            gfx_target: None,
            memory_gb: 80.0,
            memory_gib: 79.19,
            memory_type: "HBM3".into(),
            memory_bandwidth_gb_s: 3350.0,
            peak: PeakRates {
                fp32_tflops: Some(67.0),
                bf16_tflops: Some(989.5),
                fp16_tflops: Some(989.5),
                fp8_tflops: Some(1979.0),
                ..PeakRates::default()
            },
            native_fp8: true,
            native_fp4: false,
            scale_up: ScaleUpLink {
                kind: LinkKind::NvLink,
                name: "NVLink4".into(),
                bandwidth_gb_s_per_direction: 450.0,
                latency_us: 10.0,
            },
            gpus_per_node: 8,
            scale_up_domain: 8,
            scale_out_gb_s_per_gpu: 50.0,
            host_interface: String::new(),
            host_link_gb_s_per_direction: 64.0,
            tdp_w: Some(700.0),
            confidence: "high".into(),
            source: "test".into(),
            corroborated_by: String::new(),
            field_sources: BTreeMap::new(),
            notes: String::new(),
        }
    }

    #[test]
    fn peak_fallbacks() {
        let mut gpu = sample_gpu("x");
        assert_eq!(gpu.peak_tflops(ComputeDtype::Fp8), Some(1979.0));
        assert_eq!(gpu.peak_tflops(ComputeDtype::Tf32), Some(67.0));
        assert_eq!(gpu.peak_tflops(ComputeDtype::Fp4), None);
        gpu.native_fp8 = false;
        assert_eq!(gpu.peak_tflops(ComputeDtype::Fp8), None);
        gpu.peak.bf16_tflops = None;
        assert_eq!(gpu.peak_tflops(ComputeDtype::Bf16), Some(989.5));
        assert!((gpu.memory_bytes() - 79.19 * BYTES_PER_GIB).abs() < 1.0);
    }

    #[test]
    fn merge_is_atomic_on_error() {
        let mut catalog = HardwareCatalog {
            gpus: vec![sample_gpu("a")],
            prices: vec![],
        };
        let before = catalog.clone();
        let overrides = CatalogOverrides {
            gpu: vec![GpuOverride {
                id: "a".into(),
                memory_gib: Some(-1.0),
                ..GpuOverride::default()
            }],
            price: vec![],
        };
        let err = catalog.merge(overrides).unwrap_err();
        assert!(err.to_string().contains("memory_gib"), "{err}");
        assert_eq!(catalog, before);
    }

    #[test]
    fn normalize_ignores_case_and_separators() {
        assert_eq!(normalize("H100-SXM"), "h100sxm");
        assert_eq!(normalize(" h100_sxm "), "h100sxm");
        assert_eq!(strip_brand(&normalize("AMD Instinct MI300X")), "mi300x");
        assert_eq!(strip_brand("nvidia"), "nvidia");
    }
}
