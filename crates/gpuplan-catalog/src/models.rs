//! The embedded model catalog: every `config.json` under `data/models/`, looked up by Hugging
//! Face id (case-insensitive), also written `org__name`.

use gpuplan_core::model::{parse_config, Architecture, ModelError};
use std::sync::OnceLock;

mod files {
    include!(concat!(env!("OUT_DIR"), "/models.rs"));
}

/// One model of the embedded catalog.
#[derive(Debug, Clone, Copy)]
pub struct CatalogModel {
    /// Hugging Face id, e.g. `meta-llama/Llama-3.1-8B`.
    pub id: &'static str,
    /// File stem, e.g. `meta-llama__Llama-3.1-8B`.
    pub file_stem: &'static str,
    /// The config.json text.
    pub config_json: &'static str,
    /// The checkpoint's `hf_quant_config.json`, when it has one.
    pub hf_quant_config_json: Option<&'static str>,
}

impl CatalogModel {
    /// Parse the architecture.
    pub fn architecture(&self) -> Result<Architecture, ModelError> {
        let mut a = parse_config(self.id, self.config_json, self.hf_quant_config_json)?;
        a.name = self.id.to_string();
        Ok(a)
    }
}

/// Every catalog model, sorted by id.
pub fn catalog_models() -> &'static [CatalogModel] {
    static MODELS: OnceLock<Vec<CatalogModel>> = OnceLock::new();
    MODELS.get_or_init(|| {
        let mut v: Vec<CatalogModel> = files::MODEL_FILES
            .iter()
            .map(|(stem, cfg, hfq)| {
                // Leak once: ids live for the whole process, like the embedded data they name.
                let id: &'static str = Box::leak(stem.replacen("__", "/", 1).into_boxed_str());
                CatalogModel {
                    id,
                    file_stem: stem,
                    config_json: cfg,
                    hf_quant_config_json: *hfq,
                }
            })
            .collect();
        v.sort_by_key(|m| m.id.to_ascii_lowercase());
        v
    })
}

fn normalize(name: &str) -> String {
    name.trim()
        .trim_end_matches(".json")
        .replacen("__", "/", 1)
        .to_ascii_lowercase()
}

/// Look a model up by Hugging Face id or `org__name`, case-insensitively. A bare name without
/// the organisation matches when exactly one catalog model has it.
pub fn find_model(name: &str) -> Option<&'static CatalogModel> {
    let key = normalize(name);
    let models = catalog_models();
    if let Some(m) = models.iter().find(|m| m.id.to_ascii_lowercase() == key) {
        return Some(m);
    }
    if !key.contains('/') {
        let mut hits = models.iter().filter(|m| {
            m.id.rsplit('/')
                .next()
                .is_some_and(|n| n.to_ascii_lowercase() == key)
        });
        let first = hits.next();
        if hits.next().is_none() {
            return first;
        }
    }
    None
}

/// The catalog ids closest to `name` (for "did you mean" messages).
pub fn closest_models(name: &str, n: usize) -> Vec<&'static str> {
    let key = normalize(name);
    let mut scored: Vec<(f64, &'static str)> = catalog_models()
        .iter()
        .map(|m| {
            let id = m.id.to_ascii_lowercase();
            let short = id.rsplit('/').next().unwrap_or(&id).to_string();
            let s = strsim::jaro_winkler(&key, &id).max(strsim::jaro_winkler(&key, &short));
            (s, m.id)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(n).map(|(_, id)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_model_parses() {
        assert!(catalog_models().len() >= 90);
        let mut failures = Vec::new();
        for m in catalog_models() {
            match m.architecture() {
                Ok(a) => {
                    let p = a.params();
                    if !(p.total > 0
                        && p.active > 0
                        && p.active <= p.total
                        && a.weight_bytes() > 0.0)
                    {
                        failures.push(format!("{}: bad counts {p:?}", m.id));
                    }
                }
                Err(e) => failures.push(e.to_string()),
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn lookup_forms() {
        assert_eq!(
            find_model("meta-llama/Llama-3.1-8B").map(|m| m.id),
            Some("meta-llama/Llama-3.1-8B")
        );
        assert_eq!(
            find_model("META-LLAMA/llama-3.1-8b").map(|m| m.id),
            Some("meta-llama/Llama-3.1-8B")
        );
        assert_eq!(
            find_model("meta-llama__Llama-3.1-8B").map(|m| m.id),
            Some("meta-llama/Llama-3.1-8B")
        );
        assert_eq!(
            find_model("Llama-3.1-70B").map(|m| m.id),
            Some("meta-llama/Llama-3.1-70B")
        );
        assert!(find_model("nobody/nothing").is_none());
        assert!(closest_models("meta-llama/Llama-3.1-8", 3).contains(&"meta-llama/Llama-3.1-8B"));
    }
}
