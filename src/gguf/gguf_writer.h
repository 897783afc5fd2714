// GgufWriter: builds a GGUF v3 file from metadata and tensors and writes it atomically (temp
// file in the same directory, fsync, rename, fsync the directory). Tensor bytes are borrowed,
// owned, or produced chunk by chunk while the file is written, so a converter or quantizer
// never holds a large model twice. A GgufFile copied with FromFile() and written back is
// byte-identical to a file laid out the llama.cpp way (tensors in info order, each padded).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "gguf/gguf_file.h"
#include "gguf/tensor_types.h"

namespace mle::gguf {

// Receives a streamed tensor's bytes in order; see GgufWriter::AddTensorStreamed.
class TensorSink {
 public:
  virtual ~TensorSink() = default;
  virtual Status Write(const uint8_t* data, size_t n) = 0;
};

// Called once while the file is written; must write exactly the tensor's size_bytes.
using TensorProducer = std::function<Status(TensorSink& sink)>;

class WriterOutput;  // where the bytes go (a string or a file); defined in gguf_writer.cpp

// Not thread-safe; build and write from one thread.
class GgufWriter {
 public:
  GgufWriter() = default;
  GgufWriter(GgufWriter&&) = default;
  GgufWriter& operator=(GgufWriter&&) = default;

  // A writer holding `src`'s metadata (copied) and tensors (bytes borrowed from `src`'s
  // mapping: `src` must outlive the writer's Write* calls).
  static GgufWriter FromFile(const GgufFile& src);

  // Metadata. Set replaces the value of an existing key in place (file order is kept) or
  // appends a new key. The typed helpers pick the GGUF type from their name.
  void Set(std::string_view key, Value value);
  void SetString(std::string_view key, std::string v) { Set(key, Value(std::move(v))); }
  void SetUint32(std::string_view key, uint32_t v) { Set(key, Value(v)); }
  void SetInt32(std::string_view key, int32_t v) { Set(key, Value(v)); }
  void SetUint64(std::string_view key, uint64_t v) { Set(key, Value(v)); }
  void SetInt64(std::string_view key, int64_t v) { Set(key, Value(v)); }
  void SetFloat32(std::string_view key, float v) { Set(key, Value(v)); }
  void SetFloat64(std::string_view key, double v) { Set(key, Value(v)); }
  void SetBool(std::string_view key, bool v) { Set(key, Value(v)); }
  void SetArray(std::string_view key, ValueType elem_type, std::vector<Value> items) {
    Set(key, Value::MakeArray(elem_type, std::move(items)));
  }
  void SetStringArray(std::string_view key, const std::vector<std::string>& items);
  void SetFloat32Array(std::string_view key, const std::vector<float>& items);
  void SetInt32Array(std::string_view key, const std::vector<int32_t>& items);
  // Returns false when the key was absent.
  bool Remove(std::string_view key);
  const std::vector<KeyValue>& metadata() const { return metadata_; }
  const Value* Find(std::string_view key) const;

  // Tensors, written in the order added. Each checks the name (non-empty, unique), at most 4
  // dims, a known type, dims[0] a multiple of the type's block size, and the byte count.
  // Borrowed: `data` (size_bytes) must stay valid until the last Write* call.
  Status AddTensor(std::string name, std::vector<uint64_t> dims, TensorType type,
                   const uint8_t* data, uint64_t size_bytes);
  Status AddTensorOwned(std::string name, std::vector<uint64_t> dims, TensorType type,
                        std::vector<uint8_t> data);
  // Streamed: `producer` writes the bytes when the file is written (it may run once per
  // Write* call).
  Status AddTensorStreamed(std::string name, std::vector<uint64_t> dims, TensorType type,
                           TensorProducer producer);
  size_t n_tensors() const { return tensors_.size(); }
  // Infos with the offsets the file will get (valid once alignment() is final).
  std::vector<TensorInfo> TensorInfos() const;

  // general.alignment if set (it must be a uint32 power of two <= 1 MiB), else 32.
  Result<uint32_t> alignment() const;

  // Writes the file atomically. Errors: InvalidArgument for an inconsistent writer (bad
  // alignment key, array items not of the array's type), IoError from the OS, or the status a
  // producer returned. On error the target is untouched and the temp file removed.
  Status WriteFile(const std::string& path) const;
  // The same bytes, in memory (tests, small files).
  Result<std::string> WriteToString() const;

 private:
  struct PendingTensor {
    TensorInfo info;                    // offset assigned at write time
    const uint8_t* borrowed = nullptr;  // one of: borrowed bytes,
    std::vector<uint8_t> owned;         // owned bytes (used when borrowed and producer are null),
    TensorProducer producer;            // or a producer
  };

  Result<TensorInfo> MakeInfo(std::string name, std::vector<uint64_t> dims, TensorType type);
  Status Validate() const;
  Status Emit(WriterOutput& out) const;
  Status EmitTensorData(WriterOutput& out, const PendingTensor& t) const;

  std::vector<KeyValue> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace mle::gguf
