// Helpers shared by the kernels tests: paths of the shared reference models, whole-tensor
// dequantization through the reference rows, error measures, and the per-type error bounds
// that the round-trip and cross-file tests hold each format to.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "kernels/quant_ref.h"

namespace mle::kernels::testing {

inline std::string ModelPath(const std::string& name) {
  return std::string(MLE_SHARED_DIR) + "/testdata/models/" + name;
}

// Every shared model file, sorted.
inline std::vector<std::string> SharedModels() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(ModelPath(""))) {
    if (e.path().extension() == ".gguf") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::unique_ptr<gguf::GgufFile> OpenOrDie(const std::string& path) {
  auto file = gguf::GgufFile::Open(path);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  return file.ok() ? std::move(file).value() : nullptr;
}

// The whole tensor as floats (empty, with a test failure, when its type is not supported).
inline std::vector<float> DequantizeTensor(const gguf::GgufFile& file, const gguf::TensorInfo& t) {
  std::vector<float> out(t.n_elements);
  const Status s =
      DequantizeRow(t.type, file.TensorData(t), out.data(), static_cast<int64_t>(t.n_elements));
  EXPECT_TRUE(s.ok()) << t.name << ": " << s.ToString();
  if (!s.ok()) out.clear();
  return out;
}

inline double Rms(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += static_cast<double>(v) * v;
  return x.empty() ? 0 : std::sqrt(s / x.size());
}

// rms(x - y) / rms(x).
inline double RelativeRmsError(const std::vector<float>& x, const std::vector<float>& y) {
  double err = 0, ref = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double d = static_cast<double>(x[i]) - y[i];
    err += d * d;
    ref += static_cast<double>(x[i]) * x[i];
  }
  return std::sqrt(err / ref);
}

// The relative rms error a format may add to Gaussian-like weights: ~10% above what
// llama.cpp's reference quantizers reach (measured: Q8_0 0.0054, Q6_K 0.0178, Q5_0 0.0436,
// Q4_K 0.0709, Q4_0 0.0873, Q3_K 0.153, Q2_K 0.302, BF16 0.0017). A row written as zeros
// would give 1.0.
inline double RelRmsBound(gguf::TensorType type) {
  using T = gguf::TensorType;
  switch (type) {
    case T::kF32:
      return 0.0;
    case T::kF16:
      return 3.0e-4;
    case T::kBF16:
      return 2.0e-3;
    case T::kQ8_0:
    case T::kQ8_1:
      return 0.0060;
    case T::kQ8_K:
      return 0.0080;
    case T::kQ6_K:
      return 0.0200;
    case T::kQ5_0:
      return 0.0480;
    case T::kQ5_1:
      return 0.0420;
    case T::kQ5_K:
      return 0.0400;
    case T::kQ4_0:
      return 0.0950;
    case T::kQ4_1:
      return 0.0850;
    case T::kQ4_K:
      return 0.0780;
    default:
      return 1.0;
  }
}

}  // namespace mle::kernels::testing
