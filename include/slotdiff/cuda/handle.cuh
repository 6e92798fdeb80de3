// slotdiff/cuda/handle.cuh: the definitions of cuda::reference_handle (handle.hpp). Include in
// exactly one .cu file of a program.
#pragma once

#include "slotdiff/cuda/handle.hpp"
#include "slotdiff/cuda/reference.cuh"

namespace slotdiff::cuda {

int visible_devices() noexcept { return device_count(); }

struct reference_handle::impl {
  gpu_reference_backend b;
};

reference_handle::reference_handle(const std::filesystem::path& path, handle_options opt)
    : p_(new impl{gpu_reference_backend(path, opt)}) {}
reference_handle::reference_handle(std::unique_ptr<impl> p) noexcept : p_(std::move(p)) {}
reference_handle reference_handle::load(const std::filesystem::path& path, const tokenizer& vocab, handle_options opt) {
  return reference_handle(std::unique_ptr<impl>(new impl{gpu_reference_backend::load(path, vocab, opt)}));
}
reference_handle::~reference_handle() = default;
reference_handle::reference_handle(reference_handle&&) noexcept = default;
reference_handle& reference_handle::operator=(reference_handle&&) noexcept = default;

std::size_t reference_handle::vocabulary_size() const noexcept { return p_->b.vocabulary_size(); }
token_id reference_handle::none_id() const noexcept { return p_->b.none_id(); }
std::size_t reference_handle::graphs() const noexcept { return p_->b.graphs(); }
std::size_t reference_handle::top_k(const ragged_batch& batch, std::size_t k, std::span<token_id> ids, std::span<float> logp) {
  return p_->b.top_k(batch, k, ids, logp);
}
std::size_t reference_handle::log_probs(const ragged_batch& batch, std::span<float> out) { return p_->b.log_probs(batch, out); }

}  // namespace slotdiff::cuda
