//! The one error type of the `gpuplan` library: every failure says what the user can do about it.

use gpuplan_catalog::hardware::HardwareCatalogError;
use gpuplan_core::hardware::HardwareError;
use gpuplan_core::model::ModelError;
use gpuplan_hub::HubError;

/// Process exit code for success.
pub const EXIT_OK: u8 = 0;
/// Process exit code when the request was valid but no configuration satisfies it.
pub const EXIT_NO_SOLUTION: u8 = 1;
/// Process exit code for a usage or input error (bad flag, unknown model, malformed file, ...).
pub const EXIT_USAGE: u8 = 2;

/// Everything that can go wrong in the library, by cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `config.json` that cannot be turned into an architecture (names the file and field).
    #[error(transparent)]
    Model(#[from] ModelError),

    /// Reading a model from a local path, the Hugging Face cache or the Hub failed.
    #[error(transparent)]
    Hub(#[from] HubError),

    /// The name is neither a local path, nor a catalog model, nor a Hugging Face repo id.
    #[error(
        "unknown model '{name}': not a local path, not in the embedded catalog and not a \
         Hugging Face repo id (org/name); closest catalog models: {}",
        suggestions.join(", ")
    )]
    UnknownModel {
        /// The name as the user gave it.
        name: String,
        /// The closest catalog ids, best first.
        suggestions: Vec<String>,
    },

    /// Offline, the repo id is neither in the embedded catalog nor in the Hugging Face cache.
    #[error(
        "{repo_id} is not in the embedded catalog and not in the Hugging Face cache; \
         run without --offline or pass a local config.json"
    )]
    OfflineNotCached {
        /// The repository, `org/name`.
        repo_id: String,
    },

    /// A GPU name that matches nothing, or an impossible hardware value.
    #[error(transparent)]
    Hardware(#[from] HardwareError),

    /// A GPU / price catalog file could not be read or is invalid.
    #[error(transparent)]
    HardwareCatalog(#[from] HardwareCatalogError),

    /// A launch command that cannot be rendered as asked (another engine than planned, a
    /// layout the target cannot express).
    #[error(transparent)]
    Launch(#[from] crate::launch::LaunchError),

    /// The request is valid but no configuration satisfies it (exit code 1).
    #[error("no configuration satisfies the request: {reason}")]
    NoSolution {
        /// Why, and what to relax.
        reason: String,
    },
}

impl Error {
    /// True when the user can fix the failure by changing the command line or an input file
    /// (a usage or input error), false for failures of the environment (network, I/O) and for
    /// [`Error::NoSolution`].
    pub fn is_usage(&self) -> bool {
        match self {
            Error::Model(_)
            | Error::UnknownModel { .. }
            | Error::OfflineNotCached { .. }
            | Error::Hardware(_)
            | Error::Launch(_) => true,
            Error::HardwareCatalog(e) => !matches!(e, HardwareCatalogError::Io { .. }),
            Error::Hub(e) => {
                e.is_not_found() || e.is_malformed() || e.is_offline() || e.is_gated() || {
                    use gpuplan_hub::HubErrorKind as K;
                    matches!(
                        e.kind(),
                        K::InvalidRepoId { .. }
                            | K::InvalidRevision { .. }
                            | K::NoLocalConfig { .. }
                    )
                }
            }
            Error::NoSolution { .. } => false,
        }
    }

    /// True when the model is not available offline (not in the catalog, not cached).
    pub fn is_offline(&self) -> bool {
        match self {
            Error::OfflineNotCached { .. } => true,
            Error::Hub(e) => e.is_offline(),
            _ => false,
        }
    }

    /// The process exit code for this error: [`EXIT_NO_SOLUTION`] (1) when no configuration
    /// satisfies a valid request, [`EXIT_USAGE`] (2) for every other failure (usage and input
    /// errors, and failures to reach the Hub or read a file, which the user fixes the same way:
    /// by changing the input or the environment).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::NoSolution { .. } => EXIT_NO_SOLUTION,
            _ => EXIT_USAGE,
        }
    }
}
