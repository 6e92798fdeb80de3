// tools/cli/vocab.cpp: `slotdiff vocab`, a word vocabulary from text files.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "options.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff::cli {
namespace {

struct settings {
  std::vector<std::string> inputs;
  std::string out;
  tokenizer::build_options build;
};

int run(const settings& s) {
  const std::string out = check_output_file("--out", s.out);
  std::vector<std::string> lines;
  for (const auto& in : s.inputs) {
    auto more = read_lines(in);
    lines.insert(lines.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  const auto tok = tokenizer::build(lines, s.build);
  tok.save(out);
  std::cerr << "slotdiff vocab: " << tok.size() << " ids from " << lines.size() << " lines -> " << s.out << '\n';
  return 0;
}

}  // namespace

std::function<int()> vocab_command(CLI::App& app) {
  auto s = std::make_shared<settings>();
  app.description("Builds the word vocabulary (ids 0-3: <pad> <unk> <root> <none>; then the most frequent words first).");
  text_option(app, "-o,--out", s->out, "the vocabulary file to write")->required()->type_name("PATH");
  count_option(app, "--max-size", s->build.max_size, "at most N ids, the 4 special ones included", {.min = tokenizer::special_count});
  count_option(app, "--min-count", s->build.min_count, "leave out words seen fewer than N times");
  app.add_option_function<std::vector<std::string>>(
         "FILE", [s](const std::vector<std::string>& v) { for (const auto& f : v) s->inputs.push_back(parse_text("FILE", f)); },
         "text files, one sentence a line (- for stdin)")
      ->required()
      ->type_name("");
  return [s] { return run(*s); };
}

}  // namespace slotdiff::cli
