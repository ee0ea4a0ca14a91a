//! gpuplan-catalog: the data gpuplan ships inside its binary.

pub mod datasets;
pub mod hardware;
pub mod memory;
pub mod models;
pub mod profiles;

pub use memory::embedded_memory_overheads;
pub use models::{catalog_models, closest_models, find_model, CatalogModel};

/// Largest user file read (catalog, profile and config TOML, measurement CSV), bytes.
pub const MAX_USER_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a user-named text file of at most `max_bytes`, only if it is a regular file: a device
/// (`/dev/zero`), FIFO or socket is refused before it is opened (opening a FIFO blocks), and a
/// larger file is refused instead of read. The errors are `InvalidInput` I/O errors that say
/// which.
pub fn read_user_file(path: &std::path::Path, max_bytes: u64) -> std::io::Result<String> {
    use std::io::Read;
    let invalid = |message: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, message);
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(invalid(
            "not a regular file (a directory, device, FIFO or socket)".into(),
        ));
    }
    let too_large = || invalid(format!("larger than {max_bytes} bytes"));
    if meta.len() > max_bytes {
        return Err(too_large());
    }
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(max_bytes + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > max_bytes {
        return Err(too_large());
    }
    Ok(text)
}
