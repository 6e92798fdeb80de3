// Your own importance scorer: anything with `void score(span<const token_id>, span<float>) const`
// (low scores are removed first). Here, two: a static one that protects long words (length is a
// cheap stand-in for content), and a dynamic one, rescored on every state x_t, that removes the
// word whose neighbours are most alike first. The noiser checks each step stays feasible for the
// layout, whatever the scores say.
#include <slotdiff/slotdiff.hpp>

#include <cstdio>
#include <string>
#include <vector>

using namespace slotdiff;

// Static: a word's importance is its length (scored once, on x_0).
struct word_length_scorer {
  const tokenizer* vocab;
  void score(std::span<const token_id> tokens, std::span<float> out) const {
    for (std::size_t i = 0; i < tokens.size(); ++i) out[i] = static_cast<float>(vocab->word(tokens[i]).size());
  }
};
static_assert(importance_scorer<word_length_scorer>);

// Dynamic: rescored on the current state. Ends of the sentence matter most; inside, a word is worth
// the distance of its id from its neighbours' (an arbitrary rule, to show the rescoring).
struct context_scorer {
  static constexpr bool dynamic = true;  // the noiser rescores after every step
  void score(std::span<const token_id> t, std::span<float> out) const {
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (i == 0 || i + 1 == t.size()) { out[i] = 1e6f; continue; }
      out[i] = static_cast<float>(std::abs(t[i] - t[i - 1]) + std::abs(t[i] - t[i + 1]));
    }
  }
};
static_assert(dynamic_importance_scorer<context_scorer>);

template <class Scorer>
void show(const char* name, const tokenizer& vocab, const std::vector<token_id>& ids, const Scorer& scorer) {
  noise_options how;
  how.schedule = noise_schedule::per_step(2);
  how.keep_keywords = 3;
  const auto tr = noise<side_layout>(ids, scorer, how);
  std::printf("%s:\n", name);
  for (step_index t = 0; t <= tr.steps(); ++t) std::printf("  x%d  %s\n", t, vocab.decode(tr.state(t)).c_str());
}

int main() {
  const std::string sentence = "the ancient mariner stops one of three wedding guests";
  const tokenizer vocab = tokenizer::build(std::vector<std::string>{sentence});
  const std::vector<token_id> ids = vocab.encode(sentence);
  show("word length (static)", vocab, ids, word_length_scorer{&vocab});
  show("neighbour contrast (dynamic)", vocab, ids, context_scorer{});
  return 0;
}
