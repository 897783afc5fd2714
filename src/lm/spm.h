// SentencePiece for the own-LLM tokenizer, through libmle_spm.so loaded into a link-map
// namespace of its own (see spm_shim.cpp for why it cannot be linked in directly). The module
// is found beside the running program (bin/libmle_spm.so or lib/libmle_spm.so) or in the build
// tree it was built in; it is loaded once, on first use. Thread-safe after loading; a
// Processor is immutable.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace mle::lm::spm {

// Trains a model from the sentences `next` yields (it returns false at the end), with
// SentencePiece trainer flags. Returns the serialized model. Errors: FailedPrecondition when
// the module cannot be loaded; InvalidArgument with SentencePiece's own message for training
// failures (the caller rewords the ones users meet).
Result<std::string> Train(const std::unordered_map<std::string, std::string>& flags,
                          const std::function<bool(std::string_view* sentence)>& next);

class Processor {
 public:
  static Result<std::unique_ptr<Processor>> Load(const std::string& serialized_model);
  ~Processor();
  Processor(const Processor&) = delete;
  Processor& operator=(const Processor&) = delete;

  int size() const;
  std::string IdToPiece(int id) const;
  int PieceToId(std::string_view piece) const;
  float Score(int id) const;
  bool IsUnknown(int id) const;
  bool IsControl(int id) const;
  bool IsByte(int id) const;
  bool IsUnused(int id) const;
  std::vector<int> Encode(std::string_view text) const;
  std::string Decode(const std::vector<int>& ids) const;

 private:
  explicit Processor(void* h) : h_(h) {}
  int Kind(int id) const;
  void* h_;
};

}  // namespace mle::lm::spm
