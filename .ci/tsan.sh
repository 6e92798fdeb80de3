#!/usr/bin/env bash
# CI stage "tsan": ThreadSanitizer over the threaded tests (issue 15).
#
# Builds, in its own folder (build/tsan, -fsanitize=thread, CUDA off, no tools), only the test
# executable that holds slotdiff's threaded code paths, tests/denoise/test_threads.cpp:
#   - noise_corpus / noise_corpus_samples on 2 and 8 threads (and their determinism against 1 thread),
#   - the reference model's forward pass on 2 and 8 threads of its pool (bit-identical logits and
#     generations), when Eigen is found,
#   - const components shared by 6 threads: scorers (idf, weighted_mix, surprisal_scorer, which
#     serialises its backend calls), the n-gram backend's const probability(), metrics
#     (cosine, Jensen-Shannon, Mahalanobis),
#   - a thread the system refuses (slotdiff::error, the started threads joined),
# and runs it with halt_on_error, so any data race fails the stage. About 2-3 minutes on 2 cores
# (one translation unit plus the Catch runner; ccache makes reruns quick).
# Usage: .ci/tsan.sh   (from anywhere; CI_JOBS sets the build's parallelism, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache} CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
jobs=${CI_JOBS:-2}
dir=build/tsan
flags="-fsanitize=thread -fno-omit-frame-pointer"

echo "tsan: configuring $dir (RelWithDebInfo, $flags, CUDA off)"
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
  -DSLOTDIFF_BUILD_TESTS=ON -DSLOTDIFF_BUILD_TOOLS=OFF -DSLOTDIFF_BUILD_CUDA=OFF \
  -DSLOTDIFF_BUILD_EXAMPLES=OFF -DSLOTDIFF_BUILD_BENCHMARKS=OFF -DSLOTDIFF_BUILD_PYTHON=OFF \
  -DCMAKE_COMPILE_WARNING_AS_ERROR=ON \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }

echo "tsan: building test_threads with -j$jobs"
cmake --build "$dir" -j"$jobs" --target test_threads

echo "tsan: running test_threads under ThreadSanitizer"
# GCC 12's TSan cannot map its shadow memory under the larger ASLR of recent kernels
# (vm.mmap_rnd_bits > 28: "FATAL: ThreadSanitizer: unexpected memory mapping"); setarch -R runs the
# test without address randomisation when the kernel needs it.
run=("$dir/tests/denoise/test_threads")
if command -v setarch >/dev/null && [ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)" -gt 28 ]; then
  run=(setarch "$(uname -m)" -R "${run[@]}")
fi
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" "${run[@]}"
echo "tsan: no data race found"
