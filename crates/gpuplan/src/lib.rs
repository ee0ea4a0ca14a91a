//! gpuplan: the library API.
