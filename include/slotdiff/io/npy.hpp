// slotdiff/io/npy.hpp: training shards as .npy files (through xtensor), ready for a PyTorch
// DataLoader: packed x_t token ids with offsets, per-slot target ids, step indices. The layout of a
// shard folder is documented in docs/formats.md; tools/read_shards.py reads one back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/io/atomic_file.hpp"
#include "slotdiff/noise/trajectory.hpp"

namespace slotdiff {

/// Collects trajectories and writes them as one shard folder:
///
///   trajectories (S of them, T_s steps each)      training examples (one per (s, t), t < T_s)
///   x0_tokens.npy    int32 [sum |x_0|]            inputs.npy          int32 [sum |x_{t+1}|]
///   x0_offsets.npy   int64 [S + 1]                input_offsets.npy   int64 [E + 1]
///   removed_at.npy   int32 [sum |x_0|]            targets.npy         int32 [sum slot_count(|x_{t+1}|)]
///   steps.npy        int32 [S]                    target_offsets.npy  int64 [E + 1]
///   sentence_ids.npy int64 [S]                    example_sentence.npy int64 [E]  (row in the left table)
///   shard.json       layout, counts, vocabulary   example_step.npy    int32 [E]  (t + 1: the input's step)
///
/// Example e asks: given x_{t+1} (inputs[input_offsets[e]:input_offsets[e+1]]), produce for each of
/// its slots the token targets[...] (the none id where nothing goes: targets_options::none_id, recorded
/// in shard.json; tokenizer::none by default).
template <slot_layout Layout>
class npy_shard_writer {
public:
  /// `vocabulary`: the id bound recorded in shard.json (and checked: every id must be below it).
  /// `targets`: how the per-slot targets are written (the vocabulary's none id).
  explicit npy_shard_writer(std::int64_t vocabulary, targets_options targets = {}) : vocabulary_(vocabulary), targets_opts_(targets) {
    x0_offsets_.push_back(0);
    input_offsets_.push_back(0);
    target_offsets_.push_back(0);
  }

  /// Throws: input_error naming the sentence if a token id is outside [0, vocabulary).
  void add(const trajectory<Layout>& tr, std::int64_t sentence_id) {
    for (std::size_t i = 0; i < tr.size(); ++i)
      if (tr.tokens()[i] >= vocabulary_)
        throw input_error("npy_shard_writer: sentence " + std::to_string(sentence_id) + " has token id " +
                          std::to_string(tr.tokens()[i]) + " at position " + std::to_string(i) +
                          ", outside the vocabulary of " + std::to_string(vocabulary_));
    const auto row = static_cast<std::int64_t>(steps_.size());
    x0_tokens_.insert(x0_tokens_.end(), tr.tokens().begin(), tr.tokens().end());
    removed_at_.insert(removed_at_.end(), tr.removed_at().begin(), tr.removed_at().end());
    x0_offsets_.push_back(static_cast<std::int64_t>(x0_tokens_.size()));
    steps_.push_back(tr.steps());
    sentence_ids_.push_back(sentence_id);
    for (step_index t = 0; t < tr.steps(); ++t) {
      tr.state_into(t + 1, inputs_);
      tr.targets_into(t, targets_, targets_opts_);
      input_offsets_.push_back(static_cast<std::int64_t>(inputs_.size()));
      target_offsets_.push_back(static_cast<std::int64_t>(targets_.size()));
      example_sentence_.push_back(row);
      example_step_.push_back(t + 1);
    }
  }

  std::size_t trajectories() const noexcept { return steps_.size(); }
  std::size_t examples() const noexcept { return example_step_.size(); }

  /// Writes the shard into `dir` (created if needed). Every file is written to a temporary name and
  /// renamed once complete (write_file_atomically), shard.json last, so a reader that finds
  /// shard.json finds a whole shard; a stale shard.json is removed first.
  /// Throws: file_write_error naming the file on any I/O failure.
  void write(const std::filesystem::path& dir) const {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw file_write_error("npy_shard_writer: cannot create " + dir.string() + ": " + ec.message());
    std::filesystem::remove(dir / "shard.json", ec);  // a stale manifest must not vouch for new files
    if (ec) throw file_write_error("npy_shard_writer: cannot remove the old " + (dir / "shard.json").string() + ": " + ec.message());
    dump(dir, "x0_tokens.npy", x0_tokens_);
    dump(dir, "x0_offsets.npy", x0_offsets_);
    dump(dir, "removed_at.npy", removed_at_);
    dump(dir, "steps.npy", steps_);
    dump(dir, "sentence_ids.npy", sentence_ids_);
    dump(dir, "inputs.npy", inputs_);
    dump(dir, "input_offsets.npy", input_offsets_);
    dump(dir, "targets.npy", targets_);
    dump(dir, "target_offsets.npy", target_offsets_);
    dump(dir, "example_sentence.npy", example_sentence_);
    dump(dir, "example_step.npy", example_step_);
    nlohmann::json meta{{"format", "slotdiff-shard 1"},
                        {"layout", std::string(Layout::name)},
                        {"vocabulary", vocabulary_},
                        {"none_id", static_cast<std::int64_t>(targets_opts_.none_id)},
                        {"trajectories", trajectories()},
                        {"examples", examples()},
                        {"tokens", x0_tokens_.size()}};
    write_atomically(dir / "shard.json", [&](std::ostream& f) { f << meta.dump(2) << '\n'; });
  }

private:
  template <class F>
  static void write_atomically(const std::filesystem::path& path, F&& body) {
    try {
      write_file_atomically(path, std::forward<F>(body));
    } catch (const file_write_error& e) {
      throw file_write_error(std::string("npy_shard_writer: ") + e.what());
    }
  }

  template <class T>
  static void dump(const std::filesystem::path& dir, const char* name, const std::vector<T>& v) {
    const auto view = xt::adapt(v.data(), v.size(), xt::no_ownership(), std::vector<std::size_t>{v.size()});
    const std::string bytes = xt::dump_npy(view);  // the public API; our own stream checks the writes
    write_atomically(dir / name, [&](std::ostream& f) { f.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
  }

  std::int64_t vocabulary_;
  targets_options targets_opts_;
  std::vector<token_id> x0_tokens_;
  std::vector<std::int64_t> x0_offsets_;
  std::vector<step_index> removed_at_;
  std::vector<step_index> steps_;
  std::vector<std::int64_t> sentence_ids_;
  std::vector<token_id> inputs_;
  std::vector<std::int64_t> input_offsets_;
  std::vector<token_id> targets_;
  std::vector<std::int64_t> target_offsets_;
  std::vector<std::int64_t> example_sentence_;
  std::vector<step_index> example_step_;
};

}  // namespace slotdiff
