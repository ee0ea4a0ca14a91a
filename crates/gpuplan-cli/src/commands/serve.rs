//! `gpuplan serve`: runs the HTTP API and web UI ([`crate::serve`]) until the process is stopped.

use std::io::Write;

use crate::args::ServeArgs;
use crate::serve::{serve_listener, AppState};
use crate::Context;

/// Builds a multi-threaded runtime, binds `--addr`, prints the URL and serves forever.
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
        Ok(())
    })
}
