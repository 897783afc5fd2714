// GgufWriter (see gguf_writer.h). The layout mirrors what llama.cpp's gguf_write produces:
// header, key/values in order, tensor infos with offsets assigned in order, zero padding to
// the alignment, then each tensor's bytes followed by zero padding to the alignment. A file
// without tensors ends right after the tensor infos (as llama.cpp's vocab-only files do).
#include "gguf/gguf_writer.h"

#include "core/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace mle::gguf {

class WriterOutput {
 public:
  virtual ~WriterOutput() = default;
  uint64_t written() const { return written_; }

  Status Write(const void* data, size_t n) {
    written_ += n;
    return DoWrite(static_cast<const uint8_t*>(data), n);
  }
  template <typename T>
  Status Put(T v) {
    return Write(&v, sizeof(v));
  }
  Status PutString(const std::string& s) {
    MLE_RETURN_IF_ERROR(Put<uint64_t>(s.size()));
    return Write(s.data(), s.size());
  }
  Status PadTo(uint64_t alignment) {
    static const uint8_t kZeros[256] = {};
    uint64_t pad = (alignment - written_ % alignment) % alignment;
    while (pad > 0) {
      size_t n = pad < sizeof(kZeros) ? pad : sizeof(kZeros);
      MLE_RETURN_IF_ERROR(Write(kZeros, n));
      pad -= n;
    }
    return Status::Ok();
  }

 private:
  virtual Status DoWrite(const uint8_t* data, size_t n) = 0;
  uint64_t written_ = 0;
};

namespace {

class StringOutput : public WriterOutput {
 public:
  explicit StringOutput(std::string* out) : out_(out) {}

 private:
  Status DoWrite(const uint8_t* data, size_t n) override {
    out_->append(reinterpret_cast<const char*>(data), n);
    return Status::Ok();
  }
  std::string* out_;
};

// Buffered writes to a file descriptor; large writes bypass the buffer.
class FdOutput : public WriterOutput {
 public:
  FdOutput(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  Status Flush() {
    MLE_RETURN_IF_ERROR(WriteAll(buf_.data(), buf_.size()));
    buf_.clear();
    return Status::Ok();
  }

 private:
  static constexpr size_t kBufferBytes = 1 << 20;

  Status DoWrite(const uint8_t* data, size_t n) override {
    if (buf_.size() + n > kBufferBytes) {
      MLE_RETURN_IF_ERROR(Flush());
      if (n >= kBufferBytes) return WriteAll(data, n);
    }
    buf_.insert(buf_.end(), data, data + n);
    return Status::Ok();
  }
  Status WriteAll(const uint8_t* data, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd_, data, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return IoError("cannot write '" + path_ + "': " + std::strerror(errno));
      }
      data += w;
      n -= static_cast<size_t>(w);
    }
    return Status::Ok();
  }

  int fd_;
  std::string path_;
  std::vector<uint8_t> buf_;
};

// Forwards a producer's bytes and counts them, refusing more than the tensor's size.
class CountingSink : public TensorSink {
 public:
  CountingSink(WriterOutput& out, const TensorInfo& info) : out_(out), info_(info) {}
  Status Write(const uint8_t* data, size_t n) override {
    if (n > info_.size_bytes - written_) {
      return InvalidArgument("tensor '" + info_.name + "': producer wrote more than its " +
                             std::to_string(info_.size_bytes) + " bytes");
    }
    written_ += n;
    return out_.Write(data, n);
  }
  uint64_t written() const { return written_; }

 private:
  WriterOutput& out_;
  const TensorInfo& info_;
  uint64_t written_ = 0;
};

Status EmitValue(WriterOutput& out, const Value& v) {
  return std::visit(
      [&out](const auto& x) -> Status {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return out.PutString(x);
        } else if constexpr (std::is_same_v<T, Array>) {
          MLE_RETURN_IF_ERROR(out.Put<uint32_t>(static_cast<uint32_t>(x.elem_type)));
          MLE_RETURN_IF_ERROR(out.Put<uint64_t>(x.items.size()));
          for (const Value& item : x.items) MLE_RETURN_IF_ERROR(EmitValue(out, item));
          return Status::Ok();
        } else if constexpr (std::is_same_v<T, bool>) {
          return out.Put<uint8_t>(x ? 1 : 0);
        } else {
          return out.Put<T>(x);
        }
      },
      v.storage());
}

// Every array item must have the array's declared type (else the file would not parse).
Status CheckValue(const std::string& key, const Value& v, int depth) {
  if (v.type() != ValueType::kArray) return Status::Ok();
  if (depth >= static_cast<int>(GgufLimits::kMaxArrayDepth)) {
    return InvalidArgument("metadata key '" + key + "': arrays nested too deep");
  }
  const Array& a = v.array();
  for (const Value& item : a.items) {
    if (item.type() != a.elem_type) {
      return InvalidArgument("metadata key '" + key + "': array of " +
                             std::string(ValueTypeName(a.elem_type)) + " holds a " +
                             std::string(ValueTypeName(item.type())) + " item");
    }
    MLE_RETURN_IF_ERROR(CheckValue(key, item, depth + 1));
  }
  return Status::Ok();
}

Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open directory '" + dir + "': " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("cannot fsync directory '" + dir + "': " + std::strerror(err));
  return Status::Ok();
}

}  // namespace

GgufWriter GgufWriter::FromFile(const GgufFile& src) {
  GgufWriter w;
  w.metadata_ = src.metadata();
  for (const TensorInfo& t : src.tensors()) {
    PendingTensor p;
    p.info = t;
    p.borrowed = src.TensorData(t);
    w.tensors_.push_back(std::move(p));
  }
  return w;
}

void GgufWriter::Set(std::string_view key, Value value) {
  for (KeyValue& kv : metadata_) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  }
  metadata_.push_back(KeyValue{std::string(key), std::move(value)});
}

void GgufWriter::SetStringArray(std::string_view key, const std::vector<std::string>& items) {
  std::vector<Value> values;
  values.reserve(items.size());
  for (const std::string& s : items) values.emplace_back(s);
  SetArray(key, ValueType::kString, std::move(values));
}

void GgufWriter::SetFloat32Array(std::string_view key, const std::vector<float>& items) {
  std::vector<Value> values;
  values.reserve(items.size());
  for (float f : items) values.emplace_back(f);
  SetArray(key, ValueType::kFloat32, std::move(values));
}

void GgufWriter::SetInt32Array(std::string_view key, const std::vector<int32_t>& items) {
  std::vector<Value> values;
  values.reserve(items.size());
  for (int32_t i : items) values.emplace_back(i);
  SetArray(key, ValueType::kInt32, std::move(values));
}

bool GgufWriter::Remove(std::string_view key) {
  for (auto it = metadata_.begin(); it != metadata_.end(); ++it) {
    if (it->key == key) {
      metadata_.erase(it);
      return true;
    }
  }
  return false;
}

const Value* GgufWriter::Find(std::string_view key) const {
  for (const KeyValue& kv : metadata_) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

Result<TensorInfo> GgufWriter::MakeInfo(std::string name, std::vector<uint64_t> dims,
                                        TensorType type) {
  if (name.empty() || name.size() > GgufLimits::kMaxNameBytes) {
    return InvalidArgument("tensor name '" + name + "' is empty or too long");
  }
  for (const PendingTensor& t : tensors_) {
    if (t.info.name == name) return InvalidArgument("duplicate tensor name '" + name + "'");
  }
  if (dims.size() > GgufLimits::kMaxDims) {
    return InvalidArgument("tensor '" + name + "' has " + std::to_string(dims.size()) +
                           " dimensions (at most 4)");
  }
  auto type_info = GetTensorTypeInfo(type);
  if (!type_info) return InvalidArgument("tensor '" + name + "' has an unknown type");
  TensorInfo info;
  info.name = std::move(name);
  info.type = type;
  info.n_elements = 1;
  for (uint64_t d : dims) {
    if (__builtin_mul_overflow(info.n_elements, d, &info.n_elements) ||
        info.n_elements > GgufLimits::kMaxElements) {
      return InvalidArgument("tensor '" + info.name + "': too many elements");
    }
  }
  uint64_t ne0 = dims.empty() ? 1 : dims[0];
  if (ne0 % type_info->block_size != 0) {
    return InvalidArgument("tensor '" + info.name + "' (" + std::string(type_info->name) +
                           "): first dimension " + std::to_string(ne0) +
                           " is not a multiple of the block size " +
                           std::to_string(type_info->block_size));
  }
  info.size_bytes = info.n_elements / type_info->block_size * type_info->type_size;
  info.dims = std::move(dims);
  return info;
}

Status GgufWriter::AddTensor(std::string name, std::vector<uint64_t> dims, TensorType type,
                             const uint8_t* data, uint64_t size_bytes) {
  MLE_ASSIGN_OR_RETURN(TensorInfo info, MakeInfo(std::move(name), std::move(dims), type));
  if (size_bytes != info.size_bytes || (data == nullptr && size_bytes > 0)) {
    return InvalidArgument("tensor '" + info.name + "': " + std::to_string(size_bytes) +
                           " bytes given, its shape and type need " +
                           std::to_string(info.size_bytes));
  }
  static const uint8_t kNothing = 0;
  PendingTensor p;
  p.info = std::move(info);
  p.borrowed = data != nullptr ? data : &kNothing;
  tensors_.push_back(std::move(p));
  return Status::Ok();
}

Status GgufWriter::AddTensorOwned(std::string name, std::vector<uint64_t> dims, TensorType type,
                                  std::vector<uint8_t> data) {
  MLE_ASSIGN_OR_RETURN(TensorInfo info, MakeInfo(std::move(name), std::move(dims), type));
  if (data.size() != info.size_bytes) {
    return InvalidArgument("tensor '" + info.name + "': " + std::to_string(data.size()) +
                           " bytes given, its shape and type need " +
                           std::to_string(info.size_bytes));
  }
  PendingTensor p;
  p.info = std::move(info);
  p.owned = std::move(data);
  tensors_.push_back(std::move(p));
  return Status::Ok();
}

Status GgufWriter::AddTensorStreamed(std::string name, std::vector<uint64_t> dims, TensorType type,
                                     TensorProducer producer) {
  MLE_ASSIGN_OR_RETURN(TensorInfo info, MakeInfo(std::move(name), std::move(dims), type));
  if (!producer) return InvalidArgument("tensor '" + info.name + "': no producer given");
  PendingTensor p;
  p.info = std::move(info);
  p.producer = std::move(producer);
  tensors_.push_back(std::move(p));
  return Status::Ok();
}

Result<uint32_t> GgufWriter::alignment() const {
  const Value* v = Find(kAlignmentKey);
  if (v == nullptr) return kDefaultAlignment;
  if (v->type() != ValueType::kUint32) {
    return InvalidArgument(std::string(kAlignmentKey) + " must be a uint32, not " +
                           std::string(ValueTypeName(v->type())));
  }
  uint32_t a = v->get<uint32_t>();
  if (!std::has_single_bit(a) || a > GgufLimits::kMaxAlignment) {
    return InvalidArgument(std::string(kAlignmentKey) + " = " + std::to_string(a) +
                           " is not a power of two <= 1 MiB");
  }
  return a;
}

std::vector<TensorInfo> GgufWriter::TensorInfos() const {
  uint64_t a = alignment().ok() ? alignment().value() : kDefaultAlignment;
  std::vector<TensorInfo> infos;
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    infos.push_back(t.info);
    infos.back().offset = offset;
    offset += (t.info.size_bytes + a - 1) / a * a;
  }
  return infos;
}

Status GgufWriter::Validate() const {
  MLE_RETURN_IF_ERROR(alignment().status().ok() ? Status::Ok() : alignment().status());
  for (const KeyValue& kv : metadata_) {
    if (kv.key.empty() || kv.key.size() > GgufLimits::kMaxNameBytes) {
      return InvalidArgument("metadata key '" + kv.key + "' is empty or too long");
    }
    MLE_RETURN_IF_ERROR(CheckValue(kv.key, kv.value, 0));
  }
  return Status::Ok();
}

Status GgufWriter::Emit(WriterOutput& out) const {
  MLE_RETURN_IF_ERROR(Validate());
  const uint64_t a = alignment().value();
  MLE_RETURN_IF_ERROR(out.Put<uint32_t>(kGgufMagic));
  MLE_RETURN_IF_ERROR(out.Put<uint32_t>(3));
  MLE_RETURN_IF_ERROR(out.Put<uint64_t>(tensors_.size()));
  MLE_RETURN_IF_ERROR(out.Put<uint64_t>(metadata_.size()));
  for (const KeyValue& kv : metadata_) {
    MLE_RETURN_IF_ERROR(out.PutString(kv.key));
    MLE_RETURN_IF_ERROR(out.Put<uint32_t>(static_cast<uint32_t>(kv.value.type())));
    MLE_RETURN_IF_ERROR(EmitValue(out, kv.value));
  }
  for (const TensorInfo& t : TensorInfos()) {
    MLE_RETURN_IF_ERROR(out.PutString(t.name));
    MLE_RETURN_IF_ERROR(out.Put<uint32_t>(static_cast<uint32_t>(t.dims.size())));
    for (uint64_t d : t.dims) MLE_RETURN_IF_ERROR(out.Put<uint64_t>(d));
    MLE_RETURN_IF_ERROR(out.Put<uint32_t>(static_cast<uint32_t>(t.type)));
    MLE_RETURN_IF_ERROR(out.Put<uint64_t>(t.offset));
  }
  if (tensors_.empty()) return Status::Ok();
  MLE_RETURN_IF_ERROR(out.PadTo(a));
  for (const PendingTensor& t : tensors_) {
    MLE_RETURN_IF_ERROR(EmitTensorData(out, t));
    MLE_RETURN_IF_ERROR(out.PadTo(a));
  }
  return Status::Ok();
}

Status GgufWriter::EmitTensorData(WriterOutput& out, const PendingTensor& t) const {
  if (t.producer) {
    CountingSink sink(out, t.info);
    MLE_RETURN_IF_ERROR(t.producer(sink));
    if (sink.written() != t.info.size_bytes) {
      return InvalidArgument("tensor '" + t.info.name + "': producer wrote " +
                             std::to_string(sink.written()) + " of its " +
                             std::to_string(t.info.size_bytes) + " bytes");
    }
    return Status::Ok();
  }
  const uint8_t* data = t.borrowed != nullptr ? t.borrowed : t.owned.data();
  return out.Write(data, t.info.size_bytes);
}

Result<std::string> GgufWriter::WriteToString() const {
  std::string bytes;
  StringOutput out(&bytes);
  MLE_RETURN_IF_ERROR(Emit(out));
  return bytes;
}

Status GgufWriter::WriteFile(const std::string& path) const {
  MLE_RETURN_IF_ERROR(CheckOutputFilePath(path));
  static std::atomic<unsigned> counter{0};
  std::filesystem::path target(path);
  std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create '" + tmp + "': " + std::strerror(errno));
  FdOutput out(fd, tmp);
  Status s = Emit(out);
  if (s.ok()) s = out.Flush();
  if (s.ok() && ::fsync(fd) != 0)
    s = IoError("cannot fsync '" + tmp + "': " + std::strerror(errno));
  if (::close(fd) != 0 && s.ok())
    s = IoError("cannot close '" + tmp + "': " + std::strerror(errno));
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = IoError("cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(errno));
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return FsyncDir(dir);
}

}  // namespace mle::gguf
