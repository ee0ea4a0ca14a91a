//! Every failure of the HTTP API, and the one place ([`IntoResponse for ApiError`]) that turns
//! it into a status code and a JSON body `{"error": "...", "field": "...", "suggestions": [...]}`.
//!
//! Bad input is a 400 (the body is not JSON / not UTF-8) or a 422 (valid JSON that names an
//! unknown model or GPU, an impossible layout, a wrong type, an unknown field), with `field`
//! naming the request field to fix. A 5xx means the server or the Hugging Face Hub failed, never
//! the request.

use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gpuplan::estimate::DeploymentError;
use gpuplan_core::hardware::HardwareError;
use gpuplan_core::memory::{MemoryError, ParallelismError};
use serde::Serialize;

/// Longest `error` text of a response, characters (the rest is cut, saying how much).
pub const MAX_ERROR_MESSAGE_CHARS: usize = 1000;

/// A failed API request: the HTTP status and the JSON error body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status code (4xx for the client's mistakes, 5xx for the server's or the Hub's).
    pub status: StatusCode,
    /// What went wrong and what to do about it.
    pub message: String,
    /// The request field to fix, when one is to blame (`model`, `gpu`, `tp`, `body`, ...).
    pub field: Option<String>,
    /// Close valid values for an unknown name (catalog model ids, GPU ids), best first.
    pub suggestions: Vec<String>,
}

/// The JSON body of every error response.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    /// What went wrong.
    pub error: &'a str,
    /// The request field to fix, or `null`.
    pub field: Option<&'a str>,
    /// Close valid values for an unknown name; omitted when there are none.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub suggestions: &'a [String],
}

impl ApiError {
    /// A 422: the request is well-formed JSON but `field` holds a value that cannot be used.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: message.into(),
            field: Some(field.into()),
            suggestions: Vec::new(),
        }
    }

    /// A 400: the body cannot be read at all (not JSON, not UTF-8).
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            field: Some("body".into()),
            suggestions: Vec::new(),
        }
    }

    /// A 404 for a path the API does not have.
    pub fn not_found(path: &str) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: format!(
                "no such endpoint: {path}; see /api/openapi.json for the list of endpoints"
            ),
            field: None,
            suggestions: Vec::new(),
        }
    }

    /// A 405 for a known path called with the wrong method.
    pub fn method_not_allowed() -> Self {
        ApiError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            message: "method not allowed for this endpoint; see /api/openapi.json".into(),
            field: None,
            suggestions: Vec::new(),
        }
    }

    /// A 503 for a request that ran past the server's time limit.
    pub fn timeout() -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "the request took longer than the server's time limit; narrow the search \
                      (fewer GPUs, a smaller max_gpus) and retry"
                .into(),
            field: None,
            suggestions: Vec::new(),
        }
    }

    /// A 429: every slot for large searches is taken; the response carries `Retry-After`.
    pub fn busy(candidates: usize) -> Self {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: format!(
                "the server is busy with other large searches; this one ({candidates} \
                 candidates) can run when one ends: retry after {} s, or narrow it (fewer GPUs, \
                 a smaller max_gpus) to under {} candidates",
                super::BUSY_RETRY_AFTER_S,
                gpuplan::LARGE_SEARCH_CANDIDATES
            ),
            field: None,
            suggestions: Vec::new(),
        }
    }

    /// A 500: a bug or a broken server setup, never the request's fault.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
            field: None,
            suggestions: Vec::new(),
        }
    }

    /// Renames the blamed field (e.g. `gpu` to `gpus` for an endpoint that takes a list).
    pub fn rename_field(mut self, from: &str, to: &str) -> Self {
        if self.field.as_deref() == Some(from) {
            self.field = Some(to.to_string());
        }
        self
    }

    fn with_suggestions(mut self, suggestions: Vec<String>) -> Self {
        self.suggestions = suggestions;
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Bounded: serde's messages quote the offending value, which may be huge.
        let message = crate::bound_message(&self.message, MAX_ERROR_MESSAGE_CHARS);
        let field = self
            .field
            .as_deref()
            .map(|f| crate::bound_message(f, gpuplan_core::limits::QUOTE_CHARS));
        let body = ErrorBody {
            error: &message,
            field: field.as_deref(),
            suggestions: &self.suggestions,
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(super::BUSY_RETRY_AFTER_S),
            );
        }
        response
    }
}

/// Body read failures: too large (413), or the connection broke (400).
impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError {
                status,
                message: "request body too large (limit: 1 MiB, 10 MiB for /api/validate)".into(),
                field: Some("body".into()),
                suggestions: Vec::new(),
            }
        } else {
            ApiError::bad_request(format!("cannot read the request body: {rejection}"))
        }
    }
}

impl From<gpuplan::Error> for ApiError {
    fn from(error: gpuplan::Error) -> Self {
        use gpuplan::ErrorKind as K;
        let message = error.to_string();
        let kind = error.kind();
        let field = error.field().map(str::to_string);
        match error {
            gpuplan::Error::UnknownModel { suggestions, .. } => {
                return ApiError::invalid("model", message).with_suggestions(suggestions)
            }
            gpuplan::Error::Hardware(hardware) => return ApiError::from(hardware),
            gpuplan::Error::InvalidRequest { field, .. } => {
                return ApiError::invalid(field, message)
            }
            gpuplan::Error::Hub(hub) if hub.is_unreachable() => {
                return ApiError {
                    status: StatusCode::BAD_GATEWAY,
                    message,
                    field: Some("model".into()),
                    suggestions: Vec::new(),
                }
            }
            _ => {}
        }
        match kind {
            // Not found, malformed, gated: the model named in the request is the thing to change.
            K::ModelNotFound | K::ModelConfig | K::Hub => ApiError::invalid("model", message),
            K::NoSolution => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message,
                field: None,
                suggestions: Vec::new(),
            },
            K::Catalog => ApiError::internal(format!("server GPU catalog: {message}")),
            K::InvalidRequest | K::UnknownGpu => {
                ApiError::invalid(field.as_deref().unwrap_or("body"), message)
            }
            K::SearchTooLarge => ApiError::invalid("max_gpus", message),
            K::Stopped => ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message,
                field: None,
                suggestions: Vec::new(),
            },
            _ => ApiError::internal(message),
        }
    }
}

impl From<HardwareError> for ApiError {
    fn from(error: HardwareError) -> Self {
        let message = error.to_string();
        match error {
            HardwareError::UnknownGpu { suggestions, .. } => {
                ApiError::invalid("gpu", message).with_suggestions(suggestions)
            }
            _ => ApiError::invalid("gpu", message),
        }
    }
}

impl From<ParallelismError> for ApiError {
    fn from(error: ParallelismError) -> Self {
        // The library names the field to blame, once for every front end.
        ApiError::invalid(
            gpuplan::limits::parallelism_field(&error),
            error.to_string(),
        )
    }
}

impl From<MemoryError> for ApiError {
    fn from(error: MemoryError) -> Self {
        match error {
            MemoryError::Parallelism(p) => ApiError::from(p),
            MemoryError::InvalidRequest { field, .. } => {
                ApiError::invalid(field, error.to_string())
            }
            MemoryError::Version(_) => ApiError::invalid("engine", error.to_string()),
            MemoryError::Overheads(_) => ApiError::invalid("engine", error.to_string()),
        }
    }
}

impl From<DeploymentError> for ApiError {
    fn from(error: DeploymentError) -> Self {
        match error {
            DeploymentError::Memory(m) => ApiError::from(m),
            DeploymentError::DoesNotFit(_) => ApiError::invalid("num_gpus", error.to_string()),
            DeploymentError::NoProfile(_) => ApiError::invalid("engine", error.to_string()),
            DeploymentError::Estimate(_) => ApiError::invalid("body", error.to_string()),
            DeploymentError::Workload(ref w) => ApiError::invalid(&w.field, error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_gpu_names_the_field_and_suggests() {
        let error = ApiError::from(HardwareError::UnknownGpu {
            name: "h1000".into(),
            suggestions: vec!["h100_sxm (H100 SXM)".into()],
        });
        assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error.field.as_deref(), Some("gpu"));
        assert_eq!(error.suggestions.len(), 1);
        assert_eq!(
            error.rename_field("gpu", "gpus").field.as_deref(),
            Some("gpus")
        );
    }

    #[test]
    fn parallelism_errors_name_the_size() {
        let error = ApiError::from(ParallelismError::EpDense {
            ep: 2,
            model: "m".into(),
        });
        assert_eq!(error.field.as_deref(), Some("ep"));
    }
}
