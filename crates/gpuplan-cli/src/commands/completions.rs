//! `gpuplan completions SHELL`: a shell completion script on standard output.

use std::io::Write;

use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs};

/// Writes the completion script for `args.shell`.
pub fn run(args: &CompletionsArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "gpuplan", out);
    Ok(())
}
