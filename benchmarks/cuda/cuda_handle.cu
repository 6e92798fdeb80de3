// The definitions of cuda::reference_handle for bench_cuda.
#include "slotdiff/cuda/handle.cuh"
