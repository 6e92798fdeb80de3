// slotdiff/backends/reference/reference.hpp: umbrella of the reference denoiser (CPU, Eigen):
// configuration, weights, forward pass, backend and embedder. Target slotdiff::eigen.
#pragma once

#include "slotdiff/backends/reference/backend.hpp"
#include "slotdiff/backends/reference/config.hpp"
#include "slotdiff/embed/reference_embedder.hpp"
#include "slotdiff/backends/reference/model.hpp"
#include "slotdiff/backends/reference/weights.hpp"
