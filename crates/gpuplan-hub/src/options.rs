//! Where and how to reach the Hub, following huggingface_hub's environment variables.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The public Hub.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// The branch used when no revision is given.
pub const DEFAULT_REVISION: &str = "main";

/// Per-request connect and read timeout when `HF_HUB_DOWNLOAD_TIMEOUT` is unset, as in huggingface_hub.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest one file (a config, an index, a shard header) may take to arrive, retries included,
/// when `GPUPLAN_HUB_DEADLINE` is unset.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

/// How to resolve a model on the Hub and where its cache lives.
#[derive(Clone)]
pub struct HubOptions {
    /// Base URL of the Hub, without a trailing slash (`HF_ENDPOINT`, default `https://huggingface.co`).
    pub endpoint: String,
    /// Access token sent as `Authorization: Bearer` to the endpoint's host only
    /// (`HF_TOKEN`, else the token file `HF_TOKEN_PATH` or `$HF_HOME/token`).
    pub token: Option<String>,
    /// The Hub cache directory, laid out as huggingface_hub lays it out
    /// (`HF_HUB_CACHE`, default `$HF_HOME/hub`, `HF_HOME` default `~/.cache/huggingface`).
    pub cache_dir: PathBuf,
    /// Never touch the network: use the cache or fail (`HF_HUB_OFFLINE=1`).
    pub offline: bool,
    /// Branch, tag or commit hash to resolve (default `main`).
    pub revision: String,
    /// Connect timeout, and the longest one HTTP exchange (head and body) may take
    /// (`HF_HUB_DOWNLOAD_TIMEOUT`, seconds).
    pub timeout: Duration,
    /// Longest one file may take to arrive, redirects and retries included
    /// (`GPUPLAN_HUB_DEADLINE`, seconds; default [`DEFAULT_DEADLINE`]): a server that trickles
    /// bytes is abandoned then.
    pub deadline: Duration,
    /// Show a progress bar on stderr while reading several shard headers (never when stderr is not a
    /// terminal; off when `HF_HUB_DISABLE_PROGRESS_BARS=1`).
    pub progress: bool,
}

impl std::fmt::Debug for HubOptions {
    // The token must never reach logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubOptions")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("cache_dir", &self.cache_dir)
            .field("offline", &self.offline)
            .field("revision", &self.revision)
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("progress", &self.progress)
            .finish()
    }
}

impl HubOptions {
    /// Options from the process environment; see [`HubOptions::from_env_map`].
    pub fn from_env() -> Self {
        Self::from_env_map(&|name| std::env::var(name).ok())
    }

    /// Options from an environment lookup, as huggingface_hub reads them:
    /// `HF_ENDPOINT`, `HF_TOKEN` (else the file `HF_TOKEN_PATH`, default `$HF_HOME/token`),
    /// `HF_HOME` (default `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`),
    /// `HF_HUB_CACHE` (or the older `HUGGINGFACE_HUB_CACHE`; default `$HF_HOME/hub`),
    /// `HF_HUB_OFFLINE`, `HF_HUB_DOWNLOAD_TIMEOUT`, `HF_HUB_DISABLE_PROGRESS_BARS`, and gpuplan's own `GPUPLAN_HUB_DEADLINE`.
    /// The token file is read from disk; everything else comes from `env`.
    pub fn from_env_map(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let home = var("HOME").or_else(|| var("USERPROFILE"));
        let expand = |value: String| -> PathBuf {
            match (value.strip_prefix("~/"), &home) {
                (Some(rest), Some(home)) => Path::new(home).join(rest),
                _ if value == "~" => home.clone().map(PathBuf::from).unwrap_or_default(),
                _ => PathBuf::from(value),
            }
        };

        let hf_home = var("HF_HOME").map(expand).unwrap_or_else(|| {
            let xdg_cache = var("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|| {
                home.as_deref()
                    .map(|h| Path::new(h).join(".cache"))
                    .unwrap_or_else(|| PathBuf::from(".cache"))
            });
            xdg_cache.join("huggingface")
        });
        let cache_dir = var("HF_HUB_CACHE")
            .or_else(|| var("HUGGINGFACE_HUB_CACHE"))
            .map(expand)
            .unwrap_or_else(|| hf_home.join("hub"));

        let token_path = var("HF_TOKEN_PATH")
            .map(expand)
            .unwrap_or_else(|| hf_home.join("token"));
        let token = var("HF_TOKEN")
            .or_else(|| std::fs::read_to_string(&token_path).ok())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());

        let endpoint = var("HF_ENDPOINT")
            .map(|e| e.trim().trim_end_matches('/').to_string())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        let timeout = var("HF_HUB_DOWNLOAD_TIMEOUT")
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|t| t.is_finite() && *t > 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(DEFAULT_TIMEOUT);
        let deadline = var("GPUPLAN_HUB_DEADLINE")
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|t| t.is_finite() && *t > 0.0 && *t < 1e6)
            .map(Duration::from_secs_f64)
            .unwrap_or(DEFAULT_DEADLINE);

        HubOptions {
            endpoint,
            token,
            cache_dir,
            offline: var("HF_HUB_OFFLINE").is_some_and(|v| is_true(&v)),
            revision: DEFAULT_REVISION.to_string(),
            timeout,
            deadline,
            progress: !var("HF_HUB_DISABLE_PROGRESS_BARS").is_some_and(|v| is_true(&v)),
        }
    }

    /// The same options for another revision.
    pub fn with_revision(mut self, revision: impl Into<String>) -> Self {
        self.revision = revision.into();
        self
    }
}

/// huggingface_hub's truthy values: `1`, `ON`, `YES`, `TRUE`, any case.
fn is_true(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_uppercase().as_str(),
        "1" | "ON" | "YES" | "TRUE"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn opts(vars: &[(&str, &str)]) -> HubOptions {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        HubOptions::from_env_map(&|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_follow_huggingface_hub() {
        let o = opts(&[("HOME", "/home/u")]);
        assert_eq!(o.endpoint, "https://huggingface.co");
        assert_eq!(o.cache_dir, PathBuf::from("/home/u/.cache/huggingface/hub"));
        assert_eq!(o.revision, "main");
        assert!(!o.offline && o.progress);
        assert_eq!(o.timeout, DEFAULT_TIMEOUT);

        let o = opts(&[("HOME", "/home/u"), ("XDG_CACHE_HOME", "/xdg")]);
        assert_eq!(o.cache_dir, PathBuf::from("/xdg/huggingface/hub"));
    }

    #[test]
    fn variables_override_defaults() {
        let o = opts(&[
            ("HOME", "/home/u"),
            ("HF_HOME", "~/hf"),
            ("HF_ENDPOINT", "http://mirror.local:8080/"),
            ("HF_TOKEN", " hf_abc \n"),
            ("HF_HUB_OFFLINE", "yes"),
            ("HF_HUB_DOWNLOAD_TIMEOUT", "2.5"),
            ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
        ]);
        assert_eq!(o.endpoint, "http://mirror.local:8080");
        assert_eq!(o.cache_dir, PathBuf::from("/home/u/hf/hub"));
        assert_eq!(o.token.as_deref(), Some("hf_abc"));
        assert!(o.offline && !o.progress);
        assert_eq!(o.timeout, Duration::from_millis(2500));
        assert!(!format!("{o:?}").contains("hf_abc"), "token redacted");

        let o = opts(&[("HF_HOME", "/hf"), ("HF_HUB_CACHE", "/cache")]);
        assert_eq!(o.cache_dir, PathBuf::from("/cache"));
        assert!(!opts(&[("HF_HUB_OFFLINE", "0")]).offline);
    }

    #[test]
    fn token_file_under_hf_home() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("token"), "hf_from_file\n").expect("write");
        let home = dir.path().to_string_lossy().to_string();
        let o = opts(&[("HF_HOME", &home)]);
        assert_eq!(o.token.as_deref(), Some("hf_from_file"));
        let o = opts(&[("HF_HOME", &home), ("HF_TOKEN", "hf_env")]);
        assert_eq!(o.token.as_deref(), Some("hf_env"), "HF_TOKEN wins");
    }
}
