//! Times the default 70B sweep as a whole process:
//! `cargo build --release -p gpuplan --example sweep && time target/release/examples/sweep`.
//! Prints the phase times to stderr.

// Reports what it measured on the console.
#![allow(clippy::print_stdout, clippy::print_stderr)]
use std::time::Instant;

fn main() {
    let start = Instant::now();
    let request = gpuplan::RecommendRequest::new("meta-llama/Llama-3.1-70B");
    let resolved = match gpuplan::resolve_model(&request.model, &request.resolve) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let resolved_at = start.elapsed();
    let hardware = gpuplan_catalog::hardware::embedded_hardware();
    let profiles = gpuplan_catalog::profiles::embedded_profiles();
    let loaded_at = start.elapsed();
    match gpuplan::recommend_with(&request, &resolved.arch, hardware, profiles) {
        Ok(rec) => print!("{}", rec.summary()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
    eprintln!(
        "resolve {:?}, catalogs {:?}, search {:?}",
        resolved_at,
        loaded_at - resolved_at,
        start.elapsed() - loaded_at
    );
}
