#!/usr/bin/env bash
# .ci/python.sh: the Python bindings stage (docs/python.md). From the repository root:
#   1. configure a Release build with SLOTDIFF_BUILD_PYTHON=ON and the tests (warnings are errors);
#   2. build the extension (slotdiff._slotdiff) and the CLI (the pytest round trips run it);
#   3. run the pytest suite through CTest (python_bindings; SKIPPED with the reason when no
#      interpreter has pytest and numpy; the torch tests skip themselves without torch);
#   4. install the package with `pip install --no-build-isolation` into a scratch folder, reusing the
#      build of step 2 (no network), and import it from there.
# Environment: BUILD_DIR (default build/ci-python), CCACHE_DIR, JOBS (default 2).
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-build/ci-python}
JOBS=${JOBS:-2}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache} CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
run() { echo "+ $*"; "$@"; }

run cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLOTDIFF_BUILD_TESTS=ON \
  -DSLOTDIFF_BUILD_PYTHON=ON -DCMAKE_COMPILE_WARNING_AS_ERROR=ON \
  -DSLOTDIFF_PYTHON_EXECUTABLE="$PY" "${launcher[@]}"
run cmake --build "$BUILD_DIR" -j "$JOBS" --target slotdiff_python slotdiff_cli
run ctest --test-dir "$BUILD_DIR" -R '^python_(bindings|recipes)$' --output-on-failure

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
run env SLOTDIFF_BUILD_DIR="$PWD/$BUILD_DIR" CMAKE_BUILD_PARALLEL_LEVEL="$JOBS" \
  "$PY" -m pip install --no-build-isolation --no-deps --no-index --target "$scratch/site" ./python
run env PYTHONPATH="$scratch/site" "$PY" -c \
  'import slotdiff; v = slotdiff.Tokenizer.load(str(slotdiff.data_path("corpus", "vocab.txt"))); print("installed slotdiff:", slotdiff.__file__, len(v), "words")'
echo "python stage: ok"
