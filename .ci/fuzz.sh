#!/usr/bin/env bash
# .ci/fuzz.sh: builds slotdiff's libFuzzer targets (fuzz/) with clang-14 and runs each one for a
# bounded time on a scratch copy of its seed corpus (docs/fuzzing.md).
#   .ci/fuzz.sh                      # every target, FUZZ_SECONDS (20) each
#   FUZZ_SECONDS=60 .ci/fuzz.sh fuzz_jsonl fuzz_ngram
# Environment: FUZZ_SECONDS (per target), FUZZ_BUILD_DIR (build/fuzz-ci), CCACHE_DIR, JOBS (2).
# Exits non-zero when a build fails or a target finds something; the reproducer is kept under
# $FUZZ_BUILD_DIR/findings/<target>/ and its path printed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-20}
build=${FUZZ_BUILD_DIR:-build/fuzz-ci}
jobs=${JOBS:-2}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache} CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true

for tool in clang++-14 cmake ninja; do
  command -v "$tool" >/dev/null || { echo "fuzz.sh: $tool not found (scripts/setup-deps --ci installs clang-14 and libclang-rt-14-dev)"; exit 2; }
done
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

echo "== fuzz.sh: configuring $build with clang++-14"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
  -DSLOTDIFF_BUILD_FUZZERS=ON -DSLOTDIFF_BUILD_TESTS=OFF -DSLOTDIFF_BUILD_TOOLS=OFF -DSLOTDIFF_BUILD_CUDA=OFF \
  "${launcher[@]}" >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
echo "== fuzz.sh: building (-j$jobs)"
cmake --build "$build" -j"$jobs" --target slotdiff_fuzzers

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in "$build"/fuzz/fuzz_*; do
    name=$(basename "$f")
    [ -x "$f" ] && [ "$name" != fuzz_make_seeds ] && targets+=("$name")
  done
fi

# fuzz_one TARGET: runs one fuzzer for $seconds; its summary (or its finding) goes to $build/TARGET.result
fuzz_one() {
  local t=$1 seeds=fuzz/corpus/${1#fuzz_} work=$build/work/$1 findings=$build/findings/$1 out=$build/$1.result
  rm -rf "$work" && mkdir -p "$work" "$findings"
  local dirs=("$work") dict=()
  if [ -d "$seeds" ]; then dirs+=("$seeds"); else echo "fuzz.sh: warning: no seed corpus $seeds"; fi
  [ -f "fuzz/${t#fuzz_}.dict" ] && dict=(-dict="fuzz/${t#fuzz_}.dict")
  # ASan/UBSan reports abort; a leak check would flag the parsers' intentional static tables, so off.
  if ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
       -print_final_stats=1 -artifact_prefix="$findings/" "${dict[@]}" "${dirs[@]}" \
       >"$build/$t.log" 2>&1; then
    { echo -n "$t: "; grep -E "^stat::number_of_executed_units|^Done" "$build/$t.log" | tr '\n' ' '; echo; } >"$out"
  else
    { echo "fuzz.sh: $t FOUND A PROBLEM; log $build/$t.log, reproducer(s):"
      ls -1 "$findings"/* 2>/dev/null || true
      tail -40 "$build/$t.log"; } >"$out"
    return 1
  fi
}

# The fuzzers run $jobs at a time (each is single-threaded), so CI spends seconds * targets / jobs.
echo "== fuzz.sh: ${#targets[@]} targets, ${seconds}s each, $jobs at a time"
failed=()
declare -A running=()
finish_one() {  # waits for one running fuzzer and records its result
  local pid
  wait -n -p pid "${!running[@]}" && true
  local rc=$?
  local t=${running[$pid]}
  unset "running[$pid]"
  cat "$build/$t.result"
  [ $rc -eq 0 ] || failed+=("$t")
}
for t in "${targets[@]}"; do
  while [ ${#running[@]} -ge "$jobs" ]; do finish_one; done
  fuzz_one "$t" &
  running[$!]=$t
done
while [ ${#running[@]} -gt 0 ]; do finish_one; done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: findings in: ${failed[*]} (reproduce: $build/fuzz/<target> <reproducer>)"
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets ran ${seconds}s each without findings"
