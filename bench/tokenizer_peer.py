#!/usr/bin/env python3
"""Peer for bench/tokenizer_bench: measures llama.cpp's tokenizer (through llama-cpp-python,
vocab only) on the same text file and prints one line per vocabulary:

    peer <name> <MB/s mean> <MB/s stddev> <n_tokens> <checksum> <wrapper MB/s>

MB/s is one llama_tokenize call into a buffer large enough for the result: llama.cpp's own
speed. Llama.tokenize(), the Python wrapper, first calls it with a buffer of n_ctx_train
tokens and, when that is too small (always, for 1 MB), tokenizes a second time; its rate is
the last column. The checksum (sum of (i+1)*id mod 2^61-1) lets the caller check both
engines produced the same ids.
Usage: tokenizer_peer.py --text FILE --reps N NAME=MODEL.gguf [NAME=MODEL.gguf ...]
Run it with the venv that scripts/setup-bench-venv.sh creates.
"""
import argparse
import statistics
import sys
import time


def checksum(ids):
    mod = (1 << 61) - 1
    s = 0
    for i, t in enumerate(ids):
        s = (s + (i + 1) * t) % mod
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--text", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("models", nargs="+", help="NAME=PATH")
    args = ap.parse_args()
    try:
        import llama_cpp
        from llama_cpp import Llama
    except ImportError as e:
        print(f"error: llama_cpp not importable ({e}); run scripts/setup-bench-venv.sh",
              file=sys.stderr)
        return 2
    data = open(args.text, "rb").read()
    mb = len(data) / 1e6
    for spec in args.models:
        name, path = spec.split("=", 1)
        llm = Llama(model_path=path, vocab_only=True, verbose=False)
        vocab = llm._model.vocab
        buf = (llama_cpp.llama_token * (len(data) + 8))()

        def direct():
            n = llama_cpp.llama_tokenize(vocab, data, len(data), buf, len(buf), False, False)
            assert n >= 0
            return n

        direct()  # warm-up
        rates = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            n = direct()
            rates.append(mb / (time.perf_counter() - t0))
        ids = list(buf[:n])
        t0 = time.perf_counter()
        wrapped = llm.tokenize(data, add_bos=False, special=False)
        wrapper_rate = mb / (time.perf_counter() - t0)
        assert wrapped == ids
        sd = statistics.stdev(rates) if len(rates) > 1 else 0.0
        print(f"peer {name} {statistics.mean(rates):.3f} {sd:.3f} {len(ids)} {checksum(ids)} "
              f"{wrapper_rate:.3f}", flush=True)
        del llm
    return 0


if __name__ == "__main__":
    sys.exit(main())
