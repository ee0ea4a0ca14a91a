//! The `gpuplan` binary: parse, dispatch, report the error, exit with a deliberate code
//! (0 success, 1 no configuration satisfies the request, 2 usage or input error).

// The binary is where output is printed.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // clap prints help/version (exit 0) and usage errors (exit 2) itself.
    let cli = gpuplan_cli::args::Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = gpuplan_cli::run(&cli, &mut out).and_then(|()| Ok(out.flush()?));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if !gpuplan_cli::is_broken_pipe(&error) {
                eprintln!("error: {}", gpuplan_cli::error_report(&error));
            }
            ExitCode::from(gpuplan_cli::exit_code(&error))
        }
    }
}
