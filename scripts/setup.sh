#!/usr/bin/env bash
# Installs what ml-engine needs on a fresh Debian 12 machine. Idempotent: packages already
# present are skipped, and `apt-get update` runs only when something is missing. Then the
# project venv (.venv) gets the pinned Python test tools, again only when one is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROOT}/.venv"

# Build and run.
PKGS_BUILD=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  libtorch-dev libopenblas0-pthread
  libboost1.81-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libsentencepiece-dev libicu-dev libssl-dev libsqlite3-dev zlib1g-dev libpng-dev
  dataset-fashion-mnist fortunes
)
# Tests and benchmarks.
PKGS_TEST=(
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev clang-format
  python3-torch python3-venv python3-numpy
  wrk hey prometheus curl
)

missing=()
for p in "${PKGS_BUILD[@]}" "${PKGS_TEST[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${#missing[@]} package(s): ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi

# Python test tools in the project venv, pinned (tests/contract): schemathesis checks the
# server against its own OpenAPI document, openai is the reference client for the
# OpenAI-compatible API. scripts/setup-bench-venv.sh adds llama-cpp-python to the same venv.
PY_PINS=(
  schemathesis==4.32.5
  openai==3.54.0
)
# The python3 on PATH may be a pyenv build without venv support; Debian's is known to work.
if [[ ! -x "${VENV}/bin/python" ]]; then
  echo "setup: creating ${VENV}"
  /usr/bin/python3 -m venv "${VENV}"
fi
py_missing=()
for pin in "${PY_PINS[@]}"; do
  installed="$("${VENV}/bin/python" -c \
    'import sys, importlib.metadata as m; print(m.version(sys.argv[1]))' "${pin%%==*}" \
    2>/dev/null || true)"
  [[ "${installed}" == "${pin##*==}" ]] || py_missing+=("${pin}")
done
if ((${#py_missing[@]})); then
  echo "setup: pip installing into ${VENV}: ${py_missing[*]}"
  "${VENV}/bin/pip" install --quiet --disable-pip-version-check "${py_missing[@]}"
fi
