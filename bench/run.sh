#!/usr/bin/env bash
# `make bench`: every benchmark, each printing its figures beside its peer's from the same run.
set -uo pipefail
BUILD_DIR=${1:-build}
BIN=$(cd "$BUILD_DIR/bin" && pwd)
status=0

echo "== cnn_mnist training step time vs PyTorch Python =="
"$BIN/train_mnist_bench" --steps 60 --warmup 10 --threads 2 || status=1

echo
echo "== cnn_mnist accuracy: 3 epochs with the defaults on Fashion-MNIST (target >= 0.90) =="
dir=$(mktemp -d /tmp/mle-bench-acc-XXXXXX)
(cd "$dir" && "$BIN/ml-engine" train cnn_mnist --epochs 3 --quiet --threads 2 \
   && "$BIN/ml-engine" eval cnn_mnist --ckpt checkpoints/cnn_mnist/best.ckpt) || status=1

if [[ -x "$BIN/tokenizer_bench" ]]; then
  echo
  echo "== tokenizer MB/s vs llama.cpp =="
  # The llama.cpp peer lives in a venv built once from PyPI (idempotent).
  bash "$(dirname "$0")/../scripts/setup-bench-venv.sh" || echo "warning: peer venv unavailable"
  "$BIN/tokenizer_bench" || status=1
fi
echo
echo "== own LLM: lm pretrain tokens/s vs the same model in PyTorch Python (target >= 1.2x) =="
bash "$(dirname "$0")/lm_train_bench.sh" "$BUILD_DIR" || status=1
echo
echo "== LLM engine: TinyLlama-1.1B pp128/tg64 and logits vs llama.cpp =="
bash "$(dirname "$0")/engine_bench.sh" "$BUILD_DIR" || status=1
echo
echo "== HTTP server: GET /health req/s, p50/p99 vs llama.cpp's server (wrk, 32 connections) =="
bash "$(dirname "$0")/server_bench.sh" "$BUILD_DIR" || status=1
echo
echo "== LLM serving: aggregate tok/s at 1/4/8 clients and cached TTFT vs llama.cpp's server =="
# The Q4_0 TinyLlama-shaped model engine_bench.sh synthesized above.
python3 "$(dirname "$0")/serve_llm_bench.py" --engine "$BIN/ml-engine" \
  --model "$BUILD_DIR/bench-models/tinyllama-1.1b-Q4_0.gguf" || status=1
exit $status
