//! The embedded engine profiles (`data/engine_profiles.toml`) and user profile files
//! (`gpuplan calibrate -o PROFILE.toml`, used with `--profile PROFILE.toml`).

use gpuplan_core::perf::Profiles;
use std::path::Path;
use std::sync::OnceLock;

/// The embedded `engine_profiles.toml` text.
pub const ENGINE_PROFILES_TOML: &str = include_str!("../data/engine_profiles.toml");

/// Error reading a profile file.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file cannot be read.
    #[error("cannot read profile file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid profile.
    #[error("invalid profile file {path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Parse a profile TOML text; `name` names it in errors.
pub fn parse_profiles(name: &str, text: &str) -> Result<Profiles, ProfileError> {
    let p: Profiles = toml::from_str(text).map_err(|e| ProfileError::Invalid {
        path: name.to_string(),
        message: e.to_string(),
    })?;
    p.validate().map_err(|message| ProfileError::Invalid {
        path: name.to_string(),
        message,
    })?;
    Ok(p)
}

/// The profiles shipped in the binary (a parse failure, caught by the unit test below, yields
/// empty profiles rather than a panic).
pub fn embedded_profiles() -> &'static Profiles {
    static P: OnceLock<Profiles> = OnceLock::new();
    P.get_or_init(|| {
        parse_profiles("engine_profiles.toml", ENGINE_PROFILES_TOML).unwrap_or(Profiles {
            archs: Vec::new(),
            engines: Vec::new(),
        })
    })
}

/// The embedded profiles with a user's profile file merged over them.
pub fn profiles_with_file(path: Option<&Path>) -> Result<Profiles, ProfileError> {
    let mut p = embedded_profiles().clone();
    if let Some(path) = path {
        let text = crate::read_user_file(path, crate::MAX_USER_FILE_BYTES).map_err(|source| {
            ProfileError::Io {
                path: path.display().to_string(),
                source,
            }
        })?;
        let user: Profiles = toml::from_str(&text).map_err(|e| ProfileError::Invalid {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        p.merge(user);
        p.validate().map_err(|message| ProfileError::Invalid {
            path: path.display().to_string(),
            message,
        })?;
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_profiles_parse_and_cover_every_engine() {
        let p = parse_profiles("embedded", ENGINE_PROFILES_TOML).expect("valid");
        for e in ["vllm", "sglang", "trtllm"] {
            assert!(p.engine(e).is_some(), "{e}");
        }
        assert!(p.arch("hopper").is_some());
        assert_eq!(
            p.arch("no-such-arch").map(|a| a.arch.as_str()),
            Some("default")
        );
        assert!(p.archs.iter().all(|a| !a.source.is_empty()));
        // Every architecture states its physical limits, with their source.
        for a in &p.archs {
            let l = a.limits.as_ref().expect("limits");
            assert!(!l.source.is_empty(), "{}", a.arch);
            assert!(l.max_gemm_bf16 >= a.gemm_bf16 * 0.9, "{}", a.arch);
        }
    }

    #[test]
    fn invalid_profile_is_an_error() {
        let bad = ENGINE_PROFILES_TOML.replace("gemm_bf16 = 0.78", "gemm_bf16 = 1.5");
        assert!(parse_profiles("x.toml", &bad).is_err());
        assert!(parse_profiles("x.toml", "nonsense = [").is_err());
    }
}
