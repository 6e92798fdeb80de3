// tests/scoring/toy_embedder.hpp: a small leave_one_out_embedder and a cosine distance for tests
// (the real embedders and metrics live in slotdiff/embed and slotdiff/metrics).
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "slotdiff/config.hpp"
#include "slotdiff/scoring/random.hpp"

namespace slotdiff::test {

/// Mean pooling of hash-random token vectors in [-1, 1)^d; the empty sequence embeds to zeros.
struct mean_embedder {
  std::size_t d = 16;
  std::uint64_t seed = 1;

  std::size_t dimension() const { return d; }
  float component(token_id t, std::size_t k) const {
    return 2.0f * detail::unit_float(detail::splitmix64(seed ^ detail::splitmix64(static_cast<std::uint64_t>(t) * 1315423911u + k))) - 1.0f;
  }
  void embed(std::span<const token_id> tokens, std::span<float> out) const {
    for (std::size_t k = 0; k < d; ++k) {
      float s = 0;
      for (token_id t : tokens) s += component(t, k);
      out[k] = tokens.empty() ? 0.0f : s / static_cast<float>(tokens.size());
    }
  }
  void embed_leave_one_out(std::span<const token_id> tokens, std::span<float> out) const {
    const std::size_t n = tokens.size();
    std::vector<float> sum(d, 0.0f);
    for (token_id t : tokens)
      for (std::size_t k = 0; k < d; ++k) sum[k] += component(t, k);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t k = 0; k < d; ++k)
        out[i * d + k] = n == 1 ? 0.0f : (sum[k] - component(tokens[i], k)) / static_cast<float>(n - 1);
  }
};

/// 1 - cos(a, b); 1 when either vector is zero.
struct cosine_distance {
  float operator()(std::span<const float> a, std::span<const float> b) const {
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      ab += double(a[i]) * b[i];
      aa += double(a[i]) * a[i];
      bb += double(b[i]) * b[i];
    }
    if (aa == 0 || bb == 0) return 1.0f;
    return static_cast<float>(1.0 - ab / std::sqrt(aa * bb));
  }
};

}  // namespace slotdiff::test
