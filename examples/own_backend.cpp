// Your own backend in under 60 lines: a lookup table P(word | the words left and right of the
// slot), written by hand. A backend names its slot layout, vocabulary size and "insert nothing" id,
// and for every slot of every sequence in a batch writes a log-distribution over the vocabulary
// (or, for a GPU model, only its top k). Here every slot the table does not know says "nothing".
#include <slotdiff/slotdiff.hpp>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

using namespace slotdiff;

struct lookup_backend {
  using layout_type = gap_layout;  // one slot per gap: before the first word, between words, after the last
  enum : token_id { none, edge, the, cat, sat, on, mat, count };
  std::map<std::pair<token_id, token_id>, std::pair<token_id, float>> table{  // (left, right) -> (word, p)
      {{edge, cat}, {the, 0.9f}}, {{cat, mat}, {sat, 0.8f}}, {{sat, mat}, {on, 0.7f}}, {{on, mat}, {the, 0.8f}}};

  std::size_t vocabulary_size() const { return count; }
  token_id none_id() const { return none; }
  std::size_t log_probs(const ragged_batch& batch, std::span<float> out) {
    std::size_t row = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const std::span<const token_id> seq = batch.sequence(i);
      for (std::size_t gap = 0; gap <= seq.size(); ++gap, ++row) {
        const token_id left = gap == 0 ? edge : seq[gap - 1], right = gap == seq.size() ? edge : seq[gap];
        std::vector<float> p(count, 0.0f);
        p[none] = 1.0f;
        if (auto it = table.find({left, right}); it != table.end()) p[it->second.first] = it->second.second, p[none] -= it->second.second;
        for (std::size_t v = 0; v < count; ++v) out[row * count + v] = std::log(p[v]);  // log 0 = -inf: never
      }
    }
    return row;
  }
};
static_assert(full_distribution_backend<lookup_backend>);

int main() {
  const char* words[] = {"<none>", "<edge>", "the", "cat", "sat", "on", "mat"};
  lookup_backend model;
  const std::vector<std::vector<token_id>> starts{{lookup_backend::cat, lookup_backend::mat}};
  // Greedy; stop when no slot offers a word above probability 0.5.
  const auto g = denoise(model, std::span<const std::vector<token_id>>(starts), stop::probability_below{0.5f})[0];
  std::fputs(underscores_diagram(g, [&](token_id t) { return std::string(words[t]); }).c_str(), stdout);
  return 0;
}
