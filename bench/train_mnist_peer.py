#!/usr/bin/env python3
"""PyTorch (Python) peer of bench/train_mnist_bench: the same cnn_mnist network, batch,
optimizer, data and threads, timed per training step. Prints one JSON object.
Run with Debian's /usr/bin/python3 (python3-torch)."""
import argparse, gzip, json, statistics, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class CnnMnist(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = F.dropout(x, 0.25, self.training)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, 0.5, self.training)
        return F.log_softmax(self.fc2(x), 1)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    images = torch.from_numpy(read_idx(args.data + "/train-images-idx3-ubyte.gz").copy())
    labels = torch.from_numpy(read_idx(args.data + "/train-labels-idx1-ubyte.gz").astype(np.int64))
    images = images.unsqueeze(1)  # [N, 1, 28, 28] uint8
    mean, std = 0.2860, 0.3530
    model = CnnMnist()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    perm = torch.randperm(images.shape[0])
    times = []
    bs = args.batch_size
    for step in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        idx = perm[step * bs:(step + 1) * bs]
        x = images.index_select(0, idx).float().mul_(1.0 / (255.0 * std)).sub_(mean / std)
        y = labels.index_select(0, idx)
        opt.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
        if step >= args.warmup:
            times.append((time.perf_counter() - t0) * 1000.0)
    print(json.dumps({"engine": "pytorch-python", "torch": torch.__version__,
                      "threads": torch.get_num_threads(), "steps": len(times),
                      "ms_per_step_mean": statistics.mean(times),
                      "ms_per_step_stddev": statistics.stdev(times) if len(times) > 1 else 0.0,
                      "ms": times}))


if __name__ == "__main__":
    main()
