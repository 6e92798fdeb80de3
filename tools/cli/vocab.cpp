// tools/cli/vocab.cpp: `slotdiff vocab`, a word vocabulary from text files.
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/text/tokenizer.hpp"

namespace slotdiff::cli {

int vocab_command(std::span<const std::string_view> args) {
  std::vector<std::string_view> inputs;
  std::string out;
  tokenizer::build_options opts;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw error("option " + std::string(a) + " needs a value");
      return std::string(args[++i]);
    };
    if (a == "-o" || a == "--out") out = value();
    else if (a == "--max-size") opts.max_size = std::stoull(value());
    else if (a == "--min-count") opts.min_count = std::stoull(value());
    else if (a == "-h" || a == "--help") {
      std::cout << "usage: slotdiff vocab [--max-size N (8192)] [--min-count C (1)] -o VOCAB FILE...|-\n"
                   "Builds the word vocabulary (ids 0-3: <pad> <unk> <root> <none>; then most frequent first).\n";
      return 0;
    } else if (a.starts_with("-") && a != "-") throw error("unknown option " + std::string(a));
    else inputs.push_back(a);
  }
  if (out.empty() || inputs.empty()) throw error("need -o VOCAB and at least one input (see --help)");
  std::vector<std::string> lines;
  for (auto in : inputs) {
    auto more = read_lines(in);
    lines.insert(lines.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  const auto tok = tokenizer::build(lines, opts);
  tok.save(out);
  std::cerr << "slotdiff vocab: " << tok.size() << " ids from " << lines.size() << " lines -> " << out << '\n';
  return 0;
}

}  // namespace slotdiff::cli
