//! The `gpuplan` command-line tool as a library: argument definitions, commands, rendering and the
//! HTTP server. `main.rs` only parses arguments, dispatches and maps errors to exit codes.

pub mod render;
