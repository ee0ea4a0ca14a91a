//! The embedded GPU catalog (`data/gpus.toml`, `data/prices.toml`) and user override files.
//!
//! A user catalog file has the same schema as the embedded files: `[[gpu]]` entries (an entry
//! whose `id` exists overrides just the fields it gives; a new `id` adds a GPU) and `[[price]]`
//! entries. It is read from `--catalog FILE` when given, and from the default user location
//! ([`default_user_catalog_path`]) when that file exists.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use gpuplan_core::hardware::{CatalogOverrides, Gpu, GpuPrice, HardwareCatalog, HardwareError};
use serde::Deserialize;

const GPUS_TOML: &str = include_str!("../data/gpus.toml");
const PRICES_TOML: &str = include_str!("../data/prices.toml");

/// Environment variable naming a user catalog file; takes precedence over the XDG location.
pub const CATALOG_ENV: &str = "GPUPLAN_CATALOG";

/// Errors from reading the hardware catalog files. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum HardwareCatalogError {
    /// The file could not be read.
    #[error("cannot read GPU catalog file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not match the schema (unknown field, wrong type, ...).
    /// The message includes the line, column and field.
    #[error("invalid GPU catalog file {}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The file parsed but holds impossible values (negative number, unknown GPU id in a price,
    /// incomplete new GPU, ...).
    #[error("invalid GPU catalog file {}: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the GPU and field.
        source: HardwareError,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GpusFile {
    gpu: Vec<Gpu>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PricesFile {
    price: Vec<GpuPrice>,
}

fn parse_embedded() -> Result<HardwareCatalog, HardwareCatalogError> {
    let parse_err = |file: &str, err: toml::de::Error| HardwareCatalogError::Parse {
        path: PathBuf::from(file),
        message: err.to_string(),
    };
    let gpus: GpusFile =
        toml::from_str(GPUS_TOML).map_err(|e| parse_err("<embedded>/gpus.toml", e))?;
    let prices: PricesFile =
        toml::from_str(PRICES_TOML).map_err(|e| parse_err("<embedded>/prices.toml", e))?;
    let catalog = HardwareCatalog {
        gpus: gpus.gpu,
        prices: prices.price,
    };
    catalog
        .validate()
        .map_err(|source| HardwareCatalogError::Invalid {
            path: PathBuf::from("<embedded>/gpus.toml"),
            source,
        })?;
    Ok(catalog)
}

/// The catalog shipped inside the binary, parsed once. The embedded files are checked by unit
/// tests, so a failure here is a build defect; it then yields an empty catalog rather than a panic
/// (every lookup reports an unknown GPU).
pub fn embedded_hardware() -> &'static HardwareCatalog {
    static CATALOG: OnceLock<HardwareCatalog> = OnceLock::new();
    CATALOG.get_or_init(|| parse_embedded().unwrap_or_default())
}

/// Parses a user catalog file (TOML `[[gpu]]` / `[[price]]` entries). Values are checked when
/// merged ([`HardwareCatalog::merge`]); this rejects bad TOML, unknown fields, wrong types and
/// negative numbers.
pub fn load_overrides(path: &Path) -> Result<CatalogOverrides, HardwareCatalogError> {
    let text = crate::read_user_file(path, crate::MAX_USER_FILE_BYTES).map_err(|source| {
        HardwareCatalogError::Io {
            path: path.to_path_buf(),
            source,
        }
    })?;
    parse_overrides(&text, path)
}

fn parse_overrides(text: &str, path: &Path) -> Result<CatalogOverrides, HardwareCatalogError> {
    let overrides: CatalogOverrides =
        toml::from_str(text).map_err(|err| HardwareCatalogError::Parse {
            path: path.to_path_buf(),
            message: err.to_string(),
        })?;
    check_override_numbers(&overrides).map_err(|source| HardwareCatalogError::Invalid {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(overrides)
}

/// Rejects negative or non-finite numbers early, so the message names the override entry even
/// when the GPU is new and incomplete.
fn check_override_numbers(overrides: &CatalogOverrides) -> Result<(), HardwareError> {
    for entry in &overrides.gpu {
        let mut numbers = vec![
            ("compute_capability", entry.compute_capability),
            ("memory_gb", entry.memory_gb),
            ("memory_gib", entry.memory_gib),
            ("memory_bandwidth_gb_s", entry.memory_bandwidth_gb_s),
            ("scale_out_gb_s_per_gpu", entry.scale_out_gb_s_per_gpu),
            (
                "host_link_gb_s_per_direction",
                entry.host_link_gb_s_per_direction,
            ),
            ("tdp_w", entry.tdp_w),
        ];
        if let Some(peak) = &entry.peak {
            numbers.extend([
                ("peak.fp32_tflops", peak.fp32_tflops),
                ("peak.tf32_tflops", peak.tf32_tflops),
                ("peak.bf16_tflops", peak.bf16_tflops),
                ("peak.fp16_tflops", peak.fp16_tflops),
                ("peak.fp8_tflops", peak.fp8_tflops),
                ("peak.int8_tops", peak.int8_tops),
                ("peak.fp4_tflops", peak.fp4_tflops),
            ]);
        }
        if let Some(link) = &entry.scale_up {
            numbers.extend([
                (
                    "scale_up.bandwidth_gb_s_per_direction",
                    link.bandwidth_gb_s_per_direction,
                ),
                ("scale_up.latency_us", link.latency_us),
            ]);
        }
        for (field, value) in numbers {
            if let Some(value) = value {
                if !(value.is_finite() && value >= 0.0) {
                    return Err(HardwareError::InvalidValue {
                        gpu_id: entry.id.clone(),
                        field: field.to_string(),
                        reason: format!("must be a finite number >= 0 (got {value})"),
                    });
                }
            }
        }
    }
    for price in &overrides.price {
        price.validate()?;
    }
    Ok(())
}

/// The default user catalog location: `$GPUPLAN_CATALOG` if set (whether or not the file exists,
/// so a typo is reported), else `$XDG_CONFIG_HOME/gpuplan/catalog.toml` or
/// `~/.config/gpuplan/catalog.toml` if that file exists; otherwise `None`.
pub fn default_user_catalog_path() -> Option<PathBuf> {
    user_catalog_path_from(
        std::env::var_os(CATALOG_ENV).map(PathBuf::from),
        std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

fn user_catalog_path_from(
    explicit_env: Option<PathBuf>,
    xdg_config_home: Option<PathBuf>,
    home: Option<PathBuf>,
) -> Option<PathBuf> {
    if let Some(path) = explicit_env.filter(|p| !p.as_os_str().is_empty()) {
        return Some(path);
    }
    let config_dir = xdg_config_home.filter(|p| p.is_absolute()).or_else(|| {
        home.filter(|p| !p.as_os_str().is_empty())
            .map(|h| h.join(".config"))
    })?;
    let path = config_dir.join("gpuplan").join("catalog.toml");
    path.is_file().then_some(path)
}

/// The embedded catalog with the user's overrides applied: first the default user file
/// ([`default_user_catalog_path`]) if any, then `explicit` (`--catalog FILE`) if given, so the
/// explicit file wins where both set a field.
pub fn hardware_with_user_overrides(
    explicit: Option<&Path>,
) -> Result<HardwareCatalog, HardwareCatalogError> {
    let mut catalog = embedded_hardware().clone();
    let default = default_user_catalog_path();
    for path in default.as_deref().into_iter().chain(explicit) {
        apply_file(&mut catalog, path)?;
    }
    Ok(catalog)
}

fn apply_file(catalog: &mut HardwareCatalog, path: &Path) -> Result<(), HardwareCatalogError> {
    let overrides = load_overrides(path)?;
    catalog
        .merge(overrides)
        .map_err(|source| HardwareCatalogError::Invalid {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpuplan_core::hardware::{ComputeDtype, LinkKind, Vendor};

    fn catalog() -> &'static HardwareCatalog {
        embedded_hardware()
    }

    #[test]
    fn embedded_data_parses_and_validates() {
        let catalog = parse_embedded().expect("embedded catalog must parse and validate");
        assert_eq!(catalog.gpus.len(), 41);
        assert_eq!(embedded_hardware().gpus.len(), 41);
    }

    #[test]
    fn every_csv_id_is_present_with_csv_values() {
        let csv_text = include_str!("../../../data/reference/gpus.csv");
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        let headers = reader.headers().expect("csv header").clone();
        let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
        let (id_col, mem_col, bw_col, bf16_col) = (
            col("id"),
            col("memory_gb"),
            col("mem_bw_tbs"),
            col("bf16_tflops_dense"),
        );
        let mut count = 0;
        for record in reader.records() {
            let record = record.expect("csv record");
            let id = &record[id_col];
            let gpu = catalog()
                .get(id)
                .unwrap_or_else(|| panic!("csv id {id} missing from gpus.toml"));
            assert_eq!(
                gpu.memory_gb,
                record[mem_col].parse::<f64>().unwrap(),
                "{id} memory_gb"
            );
            let bw: f64 = record[bw_col].parse().unwrap();
            assert!(
                (gpu.memory_bandwidth_gb_s - bw * 1000.0).abs() < 1e-6,
                "{id} bandwidth"
            );
            let bf16 = record[bf16_col].parse::<f64>().ok();
            assert_eq!(gpu.peak.bf16_tflops, bf16, "{id} bf16");
            count += 1;
        }
        assert_eq!(count, 41);
        assert_eq!(count, catalog().gpus.len());
    }

    #[test]
    fn names_resolve() {
        let cases = [
            ("h100_sxm", "h100_sxm"),
            ("H100", "h100_sxm"),
            ("h100-sxm", "h100_sxm"),
            ("H100 SXM", "h100_sxm"),
            ("NVIDIA H100 80GB HBM3", "h100_sxm"),
            ("H100 PCIe", "h100_pcie"),
            ("NVIDIA H100 NVL", "h100_nvl"),
            ("A100", "a100_sxm_80"),
            ("a100 80gb", "a100_sxm_80"),
            ("NVIDIA A100-SXM4-80GB", "a100_sxm_80"),
            ("NVIDIA A100-SXM4-40GB", "a100_sxm_40"),
            ("NVIDIA A100 80GB PCIe", "a100_pcie_80"),
            ("H200", "h200_sxm"),
            ("NVIDIA H200", "h200_sxm"),
            ("NVIDIA H200 NVL", "h200_nvl"),
            ("B200", "b200"),
            ("NVIDIA B200", "b200"),
            ("GB200", "gb200"),
            ("gb300", "gb300"),
            ("L40S", "l40s"),
            ("NVIDIA L40S", "l40s"),
            ("L4", "l4"),
            ("NVIDIA L4", "l4"),
            ("RTX4090", "rtx_4090"),
            ("4090", "rtx_4090"),
            ("NVIDIA GeForce RTX 4090", "rtx_4090"),
            ("rtx 5090", "rtx_5090"),
            ("Tesla T4", "t4"),
            ("Tesla V100-SXM2-32GB", "v100_sxm2_32"),
            ("NVIDIA A10G", "a10g"),
            ("MI300X", "mi300x"),
            ("AMD Instinct MI300X", "mi300x"),
            ("mi355x", "mi355x"),
            ("Gaudi 3", "gaudi3"),
            ("TPU v6e", "tpu_v6e"),
            ("trillium", "tpu_v6e"),
            (
                "NVIDIA RTX PRO 6000 Blackwell Server Edition",
                "rtx_pro_6000_bw",
            ),
        ];
        for (name, id) in cases {
            match catalog().resolve(name) {
                Ok(gpu) => assert_eq!(gpu.id, id, "{name}"),
                Err(err) => panic!("{name}: {err}"),
            }
        }
    }

    #[test]
    fn unknown_name_lists_closest_matches() {
        let err = catalog().resolve("H1000").unwrap_err();
        let HardwareError::UnknownGpu { name, suggestions } = &err else {
            panic!("wrong error {err:?}")
        };
        assert_eq!(name, "H1000");
        assert_eq!(suggestions.len(), 5);
        assert!(suggestions[0].starts_with("h100_sxm ("), "{suggestions:?}");
        let message = err.to_string();
        assert!(
            message.starts_with("unknown GPU 'H1000'; closest: h100_sxm (H100 SXM5 80GB)"),
            "{message}"
        );
        assert!(catalog().resolve("").is_err());
        assert!(catalog().resolve("---").is_err());
    }

    #[test]
    fn memory_figures() {
        let h100 = catalog().resolve("H100").unwrap();
        assert_eq!(h100.memory_gib, 79.19);
        let h200 = catalog().resolve("H200").unwrap();
        assert!((h200.memory_gib - 139.8).abs() < 0.05);
        assert!((h100.memory_bytes() - 79.19 * 1_073_741_824.0).abs() < 1.0);
    }

    #[test]
    fn sanity_invariants_hold_for_every_gpu() {
        for gpu in &catalog().gpus {
            let id = &gpu.id;
            assert!(gpu.memory_bandwidth_gb_s > 0.0, "{id}");
            // Vendor "GB" is binary in practice (H100 80GB = 81920 MiB), and the runtime reports
            // a little less than the physical size (ECC GDDR up to 1/16 less).
            assert!(
                gpu.memory_gib <= gpu.memory_gb,
                "{id}: memory_gib above memory_gb"
            );
            assert!(
                gpu.memory_gib > 0.9 * gpu.memory_gb,
                "{id}: memory_gib implausibly low"
            );
            let p = &gpu.peak;
            if let (Some(bf16), Some(fp32)) = (p.bf16_tflops, p.fp32_tflops) {
                assert!(bf16 >= fp32, "{id}: bf16 < fp32");
            }
            if let (Some(fp8), Some(bf16)) = (p.fp8_tflops, p.bf16_tflops) {
                assert!(fp8 >= bf16, "{id}: fp8 < bf16");
            }
            if let (Some(fp4), Some(fp8)) = (p.fp4_tflops, p.fp8_tflops) {
                assert!(fp4 >= fp8, "{id}: fp4 < fp8");
            }
            if let (Some(bf16), Some(tf32)) = (p.bf16_tflops, p.tf32_tflops) {
                assert!(bf16 >= tf32, "{id}: bf16 < tf32");
            }
            assert_eq!(
                gpu.native_fp8,
                p.fp8_tflops.is_some(),
                "{id}: native_fp8 vs fp8 rate"
            );
            assert_eq!(
                gpu.native_fp4,
                p.fp4_tflops.is_some(),
                "{id}: native_fp4 vs fp4 rate"
            );
            if let Some(cc) = gpu.compute_capability {
                assert_eq!(gpu.vendor, Vendor::Nvidia, "{id}");
                assert_eq!(gpu.native_fp8, cc >= 8.9, "{id}: native_fp8 vs cc {cc}");
            } else {
                assert_ne!(
                    gpu.vendor,
                    Vendor::Nvidia,
                    "{id}: NVIDIA part without compute capability"
                );
            }
            assert!(gpu.scale_out_gb_s_per_gpu > 0.0, "{id}");
            assert!(gpu.host_link_gb_s_per_direction > 0.0, "{id}");
            assert!(gpu.scale_up.latency_us > 0.0, "{id}");
            if gpu.scale_up_domain > 1 {
                assert!(gpu.scale_up.bandwidth_gb_s_per_direction > 0.0, "{id}");
                assert_ne!(gpu.scale_up.kind, LinkKind::None, "{id}");
            } else {
                assert_eq!(gpu.scale_up.kind, LinkKind::None, "{id}");
            }
            assert!(!gpu.source.is_empty() && !gpu.confidence.is_empty(), "{id}");
            assert!(
                gpu.field_sources.contains_key("memory_gib"),
                "{id}: memory_gib source"
            );
            assert!(
                gpu.field_sources.contains_key("scale_up.latency_us"),
                "{id}"
            );
            assert!(
                gpu.field_sources.contains_key("scale_out_gb_s_per_gpu"),
                "{id}"
            );
            assert!(gpu.has_peer_to_peer() == (gpu.scale_up_domain > 1), "{id}");
        }
        for price in &catalog().prices {
            assert!(
                price.usd_per_hour > 0.0 && !price.source.is_empty() && !price.as_of.is_empty()
            );
        }
    }

    #[test]
    fn specific_facts() {
        let c = catalog();
        let h100 = c.resolve("H100").unwrap();
        assert_eq!(h100.scale_up.bandwidth_gb_s_per_direction, 450.0);
        assert_eq!(h100.scale_out_gb_s_per_gpu, 50.0);
        assert_eq!(h100.compute_capability, Some(9.0));
        assert_eq!(h100.arch, "hopper");
        assert_eq!(h100.peak_tflops(ComputeDtype::Bf16), Some(989.5));
        let gb200 = c.resolve("GB200").unwrap();
        assert_eq!((gb200.gpus_per_node, gb200.scale_up_domain), (4, 72));
        assert_eq!(c.resolve("H100 NVL").unwrap().scale_up_domain, 2);
        assert_eq!(c.resolve("B200").unwrap().scale_out_gb_s_per_gpu, 100.0);
        assert!(!c.resolve("4090").unwrap().has_peer_to_peer());
        let a100 = c.resolve("A100").unwrap();
        assert_eq!(a100.peak_tflops(ComputeDtype::Fp8), None);
        assert!(!a100.native_fp8);
        assert!(c.resolve("MI355X").unwrap().native_fp4);
        assert!(c.resolve("gaudi3").unwrap().native_fp8);
        assert_eq!(
            c.resolve("t4").unwrap().peak_tflops(ComputeDtype::Bf16),
            Some(65.0)
        );
        assert_eq!(c.price("h100_sxm").unwrap().usd_per_hour, 3.78);
        assert!(c.price("h100_nvl").is_none());
    }

    fn write_temp(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gpuplan-hw-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    const NEW_GPU: &str = r#"
[[gpu]]
id = "h100_sxm"
memory_bandwidth_gb_s = 3000.0
[gpu.peak]
fp8_tflops = 1500.0
[gpu.scale_up]
latency_us = 5.0

[[gpu]]
id = "my_card"
vendor = "nvidia"
name = "My Card 48GB"
aliases = ["mycard"]
form_factor = "PCIe"
arch = "ada"
compute_capability = 8.9
memory_gb = 48.0
memory_gib = 44.4
memory_type = "GDDR6"
memory_bandwidth_gb_s = 864.0
native_fp8 = true
native_fp4 = false
gpus_per_node = 4
scale_up_domain = 1
scale_out_gb_s_per_gpu = 12.5
host_link_gb_s_per_direction = 32.0
source = "my lab"
[gpu.peak]
bf16_tflops = 300.0
fp8_tflops = 600.0
[gpu.scale_up]
kind = "none"
name = "none"
bandwidth_gb_s_per_direction = 0.0
latency_us = 20.0

[[price]]
gpu_id = "h100_sxm"
usd_per_hour = 2.0
source = "my contract"
as_of = "2026-06-01"

[[price]]
gpu_id = "my_card"
usd_per_hour = 0.5
source = "my contract"
as_of = "2026-06-01"
"#;

    #[test]
    fn overrides_modify_and_add_gpus_and_prices() {
        let path = write_temp("ok.toml", NEW_GPU);
        let mut catalog = embedded_hardware().clone();
        apply_file(&mut catalog, &path).expect("override applies");
        let h100 = catalog.resolve("h100").unwrap();
        assert_eq!(h100.memory_bandwidth_gb_s, 3000.0);
        assert_eq!(h100.peak.fp8_tflops, Some(1500.0));
        assert_eq!(
            h100.peak.bf16_tflops,
            Some(989.5),
            "untouched fields keep their values"
        );
        assert_eq!(h100.scale_up.latency_us, 5.0);
        assert_eq!(h100.scale_up.bandwidth_gb_s_per_direction, 450.0);
        assert_eq!(h100.memory_gib, 79.19);
        let mine = catalog.resolve("MyCard").unwrap();
        assert_eq!(mine.id, "my_card");
        assert_eq!(mine.peak_tflops(ComputeDtype::Fp8), Some(600.0));
        assert_eq!(catalog.price("h100_sxm").unwrap().usd_per_hour, 2.0);
        assert_eq!(catalog.price("my_card").unwrap().usd_per_hour, 0.5);
        assert_eq!(catalog.gpus.len(), 42);
        // The embedded catalog is not affected.
        assert_eq!(
            embedded_hardware()
                .resolve("h100")
                .unwrap()
                .memory_bandwidth_gb_s,
            3350.0
        );
    }

    fn error_for(name: &str, text: &str) -> String {
        let path = write_temp(name, text);
        let mut catalog = embedded_hardware().clone();
        let err = apply_file(&mut catalog, &path).unwrap_err().to_string();
        assert!(err.contains(name), "error must name the file: {err}");
        err
    }

    #[test]
    fn invalid_overrides_are_clear_errors() {
        let err = error_for("bad_toml.toml", "[[gpu]\nid = ");
        assert!(err.contains("invalid GPU catalog file"), "{err}");

        let err = error_for(
            "unknown_field.toml",
            "[[gpu]]\nid = \"h100_sxm\"\nmemory_gigs = 3.0\n",
        );
        assert!(err.contains("memory_gigs"), "{err}");

        let err = error_for(
            "negative.toml",
            "[[gpu]]\nid = \"h100_sxm\"\nmemory_bandwidth_gb_s = -1.0\n",
        );
        assert!(
            err.contains("memory_bandwidth_gb_s") && err.contains("h100_sxm"),
            "{err}"
        );

        let err = error_for(
            "negative_peak.toml",
            "[[gpu]]\nid = \"h100_sxm\"\n[gpu.peak]\nbf16_tflops = -5.0\n",
        );
        assert!(err.contains("peak.bf16_tflops"), "{err}");

        let err = error_for(
            "negative_domain.toml",
            "[[gpu]]\nid = \"h100_sxm\"\nscale_up_domain = -1\n",
        );
        assert!(err.contains("scale_up_domain"), "{err}");

        let err = error_for(
            "bad_price.toml",
            "[[price]]\ngpu_id = \"h100_sxm\"\nusd_per_hour = -2.0\nsource = \"x\"\nas_of = \"now\"\n",
        );
        assert!(err.contains("usd_per_hour"), "{err}");

        let err = error_for(
            "unknown_price_gpu.toml",
            "[[price]]\ngpu_id = \"h1000\"\nusd_per_hour = 2.0\nsource = \"x\"\nas_of = \"now\"\n",
        );
        assert!(err.contains("h1000"), "{err}");

        let err = error_for(
            "incomplete.toml",
            "[[gpu]]\nid = \"new_gpu\"\nmemory_gib = 10.0\n",
        );
        assert!(
            err.contains("gpu[new_gpu]") && err.contains("missing field"),
            "{err}"
        );

        let err = error_for(
            "bad_kind.toml",
            "[[gpu]]\nid = \"h100_sxm\"\n[gpu.scale_up]\nkind = \"warp\"\n",
        );
        assert!(err.contains("warp"), "{err}");

        let err = error_for(
            "alias_clash.toml",
            "[[gpu]]\nid = \"h200_sxm\"\naliases = [\"H100\"]\n",
        );
        assert!(err.contains("ambiguous"), "{err}");

        let missing = std::env::temp_dir().join("gpuplan-no-such-catalog.toml");
        let err = load_overrides(&missing).unwrap_err().to_string();
        assert!(err.contains("gpuplan-no-such-catalog.toml"), "{err}");
    }

    #[test]
    fn user_catalog_path_precedence() {
        let env = PathBuf::from("/tmp/explicit.toml");
        assert_eq!(
            user_catalog_path_from(Some(env.clone()), None, None),
            Some(env)
        );
        let dir = std::env::temp_dir().join(format!("gpuplan-hw-xdg-{}", std::process::id()));
        assert_eq!(
            user_catalog_path_from(None, Some(dir.clone()), None),
            None,
            "absent file is not returned"
        );
        std::fs::create_dir_all(dir.join("gpuplan")).unwrap();
        std::fs::write(dir.join("gpuplan/catalog.toml"), "").unwrap();
        assert_eq!(
            user_catalog_path_from(None, Some(dir.clone()), None),
            Some(dir.join("gpuplan/catalog.toml"))
        );
        let home = std::env::temp_dir().join(format!("gpuplan-hw-home-{}", std::process::id()));
        std::fs::create_dir_all(home.join(".config/gpuplan")).unwrap();
        std::fs::write(home.join(".config/gpuplan/catalog.toml"), "").unwrap();
        assert_eq!(
            user_catalog_path_from(None, None, Some(home.clone())),
            Some(home.join(".config/gpuplan/catalog.toml"))
        );
        assert_eq!(user_catalog_path_from(None, None, None), None);
    }

    #[test]
    fn empty_override_file_is_fine() {
        let path = write_temp("empty.toml", "");
        let mut catalog = embedded_hardware().clone();
        apply_file(&mut catalog, &path).unwrap();
        assert_eq!(&catalog, embedded_hardware());
    }
}
