// slotdiff/metrics/metrics.hpp: umbrella for the distance metrics (core tier: standard library only).
#pragma once

#include "slotdiff/metrics/batch.hpp"
#include "slotdiff/metrics/errors.hpp"
#include "slotdiff/metrics/half.hpp"
#include "slotdiff/metrics/kernels.hpp"
#include "slotdiff/metrics/mahalanobis.hpp"
#include "slotdiff/metrics/probability.hpp"
#include "slotdiff/metrics/transport.hpp"
#include "slotdiff/metrics/vector.hpp"
