#!/usr/bin/env bash
# CI stage "examples": the examples build against the INSTALLED package, as a user's project would.
#   1. configures and builds the library's install tree (a plain Release, no tests, no tools) in
#      build/ci/examples-lib, and installs it to a temporary prefix;
#   2. configures examples/ on its own (find_package(slotdiff) through CMAKE_PREFIX_PATH; the source
#      tree's include/ is never on the include path) in build/ci/examples, warnings as errors;
#   3. runs each example (seconds in all; the benchmark with small sizes; the demo with the bundled
#      transformer).
# Runs from the repository root; ccache through CCACHE_DIR (default ~/.cache/ccache). A few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache} CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=true
jobs=${CI_JOBS:-2}
lib=build/ci/examples-lib
out=build/ci/examples
prefix=$(mktemp -d "${TMPDIR:-/tmp}/slotdiff-prefix.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
cache=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)

echo "== examples: install the library to $prefix"
cmake -S . -B "$lib" -G Ninja "${cache[@]}" -DCMAKE_BUILD_TYPE=Release -DSLOTDIFF_BUILD_TESTS=OFF \
  -DSLOTDIFF_BUILD_EXAMPLES=OFF -DSLOTDIFF_BUILD_BENCHMARKS=OFF -DSLOTDIFF_BUILD_TOOLS=OFF >/dev/null
cmake --build "$lib" -j"$jobs"
cmake --install "$lib" --prefix "$prefix" >/dev/null

echo "== examples: build examples/ against the installed package (find_package(slotdiff))"
rm -rf "$out"
# (The demo also reads the bundled corpus and model: the library install above has no data/, which
# only an install with the command-line tool carries, so the data files come from this tree.)
cmake -S examples -B "$out" -G Ninja "${cache[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_COMPILE_WARNING_AS_ERROR=ON -DSLOTDIFF_DATA_ROOT="$root"
# The examples must see the installed headers only, never the source tree's.
if grep -q -- "-I$root/include" "$out/build.ninja"; then
  echo "examples: the source tree's include/ is on the include path" >&2
  exit 1
fi
cmake --build "$out" -j"$jobs"

echo "== examples: run them"
run() { echo "-- $*"; "$@"; }
run "$out/slotdiff_hello"
run "$out/slotdiff_own_scorer"
run "$out/slotdiff_own_metric"
run "$out/slotdiff_own_backend"
run "$out/slotdiff_own_slot_sequence" 1000 10000
run "$out/slotdiff_stop_policies"
run "$out/slotdiff_slots_demo"
echo "-- slotdiff_demo --reference (the README's demo, with the bundled transformer: no training)"
"$out/slotdiff_demo" --reference "the ship sailed to the sea" "river water" | tail -n 8
echo "== examples: ok"
