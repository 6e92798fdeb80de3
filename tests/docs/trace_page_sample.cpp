// Writes a trace page of the notes' sentence, noised by a fixed importance table and grown back by
// the oracle backend: the page tests/docs/trace_page_chromium.py opens in headless Chromium, with no
// corpus or model needed.   trace_page_sample OUT.html
#include <slotdiff/backends/oracle.hpp>
#include <slotdiff/denoise/denoise.hpp>
#include <slotdiff/io/trace_html.hpp>
#include <slotdiff/noise/noise.hpp>

#include <cstdio>
#include <fstream>
#include <vector>

using namespace slotdiff;

namespace {
// a quick brown fox jumps over the lazy dog: importance by hand (low goes first).
struct table {
  void score(std::span<const token_id> t, std::span<float> out) const {
    static constexpr float importance[] = {0, 0, 0, 0, 0.1f, 1.2f, 1.5f, 3.0f, 2.9f, 0.9f, 0.2f, 2.0f, 2.8f};
    for (std::size_t i = 0; i < t.size(); ++i) out[i] = importance[t[i]];
  }
};
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return std::fprintf(stderr, "usage: trace_page_sample OUT.html\n"), 2;
  const std::vector<std::string> words{"a", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"};
  const std::vector<token_id> ids{4, 5, 6, 7, 8, 9, 10, 11, 12};
  const auto tr = noise<side_layout>(ids, table{}, {.schedule = noise_schedule::per_step(2), .keep_keywords = 3});
  oracle_backend<side_layout> oracle(16, 3);
  oracle.add(tr);
  const std::vector<std::vector<token_id>> starts{tr.state(tr.steps())};
  const auto g = denoise(oracle, std::span<const std::vector<token_id>>(starts), stop::probability_below{0.5f},
                         {.fill = {.min_confidence = 0.5f, .gaps = gap_policy::independent}})[0];
  std::ofstream(argv[1]) << trace_html(make_noising_view(tr, words, table{}, "a fixed table"),
                                       make_denoising_view(g, words, "oracle"),
                                       {.title = "a quick brown fox jumps over the lazy dog", .caption = "sample"});
  return 0;
}
