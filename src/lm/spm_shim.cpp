// libmle_spm.so: SentencePiece behind a plain C interface, loaded at run time by spm.cpp.
//
// Why a separate module: Debian's libsentencepiece carries its own copy of protobuf-lite and
// exports those symbols. Linked into the same program as LibTorch (which loads the system
// libprotobuf through ONNX), the two copies interpose each other and the program crashes
// before main. spm.cpp therefore loads this module into a link-map namespace of its own
// (dlmopen), where SentencePiece sees only its own protobuf. Nothing allocated here is freed
// by the caller or the other way round (each namespace has its own allocator): results go
// out through sink callbacks that copy them.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "lm/spm_c_api.h"

namespace {

class CallbackIterator : public sentencepiece::SentenceIterator {
 public:
  CallbackIterator(MleSpmNext next, void* ctx) : next_(next), ctx_(ctx) { Next(); }
  bool done() const override { return done_; }
  void Next() override {
    const char* data = nullptr;
    size_t len = 0;
    done_ = next_(ctx_, &data, &len) == 0;
    if (!done_) value_.assign(data, len);
  }
  const std::string& value() const override { return value_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  MleSpmNext next_;
  void* ctx_;
  bool done_ = false;
  std::string value_;
};

void Emit(MleSpmSink sink, void* ctx, const std::string& s) {
  if (sink) sink(ctx, s.data(), s.size());
}

}  // namespace

extern "C" {

int mle_spm_api_version(void) {
  return MLE_SPM_API_VERSION;
}

int mle_spm_train(const char* kv_lines, MleSpmNext next, void* next_ctx, MleSpmSink model_sink,
                  void* model_ctx, MleSpmSink err_sink, void* err_ctx) {
  std::unordered_map<std::string, std::string> args;
  std::string all(kv_lines);
  size_t pos = 0;
  while (pos < all.size()) {
    size_t end = all.find('\n', pos);
    if (end == std::string::npos) end = all.size();
    const std::string line = all.substr(pos, end - pos);
    const size_t eq = line.find('=');
    if (eq != std::string::npos) args[line.substr(0, eq)] = line.substr(eq + 1);
    pos = end + 1;
  }
  CallbackIterator it(next, next_ctx);
  std::string model;
  sentencepiece::util::Status st = sentencepiece::SentencePieceTrainer::Train(args, &it, &model);
  if (!st.ok()) {
    Emit(err_sink, err_ctx, st.message());
    return static_cast<int>(st.code()) == 0 ? 13 : static_cast<int>(st.code());
  }
  Emit(model_sink, model_ctx, model);
  return 0;
}

void* mle_spm_load(const char* model, size_t len, MleSpmSink err_sink, void* err_ctx) {
  auto* sp = new sentencepiece::SentencePieceProcessor();
  sentencepiece::util::Status st = sp->LoadFromSerializedProto(std::string_view(model, len));
  if (!st.ok()) {
    Emit(err_sink, err_ctx, st.message());
    delete sp;
    return nullptr;
  }
  return sp;
}

void mle_spm_unload(void* h) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(h);
}

int mle_spm_size(void* h) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(h)->GetPieceSize();
}

void mle_spm_piece(void* h, int id, MleSpmSink sink, void* ctx) {
  Emit(sink, ctx, static_cast<sentencepiece::SentencePieceProcessor*>(h)->IdToPiece(id));
}

float mle_spm_score(void* h, int id) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(h)->GetScore(id);
}

int mle_spm_kind(void* h, int id) {
  auto* sp = static_cast<sentencepiece::SentencePieceProcessor*>(h);
  int k = 0;
  if (sp->IsUnknown(id)) k |= MLE_SPM_UNKNOWN;
  if (sp->IsControl(id)) k |= MLE_SPM_CONTROL;
  if (sp->IsByte(id)) k |= MLE_SPM_BYTE;
  if (sp->IsUnused(id)) k |= MLE_SPM_UNUSED;
  return k;
}

int mle_spm_piece_to_id(void* h, const char* piece, size_t len) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(h)->PieceToId(
      std::string_view(piece, len));
}

int mle_spm_encode(void* h, const char* text, size_t len, MleSpmIdsSink sink, void* ctx) {
  std::vector<int> ids;
  sentencepiece::util::Status st = static_cast<sentencepiece::SentencePieceProcessor*>(h)->Encode(
      std::string_view(text, len), &ids);
  if (!st.ok()) return static_cast<int>(st.code());
  sink(ctx, ids.data(), ids.size());
  return 0;
}

int mle_spm_decode(void* h, const int* ids, size_t n, MleSpmSink sink, void* ctx) {
  std::string out;
  sentencepiece::util::Status st = static_cast<sentencepiece::SentencePieceProcessor*>(h)->Decode(
      std::vector<int>(ids, ids + n), &out);
  if (!st.ok()) return static_cast<int>(st.code());
  Emit(sink, ctx, out);
  return 0;
}

}  // extern "C"
