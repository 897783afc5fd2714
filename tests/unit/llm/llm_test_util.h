// Helpers shared by the llm tests: paths of the shared models and llama.cpp references, loading
// a model or failing the test, running a prompt and collecting every position's logits, and
// writing an F32 copy of a model (the exact conversion the reference bounds allow).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "gguf/gguf_writer.h"
#include "kernels/quant_ref.h"
#include "llm/model.h"

namespace mle::llm::testing {

inline std::string SharedPath(const std::string& rel) {
  return std::string(MLE_SHARED_DIR) + "/testdata/" + rel;
}
inline std::string ModelPath(const std::string& name) {
  return SharedPath("models/" + name);
}

inline std::unique_ptr<Model> LoadOrDie(const std::string& path) {
  auto m = Model::Load(path, LoadOptions{});
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

inline std::unique_ptr<Context> MakeContext(const Model& model, ContextOptions o = {}) {
  if (o.n_ctx == 0) o.n_ctx = 256;
  if (o.n_threads == 0) o.n_threads = 2;
  auto c = Context::Create(model, o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

using Logits = std::vector<std::vector<float>>;  // [position][V]

// Decodes `tokens` of sequence `seq` starting at SeqLength(seq), `chunk` tokens per Decode
// (0 = all at once), keeping every position's logits.
inline Logits RunPrompt(Context& ctx, const std::vector<TokenId>& tokens, int seq = 0,
                        size_t chunk = 0) {
  Logits out;
  const int V = ctx.model().hparams().n_vocab;
  if (chunk == 0) chunk = tokens.size();
  for (size_t i = 0; i < tokens.size(); i += chunk) {
    Batch b;
    const int32_t p0 = ctx.SeqLength(seq);
    for (size_t j = i; j < std::min(tokens.size(), i + chunk); ++j) {
      b.Add(tokens[j], p0 + static_cast<int32_t>(j - i), seq, true);
    }
    const Status s = ctx.Decode(b);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) return out;
    for (int k = 0; k < ctx.n_outputs(); ++k) out.emplace_back(ctx.Logits(k), ctx.Logits(k) + V);
  }
  return out;
}

// max |a - b| over all positions and tokens, divided by the rms of a.
inline double MaxDiffOverRms(const Logits& a, const Logits& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t p = 0; p < std::min(a.size(), b.size()); ++p) {
    double ss = 0, md = 0;
    for (size_t i = 0; i < a[p].size(); ++i) {
      ss += double(a[p][i]) * a[p][i];
      md = std::max(md, std::fabs(double(a[p][i]) - b[p][i]));
    }
    worst = std::max(worst, md / std::sqrt(ss / a[p].size()));
  }
  return worst;
}

// rms(a - b) / rms(a) over all positions and tokens.
inline double RelRmsDiff(const Logits& a, const Logits& b) {
  double ss = 0, dd = 0;
  for (size_t p = 0; p < std::min(a.size(), b.size()); ++p) {
    for (size_t i = 0; i < a[p].size(); ++i) {
      ss += double(a[p][i]) * a[p][i];
      dd += (double(a[p][i]) - b[p][i]) * (double(a[p][i]) - b[p][i]);
    }
  }
  return std::sqrt(dd / ss);
}

// Writes `src` with every F16/BF16 tensor converted to F32 (exact) into `dst`.
inline Status WriteF32Copy(const gguf::GgufFile& src, const std::string& dst) {
  gguf::GgufWriter w;
  for (const gguf::KeyValue& kv : src.metadata()) {
    if (kv.key != gguf::kAlignmentKey) w.Set(kv.key, kv.value);
  }
  w.SetUint32("general.file_type", 0);
  for (const gguf::TensorInfo& t : src.tensors()) {
    if (t.type == gguf::TensorType::kF16 || t.type == gguf::TensorType::kBF16) {
      std::vector<uint8_t> bytes(t.n_elements * sizeof(float));
      MLE_RETURN_IF_ERROR(kernels::DequantizeRow(t.type, src.TensorData(t),
                                                 reinterpret_cast<float*>(bytes.data()),
                                                 static_cast<int64_t>(t.n_elements)));
      MLE_RETURN_IF_ERROR(
          w.AddTensorOwned(t.name, t.dims, gguf::TensorType::kF32, std::move(bytes)));
    } else {
      MLE_RETURN_IF_ERROR(w.AddTensor(t.name, t.dims, t.type, src.TensorData(t), t.size_bytes));
    }
  }
  return w.WriteFile(dst);
}

// A fresh temp directory, removed at destruction.
class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("mle-llm-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

}  // namespace mle::llm::testing
