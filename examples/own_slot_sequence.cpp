// Your own slot sequence, benchmarked against the four built-in ones. A slot_sequence is a readable
// sequence of token ids that also grows by one denoising step's batch of insertions and remembers
// the step each token was born at. Here the textbook one: two std::vectors and one
// std::vector::insert per insertion, applied right to left so earlier positions stay valid.
// The timing: one step of k = n/8 insertions at uniformly random slots into n tokens, median of 5.
//     own_slot_sequence [n ...]        (default: 1000 10000 100000)
#include <slotdiff/slotdiff.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

using namespace slotdiff;

template <class Layout>
class insert_slots {
public:
  using layout_type = Layout;
  explicit insert_slots(std::span<const token_id> tokens) : tokens_(tokens.begin(), tokens.end()), births_(tokens.size(), 0) {}

  std::size_t size() const { return tokens_.size(); }
  token_id token(std::size_t i) const { return tokens_[i]; }
  step_index birth(std::size_t i) const { return births_[i]; }
  step_index step() const { return step_; }
  std::size_t slot_count() const { return Layout::slot_count(tokens_.size()); }
  auto begin() const { return tokens_.begin(); }
  auto end() const { return tokens_.end(); }
  void copy_tokens(std::span<token_id> out) const { std::copy(tokens_.begin(), tokens_.end(), out.begin()); }
  void copy_births(std::span<step_index> out) const { std::copy(births_.begin(), births_.end(), out.begin()); }

  // All or nothing: check the whole batch first (slot range, one insertion per slot, token ids).
  void apply(insertion_batch batch) {
    std::vector<insertion> sorted(batch.begin(), batch.end());
    std::sort(sorted.begin(), sorted.end(), [](const insertion& a, const insertion& b) { return a.slot < b.slot; });
    for (std::size_t j = 0; j < sorted.size(); ++j) {
      if (sorted[j].slot >= slot_count()) throw slot_error("insert_slots: slot " + std::to_string(sorted[j].slot) + " out of range");
      if (j > 0 && sorted[j].slot == sorted[j - 1].slot) throw slot_error("insert_slots: slot " + std::to_string(sorted[j].slot) + " twice");
      if (sorted[j].token < 0) throw slot_error("insert_slots: negative token id " + std::to_string(sorted[j].token));
    }
    ++step_;
    const std::size_t n = tokens_.size();
    for (std::size_t j = sorted.size(); j-- > 0;) {  // right to left: the gaps of the old sequence stay put
      const auto at = static_cast<std::ptrdiff_t>(Layout::gap_of(sorted[j].slot, n));
      tokens_.insert(tokens_.begin() + at, sorted[j].token);
      births_.insert(births_.begin() + at, step_);
    }
  }

private:
  std::vector<token_id> tokens_;
  std::vector<step_index> births_;
  step_index step_ = 0;
};
static_assert(check_slot_sequence<insert_slots<side_layout>>());  // names a missing member, if any

template <class Seq>
double median_ns_per_insertion(const std::vector<token_id>& x, const std::vector<insertion>& batch, const std::vector<token_id>& want) {
  std::vector<double> ns;
  for (int rep = 0; rep < 5; ++rep) {
    Seq s{std::span<const token_id>(x)};
    const auto t0 = std::chrono::steady_clock::now();
    s.apply(batch);
    const auto t1 = std::chrono::steady_clock::now();
    std::vector<token_id> got(s.size());
    s.copy_tokens(got);
    if (got != want) throw error("a slot sequence disagrees with the others");
    ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(batch.size()));
  }
  std::nth_element(ns.begin(), ns.begin() + 2, ns.end());
  return ns[2];
}

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes{1000, 10000, 100000};
  if (argc > 1) sizes.assign(argc - 1, 0), std::transform(argv + 1, argv + argc, sizes.begin(), [](char* a) { return std::strtoull(a, nullptr, 10); });
  std::printf("%9s %8s | ns per inserted token: %-13s %-14s %-16s %-13s %s\n", "n", "k", "vector_slots", "devector_slots",
              "gap_buffer_slots", "gapped_slots", "insert_slots (ours)");
  std::mt19937_64 rng(7);
  for (std::size_t n : sizes) {
    std::vector<token_id> x(n);
    std::iota(x.begin(), x.end(), 100);
    std::vector<std::size_t> slots(side_layout::slot_count(n));
    std::iota(slots.begin(), slots.end(), std::size_t{0});
    std::shuffle(slots.begin(), slots.end(), rng);
    const std::size_t k = std::max<std::size_t>(1, n / 8);
    std::vector<insertion> batch;
    for (std::size_t j = 0; j < k; ++j) batch.push_back({slots[j], static_cast<token_id>(j)});
    std::sort(batch.begin(), batch.end(), [](const insertion& a, const insertion& b) { return a.slot < b.slot; });
    vector_slots<side_layout> reference{std::span<const token_id>(x)};
    reference.apply(batch);
    std::vector<token_id> want(reference.size());
    reference.copy_tokens(want);
    std::printf("%9zu %8zu | %22.2f %-1s %13.2f %16.2f %14.2f %13.2f\n", n, k,
                median_ns_per_insertion<vector_slots<side_layout>>(x, batch, want), "",
                median_ns_per_insertion<devector_slots<side_layout>>(x, batch, want),
                median_ns_per_insertion<gap_buffer_slots<side_layout>>(x, batch, want),
                median_ns_per_insertion<gapped_slots<side_layout>>(x, batch, want),
                median_ns_per_insertion<insert_slots<side_layout>>(x, batch, want));
  }
  return 0;
}
