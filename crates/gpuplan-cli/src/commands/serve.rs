//! `gpuplan serve`: runs the HTTP API and web UI ([`crate::serve`]) until the process is stopped.

use std::io::Write;

use crate::args::ServeArgs;
use crate::serve::{serve_listener, AppState};
use crate::Context;

/// Builds a multi-threaded runtime, binds `--addr`, prints the URL and serves until SIGTERM or
/// SIGINT, then finishes the requests in flight and returns (exit 0).
pub fn run(args: &ServeArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let state = AppState::from_context(ctx)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.addr))?;
        let addr = listener.local_addr()?;
        writeln!(
            out,
            "gpuplan serve: listening on http://{addr}/ (API: http://{addr}/api/openapi.json)"
        )?;
        out.flush()?;
        serve_listener(listener, state).await?;
        writeln!(out, "gpuplan serve: stopped")?;
        out.flush()?;
        Ok::<(), anyhow::Error>(())
    })?;
    // Searches still running were cancelled with their requests; do not wait on stragglers.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    Ok(())
}
