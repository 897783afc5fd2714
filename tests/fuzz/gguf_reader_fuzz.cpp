// libFuzzer target for the GGUF reader: parses arbitrary bytes with GgufFile::FromBuffer, then
// touches everything a caller could (every metadata value through every typed getter, every
// tensor's first and last byte, both `gguf inspect` reports). A file that parses must also
// survive a writer round trip (write, parse again, same metadata). Run with scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "gguf/gguf_file.h"
#include "gguf/gguf_inspect.h"
#include "gguf/gguf_writer.h"

namespace {

using mle::gguf::GgufFile;

// Calls every getter on every key; results are discarded, only crashes matter.
void WalkMetadata(const GgufFile& f) {
  size_t sink = 0;
  for (const auto& kv : f.metadata()) {
    sink += kv.value.ToString(8, 64).size();
    sink += f.GetString(kv.key).ok();
    sink += f.GetInt(kv.key).ok();
    sink += f.GetUint(kv.key).ok();
    sink += f.GetFloat(kv.key).ok();
    sink += f.GetBool(kv.key).ok();
    sink += f.GetStringArray(kv.key).ok();
    sink += f.GetFloatArray(kv.key).ok();
    sink += f.GetIntArray(kv.key).ok();
    if (f.Find(kv.key) != &kv.value) std::abort();
  }
  volatile size_t keep = sink;
  (void)keep;
}

void WalkTensors(const GgufFile& f) {
  unsigned acc = 0;
  for (const auto& t : f.tensors()) {
    if (f.FindTensor(t.name) != &t) std::abort();
    if (t.size_bytes == 0) continue;
    const uint8_t* p = f.TensorData(t);
    acc += p[0] + p[t.size_bytes - 1];  // ASan flags any byte outside the buffer
  }
  volatile unsigned keep = acc;
  (void)keep;
}

// Writing a valid file back and parsing it again must work and keep everything.
void CheckRoundTrip(const GgufFile& f) {
  auto bytes = mle::gguf::GgufWriter::FromFile(f).WriteToString();
  if (!bytes.ok()) std::abort();
  auto again = GgufFile::FromBuffer(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  if (!again.ok()) std::abort();
  const GgufFile& g = **again;
  if (g.metadata().size() != f.metadata().size() || g.tensors().size() != f.tensors().size()) {
    std::abort();
  }
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    if (!(g.metadata()[i].value == f.metadata()[i].value)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = GgufFile::FromBuffer(data, size);
  if (!file.ok()) {
    if (file.status().message().empty()) std::abort();  // every error must say something
    return 0;
  }
  WalkMetadata(**file);
  WalkTensors(**file);
  volatile size_t report_bytes =
      mle::gguf::FormatInspectText(**file).size() + mle::gguf::FormatInspectJson(**file).size();
  (void)report_bytes;
  CheckRoundTrip(**file);
  return 0;
}
