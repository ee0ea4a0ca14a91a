//! Model resolution: a name, path or Hub id to an [`Architecture`].
//!
//! The order is: a local path (a `config.json` or a directory holding one) -> the embedded
//! catalog (Hugging Face id, case-insensitive, or `org__name`) -> the Hugging Face cache -> the
//! Hub over HTTP (unless offline).

use std::path::Path;

use gpuplan_catalog::{closest_models, find_model};
use gpuplan_core::limits::{name_too_long, quote};
use gpuplan_core::model::{parse_config, Architecture, ModelError};
use gpuplan_core::quant::WeightFormat;
use gpuplan_hub::{
    fetch, from_cache, load_local, looks_like_repo_id, FetchedModel, HubOptions,
    SafetensorsSummary, WeightsInfo,
};

use crate::error::Error;

/// The values of [`ResolvedModel::source`].
pub mod source {
    /// The embedded catalog.
    pub const CATALOG: &str = "catalog";
    /// A local `config.json` (or a directory holding one).
    pub const LOCAL: &str = "local";
    /// The Hugging Face cache.
    pub const HF_CACHE: &str = "hf-cache";
    /// The Hugging Face Hub over HTTP.
    pub const HUB: &str = "hub";
    /// A `config.json` given inline (pasted or uploaded to `gpuplan serve`).
    pub const INLINE: &str = "inline";
}

/// Largest inline `config.json` [`resolve_inline_config`] accepts, bytes (real configs are a
/// few KiB; the largest in the catalog, with per-layer block configs, is under 64 KiB).
pub const MAX_INLINE_CONFIG_BYTES: usize = 256 * 1024;

/// Resolves a model from the text of its `config.json` given inline (no file, catalog or Hub):
/// `name` names it in results and errors. Errors: too large, not a JSON object, or a config
/// the parser rejects (each naming the field).
pub fn resolve_inline_config(name: &str, config_json: &str) -> Result<ResolvedModel, Error> {
    let invalid = |message: String| {
        Error::Model(ModelError {
            source_name: name.to_string(),
            field: None,
            message,
        })
    };
    if config_json.len() > MAX_INLINE_CONFIG_BYTES {
        return Err(invalid(format!(
            "the inline config is {} bytes; at most {MAX_INLINE_CONFIG_BYTES} are accepted",
            config_json.len()
        )));
    }
    if !config_json.trim_start().starts_with('{') {
        return Err(invalid(
            "the inline config must be a JSON object (the contents of config.json)".to_string(),
        ));
    }
    let mut arch = parse_config(name, config_json, None)?;
    arch.name = name.to_string();
    finish(
        arch,
        source::INLINE,
        None,
        None,
        Vec::new(),
        &ResolveOptions::default(),
    )
}

/// How to resolve a model.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// Branch, tag or commit on the Hub (default `main`). When given, a repo id is looked up in
    /// the Hugging Face cache and on the Hub even if the embedded catalog has it, because the
    /// catalog holds one unnamed revision.
    pub revision: Option<String>,
    /// Never touch the network: local paths, the catalog and the Hugging Face cache only.
    pub offline: bool,
    /// Hub endpoint, token and cache; `None` reads them from the environment
    /// ([`HubOptions::from_env`]). `offline` and `revision` above override the ones here.
    pub hub: Option<HubOptions>,
    /// Show a progress bar on stderr while reading many shard headers (only on a terminal).
    pub progress: bool,
    /// Store every quantizable weight in this format instead of the checkpoint's
    /// (what `--weight-quant` does); the checkpoint's byte count then no longer applies.
    pub weight_quant: Option<WeightFormat>,
}

/// A resolved model.
#[derive(Debug, Clone)]
pub struct ResolvedModel {
    /// The architecture, with `--weight-quant` applied and every caveat in `arch.notes`.
    pub arch: Architecture,
    /// Where the config came from: one of [`source::CATALOG`] (`"catalog"`), [`source::LOCAL`]
    /// (`"local"`), [`source::HF_CACHE`] (`"hf-cache"`), [`source::HUB`] (`"hub"`).
    pub source: String,
    /// The commit the Hub revision resolved to (cache and Hub sources), when known.
    pub commit: Option<String>,
    /// What the checkpoint's safetensors headers say, when they were read.
    pub weights: Option<SafetensorsSummary>,
    /// Parameters counted from the safetensors headers, when they count parameters (not for
    /// checkpoints that pack several values into one stored element, such as fp4 in `U8` or
    /// GPTQ int4 in `I32`). Wins over the config-based count: see [`ResolvedModel::total_params`].
    pub header_total_params: Option<u64>,
    /// Stored weight bytes from the safetensors headers (scales and multi-token-prediction
    /// weights included), unless `--weight-quant` changed the format. Wins over the config-based
    /// figure: see [`ResolvedModel::weight_bytes`].
    pub header_weight_bytes: Option<u64>,
}

impl ResolvedModel {
    /// Total parameters: the checkpoint's header count when known, else the config-based count.
    pub fn total_params(&self) -> u64 {
        self.header_total_params
            .unwrap_or_else(|| self.arch.params().total)
    }

    /// Weight bytes: the checkpoint's stored bytes when known, else the config-based figure.
    pub fn weight_bytes(&self) -> f64 {
        self.header_weight_bytes
            .map_or_else(|| self.arch.weight_bytes(), |b| b as f64)
    }
}

/// Resolves `spec` to an architecture: a local path (a `config.json` file or a directory holding
/// one), else an embedded catalog model (case-insensitive id or `org__name`), else a Hugging Face
/// repo id from the cache, else from the Hub over HTTP unless offline.
///
/// Errors: [`Error::UnknownModel`] (with the closest catalog ids) for a name that is none of
/// these; [`Error::OfflineNotCached`] for a repo id that is neither in the catalog nor cached
/// while offline; [`Error::Hub`] and [`Error::Model`] for unreachable, missing or malformed
/// inputs.
pub fn resolve_model(spec: &str, opts: &ResolveOptions) -> Result<ResolvedModel, Error> {
    let spec = spec.trim();
    // A path may be longer than a name, but not longer than the OS allows (4096 on Linux).
    if spec.len() > 4096 {
        return Err(Error::UnknownModel {
            name: quote(spec),
            suggestions: Vec::new(),
        });
    }
    let path = Path::new(spec);
    if !spec.is_empty() && (path.exists() || looks_like_path(spec)) {
        let fetched = load_local(path)?;
        return from_fetched(spec, fetched, source::LOCAL, opts);
    }

    let repo_id = looks_like_repo_id(spec);
    if !(repo_id && opts.revision.is_some()) {
        if let Some(model) = find_model(spec) {
            return finish(
                model.architecture()?,
                source::CATALOG,
                None,
                None,
                Vec::new(),
                opts,
            );
        }
    }

    if name_too_long(spec) {
        return Err(Error::UnknownModel {
            name: quote(spec),
            suggestions: Vec::new(),
        });
    }
    if !repo_id {
        return Err(Error::UnknownModel {
            name: quote(spec),
            suggestions: closest_models(spec, 5)
                .into_iter()
                .map(String::from)
                .collect(),
        });
    }

    let mut hub = opts.hub.clone().unwrap_or_else(HubOptions::from_env);
    hub.offline |= opts.offline;
    hub.progress &= opts.progress;
    if let Some(revision) = &opts.revision {
        hub.revision = revision.clone();
    }
    if let Some(cached) = from_cache(spec, &hub)? {
        if hub.offline || cached.weights != WeightsInfo::NotChecked {
            return from_fetched(spec, cached, source::HF_CACHE, opts);
        }
    }
    if hub.offline {
        return Err(Error::OfflineNotCached {
            repo_id: spec.to_string(),
        });
    }
    let fetched = fetch(spec, &hub)?;
    from_fetched(spec, fetched, source::HUB, opts)
}

/// A spec that can only mean a file: absolute, relative with `./` or `../`, `~`, a `.json`
/// name, or more than one `/` (a repo id has exactly one).
fn looks_like_path(spec: &str) -> bool {
    spec.starts_with(['/', '.', '~', '\\'])
        || spec.ends_with(".json")
        || spec.matches('/').count() > 1
        || spec.contains('\\')
}

fn from_fetched(
    spec: &str,
    fetched: FetchedModel,
    source: &str,
    opts: &ResolveOptions,
) -> Result<ResolvedModel, Error> {
    let name = fetched.repo_id.clone().unwrap_or_else(|| spec.to_string());
    let mut arch = parse_config(
        &fetched.config_path_or_url,
        &fetched.config_json,
        fetched.hf_quant_config_json.as_deref(),
    )?;
    arch.name = name;
    let weights = match fetched.weights {
        WeightsInfo::Safetensors(summary) => Some(summary),
        WeightsInfo::NotSafetensors { note } => {
            arch.notes.push(note);
            None
        }
        WeightsInfo::NotChecked => None,
    };
    finish(arch, source, fetched.commit, weights, fetched.notes, opts)
}

/// Safetensors dtypes whose elements pack several parameters (fp4 pairs in `U8`, GPTQ/AWQ int4
/// in `I32`/`U32`): their element counts are not parameter counts.
const PACKED_DTYPES: [&str; 3] = ["U8", "I32", "U32"];

fn finish(
    arch: Architecture,
    source: &str,
    commit: Option<String>,
    weights: Option<SafetensorsSummary>,
    hub_notes: Vec<String>,
    opts: &ResolveOptions,
) -> Result<ResolvedModel, Error> {
    let mut arch = match opts.weight_quant {
        Some(format) => arch.with_weight_format(format),
        None => arch,
    };
    arch.notes.extend(hub_notes);
    let mut header_total_params = None;
    let mut header_weight_bytes = None;
    if let Some(summary) = &weights {
        let packed = summary
            .params_by_dtype
            .keys()
            .any(|d| PACKED_DTYPES.contains(&d.as_str()));
        let extras = checkpoint_extras(summary);
        if packed {
            arch.notes.push(format!(
                "the checkpoint packs several values per stored element ({}); parameter counts \
                 come from the config",
                PACKED_DTYPES
                    .iter()
                    .filter(|d| summary.params_by_dtype.contains_key(**d))
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        } else {
            let config_total = arch.params().total;
            if summary.total_params != config_total {
                arch.notes.push(format!(
                    "config-based count {} differs from the checkpoint's {} by {}; using the \
                     checkpoint's{extras}",
                    config_total,
                    summary.total_params,
                    percent_difference(config_total as f64, summary.total_params as f64),
                ));
            }
            header_total_params = Some(summary.total_params);
        }
        if opts.weight_quant.is_none() {
            let config_bytes = arch.weight_bytes();
            let header_bytes = summary.total_bytes as f64;
            if (config_bytes - header_bytes).abs() >= 0.5 {
                arch.notes.push(format!(
                    "config-based weight bytes {config_bytes:.0} differ from the checkpoint's {} \
                     by {}; using the checkpoint's{extras}",
                    summary.total_bytes,
                    percent_difference(config_bytes, header_bytes),
                ));
            }
            header_weight_bytes = Some(summary.total_bytes);
        }
    }
    Ok(ResolvedModel {
        arch,
        source: source.to_string(),
        commit,
        weights,
        header_total_params,
        header_weight_bytes,
    })
}

/// Why a checkpoint may hold more than the language model: ` (it includes ...)` or empty.
fn checkpoint_extras(summary: &SafetensorsSummary) -> String {
    let mut parts = Vec::new();
    if summary.has_mtp {
        parts.push("multi-token-prediction weights");
    }
    if summary.has_vision {
        parts.push("a vision tower");
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" (it includes {})", parts.join(" and "))
    }
}

/// `(config - header) / header`, signed, as "+1.23%".
fn percent_difference(config: f64, header: f64) -> String {
    if header == 0.0 {
        return "n/a".to_string();
    }
    format!("{:+.2}%", (config - header) / header * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline() -> ResolveOptions {
        let mut hub = HubOptions::from_env_map(&|_| None);
        hub.cache_dir = std::path::PathBuf::from("/nonexistent/gpuplan-test-cache");
        ResolveOptions {
            offline: true,
            hub: Some(hub),
            ..ResolveOptions::default()
        }
    }

    #[test]
    fn catalog_ids_resolve_in_every_spelling() {
        for spec in [
            "meta-llama/Llama-3.1-8B",
            "META-LLAMA/llama-3.1-8b",
            "meta-llama__Llama-3.1-8B",
        ] {
            let model = resolve_model(spec, &offline()).expect(spec);
            assert_eq!(model.source, source::CATALOG);
            assert_eq!(model.arch.name, "meta-llama/Llama-3.1-8B");
            assert_eq!(model.total_params(), model.arch.params().total);
            assert!(model.weights.is_none());
        }
    }

    #[test]
    fn unknown_names_suggest_catalog_ids() {
        let err = resolve_model("Llama-3.1-8", &offline()).expect_err("unknown");
        match &err {
            Error::UnknownModel { suggestions, .. } => {
                assert!(suggestions.iter().any(|s| s == "meta-llama/Llama-3.1-8B"))
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.is_usage());
        assert_eq!(err.exit_code(), crate::EXIT_USAGE);
    }

    #[test]
    fn offline_repo_id_not_cached() {
        let err = resolve_model("nobody/nothing-here", &offline()).expect_err("offline");
        assert!(err.is_offline());
        assert!(err
            .to_string()
            .contains("not in the embedded catalog and not in the Hugging Face cache"));
    }

    #[test]
    fn weight_quant_changes_bytes() {
        let opts = ResolveOptions {
            weight_quant: Some(WeightFormat::Fp8),
            ..offline()
        };
        let bf16 = resolve_model("meta-llama/Llama-3.1-8B", &offline()).expect("bf16");
        let fp8 = resolve_model("meta-llama/Llama-3.1-8B", &opts).expect("fp8");
        assert!(fp8.weight_bytes() < bf16.weight_bytes() * 0.6);
    }

    #[test]
    fn header_counts_win_and_the_difference_is_noted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = find_model("meta-llama/Llama-3.1-8B").expect("catalog");
        std::fs::write(dir.path().join("config.json"), config.config_json).expect("write");
        // A checkpoint with one extra tensor: header counts must win.
        let mut header = serde_json::Map::new();
        header.insert(
            "x.weight".into(),
            serde_json::json!({"dtype": "BF16", "shape": [10], "data_offsets": [0, 20]}),
        );
        let json = serde_json::to_vec(&header).expect("json");
        let mut file = (json.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(&json);
        std::fs::write(dir.path().join("model.safetensors"), file).expect("write");
        let model = resolve_model(&dir.path().display().to_string(), &offline()).expect("local");
        assert_eq!(model.source, source::LOCAL);
        assert_eq!(model.header_total_params, Some(10));
        assert_eq!(model.total_params(), 10);
        assert_eq!(model.weight_bytes(), 20.0);
        assert!(model.arch.notes.iter().any(
            |n| n.starts_with("config-based count 8030261248 differs from the checkpoint's 10")
        ));
    }

    #[test]
    fn missing_local_paths_are_input_errors() {
        let err = resolve_model("./no/such/config.json", &offline()).expect_err("missing");
        assert!(err.is_usage(), "{err}");
    }
}
