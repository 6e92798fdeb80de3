// slotdiff/backends/reference/backend.hpp: the reference denoiser as a denoiser_backend (full
// log-probabilities and top-k per slot of side_layout), on the CPU.
//
//     const slotdiff::tokenizer vocab = slotdiff::tokenizer::load("data/wordnet/vocab.txt");
//     auto model = slotdiff::reference_backend::load("models/reference.safetensors", vocab, {.threads = 2});
//     slotdiff::denoise(model, ...);
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>

#include "slotdiff/backends/reference/model.hpp"
#include "slotdiff/concepts/denoiser_backend.hpp"

namespace slotdiff {

/// Satisfies full_distribution_backend and top_k_backend. Not for concurrent use (see
/// reference_model); build one per thread from the same shared weights.
class reference_backend {
public:
  using layout_type = side_layout;

  explicit reference_backend(std::shared_ptr<const reference_weights> weights, reference_options opt = {})
      : model_(std::move(weights), opt) {}

  /// Loads `path`, refusing weights trained with another vocabulary (reference_model_error naming
  /// both sizes or both fingerprints).
  static reference_backend load(const std::filesystem::path& path, const tokenizer& vocab, reference_options opt = {}) {
    return reference_backend(reference_weights::load(path, vocab), opt);
  }

  std::size_t vocabulary_size() const noexcept { return model_.config().vocabulary_size; }
  token_id none_id() const noexcept { return model_.config().none_id; }

  /// See full_distribution_backend. never_insert ids (pad, unk, root) get -inf.
  std::size_t log_probs(const ragged_batch& batch, std::span<float> out) { return model_.log_probs(batch, out); }
  /// See top_k_backend.
  std::size_t top_k(const ragged_batch& batch, std::size_t k, std::span<token_id> ids, std::span<float> logp) {
    return model_.top_k(batch, k, ids, logp);
  }

  reference_model& model() noexcept { return model_; }
  const reference_model& model() const noexcept { return model_; }

private:
  reference_model model_;
};

static_assert(full_distribution_backend<reference_backend> && top_k_backend<reference_backend>);

}  // namespace slotdiff
