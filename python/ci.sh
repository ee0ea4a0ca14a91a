#!/usr/bin/env bash
# Python package CI: builds the gpuplan wheel (crates/gpuplan-py, PyO3 + maturin), installs it
# into a fresh virtual environment and runs the pytest suite in python/tests against it.
# Called by .ci/run; runs on its own too:  bash python/ci.sh   (from anywhere)
#
# Environment: PYTHON (interpreter for the venv, default python3), GPUPLAN_PY_VENV (venv path,
# default target/python-ci-venv), CARGO_TARGET_DIR (honoured), GPUPLAN_BIN (the gpuplan binary
# the CLI-vs-Python test runs; default: the debug build, built here), PYTEST_ADDOPTS.
set -euo pipefail

cd "$(dirname "$0")/.."
root="$PWD"

section() { printf '\n==> %s\n' "$*"; }

python="${PYTHON:-python3}"
venv="${GPUPLAN_PY_VENV:-target/python-ci-venv}"
wheels="target/wheels"
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac

section "python: fresh virtual environment ($venv)"
rm -rf "$venv"
"$python" -m venv "$venv"
py="$root/$venv/bin/python"
case "$venv" in /*) py="$venv/bin/python" ;; esac
"$py" --version
"$py" -m pip install --quiet --disable-pip-version-check "maturin>=1.5,<2" "pytest>=7"
# pandas is optional: without it the DataFrame tests are skipped (and the ImportError is tested).
if ! "$py" -m pip install --quiet --disable-pip-version-check pandas; then
    echo "pandas could not be installed: the tests that need it will be skipped"
fi

section "python: build the wheel (maturin, release)"
rm -f "$wheels"/gpuplan-*.whl
"$py" -m maturin build --release -m crates/gpuplan-py/Cargo.toml -o "$wheels" --interpreter "$py"

section "python: install the wheel"
wheel=$(ls -t "$wheels"/gpuplan-*.whl | head -n 1)
"$py" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"

section "python: the gpuplan binary for the CLI-vs-Python test"
if [ -z "${GPUPLAN_BIN:-}" ]; then
    cargo build -p gpuplan-cli
    export GPUPLAN_BIN="$target_dir/debug/gpuplan"
fi
echo "GPUPLAN_BIN=$GPUPLAN_BIN"

section "python: pytest python/tests"
# From the tests' directory with importlib mode, so that `import gpuplan` is the installed wheel,
# never the source tree.
set +e
(cd python/tests && "$py" -m pytest -ra -p no:cacheprovider --import-mode=importlib .)
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$status"
