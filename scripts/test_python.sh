#!/usr/bin/env bash
# The Python package's tests: installs ggufkit from this clone into the venv (pip install .,
# an isolated build: pip fetches scikit-build-core and nanobind from PyPI, compiles the C++
# libraries into build/python, CUDA/tests/tools off) and runs python/tests with pytest.
# Fails when the build fails, when any test fails, and when pytest collects no tests.
#   PYTHON=/path/to/python scripts/test_python.sh     (default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-$PWD/.venv/bin/python}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-${GGUFKIT_JOBS:-$(nproc)}}"
"$python" -m pip install --disable-pip-version-check -q .
# Run from outside the source tree so `import ggufkit` is the installed package.
rc=0
(cd python/tests && "$python" -m pytest -q -p no:cacheprovider --rootdir=. .) || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "test_python: pytest collected no tests" >&2
  exit 1
fi
exit "$rc"
