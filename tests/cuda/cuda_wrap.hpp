// A thin host-side face of slotdiff::cuda::reference_backend for the tests, so that the test files
// (Catch, Eigen) are compiled by the C++ compiler and only cuda_wrap.cu by nvcc.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "slotdiff/config.hpp"
#include "slotdiff/denoise/ragged_batch.hpp"

namespace cuda_test {

int device_count();

struct options {
  std::size_t max_sequence_length = 1024;
  std::size_t logits_slab = 4096;
  bool graphs = true;
};

class model {
public:
  explicit model(const std::string& path, options opt = {});
  /// With the vocabulary check of reference_backend::load.
  model(const std::string& path, const std::string& vocab_file, options opt = {});
  ~model();
  model(model&&) noexcept;
  std::size_t vocabulary_size() const;
  std::size_t top_k(const slotdiff::ragged_batch& batch, std::size_t k, std::span<slotdiff::token_id> ids, std::span<float> logp);
  std::size_t log_probs(const slotdiff::ragged_batch& batch, std::span<float> out);
  std::size_t graphs() const;

private:
  struct impl;
  std::unique_ptr<impl> p_;
};

}  // namespace cuda_test
