// The slot-sequence demo: grow the notes' sentence back from its keywords, one batch of slot
// insertions per step, and show the slots of the side_layout layout at every step.
#include <slotdiff/slotdiff.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace {

const std::vector<std::string> words = {"a", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"};

template <slotdiff::slot_sequence Seq>
std::string with_slots(const Seq& seq, const std::vector<slotdiff::insertion>& next) {
  using layout = typename Seq::layout_type;
  auto filled = [&](std::size_t slot) {
    for (const auto& i : next)
      if (i.slot == slot) return "[" + words[static_cast<std::size_t>(i.token)] + "]";
    return std::string("_");
  };
  std::string line;
  std::size_t slot = 0;
  for (std::size_t t = 0; t <= seq.size(); ++t) {  // the slots of gap t, then token t
    for (; slot < layout::slot_count(seq.size()) && layout::gap_of(slot, seq.size()) == t; ++slot)
      line += filled(slot) + " ";
    if (t < seq.size()) line += words[static_cast<std::size_t>(seq.token(t))] + " ";
  }
  return line;
}

template <slotdiff::slot_sequence Seq>
std::vector<slotdiff::token_id> grow(const char* name, const std::vector<std::vector<slotdiff::insertion>>& steps) {
  enum : slotdiff::token_id { fox = 3, jumps = 4, dog = 8 };
  Seq seq{fox, jumps, dog};
  std::printf("%s, %s layout\n", name, std::string(Seq::layout_type::name).c_str());
  for (const auto& step : steps) {
    std::printf("  step %d: %s\n", seq.step() + 1, with_slots(seq, step).c_str());
    seq.apply(step);
  }
  std::string text, births;
  for (std::size_t i = 0; i < seq.size(); ++i) {
    text += words[static_cast<std::size_t>(seq.token(i))] + " ";
    births += std::to_string(seq.birth(i)) + " ";
  }
  std::printf("  result: %s\n  born at step: %s\n\n", text.c_str(), births.c_str());
  return {seq.begin(), seq.end()};
}

}  // namespace

int main() {
  using namespace slotdiff;
  enum : token_id { a, quick, brown, fox, jumps, over, the, lazy, dog };
  // The notes' trajectory read backwards: fox jumps dog -> ... -> a quick brown fox jumps over the lazy dog.
  // Slots refer to the sequence before each step: 2i is left of token i, 2i+1 right of it.
  const std::vector<std::vector<insertion>> steps = {
      {{0, brown}, {3, over}},  // [brown] fox jumps [over] dog
      {{0, quick}, {8, lazy}},  // [quick] brown fox jumps over [lazy] dog
      {{0, a}, {9, the}},       // [a] quick brown fox jumps over [the] lazy dog
  };
  std::puts("slotdiff: growing a sentence from its keywords by slot insertions\n");
  const auto v = grow<vector_slots<side_layout>>("vector_slots", steps);
  const auto g = grow<gapped_slots<side_layout>>("gapped_slots", steps);
  const auto b = grow<gap_buffer_slots<side_layout>>("gap_buffer_slots", steps);
  const auto d = grow<devector_slots<side_layout>>("devector_slots", steps);
  const bool same = v == g && v == b && v == d;
  std::printf("all four slot sequences agree: %s\n", same ? "yes" : "NO");

  // Bad input is refused with a message and leaves the sequence as it was.
  vector_slots<side_layout> seq{fox, dog};
  const std::vector<insertion> bad{{1, jumps}, {9, over}};
  try {
    seq.apply(bad);
  } catch (const slotdiff::error& e) {
    std::printf("refused: %s (length still %zu)\n", e.what(), seq.size());
  }
  return same ? 0 : 1;
}
