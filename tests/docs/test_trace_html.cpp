// The trace page (slotdiff/io/trace_html.hpp): its structure and content for random sentences
// noised by a scorer and grown back by the oracle backend, whose round trip pins every number the
// page must show (each word is re-inserted by the step mirroring the one that removed it, with
// probability 1); the scores the noiser saw, static and dynamic; escaping; errors.
#include <slotdiff/backends/oracle.hpp>
#include <slotdiff/denoise/denoise.hpp>
#include <slotdiff/io/trace_html.hpp>
#include <slotdiff/noise/noise.hpp>
#include <slotdiff/scoring/random.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "random.hpp"

using namespace slotdiff;

namespace {

constexpr token_id none = 3;
constexpr std::size_t vocab = 64;

// Static: a token's importance is its id.
struct by_id {
  void score(std::span<const token_id> t, std::span<float> out) const {
    for (std::size_t i = 0; i < t.size(); ++i) out[i] = static_cast<float>(t[i]);
  }
};
// Dynamic: a token's importance is its position in the current sequence (the left end goes first),
// so the scores of x_t differ from those of x_0.
struct by_position {
  static constexpr bool dynamic = true;
  void score(std::span<const token_id> t, std::span<float> out) const {
    for (std::size_t i = 0; i < t.size(); ++i) out[i] = static_cast<float>(i);
  }
};

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

// The markup of one diagram row.
std::string row(const std::string& page, const std::string& phase, std::size_t step) {
  const std::string open = "<div class=\"row\" data-phase=\"" + phase + "\" data-step=\"" + std::to_string(step) + "\">";
  const auto a = page.find(open);
  REQUIRE(a != std::string::npos);
  return page.substr(a, page.find("</div>", a) - a);
}

// The value of attribute `attr` on the `k`-th token span of a row.
std::string attribute(const std::string& r, std::size_t k, const std::string& attr) {
  std::size_t at = 0;
  for (std::size_t j = 0; j <= k; ++j) {
    at = r.find("<span class=\"tok", at + 1);
    REQUIRE(at != std::string::npos);
  }
  const std::string tag = r.substr(at, r.find('>', at) - at);
  const auto a = tag.find(" " + attr + "=\"");
  if (a == std::string::npos) return "(absent)";
  const auto b = a + attr.size() + 3;
  return tag.substr(b, tag.find('"', b) - b);
}

}  // namespace

TEST_CASE("trace page: the noising and the oracle's denoising of random sentences, row by row") {
  auto rng = test::seeded_rng(18);
  for (int round = 0; round < 40; ++round) {
    std::vector<token_id> x(1 + rng() % 14);
    for (auto& t : x) t = static_cast<token_id>(4 + rng() % (vocab - 4));
    const auto tr = noise<side_layout>(x, by_id{}, {.schedule = noise_schedule::per_step(1 + rng() % 3), .keep_keywords = rng() % 3});
    std::vector<std::string> words;
    for (token_id t : x) words.push_back("w" + std::to_string(t));
    oracle_backend<side_layout> oracle(vocab, none);
    oracle.add(tr);
    const std::vector<std::vector<token_id>> starts{tr.state(tr.steps())};
    const auto gens = denoise(oracle, std::span<const std::vector<token_id>>(starts), stop::probability_below{0.5f},
                              {.fill = {.min_confidence = 0.5f, .gaps = gap_policy::independent}});
    const generation& g = gens[0];
    REQUIRE(g.tokens == x);
    const std::string page = trace_html(make_noising_view(tr, words, by_id{}, "by id"),
                                        make_denoising_view(g, words, "oracle"), {.title = "round " + std::to_string(round), .caption = {}});
    const auto T = static_cast<std::size_t>(tr.steps());
    const std::size_t S = g.steps;
    INFO("round " << round << ", " << x.size() << " tokens, T " << T << ", S " << S);
    REQUIRE(S == T);

    // Self-contained: one inline script and style, nothing fetched.
    CHECK(page.starts_with("<!DOCTYPE html>"));
    CHECK(count(page, "<script>") == 1);
    CHECK(count(page, "<script") == 1);
    CHECK(count(page, "<style>") == 1);
    CHECK(count(page, "http:") == 0);
    CHECK(count(page, "https:") == 0);
    CHECK(count(page, " src=") == 0);
    CHECK(count(page, "<link") == 0);
    CHECK(count(page, "@import") == 0);
    CHECK(count(page, "url(") == 0);
    // The slider spans the whole story.
    CHECK(page.find("id=\"step\" min=\"0\" max=\"" + std::to_string(T + S) + "\"") != std::string::npos);
    CHECK(count(page, "data-phase=\"noise\"") == T + 1);
    CHECK(count(page, "data-phase=\"denoise\"") == S + 1);

    for (std::size_t t = 0; t <= T; ++t) {
      const std::string r = row(page, "noise", t);
      CHECK(count(r, "<span class=\"tok") == x.size());
      std::size_t gone = 0;
      for (std::size_t i = 0; i < x.size(); ++i) {
        const auto removed = static_cast<std::size_t>(tr.removed_at()[i]);
        gone += removed <= t;
        CHECK(attribute(r, i, "data-removed") == std::to_string(removed));
        // The score the noiser saw at step t + 1 while the word is there (by_id: the id).
        if (t < T) CHECK(attribute(r, i, "data-score") == (removed > t ? std::to_string(x[i]) : "n/a"));
      }
      CHECK(count(r, " gap\"") == gone);  // the underscores of the removed words
      CHECK(count(r, "\"tok kw\"") + count(r, "\"tok kw gap\"") == tr.length(T));
    }
    for (std::size_t s = 0; s <= S; ++s) {
      const std::string r = row(page, "denoise", s);
      CHECK(count(r, "<span class=\"tok") == x.size());
      for (std::size_t i = 0; i < x.size(); ++i) {
        const auto removed = static_cast<std::size_t>(tr.removed_at()[i]);
        // The oracle re-inserts at step T + 1 - r what noising removed at step r, with probability 1.
        const std::size_t born = removed == T + 1 ? 0 : T + 1 - removed;
        CHECK(attribute(r, i, "data-born") == std::to_string(born));
        CHECK(attribute(r, i, "data-p") == (born == 0 ? "(absent)" : "1"));
      }
    }
  }
}

TEST_CASE("trace page: a dynamic scorer's scores are those of each x_t, a static one's those of x_0") {
  const std::vector<token_id> x{10, 11, 12, 13, 14, 15};
  const auto tr = noise<side_layout>(x, by_position{}, {.schedule = noise_schedule::per_step(1), .keep_keywords = 2});
  REQUIRE(tr.steps() == 4);
  const auto dyn = noising_scores(tr, by_position{});
  const auto fixed = noising_scores(tr, by_id{});
  REQUIRE(dyn.size() == 4);
  for (std::size_t t = 0; t < 4; ++t) {
    std::size_t rank = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (tr.removed_at()[i] <= static_cast<step_index>(t)) {
        CHECK(std::isnan(dyn[t][i]));
        CHECK(std::isnan(fixed[t][i]));
        continue;
      }
      CHECK(dyn[t][i] == static_cast<float>(rank++));
      CHECK(fixed[t][i] == static_cast<float>(x[i]));
    }
  }
}

TEST_CASE("trace page: text is escaped, so a word cannot close the script or inject markup") {
  const trajectory<side_layout> tr({5, 6, 7}, {1, 2, 2}, 1);
  const std::vector<std::string> words{"</script><script>alert(1)</script>", "a&b", "\"q\""};
  generation g{.tokens = {5, 6, 7}, .births = {1, 0, 0}, .steps = 1, .hit_step_cap = false,
               .trace = {{.inserted = {{0, 5}}, .probability = {0.25f}}}};
  const std::string page =
      trace_html(make_noising_view(tr, words), make_denoising_view(g, words, "<b>"), {.title = "<i>t</i>", .caption = "c&c"});
  CHECK(count(page, "<script") == 1);
  CHECK(page.find("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(page.find("a&amp;b") != std::string::npos);
  CHECK(page.find("&quot;q&quot;") != std::string::npos);
  CHECK(page.find("<title>&lt;i&gt;t&lt;/i&gt;</title>") != std::string::npos);
  CHECK(page.find("c&amp;c") != std::string::npos);
  CHECK(page.find("model &lt;b&gt;") != std::string::npos);
  CHECK(page.find("data-p=\"0.25\"") != std::string::npos);
  // Underscores count characters, not bytes: a 3-letter word of 2-byte letters is 3 underscores.
  const std::vector<std::string> accented{"\xC3\xA9\xC3\xA9\xC3\xA9", "b", "c"};
  const std::string p2 = trace_html(make_noising_view(tr, accented), make_denoising_view(g, accented, ""));
  CHECK(row(p2, "noise", 1).find(">___<") != std::string::npos);
  CHECK(row(p2, "noise", 1).find(">____") == std::string::npos);
}

TEST_CASE("trace page: inconsistent views are errors that name what disagrees") {
  const trajectory<side_layout> tr({5, 6, 7}, {1, 2, 2}, 1);
  const std::vector<std::string> words{"a", "b", "c"};
  CHECK_THROWS_WITH(make_noising_view(tr, {"a", "b"}), Catch::Contains("2 words for a trajectory of 3"));
  generation g{.tokens = {5, 6, 7}, .births = {1, 0, 0}, .steps = 1, .hit_step_cap = false,
               .trace = {{.inserted = {{0, 9}}, .probability = {0.25f}}}};
  CHECK_THROWS_WITH(make_denoising_view(g, words, ""), Catch::Contains("inserted token 9 into slot 0"));
  g.trace[0].inserted.push_back({3, 7});
  g.trace[0].probability.push_back(0.5f);
  CHECK_THROWS_WITH(make_denoising_view(g, words, ""), Catch::Contains("step 1's trace inserts 2 words"));
  g.trace.clear();  // no trace: allowed, probabilities unknown
  const auto dv = make_denoising_view(g, words, "");
  CHECK(std::isnan(dv.probability[0]));
  auto nv = make_noising_view(tr, words);
  nv.removed_at[1] = 3;
  CHECK_THROWS_WITH(trace_html(nv, dv), Catch::Contains("noising word 1 removed at step 3, outside [1, 2]"));
  nv = make_noising_view(tr, words);
  nv.scores = {{1.0f}};
  CHECK_THROWS_WITH(trace_html(nv, dv), Catch::Contains("scores row 0 has 1 entries for 3 words"));
  auto bad = dv;
  bad.births[2] = 4;
  CHECK_THROWS_WITH(trace_html(make_noising_view(tr, words), bad), Catch::Contains("denoising word 2 born at step 4"));
  bad = dv;
  bad.slot.pop_back();
  CHECK_THROWS_WITH(trace_html(make_noising_view(tr, words), bad), Catch::Contains("3 denoising words but 3 births, 3 probabilities and 2 slots"));
}
