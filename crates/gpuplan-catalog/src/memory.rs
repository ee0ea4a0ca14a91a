//! The memory-overhead data shipped inside the binary (`data/memory_overheads.toml`): activation
//! peaks, non-torch buffers, CUDA-graph memory, default memory fractions and KV block sizes per
//! engine and version, each with its source. The planner that uses them is
//! [`gpuplan_core::memory::plan_memory`].

use gpuplan_core::memory::MemoryOverheads;
use std::sync::OnceLock;

/// The embedded `memory_overheads.toml` text.
pub const MEMORY_OVERHEADS_TOML: &str = include_str!("../data/memory_overheads.toml");

/// Parses memory-overhead data from TOML text and checks it (readable version ranges, finite
/// non-negative values, a source on every value, catch-all rules present).
pub fn parse_memory_overheads(text: &str) -> Result<MemoryOverheads, String> {
    let overheads: MemoryOverheads = toml::from_str(text).map_err(|e| e.to_string())?;
    overheads.validate()?;
    Ok(overheads)
}

/// The overhead data shipped inside the binary, parsed once. The embedded file is checked by a
/// unit test, so a failure here is a build defect; it then yields empty data (every plan reports
/// that no entry applies) rather than a panic.
pub fn embedded_memory_overheads() -> &'static MemoryOverheads {
    static OVERHEADS: OnceLock<MemoryOverheads> = OnceLock::new();
    OVERHEADS.get_or_init(|| {
        parse_memory_overheads(MEMORY_OVERHEADS_TOML).unwrap_or(MemoryOverheads {
            engines: Vec::new(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpuplan_core::memory::Engine;

    #[test]
    fn embedded_overheads_parse_and_cover_every_engine() {
        let o = match parse_memory_overheads(MEMORY_OVERHEADS_TOML) {
            Ok(o) => o,
            Err(e) => panic!("memory_overheads.toml: {e}"),
        };
        for e in Engine::ALL {
            assert!(o.engine(e).is_some(), "{e} missing");
        }
        assert_eq!(embedded_memory_overheads(), &o);
    }

    #[test]
    fn bad_data_is_rejected() {
        let no_source = MEMORY_OVERHEADS_TOML.replacen(
            "source = \"SERVING_FACTS 1.1: gpu_memory_utilization default 0.90",
            "source = \"\" #",
            1,
        );
        assert!(parse_memory_overheads(&no_source).is_err());
        let bad_range =
            MEMORY_OVERHEADS_TOML.replacen("versions = \"<0.22\"", "versions = \"<x\"", 1);
        assert!(parse_memory_overheads(&bad_range).is_err());
        assert!(parse_memory_overheads("engine = 3").is_err());
    }
}
