#!/usr/bin/env bash
# Installs what ml-engine needs on a fresh Debian 12 machine. Idempotent: packages already
# present are skipped, and `apt-get update` runs only when something is missing.
set -euo pipefail

# Build and run.
PKGS_BUILD=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  libtorch-dev libopenblas0-pthread
  libboost1.81-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libsentencepiece-dev libssl-dev libsqlite3-dev zlib1g-dev libpng-dev
  dataset-fashion-mnist
)
# Tests and benchmarks.
PKGS_TEST=(
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev clang-format
  python3-torch python3-venv python3-numpy
  wrk hey prometheus
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
