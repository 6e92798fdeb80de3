#include "cuda_wrap.hpp"

#include "slotdiff/cuda/reference.cuh"

namespace cuda_test {

int device_count() { return slotdiff::cuda::device_count(); }

struct model::impl {
  slotdiff::cuda::reference_backend b;
};

namespace {
slotdiff::cuda::reference_options convert(options o) {
  return {.max_sequence_length = o.max_sequence_length, .logits_slab = o.logits_slab, .graphs = o.graphs};
}
}  // namespace

model::model(const std::string& path, options opt) : p_(new impl{slotdiff::cuda::reference_backend(path, convert(opt))}) {}
model::model(const std::string& path, const std::string& vocab_file, options opt)
    : p_(new impl{slotdiff::cuda::reference_backend::load(path, slotdiff::tokenizer::load(vocab_file), convert(opt))}) {}
model::~model() = default;
model::model(model&&) noexcept = default;
std::size_t model::vocabulary_size() const { return p_->b.vocabulary_size(); }
std::size_t model::top_k(const slotdiff::ragged_batch& batch, std::size_t k, std::span<slotdiff::token_id> ids, std::span<float> logp) {
  return p_->b.top_k(batch, k, ids, logp);
}
std::size_t model::log_probs(const slotdiff::ragged_batch& batch, std::span<float> out) { return p_->b.log_probs(batch, out); }
std::size_t model::graphs() const { return p_->b.graphs(); }

}  // namespace cuda_test
