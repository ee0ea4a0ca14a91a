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

    /// A request field holds a value that cannot be used (out of range, a combination that makes
    /// no sense): exit code 2, HTTP 422 naming `field`, Python `InvalidConfiguration`.
    #[error("request: field `{field}`: {message}")]
    InvalidRequest {
        /// The request field to fix, named as in the JSON request (`input_len`, `max_gpus`, ...).
        field: String,
        /// What is wrong and, where it helps, the valid range.
        message: String,
    },

    /// The search is larger than the caller allows (see `SearchControl::max_candidates`).
    #[error(
        "the search is too large: more than {limit} candidates; narrow it (fewer GPUs, a \
         smaller max_gpus, fewer weight formats, KV dtypes or engines, one mode)"
    )]
    SearchTooLarge {
        /// The most candidates allowed.
        limit: usize,
    },

    /// The search was stopped before it finished (cancelled, or past its deadline).
    #[error(
        "the search stopped before it finished because {reason} ({evaluated} of {total} \
         candidates evaluated); narrow it (fewer GPUs, a smaller max_gpus) and retry"
    )]
    SearchStopped {
        /// Why it stopped.
        reason: &'static str,
        /// Candidates evaluated before it stopped.
        evaluated: usize,
        /// Candidates of the whole search.
        total: usize,
    },

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

/// What kind of failure an [`Error`] is: each front end (exit code, HTTP status, Python
/// exception class) maps kinds once, never by matching messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A request field holds an unusable value ([`Error::InvalidRequest`]).
    InvalidRequest,
    /// The model cannot be found: not a path, not in the catalog, not on the Hub, or offline and
    /// not cached.
    ModelNotFound,
    /// The model's `config.json` (or checkpoint metadata) cannot be turned into an architecture.
    ModelConfig,
    /// A GPU name that matches nothing in the catalog.
    UnknownGpu,
    /// A GPU, price or profile catalog value or file that is invalid (including a GPU entry
    /// without the fact a computation needs).
    Catalog,
    /// The Hugging Face Hub could not be reached, refused access or answered unusably.
    Hub,
    /// A valid request that no configuration satisfies (exit code 1).
    NoSolution,
    /// The search would be larger than allowed ([`Error::SearchTooLarge`]): narrow the request.
    SearchTooLarge,
    /// The work was stopped before it finished (cancelled, or past its deadline).
    Stopped,
}

impl ErrorKind {
    /// The process exit code of this kind of failure: 1 for [`ErrorKind::NoSolution`], 2 for
    /// every other (usage and input errors, and environment failures the user fixes the same way).
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::NoSolution => EXIT_NO_SOLUTION,
            _ => EXIT_USAGE,
        }
    }
}

impl Error {
    /// An invalid request field.
    pub fn invalid_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidRequest {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The kind of failure, for the front ends' one mapping each.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidRequest { .. } => ErrorKind::InvalidRequest,
            Error::UnknownModel { .. } | Error::OfflineNotCached { .. } => ErrorKind::ModelNotFound,
            Error::Model(_) => ErrorKind::ModelConfig,
            Error::Hardware(HardwareError::UnknownGpu { .. }) => ErrorKind::UnknownGpu,
            Error::Hardware(_) | Error::HardwareCatalog(_) => ErrorKind::Catalog,
            Error::Hub(hub) => {
                use gpuplan_hub::HubErrorKind as K;
                if hub.is_not_found()
                    || hub.is_offline()
                    || matches!(
                        hub.kind(),
                        K::InvalidRepoId { .. } | K::NoLocalConfig { .. }
                    )
                {
                    ErrorKind::ModelNotFound
                } else if hub.is_malformed() {
                    ErrorKind::ModelConfig
                } else {
                    ErrorKind::Hub
                }
            }
            Error::NoSolution { .. } => ErrorKind::NoSolution,
            Error::SearchTooLarge { .. } => ErrorKind::SearchTooLarge,
            Error::SearchStopped { .. } => ErrorKind::Stopped,
            Error::Launch(_) => ErrorKind::InvalidRequest,
        }
    }

    /// The request field to blame, when one is: the field of an [`Error::InvalidRequest`].
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::InvalidRequest { field, .. } => Some(field),
            Error::Launch(_) => Some("emit"),
            _ => None,
        }
    }

    /// True when the user can fix the failure by changing the command line or an input file
    /// (a usage or input error), false for failures of the environment (network, I/O) and for
    /// [`Error::NoSolution`].
    pub fn is_usage(&self) -> bool {
        match self {
            Error::Model(_)
            | Error::InvalidRequest { .. }
            | Error::UnknownModel { .. }
            | Error::OfflineNotCached { .. }
            | Error::Hardware(_)
            | Error::SearchTooLarge { .. }
            | Error::Launch(_) => true,
            Error::SearchStopped { .. } => false,
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
        self.kind().exit_code()
    }
}
