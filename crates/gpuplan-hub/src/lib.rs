//! gpuplan-hub: where model configs come from.
