// Dequantizes every tensor of every shared model (testdata/models: F16, BF16, Q8_0, Q4_0, Q4_K,
// Q5_0, Q6_K inside) and checks the values against what the README says the weights are
// (normal, std 0.1; embeddings and output 0.02), and that the same tensor in the F16 file and in
// each quantized file of the same model agrees within the quantized type's error bound.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "kernels_test_util.h"

namespace mle::kernels {
namespace {

using testing::DequantizeTensor;
using testing::ModelPath;
using testing::OpenOrDie;

// Weight matrices are N(0, 0.1); token embeddings and an untied output N(0, 0.02).
double ExpectedStd(const std::string& name) {
  return name == "token_embd.weight" || name == "output.weight" ? 0.02 : 0.1;
}

TEST(SharedModelsTest, EveryTensorDequantizesToPlausibleValues) {
  const auto models = testing::SharedModels();
  ASSERT_GE(models.size(), 8u) << "shared models missing under " << ModelPath("");
  std::map<gguf::TensorType, int> seen;  // tensors checked per type
  for (const std::string& path : models) {
    auto file = OpenOrDie(path);
    ASSERT_NE(file, nullptr);
    for (const gguf::TensorInfo& t : file->tensors()) {
      const std::vector<float> v = DequantizeTensor(*file, t);
      ASSERT_EQ(v.size(), t.n_elements) << path << " " << t.name;
      for (size_t i = 0; i < v.size(); ++i) {
        ASSERT_TRUE(std::isfinite(v[i])) << path << " " << t.name << " [" << i << "]";
      }
      ++seen[t.type];
      if (t.dims.size() < 2) continue;  // norms and biases are whatever they are
      const double expected = ExpectedStd(t.name);
      EXPECT_NEAR(testing::Rms(v), expected, 0.1 * expected) << path << " " << t.name;
    }
  }
  // The shared files exercise these formats; a missing one means the data changed.
  for (gguf::TensorType type :
       {gguf::TensorType::kF32, gguf::TensorType::kF16, gguf::TensorType::kBF16,
        gguf::TensorType::kQ8_0, gguf::TensorType::kQ4_0, gguf::TensorType::kQ4_K,
        gguf::TensorType::kQ5_0, gguf::TensorType::kQ6_K}) {
    EXPECT_GT(seen[type], 0) << gguf::TensorTypeName(type);
  }
}

// The llama files were all made from the same weights: each tensor of a quantized file must
// match the F16 file's within its type's bound (the F16 file itself is 3e-4 from the source).
TEST(SharedModelsTest, QuantizedFilesAgreeWithF16File) {
  auto f16 = OpenOrDie(ModelPath("tiny-llama-spm-F16.gguf"));
  ASSERT_NE(f16, nullptr);
  for (const char* name : {"tiny-llama-spm-BF16.gguf", "tiny-llama-spm-Q8_0.gguf",
                           "tiny-llama-spm-Q4_0.gguf", "tiny-llama-spm-Q4_K_M.gguf"}) {
    auto q = OpenOrDie(ModelPath(name));
    ASSERT_NE(q, nullptr);
    ASSERT_EQ(q->tensors().size(), f16->tensors().size()) << name;
    for (const gguf::TensorInfo& t : q->tensors()) {
      const gguf::TensorInfo* ref = f16->FindTensor(t.name);
      ASSERT_NE(ref, nullptr) << name << " " << t.name;
      ASSERT_EQ(ref->dims, t.dims) << name << " " << t.name;
      const double err =
          testing::RelativeRmsError(DequantizeTensor(*f16, *ref), DequantizeTensor(*q, t));
      const double bound = testing::RelRmsBound(t.type) + testing::RelRmsBound(ref->type);
      EXPECT_LE(err, bound) << name << " " << t.name << " " << gguf::TensorTypeName(t.type);
    }
  }
}

}  // namespace
}  // namespace mle::kernels
