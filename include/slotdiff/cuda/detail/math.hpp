// slotdiff/cuda/detail/math.hpp: the arithmetic of the CUDA kernels that is worth testing on its
// own, written once for the host and the device (plain C++ outside nvcc).
#pragma once

#include <cmath>
#include <cstring>

#include "slotdiff/config.hpp"

namespace slotdiff::cuda::detail {

/// GELU, tanh form (the reference model's activation): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
SLOTDIFF_HOST_DEVICE inline float gelu_tanh(float x) noexcept {
  const float k0 = 0.7978845608028654f, k1 = 0.044715f;
  return 0.5f * x * (1.0f + tanhf(k0 * (x + k1 * x * x * x)));
}

/// Online softmax over keys that arrive in tiles (one pass, Milakov & Gimelshein 2018): keeps the
/// running maximum m and the running sum l of exp(score - m). For each tile: `rescale(tile_max)`
/// moves m to max(m, tile_max) and returns the factor by which earlier sums and outputs must be
/// multiplied; the tile's weights are exp(score - m); `add` accumulates them into l.
struct online_softmax {
  float m = -INFINITY;
  float l = 0.0f;

  /// Requires: tile_max finite (every tile holds at least one real key).
  SLOTDIFF_HOST_DEVICE float rescale(float tile_max) noexcept {
    const float m_new = m > tile_max ? m : tile_max;
    const float factor = expf(m - m_new);  // exp(-inf) = 0 on the first tile
    l *= factor;
    m = m_new;
    return factor;
  }
  SLOTDIFF_HOST_DEVICE float weight(float score) const noexcept { return expf(score - m); }
  SLOTDIFF_HOST_DEVICE void add(float tile_weight_sum) noexcept { l += tile_weight_sum; }
};

/// "a is a better top-k candidate than b": larger value, ties to the smaller id (the CPU backend's
/// order). NaN marks a candidate already taken and is never better.
SLOTDIFF_HOST_DEVICE inline bool better_candidate(float va, int ia, float vb, int ib) noexcept {
  if (va != va) return false;
  if (vb != vb) return true;
  return va > vb || (va == vb && ia < ib);
}

/// The float's bits as an unsigned key that orders like the float: larger float, larger key (-inf
/// lowest; -0 just below +0). What the top-k's radix select counts on.
SLOTDIFF_HOST_DEVICE inline unsigned order_key(float f) noexcept {
#ifdef __CUDA_ARCH__
  const unsigned u = __float_as_uint(f);
#else
  unsigned u;
  std::memcpy(&u, &f, sizeof u);
#endif
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

}  // namespace slotdiff::cuda::detail
