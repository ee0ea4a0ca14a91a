//! gpuplan-catalog: the data gpuplan ships inside its binary.

pub mod datasets;
pub mod hardware;
pub mod memory;
pub mod models;
pub mod profiles;

pub use memory::embedded_memory_overheads;
pub use models::{catalog_models, closest_models, find_model, CatalogModel};
