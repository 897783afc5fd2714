#!/usr/bin/env bash
# Fuzzes the GGUF reader with libFuzzer + ASan + UBSan (clang-14) for SECONDS (default 600).
# Builds in build-fuzz/, seeds build-fuzz/corpus from the shared models' headers (first 64 KiB),
# the shared vocab files' headers, and small valid shrunk copies of all of them; crashes land in
# build-fuzz/crashes/. Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail

seconds="${1:-600}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"
shared="${MLE_SHARED_DIR:-$root/../shared}"
max_len=65536

CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLE_WITH_TORCH=OFF -DMLE_BUILD_BENCH=OFF \
  -DMLE_BUILD_TESTS=OFF -DMLE_FUZZ=ON -DMLE_SANITIZE=address,undefined >/dev/null
ninja -C "$build" -j2 gguf_reader_fuzz gguf_fuzz_seeds

corpus="$build/corpus"
mkdir -p "$corpus" "$build/crashes"
models=("$shared"/testdata/models/*.gguf "$shared"/testdata/vocab/*.gguf)
for f in "${models[@]}"; do
  head -c "$max_len" "$f" >"$corpus/head-$(basename "$f")"
done
"$build/tests/fuzz/gguf_fuzz_seeds" "$corpus" "${models[@]}"

cd "$build"
set -x
exec ./tests/fuzz/gguf_reader_fuzz "$corpus" -dict="$root/tests/fuzz/gguf.dict" \
  -max_len="$max_len" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/crashes/" -print_final_stats=1
