//! gpuplan-catalog: the data gpuplan ships inside its binary.

pub mod hardware;
pub mod models;

pub use models::{catalog_models, closest_models, find_model, CatalogModel};
