//! HTTP to the Hub: repo files and byte ranges, with redirects followed by hand so that `Range`
//! survives a redirect and `Authorization` never leaves the endpoint's host.

use std::io::Read;
use std::time::{Duration, Instant};

use url::Url;

use crate::error::{HubError, HubErrorKind};
use crate::options::HubOptions;

/// Redirects followed per request before giving up.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// Largest JSON file fetched (configs, safetensors indexes), in bytes.
pub(crate) const MAX_JSON_BYTES: u64 = 64 * 1024 * 1024;

/// Retries of a request the Hub answered 429 or 5xx (502, 503, 504, 500), after the first try.
pub const MAX_RETRIES: u32 = 3;
/// Wait before the first retry when the Hub sends no `Retry-After`; doubled each retry.
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest wait honoured from a `Retry-After` header.
pub(crate) const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// A repo file fetched whole, with the cache metadata the Hub sent.
pub(crate) struct Download {
    pub(crate) body: Vec<u8>,
    /// `X-Repo-Commit`: the commit the revision resolved to.
    pub(crate) commit: Option<String>,
    /// `X-Linked-Etag` (LFS files) or `ETag`, quotes and `W/` stripped, when usable as a file name.
    pub(crate) etag: Option<String>,
}

/// Why a request did not produce a 2xx response.
enum Failure {
    Status {
        status: u16,
        /// The Hub's `X-Error-Code` (`RepoNotFound`, `RevisionNotFound`, `EntryNotFound`, `GatedRepo`).
        error_code: Option<String>,
        url: String,
        /// `Retry-After` in seconds, when sent.
        retry_after: Option<Duration>,
    },
    Transport(String),
    /// The per-file deadline passed.
    Deadline,
    TooManyRedirects,
}

/// A 2xx response and the metadata gathered along its redirect chain.
struct Answer {
    response: ureq::Response,
    commit: Option<String>,
    etag: Option<String>,
}

/// What a request is for, to word errors.
pub(crate) struct Target<'a> {
    pub(crate) repo_id: &'a str,
    pub(crate) revision: &'a str,
    pub(crate) filename: &'a str,
}

/// A client bound to one set of options.
pub(crate) struct HubClient<'a> {
    agent: ureq::Agent,
    opts: &'a HubOptions,
}

impl<'a> HubClient<'a> {
    pub(crate) fn new(opts: &'a HubOptions) -> Self {
        let agent = ureq::AgentBuilder::new()
            .redirects(0)
            .timeout_connect(opts.timeout)
            .timeout_read(opts.timeout)
            .timeout_write(opts.timeout)
            .user_agent(concat!("gpuplan/", env!("CARGO_PKG_VERSION")))
            .build();
        HubClient { agent, opts }
    }

    /// `{endpoint}/{repo_id}/resolve/{revision}/{filename}`, percent-encoded as huggingface_hub does.
    pub(crate) fn resolve_url(&self, target: &Target<'_>) -> String {
        format!(
            "{}/{}/resolve/{}/{}",
            self.opts.endpoint,
            target.repo_id,
            percent_encode(target.revision, false),
            percent_encode(target.filename, true)
        )
    }

    /// Fetches a whole (small) repo file. `Ok(None)` when the Hub answers 404.
    pub(crate) fn get_file(&self, target: &Target<'_>) -> Result<Option<Download>, HubError> {
        let url = self.resolve_url(target);
        let deadline = Instant::now() + self.opts.deadline;
        let answer = match self.send_with_retries(&url, None, deadline) {
            Ok(answer) => answer,
            Err(Failure::Status { status: 404, .. }) => return Ok(None),
            Err(failure) => return Err(self.failure_error(failure, target, &url)),
        };
        let mut body = Vec::new();
        answer
            .response
            .into_reader()
            .take(MAX_JSON_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| self.broken(target.filename, &e))?;
        if body.len() as u64 > MAX_JSON_BYTES {
            return Err(HubError::malformed(
                target.filename,
                format!("larger than {MAX_JSON_BYTES} bytes"),
            ));
        }
        Ok(Some(Download {
            body,
            commit: answer.commit,
            etag: answer.etag,
        }))
    }

    /// Fetches `len` bytes of a repo file from byte `start` with a `Range` request.
    /// `Ok(None)` when the Hub answers 404; a file shorter than the range is malformed.
    pub(crate) fn get_range(
        &self,
        target: &Target<'_>,
        start: u64,
        len: u64,
    ) -> Result<Option<Vec<u8>>, HubError> {
        let url = self.resolve_url(target);
        if len == 0 {
            return Ok(Some(Vec::new()));
        }
        let last = start.saturating_add(len - 1);
        let short = |got: usize| {
            HubError::malformed(
                target.filename,
                format!(
                    "file ends before its safetensors header does (asked for bytes {start}-{last}, got {got})"
                ),
            )
        };
        let deadline = Instant::now() + self.opts.deadline;
        let answer = match self.send_with_retries(&url, Some((start, last)), deadline) {
            Ok(answer) => answer,
            Err(Failure::Status { status: 404, .. }) => return Ok(None),
            Err(Failure::Status { status: 416, .. }) => return Err(short(0)),
            Err(failure) => return Err(self.failure_error(failure, target, &url)),
        };
        // A server that ignores Range answers 200 with the whole file: read only what is needed.
        let skip = if answer.response.status() == 206 {
            0
        } else {
            start
        };
        let mut body = Vec::new();
        answer
            .response
            .into_reader()
            .take(skip.saturating_add(len))
            .read_to_end(&mut body)
            .map_err(|e| self.broken(target.filename, &e))?;
        let skip = usize::try_from(skip).unwrap_or(usize::MAX);
        let got = body.len().saturating_sub(skip);
        if (got as u64) < len {
            return Err(short(got));
        }
        Ok(Some(body.split_off(skip)))
    }

    /// [`Self::send`], retried up to [`MAX_RETRIES`] times when the Hub answers 429 or a 5xx
    /// that says "try again" (500, 502, 503, 504): after its `Retry-After` (at most
    /// [`MAX_RETRY_WAIT`]) or an exponential backoff from [`FIRST_BACKOFF`], never past
    /// `deadline`.
    fn send_with_retries(
        &self,
        url: &str,
        range: Option<(u64, u64)>,
        deadline: Instant,
    ) -> Result<Answer, Failure> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0;
        loop {
            match self.send(url, range, deadline) {
                Err(Failure::Status {
                    status: status @ (429 | 500 | 502 | 503 | 504),
                    error_code,
                    url: failed_url,
                    retry_after,
                }) if attempt < MAX_RETRIES => {
                    let wait = retry_after.map_or(backoff, |w| w.min(MAX_RETRY_WAIT));
                    if Instant::now() + wait >= deadline {
                        return Err(Failure::Status {
                            status,
                            error_code,
                            url: failed_url,
                            retry_after,
                        });
                    }
                    std::thread::sleep(wait);
                    backoff *= 2;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Sends a GET, following up to [`MAX_REDIRECTS`] redirects: `Range` is kept on every hop,
    /// `Authorization` only while the hop has the first URL's scheme, host and port. Each hop,
    /// body included, must end within `HF_HUB_DOWNLOAD_TIMEOUT` and by `deadline`.
    fn send(
        &self,
        url: &str,
        range: Option<(u64, u64)>,
        deadline: Instant,
    ) -> Result<Answer, Failure> {
        let first =
            Url::parse(url).map_err(|e| Failure::Transport(format!("bad URL {url}: {e}")))?;
        let origin = origin_of(&first);
        let mut current = first;
        let mut commit = None;
        let mut etag = None;
        let mut linked_etag = None;
        for _ in 0..=MAX_REDIRECTS {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Failure::Deadline);
            }
            // ureq's overall timeout replaces its per-read one, so each exchange (head and
            // body) is bounded by the shorter of the two: a stalled server fails after
            // `HF_HUB_DOWNLOAD_TIMEOUT`, a trickling one at the per-file deadline at the latest.
            let mut request = self
                .agent
                .request_url("GET", &current)
                .timeout(left.min(self.opts.timeout));
            if let Some((start, last)) = range {
                request = request
                    .set("Range", &format!("bytes={start}-{last}"))
                    .set("Accept-Encoding", "identity");
            }
            if let Some(token) = &self.opts.token {
                if origin_of(&current) == origin {
                    request = request.set("Authorization", &format!("Bearer {token}"));
                }
            }
            let response = match request.call() {
                Ok(response) => response,
                Err(ureq::Error::Status(status, response)) => {
                    return Err(Failure::Status {
                        status,
                        error_code: response.header("X-Error-Code").map(str::to_string),
                        url: current.to_string(),
                        retry_after: response
                            .header("Retry-After")
                            .and_then(|v| v.trim().parse::<u64>().ok())
                            .map(Duration::from_secs),
                    })
                }
                Err(ureq::Error::Transport(_)) if Instant::now() >= deadline => {
                    return Err(Failure::Deadline)
                }
                Err(ureq::Error::Transport(transport)) => {
                    return Err(Failure::Transport(transport.to_string()))
                }
            };
            // The Hub's own hop carries the metadata; a CDN's ETag later on must not replace it.
            if commit.is_none() {
                commit = response
                    .header("X-Repo-Commit")
                    .map(|c| c.trim().to_string());
            }
            if linked_etag.is_none() {
                linked_etag = response.header("X-Linked-Etag").and_then(clean_etag);
            }
            if etag.is_none() {
                etag = response.header("ETag").and_then(clean_etag);
            }
            let status = response.status();
            if (200..300).contains(&status) {
                return Ok(Answer {
                    response,
                    commit,
                    etag: linked_etag.or(etag),
                });
            }
            let location = match (status, response.header("Location")) {
                (301 | 302 | 303 | 307 | 308, Some(location)) => location.to_string(),
                _ => {
                    return Err(Failure::Status {
                        status,
                        error_code: None,
                        url: current.to_string(),
                        retry_after: None,
                    })
                }
            };
            current = current.join(&location).map_err(|e| {
                Failure::Transport(format!("bad redirect from {current} to {location:?}: {e}"))
            })?;
        }
        Err(Failure::TooManyRedirects)
    }

    fn failure_error(&self, failure: Failure, target: &Target<'_>, url: &str) -> HubError {
        match failure {
            Failure::Status {
                status: status @ (401 | 403),
                error_code,
                ..
            } => {
                let hint = if self.opts.token.is_some() {
                    " (the token sent was refused)".to_string()
                } else if error_code.as_deref() == Some("RepoNotFound") {
                    " (or it does not exist: check the name)".to_string()
                } else {
                    String::new()
                };
                HubErrorKind::Gated {
                    repo_id: target.repo_id.to_string(),
                    status,
                    hint,
                }
                .into()
            }
            Failure::Status {
                status: 404,
                error_code,
                ..
            } => not_found(target, error_code.as_deref()),
            Failure::Status { status, url, .. } => HubErrorKind::HttpStatus { url, status }.into(),
            Failure::Transport(detail) => self.unreachable(detail),
            Failure::Deadline => self.unreachable(self.deadline_detail(target.filename)),
            Failure::TooManyRedirects => HubErrorKind::TooManyRedirects {
                url: url.to_string(),
                limit: MAX_REDIRECTS,
            }
            .into(),
        }
    }

    fn broken(&self, filename: &str, error: &std::io::Error) -> HubError {
        if error.kind() == std::io::ErrorKind::TimedOut {
            return self.unreachable(self.deadline_detail(filename));
        }
        self.unreachable(format!(
            "connection broke while reading {filename}: {error}"
        ))
    }

    fn deadline_detail(&self, filename: &str) -> String {
        format!(
            "gave up on {filename}: not received in time (each request is bounded by \
             HF_HUB_DOWNLOAD_TIMEOUT = {} s, each file by GPUPLAN_HUB_DEADLINE = {} s)",
            self.opts.timeout.as_secs_f64(),
            self.opts.deadline.as_secs_f64()
        )
    }

    fn unreachable(&self, detail: String) -> HubError {
        HubErrorKind::Unreachable {
            endpoint: self.opts.endpoint.clone(),
            detail,
        }
        .into()
    }
}

/// The 404 error for a target, worded by the Hub's `X-Error-Code` when it sent one.
pub(crate) fn not_found(target: &Target<'_>, error_code: Option<&str>) -> HubError {
    let hint = match error_code {
        Some("RepoNotFound") => " (no such repository)".to_string(),
        Some("RevisionNotFound") => " (no such branch, tag or commit)".to_string(),
        Some("EntryNotFound") => format!(" (the repository has no {})", target.filename),
        _ => String::new(),
    };
    HubErrorKind::NotFound {
        repo_id: target.repo_id.to_string(),
        revision: target.revision.to_string(),
        hint,
    }
    .into()
}

/// Scheme, host and port: requests to the same origin may carry the token.
fn origin_of(url: &Url) -> (String, Option<String>, Option<u16>) {
    (
        url.scheme().to_string(),
        url.host_str().map(str::to_ascii_lowercase),
        url.port_or_known_default(),
    )
}

/// An ETag as a blob file name: without `W/` and quotes, and only if it is a safe file name.
fn clean_etag(raw: &str) -> Option<String> {
    let etag = raw.trim();
    let etag = etag.strip_prefix("W/").unwrap_or(etag).trim_matches('"');
    let safe = !etag.is_empty()
        && etag.len() <= 128
        && !etag.starts_with('.')
        && etag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    safe.then(|| etag.to_string())
}

/// Percent-encodes all but unreserved characters (and `/` when `keep_slash`).
fn percent_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_cleaned() {
        assert_eq!(clean_etag("\"abc123\"").as_deref(), Some("abc123"));
        assert_eq!(clean_etag("W/\"a-b_c\"").as_deref(), Some("a-b_c"));
        assert_eq!(clean_etag("\"../x\""), None);
        assert_eq!(clean_etag("\"\""), None);
    }

    #[test]
    fn revisions_and_filenames_are_encoded() {
        assert_eq!(percent_encode("refs/pr/1", false), "refs%2Fpr%2F1");
        assert_eq!(percent_encode("a b/c.json", true), "a%20b/c.json");
    }
}
