// Tests of slotdiff/io/atomic_file.hpp and of every saver that goes through it (vocabulary, unigram
// model, n-gram model, word vectors, SIF embedder): a write that fails or is interrupted never leaves a
// partial file under the final name, and never leaves its temporary behind when the process survives.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "slotdiff/backends/ngram.hpp"
#include "slotdiff/embed/sif_model.hpp"
#include "slotdiff/embed/word_vectors.hpp"
#include "slotdiff/io/atomic_file.hpp"
#include "slotdiff/scoring/unigram.hpp"
#include "slotdiff/slots/layout.hpp"
#include "slotdiff/text/tokenizer.hpp"

using namespace slotdiff;
namespace fs = std::filesystem;

namespace {

// A fresh empty folder for one test.
fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("slotdiff_atomic_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The names in `dir` (to check that no temporary is left).
std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("write_file_atomically: all or nothing under the final name") {
  const fs::path dir = fresh_dir("core");
  const fs::path target = dir / "out.txt";

  SECTION("a complete write replaces the old file and leaves no temporary") {
    write_file_atomically(target, [](std::ostream& o) { o << "old\n"; });
    write_file_atomically(target, [](std::ostream& o) { o << "new content\n"; });
    CHECK(slurp(target) == "new content\n");
    CHECK(names_in(dir) == std::vector<std::string>{"out.txt"});
  }
  SECTION("a writer that throws halfway: the old file stays, the exception passes unchanged") {
    write_file_atomically(target, [](std::ostream& o) { o << "old\n"; });
    CHECK_THROWS_WITH(write_file_atomically(target,
                                            [](std::ostream& o) {
                                              o << std::string(100000, 'x');
                                              throw std::runtime_error("simulated failure mid-write");
                                            }),
                      "simulated failure mid-write");
    CHECK(slurp(target) == "old\n");
    CHECK(names_in(dir) == std::vector<std::string>{"out.txt"});
  }
  SECTION("a stream that fails (as on a full disk): file_write_error, nothing under the final name") {
    CHECK_THROWS_AS(write_file_atomically(target,
                                          [](std::ostream& o) {
                                            o << "half";
                                            o.setstate(std::ios::badbit);
                                          }),
                    file_write_error);
    CHECK_FALSE(fs::exists(target));
    CHECK(names_in(dir).empty());
  }
  SECTION("a folder that does not exist: file_write_error naming the path") {
    CHECK_THROWS_WITH(write_file_atomically(dir / "missing" / "out.txt", [](std::ostream& o) { o << "x"; }),
                      Catch::Contains((dir / "missing" / "out.txt").string()));
  }
  SECTION("a final name that is a folder: refused before anything is written, the folder and its content stay") {
    fs::create_directories(target / "inside");
    CHECK_THROWS_WITH(write_file_atomically(target, [](std::ostream& o) { o << "x"; }), Catch::Contains("it is a folder"));
    CHECK(fs::is_directory(target / "inside"));
    CHECK(names_in(dir) == std::vector<std::string>{"out.txt"});
  }
  SECTION("a read-only folder (skipped as root, who may write anyway)") {
    if (::geteuid() != 0) {
      const fs::path ro = dir / "ro";
      fs::create_directories(ro);
      fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
      CHECK_THROWS_AS(write_file_atomically(ro / "out.txt", [](std::ostream& o) { o << "x"; }), file_write_error);
      fs::permissions(ro, fs::perms::owner_all);
      CHECK(names_in(ro).empty());
    }
  }
  SECTION("a process killed in the middle of a write leaves the old file whole") {
    write_file_atomically(target, [](std::ostream& o) { o << "old\n"; });
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      write_file_atomically(target, [](std::ostream& o) {
        o << std::string(1 << 20, 'y');
        o.flush();
        std::raise(SIGKILL);  // killed with a megabyte written to the temporary
      });
      ::_exit(0);  // not reached
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    CHECK(slurp(target) == "old\n");
    // The killed writer's temporary is the only other name, and says what it is.
    for (const auto& n : names_in(dir))
      if (n != "out.txt") CHECK(n.starts_with("out.txt.tmp."));
  }
  fs::remove_all(dir);
}

TEST_CASE("every saver writes atomically: a failed save leaves the final name as it was, no temporary") {
  const fs::path dir = fresh_dir("savers");
  const std::vector<std::string> lines{"the cat sat on the mat", "a dog"};
  const tokenizer vocab = tokenizer::build(lines);
  unigram_model uni;
  uni.observe(vocab.encode(lines[0]));
  const ngram_backend<side_layout> ngram(vocab.size(), tokenizer::none);
  const word_vectors vectors({"the", "cat"}, 2, {1, 2, 3, 4});
  const sif_model sif({"the", "cat"}, {0.5f, 0.5f}, 2, {1, 2, 3, 4}, {}, 1e-3);

  // Each saver: once into a folder that does not exist (its own error type, naming the path), once
  // onto a name that is a folder (the rename fails: the folder stays), once for real.
  auto check = [&](const std::string& name, auto save, auto load) {
    INFO(name);
    const fs::path missing = dir / "missing" / name;
    CHECK_THROWS_WITH(save(missing), Catch::Contains(missing.string()));
    const fs::path blocked = dir / (name + ".blocked");
    fs::create_directories(blocked / "keep");
    CHECK_THROWS_AS(save(blocked), error);
    CHECK(fs::is_directory(blocked / "keep"));
    const fs::path ok = dir / name;
    save(ok);
    CHECK_NOTHROW(load(ok));
    save(ok);  // replacing an existing file
    CHECK_NOTHROW(load(ok));
  };
  check("vocab.txt", [&](const fs::path& p) { vocab.save(p); }, [](const fs::path& p) { return tokenizer::load(p); });
  check("unigram.txt", [&](const fs::path& p) { uni.save(p); }, [](const fs::path& p) { return unigram_model::load(p); });
  check("model.ngram", [&](const fs::path& p) { ngram.save(p); },
        [](const fs::path& p) { return ngram_backend<side_layout>::load(p); });
  check("vectors.sdwv", [&](const fs::path& p) { vectors.save_binary(p); },
        [](const fs::path& p) { return word_vectors::load_binary(p); });
  check("embedder.sdsif", [&](const fs::path& p) { sif.save(p); }, [](const fs::path& p) { return sif_model::load(p); });

  std::vector<std::string> names = names_in(dir);
  for (const auto& n : names) CHECK(n.find(".tmp.") == std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("write_file_atomically: a FIFO is written in place, a link keeps pointing at its replaced file") {
  const fs::path d = fresh_dir("special");
  // A symbolic link to a regular file: the file is replaced, the link stays a link.
  const fs::path file = d / "real.txt", link = d / "link.txt";
  { std::ofstream(file) << "old"; }
  fs::create_symlink("real.txt", link);
  write_file_atomically(link, [](std::ostream& o) { o << "new"; });
  CHECK(fs::is_symlink(fs::symlink_status(link)));
  CHECK(slurp(file) == "new");
  CHECK(std::distance(fs::directory_iterator(d), fs::directory_iterator()) == 2);  // no temporary left

  // A FIFO (as /dev/stdout or a device would be): written through, never renamed over.
  const fs::path fifo = d / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // the reader: exits 0 when it read exactly "through the pipe"
    std::ifstream in(fifo);
    const std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ::_exit(got == "through the pipe" ? 0 : 1);
  }
  write_file_atomically(fifo, [](std::ostream& o) { o << "through the pipe"; });
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(fs::is_fifo(fs::status(fifo)));

  // A folder is refused by name.
  CHECK_THROWS_WITH(write_file_atomically(d, [](std::ostream& o) { o << "x"; }),
                    Catch::Contains("it is a folder"));
  fs::remove_all(d);
}
