//! gpuplan: the library API.
//!
//! Front ends (the `gpuplan` CLI, the HTTP server, the Python package) call these functions;
//! the pure computation lives in `gpuplan-core`, the embedded data in `gpuplan-catalog`, and the
//! Hugging Face access in `gpuplan-hub`.
//!
//! - [`resolve_model`]: a model name, path or Hub id to an [`gpuplan_core::model::Architecture`],
//!   with the checkpoint's exact safetensors figures where they can be read.

mod error;
pub mod estimate;
pub mod limits;
mod resolve;
pub mod validate;
pub mod workload;

pub use error::{Error, ErrorKind, EXIT_NO_SOLUTION, EXIT_OK, EXIT_USAGE};
pub use resolve::{
    resolve_inline_config, resolve_model, source, ResolveOptions, ResolvedModel,
    MAX_INLINE_CONFIG_BYTES,
};

/// The crates this facade is built on, for front ends that need their types.
pub use gpuplan_catalog as catalog;
pub use gpuplan_core as core;
pub use gpuplan_hub as hub;

pub mod api;
pub mod launch;
pub mod recommend;

pub use api::{
    estimate_performance, estimate_performance_batch, PerformanceEstimate, PerformanceRequest,
};
pub use launch::{launch_command, render, EmitTarget, LaunchError, LaunchPlan};
pub use recommend::{
    physical_bound_violations, recommend, recommend_controlled, recommend_with, search_size,
    AllowQuant, Configuration, DisaggLayout, NearMiss, Outcome, RecommendRequest, Recommendation,
    SearchControl, SearchCounts, LARGE_SEARCH_CANDIDATES, SERVER_MAX_CANDIDATES,
};
pub use workload::{Dataset, RequestRate, Workload, WorkloadError};
