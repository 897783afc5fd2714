#!/usr/bin/env bash
# Creates the Python venv that bench/tokenizer_peer.py uses to measure llama.cpp (the peer),
# through llama-cpp-python built from source for this CPU. Idempotent: an existing venv with
# the pinned version is left as it is. The build compiles llama.cpp (10-20 min on 2 cores),
# so it runs at low priority; run it once, e.g. `nohup scripts/setup-bench-venv.sh &`.
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION="0.3.16"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROOT}/.venv"

# The python3 on PATH may be a pyenv build without venv support; Debian's is known to work.
if [[ ! -x "${VENV}/bin/python" ]]; then
  echo "setup-bench-venv: creating ${VENV}"
  /usr/bin/python3 -m venv "${VENV}"
fi

installed="$("${VENV}/bin/python" -c 'import importlib.metadata as m; print(m.version("llama_cpp_python"))' 2>/dev/null || true)"
if [[ "${installed}" == "${LLAMA_CPP_PYTHON_VERSION}" ]]; then
  echo "setup-bench-venv: llama-cpp-python ${installed} already installed"
  exit 0
fi

echo "setup-bench-venv: building llama-cpp-python ${LLAMA_CPP_PYTHON_VERSION} (CPU, native)"
"${VENV}/bin/pip" install --quiet --upgrade pip
CMAKE_ARGS="-DGGML_NATIVE=ON -DGGML_OPENMP=ON -DGGML_CUDA=OFF -DLLAMA_CURL=OFF" \
  CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
  nice -n 10 "${VENV}/bin/pip" install --no-binary llama-cpp-python --no-cache-dir \
  "llama-cpp-python==${LLAMA_CPP_PYTHON_VERSION}"
echo "setup-bench-venv: done"
