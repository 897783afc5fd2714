// In-memory image-classification datasets (MNIST-format). Images are kept as uint8 tensors
// [N, 1, 28, 28] and normalized per batch, so a batch is one gather (index_select) of rows,
// not a stack of per-sample tensors. Everything is loaded and checked once, up front.
#pragma once

#include <torch/torch.h>

#include <string>

#include "core/status.h"
#include "train/trainer.h"  // DefaultDataRoot

namespace mle::train {

struct Dataset {
  torch::Tensor images;  // [N, 1, H, W] uint8
  torch::Tensor labels;  // [N] int64
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
  Dataset Slice(int64_t begin, int64_t end) const;
};

struct DataOptions {
  std::string root;         // directory with IDX files, or a .csv file ("" = default)
  std::string val_csv;      // with a .csv root: optional validation CSV
  double val_split = 0.0;   // > 0: hold out this fraction of train (its tail) for validation
  int64_t limit_train = 0;  // 0 = all
  int64_t limit_val = 0;
};

struct DataSplit {
  Dataset train;
  Dataset val;
  std::string source;  // human-readable description for logs and run records
};

// Loads "train" or "t10k" IDX files (plain or .gz) from `dir`, checking magic, dimensions
// and that images and labels agree in count.
Result<Dataset> LoadMnistSplit(const std::string& dir, const std::string& prefix);
// Loads a CSV of label + 784 pixel values per row (0..255).
Result<Dataset> LoadCsvDataset(const std::string& path);
// Training + validation data as the options describe.
Result<DataSplit> LoadTrainingData(const DataOptions& options);

// Per-batch normalization: uint8 [B,1,H,W] -> float ((x/255 - mean) / std).
torch::Tensor NormalizeImages(const torch::Tensor& images_u8, double mean, double std);
// Mean and standard deviation of all pixels (scaled to [0,1]).
std::pair<double, double> PixelStats(const torch::Tensor& images_u8);

}  // namespace mle::train
