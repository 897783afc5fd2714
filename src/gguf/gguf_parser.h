// Internal to mle_gguf: the validating GGUF parser behind GgufFile::Open / FromBuffer.
// Not part of the public API; include gguf/gguf_file.h instead.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "gguf/gguf_file.h"

namespace mle::gguf {

class ByteReader;  // a bounds-checked cursor, defined in gguf_parser.cpp

class GgufParser {
 public:
  // Parses file->data_[0, file->size_) into *file (header, metadata, tensor infos) and checks
  // every tensor's bytes lie inside the buffer. On error *file is left partially filled and
  // must be discarded.
  static Status Parse(GgufFile* file);

 private:
  GgufParser(GgufFile* f, ByteReader* r) : f_(f), r_(r) {}

  Status ParseHeader(uint32_t* version, uint64_t* n_tensors, uint64_t* n_kv);
  Status ParseMetadata(uint64_t n_kv);
  Status ParseValue(ValueType type, uint32_t depth, const std::string& key, Value* out);
  Status ParseArray(uint32_t depth, const std::string& key, Value* out);
  Status ParseTensorInfos(uint64_t n_tensors);
  Status ParseTensorInfo(TensorInfo* t);
  Status ParseTensorShape(const std::string& name, TensorInfo* t);

  GgufFile* f_;
  ByteReader* r_;
  uint64_t n_array_items_ = 0;  // all array items read so far, nested ones included
};

}  // namespace mle::gguf
