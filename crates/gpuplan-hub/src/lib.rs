//! gpuplan-hub: where model configs come from.
//!
//! A model is resolved from, in order of the caller's choosing:
//! - a local path ([`load_local`]): a `config.json` file or a directory holding one;
//! - the Hugging Face cache ([`from_cache`]), laid out exactly as Python's huggingface_hub lays it out;
//! - the Hugging Face Hub over HTTP ([`fetch`]), which fills that cache.
//!
//! Besides `config.json` (and `hf_quant_config.json` where present), every path reads the
//! safetensors headers of the checkpoint, never the weights: over HTTP two `Range` requests per
//! file, first the 8-byte header length, then the JSON header. The result, a
//! [`SafetensorsSummary`], gives exact stored element and byte counts per dtype.
//!
//! Cache files gpuplan adds to huggingface_hub's layout: `models--{org}--{name}/gpuplan/{commit}.weights.json`
//! holds the header summary of that commit, so an offline re-run gives the same exact counts.
//! huggingface_hub ignores the folder.

mod cache;
mod error;
mod http;
mod options;
mod safetensors;

use std::collections::BTreeSet;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::cache::{is_commit_hash, RepoCache};
use crate::http::{HubClient, Target};

pub use crate::error::{HubError, HubErrorKind};
pub use crate::http::MAX_RETRIES;
pub use crate::options::{
    HubOptions, DEFAULT_DEADLINE, DEFAULT_ENDPOINT, DEFAULT_REVISION, DEFAULT_TIMEOUT,
};
pub use crate::safetensors::{
    dtype_bits, parse_header_json, parse_safetensors_header, SafetensorsSummary, TensorInfo,
    MAX_HEADER_BYTES,
};

/// The model configuration file every repository must have.
pub const CONFIG_FILE: &str = "config.json";
/// NVIDIA ModelOpt's quantization config, beside `config.json` in some repositories.
pub const QUANT_CONFIG_FILE: &str = "hf_quant_config.json";
/// The index of a sharded safetensors checkpoint (`weight_map`: tensor name -> file).
pub const INDEX_FILE: &str = "model.safetensors.index.json";
/// The file of an unsharded safetensors checkpoint.
pub const SINGLE_FILE: &str = "model.safetensors";

/// One shard's tensors, or why they could not be read.
type ShardHeader = Result<Vec<TensorInfo>, HubError>;

/// Shard headers fetched at once.
const PARALLEL_FETCHES: usize = 8;

/// Where a model's config was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelSource {
    /// A path the user gave: the `config.json` read.
    LocalPath(PathBuf),
    /// The Hugging Face cache: the `config.json` in `snapshots/{commit}/`.
    HubCache(PathBuf),
    /// The Hub over HTTP.
    Hub {
        /// The resolve URL of `config.json`.
        url: String,
    },
}

/// What the checkpoint's weight files say, as far as they were read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WeightsInfo {
    /// Every safetensors header was read: exact counts.
    Safetensors(SafetensorsSummary),
    /// The checkpoint has no safetensors (e.g. only `pytorch_model.bin`): counts must come from the config.
    NotSafetensors {
        /// Why, for the user.
        note: String,
    },
    /// The weight files were not examined (a bare config file, or a cache without them); see the notes.
    NotChecked,
}

/// A resolved model: its config text, where it came from, and what its weight headers say.
#[derive(Debug, Clone, Serialize)]
pub struct FetchedModel {
    /// `org/name` for Hub and cache sources; `None` for a local path.
    pub repo_id: Option<String>,
    /// The branch, tag or commit asked for (Hub and cache sources).
    pub revision: Option<String>,
    /// The commit the revision resolved to, when known.
    pub commit: Option<String>,
    /// The text of `config.json` (checked to be a JSON object, otherwise as fetched).
    pub config_json: String,
    /// Where `config.json` was read: a path or a URL.
    pub config_path_or_url: String,
    /// The text of `hf_quant_config.json`, when the model has one.
    pub hf_quant_config_json: Option<String>,
    /// Where the config came from.
    pub source: ModelSource,
    /// What the safetensors headers say.
    pub weights: WeightsInfo,
    /// Things the user may want to know (stale cache, missing weights, nothing cached ...).
    pub notes: Vec<String>,
}

/// Whether `s` has the shape of a Hub repo id, `org/name`: one `/`, each side 1-96 characters of
/// letters, digits, `-`, `_`, `.`, not starting or ending with `-` or `.`, without `--` or `..`.
/// Says nothing about whether the repository exists.
pub fn looks_like_repo_id(s: &str) -> bool {
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.len() <= 96
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && !p.starts_with(['-', '.'])
            && !p.ends_with(['-', '.'])
            && !p.contains("--")
            && !p.contains("..")
    };
    match s.split_once('/') {
        Some((org, name)) => part_ok(org) && part_ok(name),
        None => false,
    }
}

/// Resolves `repo_id` at `opts.revision`: from the cache when it holds the config and the weights
/// summary (or always, when offline), otherwise over HTTP, filling the cache.
///
/// A cached branch or tag is used as cached, without asking the Hub whether it moved.
/// Offline (`opts.offline`) a model that is not cached is an [`HubError::is_offline`] error.
pub fn fetch(repo_id: &str, opts: &HubOptions) -> Result<FetchedModel, HubError> {
    check_request(repo_id, &opts.revision)?;
    if let Some(cached) = from_cache(repo_id, opts)? {
        if opts.offline || cached.weights != WeightsInfo::NotChecked {
            return Ok(cached);
        }
    }
    if opts.offline {
        return Err(HubErrorKind::OfflineNotCached {
            repo_id: repo_id.to_string(),
            revision: opts.revision.clone(),
            cache_dir: opts.cache_dir.clone(),
        }
        .into());
    }
    fetch_online(repo_id, opts)
}

/// Looks `repo_id` at `opts.revision` up in the Hugging Face cache only; `Ok(None)` when its
/// `config.json` is not there. Never touches the network.
///
/// The weights come from gpuplan's summary for the commit, else from safetensors files in the
/// snapshot (when huggingface_hub downloaded them all), else they are [`WeightsInfo::NotChecked`].
pub fn from_cache(repo_id: &str, opts: &HubOptions) -> Result<Option<FetchedModel>, HubError> {
    check_request(repo_id, &opts.revision)?;
    let cache = RepoCache::new(&opts.cache_dir, repo_id);
    let Some(commit) = cache.resolve_commit(&opts.revision) else {
        return Ok(None);
    };
    let snapshot = cache.snapshot_dir(&commit);
    let config_path = snapshot.join(CONFIG_FILE);
    let Some(config_json) = read_optional(&config_path)? else {
        return Ok(None);
    };
    check_json_object(&config_json, &config_path.display().to_string())?;
    let quant_path = snapshot.join(QUANT_CONFIG_FILE);
    let hf_quant_config_json = read_optional(&quant_path)?;
    if let Some(text) = &hf_quant_config_json {
        check_json_object(text, &quant_path.display().to_string())?;
    }

    let mut notes = Vec::new();
    let weights = match cache.load_weights(&commit) {
        Some(weights) => weights,
        None => match local_weights(&snapshot, &mut Vec::new())? {
            summary @ WeightsInfo::Safetensors(_) => summary,
            _ if cache.known_missing(&commit, INDEX_FILE)
                && cache.known_missing(&commit, SINGLE_FILE) =>
            {
                WeightsInfo::NotSafetensors {
                    note: not_safetensors_note(),
                }
            }
            _ => {
                notes.push(format!(
                    "the cache has no safetensors header summary for {repo_id}@{commit}; \
                     run once online for exact weight counts"
                ));
                WeightsInfo::NotChecked
            }
        },
    };
    Ok(Some(FetchedModel {
        repo_id: Some(repo_id.to_string()),
        revision: Some(opts.revision.clone()),
        commit: Some(commit),
        config_json,
        config_path_or_url: config_path.display().to_string(),
        hf_quant_config_json,
        source: ModelSource::HubCache(config_path),
        weights,
        notes,
    }))
}

/// Reads a local model: `path` is a `config.json` file or a directory holding one.
/// `hf_quant_config.json` beside it is read too, and the headers (only the headers) of the
/// safetensors files beside it: those of `model.safetensors.index.json` when present, else every
/// `*.safetensors`.
pub fn load_local(path: &Path) -> Result<FetchedModel, HubError> {
    let config_path = if path.is_dir() {
        path.join(CONFIG_FILE)
    } else {
        path.to_path_buf()
    };
    let config_json = match read_optional(&config_path)? {
        Some(text) => text,
        None => {
            return Err(HubErrorKind::NoLocalConfig {
                path: path.to_path_buf(),
            }
            .into())
        }
    };
    check_json_object(&config_json, &config_path.display().to_string())?;
    let dir = config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let quant_path = dir.join(QUANT_CONFIG_FILE);
    let hf_quant_config_json = read_optional(&quant_path)?;
    if let Some(text) = &hf_quant_config_json {
        check_json_object(text, &quant_path.display().to_string())?;
    }
    let mut notes = Vec::new();
    let weights = local_weights(&dir, &mut notes)?;
    Ok(FetchedModel {
        repo_id: None,
        revision: None,
        commit: None,
        config_json,
        config_path_or_url: config_path.display().to_string(),
        hf_quant_config_json,
        source: ModelSource::LocalPath(config_path),
        weights,
        notes,
    })
}

fn fetch_online(repo_id: &str, opts: &HubOptions) -> Result<FetchedModel, HubError> {
    let client = HubClient::new(opts);
    let cache = RepoCache::new(&opts.cache_dir, repo_id);
    let mut notes = Vec::new();
    let cache_failed = |what: &str, result: std::io::Result<()>, notes: &mut Vec<String>| {
        if let Err(e) = result {
            notes.push(format!(
                "could not write {what} to the Hugging Face cache at {}: {e}",
                opts.cache_dir.display()
            ));
        }
    };

    let config_target = Target {
        repo_id,
        revision: &opts.revision,
        filename: CONFIG_FILE,
    };
    let config_url = client.resolve_url(&config_target);
    let config = client
        .get_file(&config_target)?
        .ok_or_else(|| http::not_found(&config_target, None))?;
    let config_json = utf8_json_object(config.body, CONFIG_FILE)?;
    let commit = config.commit.filter(|c| is_commit_hash(c));
    if commit.is_none() {
        notes.push(format!(
            "{} sent no commit hash (X-Repo-Commit); nothing was cached",
            opts.endpoint
        ));
    }
    // Every later file comes from the same commit, even if the branch moves meanwhile.
    let pinned = commit.clone().unwrap_or_else(|| opts.revision.clone());
    if let Some(commit) = &commit {
        let stored = cache.store_file(
            commit,
            CONFIG_FILE,
            config.etag.as_deref(),
            config_json.as_bytes(),
        );
        cache_failed(CONFIG_FILE, stored, &mut notes);
        cache_failed("a ref", cache.store_ref(&opts.revision, commit), &mut notes);
    }

    let quant_target = Target {
        repo_id,
        revision: &pinned,
        filename: QUANT_CONFIG_FILE,
    };
    let hf_quant_config_json = match client.get_file(&quant_target)? {
        Some(download) => {
            let text = utf8_json_object(download.body, QUANT_CONFIG_FILE)?;
            if let Some(commit) = &commit {
                let stored = cache.store_file(
                    commit,
                    QUANT_CONFIG_FILE,
                    download.etag.as_deref(),
                    text.as_bytes(),
                );
                cache_failed(QUANT_CONFIG_FILE, stored, &mut notes);
            }
            Some(text)
        }
        None => {
            if let Some(commit) = &commit {
                let stored = cache.store_missing(commit, QUANT_CONFIG_FILE);
                cache_failed("a missing-file marker", stored, &mut notes);
            }
            None
        }
    };

    let weights = remote_weights(
        &client,
        &cache,
        repo_id,
        &pinned,
        commit.as_deref(),
        opts,
        &mut notes,
    )?;
    if let Some(commit) = &commit {
        let stored = cache.store_weights(repo_id, commit, &weights);
        cache_failed("the weights summary", stored, &mut notes);
    }

    Ok(FetchedModel {
        repo_id: Some(repo_id.to_string()),
        revision: Some(opts.revision.clone()),
        commit,
        config_json,
        config_path_or_url: config_url.clone(),
        hf_quant_config_json,
        source: ModelSource::Hub { url: config_url },
        weights,
        notes,
    })
}

/// Reads the safetensors headers over HTTP: those listed in the index, else `model.safetensors`.
fn remote_weights(
    client: &HubClient<'_>,
    cache: &RepoCache,
    repo_id: &str,
    pinned: &str,
    commit: Option<&str>,
    opts: &HubOptions,
    notes: &mut Vec<String>,
) -> Result<WeightsInfo, HubError> {
    let target = |filename| Target {
        repo_id,
        revision: pinned,
        filename,
    };
    let mut note_cache_error = |result: std::io::Result<()>| {
        if let Err(e) = result {
            notes.push(format!(
                "could not write to the Hugging Face cache at {}: {e}",
                opts.cache_dir.display()
            ));
        }
    };

    let Some(index) = client.get_file(&target(INDEX_FILE))? else {
        if let Some(commit) = commit {
            note_cache_error(cache.store_missing(commit, INDEX_FILE));
        }
        return match remote_header(client, &target(SINGLE_FILE))? {
            Some(tensors) => Ok(WeightsInfo::Safetensors(SafetensorsSummary::from_tensors(
                tensors, 1,
            ))),
            None => {
                if let Some(commit) = commit {
                    note_cache_error(cache.store_missing(commit, SINGLE_FILE));
                }
                Ok(WeightsInfo::NotSafetensors {
                    note: not_safetensors_note(),
                })
            }
        };
    };
    let (shards, indexed_tensors) = parse_index(&index.body, INDEX_FILE)?;
    if let Some(commit) = commit {
        note_cache_error(cache.store_file(commit, INDEX_FILE, index.etag.as_deref(), &index.body));
    }

    let progress = progress_bar(shards.len(), opts.progress);
    let results: Mutex<Vec<Option<ShardHeader>>> =
        Mutex::new((0..shards.len()).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL_FETCHES.min(shards.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(shard) = shards.get(i) else { break };
                if failed.load(Ordering::Relaxed) {
                    break;
                }
                let shard_target = target(shard);
                let result = remote_header(client, &shard_target).and_then(|found| {
                    found.ok_or_else(|| http::not_found(&shard_target, Some("EntryNotFound")))
                });
                failed.fetch_or(result.is_err(), Ordering::Relaxed);
                if let Some(slot) = results
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .get_mut(i)
                {
                    *slot = Some(result);
                }
                progress.inc(1);
            });
        }
    });
    progress.finish_and_clear();

    let mut tensors = Vec::new();
    let mut first_error = None;
    for result in results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .into_iter()
        .flatten()
    {
        match result {
            Ok(found) => tensors.extend(found),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(error) = first_error {
        return Err(error);
    }
    let summary = SafetensorsSummary::from_tensors(tensors, shards.len());
    if summary.num_tensors != indexed_tensors {
        notes.push(format!(
            "{INDEX_FILE} lists {indexed_tensors} tensors but the shard headers hold {}",
            summary.num_tensors
        ));
    }
    Ok(WeightsInfo::Safetensors(summary))
}

/// One file's safetensors header over HTTP, in two `Range` requests. `Ok(None)` on 404.
fn remote_header(
    client: &HubClient<'_>,
    target: &Target<'_>,
) -> Result<Option<Vec<TensorInfo>>, HubError> {
    let Some(prefix) = client.get_range(target, 0, 8)? else {
        return Ok(None);
    };
    let len = safetensors::header_len(&prefix).map_err(|e| e.with_file(target.filename))?;
    let json = client
        .get_range(target, 8, len)?
        .ok_or_else(|| http::not_found(target, Some("EntryNotFound")))?;
    parse_header_json(&json)
        .map(Some)
        .map_err(|e| e.with_file(target.filename))
}

/// Weights from the files in a local directory (a model folder or a cache snapshot).
fn local_weights(dir: &Path, notes: &mut Vec<String>) -> Result<WeightsInfo, HubError> {
    let index_path = dir.join(INDEX_FILE);
    if let Some(index) = read_optional(&index_path)? {
        let (shards, _) = parse_index(index.as_bytes(), &index_path.display().to_string())?;
        let paths: Vec<PathBuf> = shards.iter().map(|s| dir.join(s)).collect();
        let missing = paths.iter().filter(|p| !p.is_file()).count();
        if missing > 0 {
            notes.push(format!(
                "{missing} of the {} safetensors files listed in {} are not downloaded; weight counts not checked",
                paths.len(),
                index_path.display()
            ));
            return Ok(WeightsInfo::NotChecked);
        }
        return local_summary(&paths);
    }
    let mut safetensors = Vec::new();
    let mut other_weights = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if name.ends_with(".safetensors") && path.is_file() {
                safetensors.push(path);
            } else if [".bin", ".pt", ".pth", ".gguf", ".ckpt"]
                .iter()
                .any(|ext| name.ends_with(ext))
            {
                other_weights.push(name);
            }
        }
    }
    safetensors.sort();
    if !safetensors.is_empty() {
        return local_summary(&safetensors);
    }
    if !other_weights.is_empty() {
        other_weights.sort();
        return Ok(WeightsInfo::NotSafetensors {
            note: format!(
                "weights are not safetensors ({}); parameter counts fall back to config.json",
                other_weights.join(", ")
            ),
        });
    }
    notes.push(format!(
        "no weight files in {}; weight counts not checked",
        dir.display()
    ));
    Ok(WeightsInfo::NotChecked)
}

fn local_summary(paths: &[PathBuf]) -> Result<WeightsInfo, HubError> {
    let mut tensors = Vec::new();
    for path in paths {
        tensors.extend(read_local_header(path)?);
    }
    Ok(WeightsInfo::Safetensors(SafetensorsSummary::from_tensors(
        tensors,
        paths.len(),
    )))
}

/// Reads only the header of a local safetensors file.
fn read_local_header(path: &Path) -> Result<Vec<TensorInfo>, HubError> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| HubError::io(path, e))?;
    check_regular(&meta, &name, u64::MAX)?;
    let mut file = std::fs::File::open(path).map_err(|e| HubError::io(path, e))?;
    let mut prefix = Vec::with_capacity(8);
    (&mut file)
        .take(8)
        .read_to_end(&mut prefix)
        .map_err(|e| HubError::io(path, e))?;
    let len = safetensors::header_len(&prefix).map_err(|e| e.with_file(&name))?;
    let mut json = Vec::new();
    file.take(len)
        .read_to_end(&mut json)
        .map_err(|e| HubError::io(path, e))?;
    if (json.len() as u64) < len {
        return Err(HubError::malformed(
            name,
            format!(
                "header length {len} runs past the end of the file ({} header bytes present)",
                json.len()
            ),
        ));
    }
    parse_header_json(&json).map_err(|e| e.with_file(&name))
}

/// The shard files of a safetensors index (sorted, unique) and the number of tensors it lists.
fn parse_index(bytes: &[u8], file: &str) -> Result<(Vec<String>, usize), HubError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| HubError::malformed(file, format!("not JSON: {e}")))?;
    let weight_map = value
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| HubError::malformed(file, "no \"weight_map\" object"))?;
    let mut shards = BTreeSet::new();
    for (tensor, shard) in weight_map {
        let shard = shard.as_str().ok_or_else(|| {
            HubError::malformed(file, format!("tensor {tensor:?} maps to a non-string"))
        })?;
        if !is_safe_relative_path(shard) {
            return Err(HubError::malformed(
                file,
                format!("tensor {tensor:?} maps to an unsafe file name {shard:?}"),
            ));
        }
        shards.insert(shard.to_string());
    }
    if shards.is_empty() {
        return Err(HubError::malformed(file, "\"weight_map\" is empty"));
    }
    Ok((shards.into_iter().collect(), weight_map.len()))
}

/// A repo-relative file name that stays inside the repository.
fn is_safe_relative_path(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name.contains('\\')
        && !name.contains(':')
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// Checks the repo id and the revision before they become URLs and cache paths.
fn check_request(repo_id: &str, revision: &str) -> Result<(), HubError> {
    if !looks_like_repo_id(repo_id) {
        return Err(HubErrorKind::InvalidRepoId {
            input: repo_id.to_string(),
        }
        .into());
    }
    let revision_ok = revision.len() <= 256
        && !revision.chars().any(|c| c.is_control() || c == ' ')
        && is_safe_relative_path(revision);
    if !revision_ok {
        return Err(HubErrorKind::InvalidRevision {
            revision: revision.to_string(),
        }
        .into());
    }
    Ok(())
}

fn not_safetensors_note() -> String {
    format!(
        "the repository has neither {INDEX_FILE} nor {SINGLE_FILE} (e.g. only pytorch_model.bin); \
         parameter counts fall back to config.json"
    )
}

/// Reads a text file; `Ok(None)` when it (or a symlink's target) does not exist. Only regular
/// files of at most [`http::MAX_JSON_BYTES`] are read: a device (`/dev/zero`), FIFO or socket
/// is refused before it is opened (opening a FIFO would block).
fn read_optional(path: &Path) -> Result<Option<String>, HubError> {
    let name = path.display().to_string();
    match std::fs::metadata(path) {
        Ok(meta) => check_regular(&meta, &name, http::MAX_JSON_BYTES)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(HubError::io(path, e)),
    }
    let file = std::fs::File::open(path).map_err(|e| HubError::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(http::MAX_JSON_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| HubError::io(path, e))?;
    if bytes.len() as u64 > http::MAX_JSON_BYTES {
        return Err(too_large(&name, http::MAX_JSON_BYTES));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| HubError::malformed(name, "not UTF-8 text"))
}

/// Refuses what is not a regular file, or is larger than `max_bytes`.
fn check_regular(meta: &std::fs::Metadata, name: &str, max_bytes: u64) -> Result<(), HubError> {
    if !meta.is_file() {
        return Err(HubError::malformed(
            name,
            "not a regular file (a device, FIFO or socket); pass a config.json file or a \
             directory that holds one",
        ));
    }
    if meta.len() > max_bytes {
        return Err(too_large(name, max_bytes));
    }
    Ok(())
}

fn too_large(name: &str, max_bytes: u64) -> HubError {
    HubError::malformed(
        name,
        format!("larger than {max_bytes} bytes; a config.json is a few kilobytes"),
    )
}

fn utf8_json_object(bytes: Vec<u8>, file: &str) -> Result<String, HubError> {
    let text = String::from_utf8(bytes).map_err(|_| HubError::malformed(file, "not UTF-8 text"))?;
    check_json_object(&text, file)?;
    Ok(text)
}

/// Checks that `text` is a JSON object as Python's json writes it (`Infinity`, `-Infinity` and
/// `NaN` allowed, as the Hub serves them in real configs).
fn check_json_object(text: &str, file: &str) -> Result<(), HubError> {
    let text = gpuplan_core::model::replace_non_json_numbers(text);
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err(HubError::malformed(file, "not a JSON object")),
        Err(e) => Err(HubError::malformed(file, format!("not JSON: {e}"))),
    }
}

/// A shard progress bar on stderr, drawn only for several shards, when wanted, on a terminal.
fn progress_bar(shards: usize, wanted: bool) -> indicatif::ProgressBar {
    if !wanted || shards <= 1 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(shards as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} safetensors headers")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("reading");
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_id_shape() {
        for ok in [
            "meta-llama/Llama-3.1-8B",
            "Qwen/Qwen3-0.6B",
            "a/b",
            "org_x/m.v2",
        ] {
            assert!(looks_like_repo_id(ok), "{ok}");
        }
        for bad in [
            "",
            "gpt2",
            "a/b/c",
            "/a",
            "a/",
            "./x",
            "../x",
            "a/..",
            "-a/b",
            "a/b.",
            "a--b/c",
            "a/b c",
            "C:/x",
            "org/na..me",
        ] {
            assert!(!looks_like_repo_id(bad), "{bad}");
        }
    }

    #[test]
    fn revisions_must_stay_inside_the_cache() {
        assert!(check_request("a/b", "main").is_ok());
        assert!(check_request("a/b", "refs/pr/1").is_ok());
        assert!(check_request("a/b", &"f".repeat(40)).is_ok());
        for bad in ["", "../x", "a/../../b", "/abs", "a\\b", "a b", "x/"] {
            assert!(check_request("a/b", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn index_parsing() {
        let (shards, n) = parse_index(
            br#"{"metadata":{},"weight_map":{"a":"m-2.safetensors","b":"m-1.safetensors","c":"m-1.safetensors"}}"#,
            "idx",
        )
        .expect("valid");
        assert_eq!(shards, ["m-1.safetensors", "m-2.safetensors"]);
        assert_eq!(n, 3);
        for bad in [
            &br#"{"weight_map":{"a":"../x"}}"#[..],
            br#"{"weight_map":{}}"#,
            br#"{"weight_map":{"a":1}}"#,
            br#"{}"#,
            b"nope",
        ] {
            let err = parse_index(bad, "idx").expect_err("malformed");
            assert!(err.to_string().contains("idx"), "{err}");
        }
    }

    #[test]
    fn weights_info_round_trips_through_json() {
        let w = WeightsInfo::NotSafetensors { note: "x".into() };
        let json = serde_json::to_string(&w).expect("ser");
        assert_eq!(serde_json::from_str::<WeightsInfo>(&json).expect("de"), w);
        let w = WeightsInfo::Safetensors(SafetensorsSummary::default());
        let json = serde_json::to_string(&w).expect("ser");
        assert_eq!(serde_json::from_str::<WeightsInfo>(&json).expect("de"), w);
    }
}
