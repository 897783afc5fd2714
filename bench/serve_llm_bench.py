#!/usr/bin/env python3
"""LLM serving benchmark: `ml-engine serve` with a TinyLlama-1.1B-shaped Q4_0 model (random
weights), 2 threads, 64 greedy tokens per request (ignore_eos, so every request generates
exactly 64), N concurrent clients each sending requests back to back for a fixed number of
rounds. Prints aggregate tokens/s per client count and the time to first token of a long
prompt cold and with its prefix cached, beside llama.cpp server's figures measured before
on this kind of machine (same model, same settings).

Usage: serve_llm_bench.py --engine BUILD/bin/ml-engine --model FILE.gguf [--threads 2]
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

# llama.cpp server, measured before (issue figures): aggregate tok/s by clients, and the
# 781-token prompt's time to first token, cold and cached.
PEER = {1: 31.9, 4: 59.1, 8: 67.2}
PEER_TTFT_COLD, PEER_TTFT_CACHED, PEER_TTFT_TOKENS = 5.49, 0.27, 781
TARGET = {1: 1.1, 4: 1.2, 8: 1.2}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, path, body, timeout=600):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


class Server:
    def __init__(self, engine, model, threads, parallel, workdir):
        self.port = free_port()
        models = os.path.join(workdir, f"models-{parallel}")
        os.makedirs(models, exist_ok=True)
        link = os.path.join(models, "bench.gguf")
        if not os.path.exists(link):
            os.symlink(os.path.abspath(model), link)
        self.log = open(os.path.join(workdir, f"serve-{parallel}.log"), "w")
        self.proc = subprocess.Popen(
            [engine, "serve", "--port", str(self.port), "--models-dir", models, "--model", "bench",
             "--parallel", str(parallel), "--ctx-size", "4096", "--threads", str(threads),
             "--log-level", "warn"], stdout=self.log, stderr=self.log, cwd=workdir)
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except Exception:
                time.sleep(0.2)
        raise RuntimeError("server did not become ready")

    def rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.log.close()


PROMPTS = ["Once upon a time, in a land far away, there lived", "The history of the printing press",
           "Write a short poem about the sea:", "Explain how a CPU cache works.",
           "List five prime numbers and", "The quick brown fox", "In the beginning there was",
           "A recipe for bread needs"]


def aggregate(port, clients, rounds, n_tokens):
    total = [0] * clients
    errors = []

    def worker(i):
        for r in range(rounds):
            try:
                # A different prompt per client and round: no prefix-cache help.
                out = post(port, "/v1/completions",
                           {"model": "bench", "prompt": f"{PROMPTS[i % len(PROMPTS)]} ({i}.{r})",
                            "max_tokens": n_tokens, "temperature": 0, "ignore_eos": True})
                total[i] += out["usage"]["completion_tokens"]
            except Exception as e:  # noqa: BLE001
                errors.append(str(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} request(s) failed: {errors[0]}")
    return sum(total) / wall


def prompt_of(port, n_tokens):
    """Text of words that tokenizes (with BOS) to n_tokens tokens, or the closest below."""
    count = lambda n: len(post(port, "/tokenize", {"model": "bench", "content": text(n)})["tokens"])
    text = lambda n: " ".join(f"word{i % 97}" for i in range(n))
    lo, hi = 1, n_tokens  # words; each word is at least one token
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if count(mid) <= n_tokens else (lo, mid - 1)
    return text(lo)


def ttft(port, prompt):
    out = post(port, "/llm/generate", {"model": "bench", "prompt": prompt, "n_predict": 1,
                                       "temperature": 0})
    return out["timings"]["ttft_ms"] / 1e3, out["usage"]["prompt_tokens"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--engine", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--tokens", type=int, default=64)
    args = p.parse_args()
    args.engine = os.path.abspath(args.engine)
    rows = []
    with tempfile.TemporaryDirectory(prefix="mle-serve-bench-") as work:
        for parallel, client_counts in ((4, (1, 4)), (8, (8,))):
            srv = Server(args.engine, args.model, args.threads, parallel, work)
            try:
                aggregate(srv.port, 1, 1, 8)  # warm-up
                for clients in client_counts:
                    tps = aggregate(srv.port, clients, args.rounds, args.tokens)
                    rows.append((clients, parallel, tps, srv.rss_mb()))
                    print(f"  {clients} client(s), --parallel {parallel}: {tps:.1f} tok/s",
                          flush=True)
                if parallel == 4:
                    # The peer's 781-token prompt length: cold, then the same prompt again
                    # (prefix cached).
                    words = prompt_of(srv.port, PEER_TTFT_TOKENS)
                    cold, n_prompt = ttft(srv.port, words)
                    cached, _ = ttft(srv.port, words)
                    rss = srv.rss_mb()
            finally:
                srv.stop()
    print()
    print(f"{'clients':>8} {'parallel':>9} {'ml-engine tok/s':>16} {'llama.cpp':>10} "
          f"{'ratio':>6} {'target':>7}")
    for clients, parallel, tps, _ in rows:
        ratio = tps / PEER[clients]
        print(f"{clients:>8} {parallel:>9} {tps:>16.1f} {PEER[clients]:>10.1f} {ratio:>5.2f}x "
              f"{'>=' + str(TARGET[clients]) + 'x':>7}")
    print(f"\ntime to first token, {n_prompt}-token prompt: cold {cold:.2f} s "
          f"(llama.cpp {PEER_TTFT_COLD} s, ratio {PEER_TTFT_COLD / cold:.2f}x faster), "
          f"cached {cached:.3f} s (llama.cpp {PEER_TTFT_CACHED} s; target <= 0.1 s)")
    print(f"server resident memory with --parallel 4 x 4096 context: {rss:.0f} MB "
          f"(llama.cpp server: 1270 MB)")


if __name__ == "__main__":
    sys.exit(main())
