//! The one error type of this crate: every failure says what the user can do about it.

use std::path::PathBuf;

/// An error from resolving a model: a boxed [`HubErrorKind`], so `Result<_, HubError>` stays small.
///
/// Use the predicates ([`HubError::is_offline`], [`HubError::is_gated`], ...) to branch on the kind,
/// or [`HubError::kind`] to match on it.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct HubError {
    kind: Box<HubErrorKind>,
}

/// What went wrong, with the facts the message needs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubErrorKind {
    /// The Hub answered 401 or 403: the repository is gated, private, or (without a token) absent.
    #[error(
        "gated or private model {repo_id}: accept its license on the Hub and set HF_TOKEN{hint}"
    )]
    Gated {
        /// The repository, `org/name`.
        repo_id: String,
        /// HTTP status the Hub answered (401 or 403).
        status: u16,
        /// Extra context, empty or starting with a space.
        hint: String,
    },

    /// The Hub answered 404 for the repository, the revision or a required file.
    #[error("no such model or revision on the Hub: {repo_id}@{revision}{hint}")]
    NotFound {
        /// The repository, `org/name`.
        repo_id: String,
        /// The branch, tag or commit asked for.
        revision: String,
        /// Extra context, empty or starting with a space.
        hint: String,
    },

    /// A connection could not be made, broke, or timed out.
    #[error("cannot reach the Hub at {endpoint}: {detail}; use --offline or a local path")]
    Unreachable {
        /// The Hub endpoint in use (`HF_ENDPOINT`).
        endpoint: String,
        /// What the HTTP client reported.
        detail: String,
    },

    /// Offline mode (`HF_HUB_OFFLINE=1` or `--offline`) and the model is not in the cache.
    #[error(
        "offline and not cached: {repo_id}@{revision} is not in the Hugging Face cache at {}; \
         run once online or pass a local path",
        cache_dir.display()
    )]
    OfflineNotCached {
        /// The repository, `org/name`.
        repo_id: String,
        /// The branch, tag or commit asked for.
        revision: String,
        /// The cache searched (`HF_HUB_CACHE`).
        cache_dir: PathBuf,
    },

    /// Any other HTTP status (429, 5xx, ...).
    #[error("the Hub answered HTTP {status} for {url}; try again later or use --offline")]
    HttpStatus {
        /// The URL requested.
        url: String,
        /// The HTTP status.
        status: u16,
    },

    /// The Hub (or a CDN) kept redirecting.
    #[error("too many redirects (more than {limit}) fetching {url}")]
    TooManyRedirects {
        /// The URL first requested.
        url: String,
        /// The redirect limit.
        limit: usize,
    },

    /// A file was fetched or read but its content is not what its format requires.
    #[error("malformed {file}: {detail}")]
    Malformed {
        /// The file (path, URL or repo file name).
        file: String,
        /// What is wrong with it.
        detail: String,
    },

    /// The input is neither an existing local path nor a Hub repo id.
    #[error("not a Hugging Face repo id (org/name): {input:?}")]
    InvalidRepoId {
        /// What the user gave.
        input: String,
    },

    /// The revision contains characters that cannot name a branch, tag or commit.
    #[error("invalid revision {revision:?}: expected a branch, tag or commit hash")]
    InvalidRevision {
        /// What the user gave.
        revision: String,
    },

    /// A local path has no `config.json`.
    #[error("no config.json at {}: pass a config.json file or a directory that contains one", path.display())]
    NoLocalConfig {
        /// The path given.
        path: PathBuf,
    },

    /// A local file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl HubError {
    /// The kind of failure, to match on.
    pub fn kind(&self) -> &HubErrorKind {
        &self.kind
    }

    /// Offline and not cached: the fix is to run once online or pass a local path.
    pub fn is_offline(&self) -> bool {
        matches!(*self.kind, HubErrorKind::OfflineNotCached { .. })
    }

    /// The Hub has no such repository, revision or required file.
    pub fn is_not_found(&self) -> bool {
        matches!(*self.kind, HubErrorKind::NotFound { .. })
    }

    /// The Hub refused access (401/403): gated or private; the fix is HF_TOKEN.
    pub fn is_gated(&self) -> bool {
        matches!(*self.kind, HubErrorKind::Gated { .. })
    }

    /// The Hub could not be reached (refused, DNS, timeout, broken connection).
    pub fn is_unreachable(&self) -> bool {
        matches!(*self.kind, HubErrorKind::Unreachable { .. })
    }

    /// A file's content (JSON, safetensors header) is malformed.
    pub fn is_malformed(&self) -> bool {
        matches!(*self.kind, HubErrorKind::Malformed { .. })
    }

    pub(crate) fn malformed(file: impl Into<String>, detail: impl Into<String>) -> Self {
        HubErrorKind::Malformed {
            file: file.into(),
            detail: detail.into(),
        }
        .into()
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        HubErrorKind::Io {
            path: path.into(),
            source,
        }
        .into()
    }

    /// The same error with a malformed-file name replaced (parsers report a generic name).
    pub(crate) fn with_file(self, file: &str) -> Self {
        match *self.kind {
            HubErrorKind::Malformed { detail, .. } => HubError::malformed(file, detail),
            other => other.into(),
        }
    }
}

impl From<HubErrorKind> for HubError {
    fn from(kind: HubErrorKind) -> Self {
        HubError {
            kind: Box::new(kind),
        }
    }
}
