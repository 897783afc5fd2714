// Dataset loading (see dataset.h).
#include "train/dataset.h"

#include "core/file_util.h"
#include "train/csv_data.h"
#include "train/idx.h"

namespace mle::train {
namespace {

constexpr int64_t kSide = 28;

// Finds "<dir>/<prefix>-<kind>-idxN-ubyte" with or without ".gz".
Result<std::string> FindIdx(const std::string& dir, const std::string& prefix,
                            const std::string& kind) {
  std::string base = dir + "/" + prefix + "-" + kind;
  for (const char* suffix : {"", ".gz"}) {
    if (FileExists(base + suffix)) return base + suffix;
  }
  return NotFound("cannot find '" + base + "' (or .gz) in data directory '" + dir +
                  "' (run: ml-engine data mnist --out " + dir +
                  ", or pass --data with a directory of MNIST-format files)");
}

}  // namespace

Dataset Dataset::Slice(int64_t begin, int64_t end) const {
  return Dataset{images.slice(0, begin, end), labels.slice(0, begin, end)};
}

std::string DefaultDataRoot() {
  if (IsDirectory("data/mnist")) return "data/mnist";
  return "/usr/share/datasets/fashion-mnist";
}

Result<Dataset> LoadMnistSplit(const std::string& dir, const std::string& prefix) {
  if (!IsDirectory(dir)) {
    return NotFound("data directory '" + dir + "' does not exist (run: ml-engine data mnist " +
                    "--out data/mnist, or pass --data DIR)");
  }
  MLE_ASSIGN_OR_RETURN(std::string images_path, FindIdx(dir, prefix, "images-idx3-ubyte"));
  MLE_ASSIGN_OR_RETURN(std::string labels_path, FindIdx(dir, prefix, "labels-idx1-ubyte"));
  MLE_ASSIGN_OR_RETURN(IdxArray images, ReadIdxFile(images_path));
  MLE_ASSIGN_OR_RETURN(IdxArray labels, ReadIdxFile(labels_path));
  if (images.dims.size() != 3 || images.dims[1] != kSide || images.dims[2] != kSide) {
    return Corruption("'" + images_path + "' is not a file of 28x28 images (wrong dimensions)");
  }
  if (labels.dims.size() != 1) {
    return Corruption("'" + labels_path + "' is not a label file (expected 1 dimension)");
  }
  if (images.dims[0] != labels.dims[0]) {
    return Corruption("'" + images_path + "' has " + std::to_string(images.dims[0]) +
                      " images but '" + labels_path + "' has " + std::to_string(labels.dims[0]) +
                      " labels; the files do not belong " + "together");
  }
  for (uint8_t l : labels.data) {
    if (l > 9) {
      return Corruption("'" + labels_path + "' holds label " + std::to_string(l) +
                        "; MNIST labels are 0..9");
    }
  }
  int64_t n = images.dims[0];
  Dataset ds;
  ds.images = torch::from_blob(images.data.data(), {n, 1, kSide, kSide}, torch::kUInt8).clone();
  ds.labels = torch::from_blob(labels.data.data(), {n}, torch::kUInt8).to(torch::kInt64);
  return ds;
}

Result<Dataset> LoadCsvDataset(const std::string& path) {
  MLE_ASSIGN_OR_RETURN(CsvTable table, ReadCsvFile(path, /*has_label=*/true));
  if (table.n_features != kSide * kSide) {
    return InvalidArgument("'" + path + "' rows have " + std::to_string(table.n_features) +
                           " features; 28x28 images need 784 pixel columns after the label");
  }
  for (int64_t l : table.labels) {
    if (l > 9) {
      return InvalidArgument("'" + path + "' holds label " + std::to_string(l) +
                             "; labels must be 0..9");
    }
  }
  for (float v : table.features) {
    if (v < 0 || v > 255) {
      return InvalidArgument("'" + path + "' holds pixel value " + std::to_string(v) +
                             "; pixels must be 0..255");
    }
  }
  int64_t n = static_cast<int64_t>(table.labels.size());
  Dataset ds;
  ds.images = torch::from_blob(table.features.data(), {n, 1, kSide, kSide}, torch::kFloat32)
                  .round()
                  .to(torch::kUInt8);
  ds.labels = torch::from_blob(table.labels.data(), {n}, torch::kInt64).clone();
  return ds;
}

Result<DataSplit> LoadTrainingData(const DataOptions& options) {
  std::string root = options.root.empty() ? DefaultDataRoot() : options.root;
  DataSplit split;
  bool csv = root.size() > 4 && root.substr(root.size() - 4) == ".csv";
  if (csv) {
    MLE_ASSIGN_OR_RETURN(split.train, LoadCsvDataset(root));
    if (!options.val_csv.empty()) {
      MLE_ASSIGN_OR_RETURN(split.val, LoadCsvDataset(options.val_csv));
    }
  } else {
    MLE_ASSIGN_OR_RETURN(split.train, LoadMnistSplit(root, "train"));
    if (options.val_split <= 0) {
      MLE_ASSIGN_OR_RETURN(split.val, LoadMnistSplit(root, "t10k"));
    }
  }
  split.source = root;
  if (options.val_split > 0) {
    int64_t n = split.train.size();
    int64_t n_val = static_cast<int64_t>(n * options.val_split);
    if (n_val < 1 || n_val >= n) {
      return InvalidArgument("--val-split " + std::to_string(options.val_split) + " leaves no " +
                             "training or validation examples out of " + std::to_string(n));
    }
    split.val = split.train.Slice(n - n_val, n);
    split.train = split.train.Slice(0, n - n_val);
    split.source += " (validation: last " + std::to_string(n_val) + " training examples)";
  } else if (split.val.size() == 0) {
    return InvalidArgument("no validation data: pass --val-split F or a validation CSV");
  }
  if (options.limit_train > 0 && options.limit_train < split.train.size()) {
    split.train = split.train.Slice(0, options.limit_train);
  }
  if (options.limit_val > 0 && options.limit_val < split.val.size()) {
    split.val = split.val.Slice(0, options.limit_val);
  }
  return split;
}

torch::Tensor NormalizeImages(const torch::Tensor& images_u8, double mean, double std) {
  // One fused pass: x * (1 / (255 std)) - mean / std.
  return images_u8.to(torch::kFloat32).mul_(1.0 / (255.0 * std)).sub_(mean / std);
}

std::pair<double, double> PixelStats(const torch::Tensor& images_u8) {
  auto x = images_u8.to(torch::kFloat64).div_(255.0);
  return {x.mean().item<double>(), x.std().item<double>()};
}

}  // namespace mle::train
