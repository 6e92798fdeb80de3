// The one nvcc-compiled file of the CUDA tests: the definitions of cuda::reference_handle.
#include "slotdiff/cuda/handle.cuh"
