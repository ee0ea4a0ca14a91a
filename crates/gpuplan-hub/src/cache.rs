//! The Hugging Face cache, read and written in huggingface_hub's layout so either tool finds what
//! the other cached:
//!
//! ```text
//! $HF_HUB_CACHE/models--{org}--{name}/
//!   refs/{revision}                    the commit hash a branch or tag pointed to
//!   blobs/{etag}                       file contents, named by the Hub's (X-Linked-)ETag
//!   snapshots/{commit}/{filename}      relative symlink to ../../blobs/{etag} (or a plain copy)
//!   .no_exist/{commit}/{filename}      empty marker: the Hub answered 404 for this file
//!   gpuplan/{commit}.weights.json      gpuplan only: the safetensors header summary for that commit
//! ```
//!
//! Every write goes to a temporary file in the destination directory and is renamed into place,
//! so an interrupted run leaves at worst a stray temporary file, never a truncated entry.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::WeightsInfo;

/// Version tag of the gpuplan weights summary file; a file with another tag is ignored.
const WEIGHTS_FORMAT: &str = "gpuplan-weights-v1";

/// One repository's folder in the cache.
#[derive(Debug, Clone)]
pub(crate) struct RepoCache {
    dir: PathBuf,
}

/// What gpuplan stores in `gpuplan/{commit}.weights.json`.
#[derive(Serialize, Deserialize)]
struct WeightsFile {
    format: String,
    repo_id: String,
    commit: String,
    weights: WeightsInfo,
}

impl RepoCache {
    /// The folder of `repo_id` (`org/name`) under `cache_dir`.
    pub(crate) fn new(cache_dir: &Path, repo_id: &str) -> Self {
        RepoCache {
            dir: cache_dir.join(repo_folder_name(repo_id)),
        }
    }

    /// The commit a revision resolves to: `refs/{revision}` when present, else the revision itself
    /// when it is a commit hash with a snapshot folder.
    pub(crate) fn resolve_commit(&self, revision: &str) -> Option<String> {
        if let Ok(text) = std::fs::read_to_string(self.dir.join("refs").join(revision)) {
            let commit = text.trim();
            if is_commit_hash(commit) {
                return Some(commit.to_string());
            }
        }
        (is_commit_hash(revision) && self.dir.join("snapshots").join(revision).is_dir())
            .then(|| revision.to_string())
    }

    /// The snapshot folder of a commit.
    pub(crate) fn snapshot_dir(&self, commit: &str) -> PathBuf {
        self.dir.join("snapshots").join(commit)
    }

    /// Whether huggingface_hub (or gpuplan) recorded that the Hub has no such file at this commit.
    pub(crate) fn known_missing(&self, commit: &str, filename: &str) -> bool {
        self.dir
            .join(".no_exist")
            .join(commit)
            .join(filename)
            .exists()
    }

    /// Stores a repo file: the blob under `blobs/{etag}` and a relative symlink in the snapshot, or,
    /// without a usable ETag or where symlinks fail, a plain copy in the snapshot.
    pub(crate) fn store_file(
        &self,
        commit: &str,
        filename: &str,
        etag: Option<&str>,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        let link = self.snapshot_dir(commit).join(filename);
        if let Some(etag) = etag {
            let blob = self.dir.join("blobs").join(etag);
            if !blob.is_file() {
                atomic_write(&blob, bytes)?;
            }
            // snapshots/{commit}/{filename} -> ../../blobs/{etag}, one more `..` per folder in filename.
            let depth = 2 + filename.matches('/').count();
            let mut target = PathBuf::new();
            for _ in 0..depth {
                target.push("..");
            }
            target.push("blobs");
            target.push(etag);
            if atomic_symlink(&target, &link).is_ok() {
                return Ok(());
            }
        }
        atomic_write(&link, bytes)
    }

    /// Records that a branch or tag points to a commit (nothing to do when it is the commit).
    pub(crate) fn store_ref(&self, revision: &str, commit: &str) -> std::io::Result<()> {
        if revision == commit {
            return Ok(());
        }
        atomic_write(&self.dir.join("refs").join(revision), commit.as_bytes())
    }

    /// Records, as huggingface_hub does, that the Hub answered 404 for a file at a commit.
    pub(crate) fn store_missing(&self, commit: &str, filename: &str) -> std::io::Result<()> {
        atomic_write(&self.dir.join(".no_exist").join(commit).join(filename), b"")
    }

    /// Path of gpuplan's weights summary for a commit.
    pub(crate) fn weights_path(&self, commit: &str) -> PathBuf {
        self.dir
            .join("gpuplan")
            .join(format!("{commit}.weights.json"))
    }

    /// The cached weights summary of a commit, if gpuplan stored one that it can still read.
    pub(crate) fn load_weights(&self, commit: &str) -> Option<WeightsInfo> {
        let text = std::fs::read(self.weights_path(commit)).ok()?;
        let file: WeightsFile = serde_json::from_slice(&text).ok()?;
        (file.format == WEIGHTS_FORMAT && file.commit == commit).then_some(file.weights)
    }

    /// Stores the weights summary of a commit.
    pub(crate) fn store_weights(
        &self,
        repo_id: &str,
        commit: &str,
        weights: &WeightsInfo,
    ) -> std::io::Result<()> {
        let file = WeightsFile {
            format: WEIGHTS_FORMAT.to_string(),
            repo_id: repo_id.to_string(),
            commit: commit.to_string(),
            weights: weights.clone(),
        };
        let json = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
        atomic_write(&self.weights_path(commit), &json)
    }
}

/// `org/name` -> `models--org--name`, huggingface_hub's folder name for a model repository.
pub(crate) fn repo_folder_name(repo_id: &str) -> String {
    format!("models--{}", repo_id.replace('/', "--"))
}

/// A full git commit hash (40 hex digits; 64 for SHA-256 repositories).
pub(crate) fn is_commit_hash(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub(crate) fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let parent = path
        .parent()
        .ok_or_else(|| std::io::Error::other("cache path has no parent directory"))?;
    std::fs::create_dir_all(parent)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".gpuplan-")
        .suffix(".incomplete")
        .tempfile_in(parent)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Creates (or replaces) a symlink `link -> target` by linking a temporary name and renaming it.
fn atomic_symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let parent = link
        .parent()
        .ok_or_else(|| std::io::Error::other("cache path has no parent directory"))?;
    std::fs::create_dir_all(parent)?;
    let temp = parent.join(format!(
        ".gpuplan-{}-{}.link.incomplete",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(&temp);
    symlink(target, &temp)?;
    std::fs::rename(&temp, link).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(windows)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_file(target, link)
}

#[cfg(not(any(unix, windows)))]
fn symlink(_target: &Path, _link: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("symlinks unsupported"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_and_commit_hashes() {
        assert_eq!(
            repo_folder_name("meta-llama/Llama-3.1-8B"),
            "models--meta-llama--Llama-3.1-8B"
        );
        assert!(is_commit_hash(&"a".repeat(40)));
        assert!(!is_commit_hash("main"));
        assert!(!is_commit_hash(&"g".repeat(40)));
    }

    #[test]
    fn stored_file_is_a_relative_symlink_to_the_blob() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = RepoCache::new(dir.path(), "org/name");
        let commit = "c".repeat(40);
        cache
            .store_file(&commit, "sub/config.json", Some("etag1"), b"{}")
            .expect("store");
        let link = cache.snapshot_dir(&commit).join("sub/config.json");
        assert_eq!(std::fs::read(&link).expect("read"), b"{}");
        #[cfg(unix)]
        assert_eq!(
            std::fs::read_link(&link).expect("symlink"),
            Path::new("../../../blobs/etag1")
        );
        // Re-storing replaces the link without error.
        cache
            .store_file(&commit, "sub/config.json", Some("etag1"), b"{}")
            .expect("store again");
        // No temporary files are left behind.
        let leftovers: Vec<_> = std::fs::read_dir(cache.snapshot_dir(&commit).join("sub"))
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("incomplete"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
