// slotdiff/eval/keywords.hpp: the keyword protocol of the keyword-to-sentence benchmark. The keywords
// of a sentence are the final state of one fixed noising trajectory, so they are what a model trained
// on such trajectories starts from.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "slotdiff/detail/hash.hpp"
#include "slotdiff/eval/eval_error.hpp"
#include "slotdiff/eval/kneser_ney.hpp"
#include "slotdiff/noise/noise.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "slotdiff/slots/layout.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff {

/// The fixed protocol. Defaults are the benchmark's; changing one makes a different benchmark.
struct keyword_protocol {
  float fraction = 0.5f;         ///< schedule: remove ceil(fraction · n_t) tokens a step (as many as feasible)
  std::size_t divisor = 5;       ///< keep round(n / divisor) tokens of an n-token sentence ...
  std::size_t min_keywords = 2;  ///< ... but at least this many ...
  std::size_t max_keywords = 4;  ///< ... and at most this many (and never more than n)

  /// How many keywords an n-token sentence keeps: min(n, clamp(round(n / divisor), min, max)).
  std::size_t keep(std::size_t n) const {
    if (divisor == 0 || min_keywords == 0 || min_keywords > max_keywords)
      throw eval_error("keyword_protocol: need divisor >= 1 and 1 <= min_keywords <= max_keywords, got divisor " +
                       std::to_string(divisor) + ", min " + std::to_string(min_keywords) + ", max " + std::to_string(max_keywords));
    const auto r = static_cast<std::size_t>(std::llround(static_cast<double>(n) / static_cast<double>(divisor)));
    return std::min(n, std::clamp(r, min_keywords, max_keywords));
  }
};

/// FNV-1a, 64 bits, of the bytes of `s`: the seed of a sentence's trajectory and the key of the
/// benchmark's subset, so both depend on the text alone, never on its position in a file.
constexpr std::uint64_t text_hash(std::string_view s) noexcept {
  return detail::fnv1a64(s);
}

/// Keywords by the protocol: the sentence's words (text_words), noised under side_layout with the IDF
/// scorer counted over every word of the training lines (one document per line; words never seen in
/// training share the largest IDF), exact feasible selection, the fraction schedule, seed
/// text_hash(sentence) for ties, until keep(n) tokens remain; the keywords are those tokens, in order.
///
///     keyword_extractor kw(train_lines);
///     kw.keywords("The old man and the sea.");   // e.g. {"old", "man", "sea"}
class keyword_extractor {
public:
  /// Throws: eval_error on invalid UTF-8 in a training line (naming it, 1-based).
  explicit keyword_extractor(std::span<const std::string> training_lines, keyword_protocol protocol = {})
      : protocol_(protocol) {
    for (std::size_t i = 0; i < training_lines.size(); ++i)
      if (const std::size_t bad = detail::find_invalid_utf8(training_lines[i]); bad != std::string_view::npos)
        throw eval_error("keyword_extractor: training line " + std::to_string(i + 1) + ": invalid UTF-8 at byte " +
                         std::to_string(bad));
    words_ = tokenizer::build(training_lines, {.max_size = std::size_t{1} << 31});
    unigram_model counts;
    for (const auto& line : training_lines) counts.observe(words_.encode(line));
    idf_ = idf_scorer(counts);
  }

  const keyword_protocol& protocol() const noexcept { return protocol_; }

  /// The keywords of `sentence` (lowercased words; empty for a sentence without words).
  /// Throws: eval_error on invalid UTF-8.
  std::vector<std::string> keywords(std::string_view sentence) const {
    std::vector<std::string> words = text_words(sentence, "keyword_extractor: the sentence");
    if (words.empty()) return words;
    std::vector<token_id> ids;
    ids.reserve(words.size());
    for (const auto& w : words) ids.push_back(words_.find(w).value_or(tokenizer::unk));
    noise_options o;
    o.schedule = noise_schedule::fraction(protocol_.fraction);
    o.selection = selection_method::exact;
    o.keep_keywords = protocol_.keep(words.size());
    o.seed = text_hash(sentence);
    const auto tr = noise<side_layout>(std::span<const token_id>(ids), idf_, o);
    const auto removed = tr.removed_at();
    std::vector<std::string> out;
    for (std::size_t i = 0; i < words.size(); ++i)
      if (removed[i] > tr.steps()) out.push_back(std::move(words[i]));
    return out;
  }

private:
  keyword_protocol protocol_;
  tokenizer words_;
  idf_scorer idf_{unigram_model{}};
};

}  // namespace slotdiff
