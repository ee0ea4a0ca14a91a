//! gpuplan-catalog: the data gpuplan ships inside its binary.
