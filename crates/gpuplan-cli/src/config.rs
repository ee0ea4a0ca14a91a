//! The user config file: defaults for flags the user would otherwise repeat.
//!
//! Read from `--config FILE` / `$GPUPLAN_CONFIG` (which must exist), else from
//! `$XDG_CONFIG_HOME/gpuplan/config.toml` or `~/.config/gpuplan/config.toml` when that file
//! exists. Example:
//!
//! ```toml
//! gpus = ["h100_sxm", "h200"]     # GPUs to consider when a command is not given any
//! engine = "vllm"                 # serving engine profile
//! catalog = "~/gpuplan/gpus.toml" # GPU / price overrides (same as --catalog)
//!
//! [prices]                        # US dollars per GPU-hour, by GPU id, name or alias
//! h100_sxm = 2.10
//! "H200" = 3.00
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Environment variable naming the user config file.
pub const CONFIG_ENV: &str = "GPUPLAN_CONFIG";

/// The contents of the user config file. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// GPUs (ids, names or aliases) to consider when a command is given none.
    #[serde(default)]
    pub gpus: Vec<String>,
    /// Hourly prices, US dollars per GPU-hour, by GPU id, name or alias; they replace the
    /// catalog's prices.
    #[serde(default)]
    pub prices: BTreeMap<String, f64>,
    /// Serving engine profile (e.g. `vllm`, `sglang`, `trtllm`).
    #[serde(default)]
    pub engine: Option<String>,
    /// GPU / price overrides file, as `--catalog` (a leading `~/` is the home directory;
    /// a relative path is relative to the config file).
    #[serde(default)]
    pub catalog: Option<PathBuf>,
    /// The file this was read from (not a TOML field).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// A user config file that cannot be used. Names the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Not TOML, an unknown key or a wrong type (the message has the line and column).
    #[error("invalid config file {}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A price that is not a finite non-negative number.
    #[error("invalid config file {}: price for '{gpu}' must be a finite number >= 0 (got {value})", path.display())]
    Price {
        /// The file.
        path: PathBuf,
        /// The GPU the price is for.
        gpu: String,
        /// The value given.
        value: f64,
    },
}

impl UserConfig {
    /// Loads the config: `explicit` (from `--config` / `$GPUPLAN_CONFIG`) must exist; otherwise
    /// the default location is read when the file exists, and an empty config is returned when
    /// it does not.
    pub fn load(explicit: Option<&Path>) -> Result<UserConfig, ConfigError> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None => match default_path(
                std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from),
                std::env::var_os("HOME").map(PathBuf::from),
            ) {
                Some(path) if path.is_file() => path,
                _ => return Ok(UserConfig::default()),
            },
        };
        let text = gpuplan_catalog::read_user_file(&path, gpuplan_catalog::MAX_USER_FILE_BYTES)
            .map_err(|source| ConfigError::Io {
                path: path.clone(),
                source,
            })?;
        Self::parse(&text, &path)
    }

    /// Parses config text read from `path` (used in messages and to anchor relative paths).
    pub fn parse(text: &str, path: &Path) -> Result<UserConfig, ConfigError> {
        let mut config: UserConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        for (gpu, value) in &config.prices {
            if !(value.is_finite() && *value >= 0.0) {
                return Err(ConfigError::Price {
                    path: path.to_path_buf(),
                    gpu: gpu.clone(),
                    value: *value,
                });
            }
        }
        config.catalog = config
            .catalog
            .map(|c| anchor(&c, path, std::env::var_os("HOME").map(PathBuf::from)));
        config.path = Some(path.to_path_buf());
        Ok(config)
    }
}

/// `$XDG_CONFIG_HOME/gpuplan/config.toml` (absolute XDG only, as the spec says), else
/// `~/.config/gpuplan/config.toml`.
fn default_path(xdg_config_home: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
    let dir = xdg_config_home.filter(|p| p.is_absolute()).or_else(|| {
        home.filter(|h| !h.as_os_str().is_empty())
            .map(|h| h.join(".config"))
    })?;
    Some(dir.join("gpuplan").join("config.toml"))
}

/// Expands `~/` and makes a relative path relative to the config file's directory.
fn anchor(path: &Path, config_file: &Path, home: Option<PathBuf>) -> PathBuf {
    if let (Ok(rest), Some(home)) = (path.strip_prefix("~"), home) {
        return home.join(rest);
    }
    if path.is_relative() {
        if let Some(dir) = config_file.parent() {
            return dir.join(path);
        }
    }
    path.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_field() {
        let text = r#"
            gpus = ["h100_sxm", "H200"]
            engine = "vllm"
            catalog = "overrides.toml"
            [prices]
            h100_sxm = 2.1
        "#;
        let config = UserConfig::parse(text, Path::new("/etc/gp/config.toml")).expect("parse");
        assert_eq!(config.gpus, ["h100_sxm", "H200"]);
        assert_eq!(config.engine.as_deref(), Some("vllm"));
        assert_eq!(
            config.catalog,
            Some(PathBuf::from("/etc/gp/overrides.toml"))
        );
        assert_eq!(config.prices.get("h100_sxm"), Some(&2.1));
    }

    #[test]
    fn rejects_unknown_keys_and_bad_prices() {
        let err = UserConfig::parse("gpu = []", Path::new("c.toml")).expect_err("unknown key");
        assert!(err.to_string().contains("c.toml"), "{err}");
        let err = UserConfig::parse("[prices]\nh100 = -1.0", Path::new("c.toml"))
            .expect_err("negative price");
        assert!(err.to_string().contains("h100"), "{err}");
    }

    #[test]
    fn default_location() {
        assert_eq!(
            default_path(Some("/x".into()), Some("/home/u".into())),
            Some(PathBuf::from("/x/gpuplan/config.toml"))
        );
        assert_eq!(
            default_path(Some("rel".into()), Some("/home/u".into())),
            Some(PathBuf::from("/home/u/.config/gpuplan/config.toml"))
        );
        assert_eq!(default_path(None, None), None);
        assert_eq!(
            anchor(
                Path::new("~/g.toml"),
                Path::new("/c/config.toml"),
                Some("/h".into())
            ),
            PathBuf::from("/h/g.toml")
        );
    }
}
