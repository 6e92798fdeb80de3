// tools/cli/commands.hpp: the subcommands of the `slotdiff` program. Each lives in its own file and
// is listed once in main.cpp's table.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace slotdiff::cli {

/// A subcommand: its arguments after the subcommand name. Returns the process exit code.
using command_fn = int (*)(std::span<const std::string_view> args);

int noise_command(std::span<const std::string_view> args);
int vocab_command(std::span<const std::string_view> args);
int generate_command(std::span<const std::string_view> args);
int ngram_command(std::span<const std::string_view> args);
int eval_command(std::span<const std::string_view> args);
int embed_command(std::span<const std::string_view> args);

/// The bundled vocabulary, reference model and embedder under the data root (main.cpp: --data-dir DIR,
/// $SLOTDIFF_DATA_DIR, ../share/slotdiff next to the binary, the source tree). Throws slotdiff::error
/// when --data-dir or $SLOTDIFF_DATA_DIR names a folder without the data.
std::string default_vocab_path();
std::string default_model_path();
/// The vocabulary the bundled reference model was trained with (its own, until a model trained on
/// the fluent corpus ships), and the bundled training text (data/corpus/train.txt).
std::string default_model_vocab_path();
std::string default_corpus_path();
std::string default_embedder_path();

/// Reads all lines of a file, or of stdin for "-". Throws slotdiff::error naming the path.
std::vector<std::string> read_lines(std::string_view path);

/// An option's value as a count (digits only) or a number. Throws slotdiff::error naming the option
/// and the value.
std::size_t parse_count(std::string_view option, std::string_view value);
float parse_number(std::string_view option, std::string_view value);

}  // namespace slotdiff::cli
