// slotdiff/embed/reference_embedder.hpp: the reference denoiser's encoder as an embedder: the
// sentence vector is the mean of the final hidden states (after the final RMSNorm), so the
// embedding-shift scorer and the semantic budget can use the same model as the denoiser.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "slotdiff/backends/reference/model.hpp"
#include "slotdiff/concepts/embedder.hpp"
#include "slotdiff/error.hpp"

namespace slotdiff {

/// Satisfies token_embedder. An empty sequence is embedded as the hidden state of the lone ROOT
/// token. embed() is const for the concept but runs the forward pass on mutable scratch: do not call
/// one object from two threads at once.
class reference_embedder {
public:
  explicit reference_embedder(std::shared_ptr<const reference_weights> weights, reference_options opt = {})
      : model_(std::move(weights), opt) {}

  std::size_t dimension() const noexcept { return model_.config().d_model; }

  /// out (dimension() floats) = mean over tokens of the final hidden states.
  /// Throws: slotdiff::input_error if out has the wrong size or an id is outside the vocabulary.
  void embed(std::span<const token_id> tokens, std::span<float> out) const {
    check(out.size(), dimension(), "embed");
    const auto& h = run(tokens);
    Eigen::Map<reference_vector>(out.data(), static_cast<Eigen::Index>(dimension())) = h.colwise().mean();
  }

  /// out (tokens.size() x dimension(), row-major) = each token's final hidden state.
  void embed_tokens(std::span<const token_id> tokens, std::span<float> out) const {
    check(out.size(), tokens.size() * dimension(), "embed_tokens");
    if (tokens.empty()) return;
    const auto& h = run(tokens);
    Eigen::Map<reference_matrix>(out.data(), h.rows(), h.cols()) = h;
  }

  /// One sentence vector per sequence of `batch` (batch.size() x dimension(), row-major), in one pass.
  void embed_batch(const ragged_batch& batch, std::span<float> out) const {
    check(out.size(), batch.size() * dimension(), "embed_batch");
    const auto& h = model_.hidden(batch);
    std::size_t r = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto n = static_cast<Eigen::Index>(std::max<std::size_t>(batch.length(i), 1));
      Eigen::Map<reference_vector>(out.data() + i * dimension(), static_cast<Eigen::Index>(dimension())) =
          h.middleRows(static_cast<Eigen::Index>(r), n).colwise().mean();
      r += static_cast<std::size_t>(n);
    }
  }

  reference_model& model() const noexcept { return model_; }

private:
  static void check(std::size_t have, std::size_t need, const char* what) {
    if (have != need)
      throw input_error(std::string("reference_embedder::") + what + ": output holds " + std::to_string(have) + " floats, expected " +
                        std::to_string(need));
  }
  const reference_matrix& run(std::span<const token_id> tokens) const {
    const std::size_t offsets[2] = {0, tokens.size()};
    return model_.hidden(ragged_batch{tokens, offsets});
  }

  mutable reference_model model_;
};

static_assert(token_embedder<reference_embedder>);

}  // namespace slotdiff
