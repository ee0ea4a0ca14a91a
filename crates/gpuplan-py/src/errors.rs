//! The Python exception classes and the one place every library error becomes one of them.
//!
//! The message is the error's `Display`, which is what the CLI prints after `error: `.

use gpuplan::core::memory::MemoryError;
use gpuplan::Error;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    gpuplan,
    GpuplanError,
    PyException,
    "Base class of every error gpuplan raises."
);
create_exception!(
    gpuplan,
    ModelNotFound,
    GpuplanError,
    "The model is not a local path, not in the embedded catalog, not cached and not on the Hub."
);
create_exception!(
    gpuplan,
    UnknownGpu,
    GpuplanError,
    "No GPU of the catalog matches the name; the message lists the closest ones."
);
create_exception!(
    gpuplan,
    InvalidConfiguration,
    GpuplanError,
    "A request value or parallel layout that cannot work (the CLI's usage errors)."
);
create_exception!(
    gpuplan,
    ModelConfigError,
    GpuplanError,
    "A config.json that cannot be turned into an architecture (names the file and field)."
);
create_exception!(
    gpuplan,
    HubError,
    GpuplanError,
    "The Hugging Face Hub could not be reached, refused access, or answered something unusable."
);
create_exception!(
    gpuplan,
    CatalogError,
    GpuplanError,
    "A GPU catalog, price or engine-profile file could not be read or is invalid."
);
create_exception!(
    gpuplan,
    DataFileError,
    GpuplanError,
    "A measurement file (validate / calibrate) could not be read or parsed."
);

/// The Python exception for a library error, with the CLI's message.
pub fn library_error(e: Error) -> PyErr {
    use gpuplan::ErrorKind as K;
    let message = e.to_string();
    match e.kind() {
        K::ModelNotFound => ModelNotFound::new_err(message),
        K::ModelConfig => ModelConfigError::new_err(message),
        K::Hub => HubError::new_err(message),
        K::UnknownGpu => UnknownGpu::new_err(message),
        K::Catalog => CatalogError::new_err(message),
        K::InvalidRequest => InvalidConfiguration::new_err(message),
        _ => GpuplanError::new_err(message),
    }
}

/// A memory-planning failure: an impossible layout or request value (`gpuplan memory`'s
/// message).
pub fn memory_error(e: MemoryError) -> PyErr {
    InvalidConfiguration::new_err(format!("cannot plan memory: {e}"))
}

/// A request value that cannot be used as given.
pub fn invalid(message: impl Into<String>) -> PyErr {
    InvalidConfiguration::new_err(message.into())
}

/// Registers the exception classes on the native module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("GpuplanError", py.get_type::<GpuplanError>())?;
    m.add("ModelNotFound", py.get_type::<ModelNotFound>())?;
    m.add("UnknownGpu", py.get_type::<UnknownGpu>())?;
    m.add(
        "InvalidConfiguration",
        py.get_type::<InvalidConfiguration>(),
    )?;
    m.add("ModelConfigError", py.get_type::<ModelConfigError>())?;
    m.add("HubError", py.get_type::<HubError>())?;
    m.add("CatalogError", py.get_type::<CatalogError>())?;
    m.add("DataFileError", py.get_type::<DataFileError>())?;
    Ok(())
}
