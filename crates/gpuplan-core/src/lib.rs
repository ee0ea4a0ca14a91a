//! gpuplan-core: the pure computation core of gpuplan.
//!
//! Data flows one way: `config.json` -> [`model::Architecture`] -> [`memory::MemoryPlan`] ->
//! [`perf::Estimate`] -> a ranked search over [`search`]. Nothing here does I/O, reads a clock or
//! holds global state: every function is a pure function of plain data, which makes the core fast,
//! testable with property tests and safe to run in parallel.

pub mod hardware;
pub mod limits;
pub mod memory;
pub mod model;
pub mod perf;
pub mod quant;
pub mod search;
