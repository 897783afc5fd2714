#!/usr/bin/env python3
"""The own-LLM decoder in PyTorch Python: the peer of `ml-engine lm pretrain` in make bench.

Same model (RMSNorm pre-norm, RoPE on adjacent pairs, SwiGLU, tied embeddings, fused QKV and
gate/up projections), same initialization scheme, same batches (the same hash of seed, step
and row picks each window from the same token shards), AdamW with the same hyper-parameters,
warm-up + cosine schedule, gradient clipping, and the same thread count. Written the way a
PyTorch user writes it: nn.Module, torch.optim.AdamW, F.cross_entropy, fp32.

Prints one JSON line: tokens/s over the timed steps and the validation loss at the end.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

M64 = (1 << 64) - 1


def mix(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


class Shards:
    def __init__(self, data_dir):
        with open(os.path.join(data_dir, "index.json")) as f:
            self.index = json.load(f)
        dtype = np.uint16 if self.index["dtype"] == "uint16" else np.uint32
        self.split = {}
        for name in ("train", "val"):
            arrays = [np.memmap(os.path.join(data_dir, s["file"]), dtype=dtype, mode="r")
                      for s in self.index["splits"][name]["shards"]]
            self.split[name] = np.concatenate(arrays).astype(np.int64)

    def windows(self, name, starts, t):
        data = self.split[name]
        rows = np.stack([data[s:s + t + 1] for s in starts])
        rows = torch.from_numpy(rows)
        return rows[:, :t].contiguous(), rows[:, 1:].contiguous()


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


class Block(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        d, kv, f = c["dim"], c["n_kv_heads"] * (c["dim"] // c["n_heads"]), c["ffn_hidden"]
        resid = 0.02 / math.sqrt(2 * c["n_layers"])
        self.attn_norm = torch.nn.Parameter(torch.ones(d))
        self.wqkv = torch.nn.Parameter(torch.randn(d + 2 * kv, d) * 0.02)
        self.wo = torch.nn.Parameter(torch.randn(d, d) * resid)
        self.ffn_norm = torch.nn.Parameter(torch.ones(d))
        self.w13 = torch.nn.Parameter(torch.randn(2 * f, d) * 0.02)
        self.w2 = torch.nn.Parameter(torch.randn(d, f) * resid)


class Gpt(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.tok_embd = torch.nn.Parameter(torch.randn(c["vocab_size"], c["dim"]) * 0.02)
        self.layers = torch.nn.ModuleList(Block(c) for _ in range(c["n_layers"]))
        self.norm_f = torch.nn.Parameter(torch.ones(c["dim"]))
        hd = c["dim"] // c["n_heads"]
        inv = c["rope_theta"] ** (-torch.arange(0, hd // 2, dtype=torch.float64) * 2.0 / hd)
        ang = torch.outer(torch.arange(c["context"], dtype=torch.float64), inv)
        self.register_buffer("cos", ang.cos().float())
        self.register_buffer("sin", ang.sin().float())
        mask = torch.full((c["context"], c["context"]), float("-inf")).triu(1)
        self.register_buffer("mask", mask)

    def rope(self, x):
        b, t, h, hd = x.shape
        xp = x.view(b, t, h, hd // 2, 2)
        x0, x1 = xp[..., 0], xp[..., 1]
        cs = self.cos[:t].view(1, t, 1, hd // 2)
        sn = self.sin[:t].view(1, t, 1, hd // 2)
        return torch.stack((x0 * cs - x1 * sn, x0 * sn + x1 * cs), -1).view(b, t, h, hd)

    def forward(self, tokens, targets):
        c = self.c
        b, t = tokens.shape
        h, kvh, d, f = c["n_heads"], c["n_kv_heads"], c["dim"], c["ffn_hidden"]
        hd = d // h
        x = F.embedding(tokens, self.tok_embd)
        mask = self.mask[:t, :t]
        for L in self.layers:
            hn = rms_norm(x, L.attn_norm, c["norm_eps"])
            q, k, v = F.linear(hn, L.wqkv).split([d, kvh * hd, kvh * hd], -1)
            q = self.rope(q.reshape(b, t, h, hd)).transpose(1, 2)
            k = self.rope(k.reshape(b, t, kvh, hd)).transpose(1, 2)
            v = v.reshape(b, t, kvh, hd).transpose(1, 2)
            if kvh < h:
                k = k.repeat_interleave(h // kvh, 1)
                v = v.repeat_interleave(h // kvh, 1)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd)) + mask
            att = att.softmax(-1)
            o = (att @ v).transpose(1, 2).reshape(b, t, d)
            x = x + F.linear(o, L.wo)
            hn = rms_norm(x, L.ffn_norm, c["norm_eps"])
            g, u = F.linear(hn, L.w13).split([f, f], -1)
            x = x + F.linear(F.silu(g) * u, L.w2)
        x = rms_norm(x, self.norm_f, c["norm_eps"])
        logits = F.linear(x, self.tok_embd)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))


def lr_at(step, steps, warmup, lr, min_ratio):
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, steps - warmup))
    min_lr = lr * min_ratio
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * progress))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--config", required=True, help="model JSON (the run's config.json 'model')")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--timed-from", type=int, default=3, help="steps before timing starts")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr-ratio", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=-1)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--eval-batches", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    c = json.loads(a.config) if a.config.startswith("{") else json.load(open(a.config))["model"]
    data = Shards(a.data)
    model = Gpt(c)
    decay = [p for n, p in model.named_parameters() if not n.endswith("norm") and "norm_f" not in n]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("norm") or "norm_f" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    warmup = a.warmup if a.warmup >= 0 else min(100, a.steps // 10)
    t = c["context"]
    span = len(data.split["train"]) - t
    tokens_timed, t0 = 0, None
    for step in range(a.steps):
        if step == a.timed_from:
            t0 = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a.steps, warmup, a.lr, a.min_lr_ratio)
        starts = [mix(a.seed ^ mix((step * 1000003 + r) & M64)) % span for r in range(a.batch_size)]
        x, y = data.windows("train", starts, t)
        loss = model(x, y)
        loss.backward()
        if a.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if t0 is not None:
            tokens_timed += a.batch_size * t
    secs = time.perf_counter() - t0
    # Validation: the same fixed windows as ml-engine (8 rows per batch, spread evenly).
    n_val = len(data.split["val"])
    tv = min(t, n_val - 1)
    span_v = n_val - tv
    rows = min(a.batch_size, 8)
    total = rows * a.eval_batches
    val = 0.0
    with torch.no_grad():
        for k in range(a.eval_batches):
            starts = [((k * rows + r) * (span_v - 1) // (total - 1)) if total > 1 else 0
                      for r in range(rows)]
            x, y = data.windows("val", starts, tv)
            val += model(x, y).item()
    print(json.dumps({"tokens_per_s": tokens_timed / secs, "val_loss": val / a.eval_batches,
                      "final_train_loss": loss.item(), "steps": a.steps,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
