//! Embeds every model config under `data/models/` into the binary: writes a table of
//! `(file stem, config.json, Option<hf_quant_config.json>)` to `$OUT_DIR/models.rs`.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/models");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut stems: Vec<String> = std::fs::read_dir(&dir)
        .expect("data/models exists")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json") && !n.ends_with(".hf_quant_config.json"))
        .map(|n| n.trim_end_matches(".json").to_string())
        .collect();
    stems.sort();
    let mut out = String::from("/// (file stem, config.json, hf_quant_config.json)\npub static MODEL_FILES: &[(&str, &str, Option<&str>)] = &[\n");
    for s in &stems {
        let cfg = dir.join(format!("{s}.json"));
        let hfq = dir.join(format!("{s}.hf_quant_config.json"));
        let hfq_expr = if hfq.exists() {
            format!("Some(include_str!({:?}))", hfq.display().to_string())
        } else {
            "None".to_string()
        };
        writeln!(
            out,
            "    ({:?}, include_str!({:?}), {}),",
            s,
            cfg.display().to_string(),
            hfq_expr
        )
        .expect("write to string");
    }
    out.push_str("];\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR set by cargo")).join("models.rs");
    std::fs::write(dest, out).expect("write models.rs");
}
