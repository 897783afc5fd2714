// Seed maker for gguf_reader_fuzz: writes a small valid copy of each GGUF file given, with
// every metadata array cut to 8 items and every tensor cut to one block of zeros, so the
// fuzzer starts from inputs that reach the tensor-info and data-section checks.
// Usage: gguf_fuzz_seeds OUT_DIR FILE.gguf...
#include <cstdio>
#include <filesystem>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

namespace {

using namespace mle::gguf;

Value Shrink(const Value& v) {
  if (v.type() != ValueType::kArray) return v;
  const Array& a = v.array();
  std::vector<Value> items;
  for (size_t i = 0; i < a.items.size() && i < 8; ++i) items.push_back(Shrink(a.items[i]));
  return Value::MakeArray(a.elem_type, std::move(items));
}

mle::Status ShrinkFile(const std::string& in, const std::string& out) {
  MLE_ASSIGN_OR_RETURN(auto file, GgufFile::Open(in));
  GgufWriter w;
  for (const KeyValue& kv : file->metadata()) w.Set(kv.key, Shrink(kv.value));
  for (const TensorInfo& t : file->tensors()) {
    auto info = GetTensorTypeInfo(t.type);
    std::vector<uint64_t> dims(t.dims.size(), 1);
    if (!dims.empty()) dims[0] = info->block_size;
    MLE_RETURN_IF_ERROR(
        w.AddTensorOwned(t.name, dims, t.type, std::vector<uint8_t>(info->type_size, 0)));
  }
  return w.WriteFile(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR FILE.gguf...\n", argv[0]);
    return 2;
  }
  for (int i = 2; i < argc; ++i) {
    std::string name = std::filesystem::path(argv[i]).filename().string();
    std::string out = std::string(argv[1]) + "/shrunk-" + name;
    mle::Status s = ShrinkFile(argv[i], out);
    if (!s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.message().c_str());
      return 1;
    }
  }
  return 0;
}
