// tools/cli/commands.hpp: the subcommands of the `slotdiff` program. Each lives in its own file and
// is listed once in main.cpp's table.
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace slotdiff::cli {

/// A subcommand: adds its options to `app` (bound to settings it owns; see options.hpp for the
/// checked parsers), checks their combination in a parse-complete callback, and returns what runs
/// it once the command line has parsed. The runner returns the exit code and throws on failure;
/// main.cpp reports every exception in one place and checks stdout afterwards.
using command_fn = std::function<int()> (*)(CLI::App& app);

std::function<int()> noise_command(CLI::App& app);
std::function<int()> vocab_command(CLI::App& app);
std::function<int()> generate_command(CLI::App& app);
std::function<int()> ngram_command(CLI::App& app);
std::function<int()> eval_command(CLI::App& app);
std::function<int()> embed_command(CLI::App& app);
std::function<int()> trace_command(CLI::App& app);

/// Runs the program on a command line (argv[0] is the program name): main() of tools/cli/main.cpp.
int run_program(int argc, const char* const* argv);

/// Parses and checks a command line as run_program does (every option's parser and every command's
/// combination checks), but prints and runs nothing: the entry point of fuzz/fuzz_cli_options.cpp.
/// Throws: CLI::ParseError (unknown option, missing value, ...) or option_error / slotdiff::error.
void check_command_line(int argc, const char* const* argv);

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

/// Where an output file may be written atomically (write_file_atomically: a temporary file beside
/// it, then renamed onto it): `path` itself when it is absent or a regular file, the file a symbolic
/// link leads to when that is a regular file outside /proc; nullopt for a device such as /dev/full,
/// a pipe, /dev/stdout or a folder, which the rename would replace (those are written in place).
std::optional<std::string> atomic_target(const std::string& path);

/// atomic_target(path) for the outputs the library's savers write (vocabulary, n-gram model,
/// embedder). Throws option_error naming `option` and `path` when there is none.
std::string check_output_file(std::string_view option, const std::string& path);

/// Throws slotdiff::error naming `what` (a path, or "stdout") when `out` has failed; flushes it first.
void check_written(std::ostream& out, std::string_view what);

}  // namespace slotdiff::cli
