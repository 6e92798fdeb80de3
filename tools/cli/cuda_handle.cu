// The definitions of cuda::reference_handle for `slotdiff generate --backend cuda`.
#include "slotdiff/cuda/handle.cuh"
