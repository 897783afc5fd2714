#include "lm/spm.h"

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "lm/spm_c_api.h"

namespace mle::lm::spm {
namespace {

struct Api {
  decltype(&mle_spm_api_version) api_version = nullptr;
  decltype(&mle_spm_train) train = nullptr;
  decltype(&mle_spm_load) load = nullptr;
  decltype(&mle_spm_unload) unload = nullptr;
  decltype(&mle_spm_size) size = nullptr;
  decltype(&mle_spm_piece) piece = nullptr;
  decltype(&mle_spm_score) score = nullptr;
  decltype(&mle_spm_kind) kind = nullptr;
  decltype(&mle_spm_piece_to_id) piece_to_id = nullptr;
  decltype(&mle_spm_encode) encode = nullptr;
  decltype(&mle_spm_decode) decode = nullptr;
};

std::vector<std::string> Candidates() {
  std::vector<std::string> out;
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n > 0) {
    const std::filesystem::path dir = std::filesystem::path(std::string(buf, n)).parent_path();
    out.push_back((dir / "libmle_spm.so").string());
    out.push_back((dir.parent_path() / "lib" / "libmle_spm.so").string());
  }
#ifdef MLE_SPM_MODULE_DEFAULT
  out.push_back(MLE_SPM_MODULE_DEFAULT);
#endif
  return out;
}

template <typename F>
bool Resolve(void* lib, const char* name, F* fn) {
  *fn = reinterpret_cast<F>(dlsym(lib, name));
  return *fn != nullptr;
}

Result<const Api*> GetApi() {
  static std::once_flag once;
  static Api api;
  static Status status;
  std::call_once(once, [] {
    std::string tried;
    void* lib = nullptr;
    for (const std::string& path : Candidates()) {
      std::error_code ec;
      if (!std::filesystem::exists(path, ec)) {
        tried += (tried.empty() ? "" : ", ") + path;
        continue;
      }
      // A namespace of its own: SentencePiece's protobuf copy must not meet LibTorch's.
      lib = dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!lib) {
        const char* e = dlerror();
        status = FailedPrecondition("cannot load the SentencePiece module '" + path +
                                    "': " + (e ? e : "unknown error") +
                                    " (is libsentencepiece0 installed? run scripts/setup.sh)");
        return;
      }
      break;
    }
    if (!lib) {
      status =
          FailedPrecondition("the SentencePiece module libmle_spm.so was not found (looked in " +
                             tried + "); rebuild with `make build`");
      return;
    }
    const bool ok =
        Resolve(lib, "mle_spm_api_version", &api.api_version) &&
        Resolve(lib, "mle_spm_train", &api.train) && Resolve(lib, "mle_spm_load", &api.load) &&
        Resolve(lib, "mle_spm_unload", &api.unload) && Resolve(lib, "mle_spm_size", &api.size) &&
        Resolve(lib, "mle_spm_piece", &api.piece) && Resolve(lib, "mle_spm_score", &api.score) &&
        Resolve(lib, "mle_spm_kind", &api.kind) &&
        Resolve(lib, "mle_spm_piece_to_id", &api.piece_to_id) &&
        Resolve(lib, "mle_spm_encode", &api.encode) && Resolve(lib, "mle_spm_decode", &api.decode);
    if (!ok || api.api_version() != MLE_SPM_API_VERSION) {
      status = FailedPrecondition(
          "the SentencePiece module libmle_spm.so is from another build; rebuild with `make "
          "build`");
    }
  });
  if (!status.ok()) return status;
  return &api;
}

void AppendSink(void* ctx, const char* data, size_t len) {
  static_cast<std::string*>(ctx)->append(data, len);
}

void IdsSink(void* ctx, const int* ids, size_t n) {
  static_cast<std::vector<int>*>(ctx)->assign(ids, ids + n);
}

struct NextCtx {
  const std::function<bool(std::string_view*)>* next;
  std::string_view current;
};

int NextTrampoline(void* ctx, const char** data, size_t* len) {
  auto* c = static_cast<NextCtx*>(ctx);
  if (!(*c->next)(&c->current)) return 0;
  *data = c->current.data();
  *len = c->current.size();
  return 1;
}

const Api& A() {
  return **GetApi();
}  // only after a successful GetApi()

}  // namespace

Result<std::string> Train(const std::unordered_map<std::string, std::string>& flags,
                          const std::function<bool(std::string_view*)>& next) {
  MLE_ASSIGN_OR_RETURN(const Api* api, GetApi());
  std::string kv;
  for (const auto& [k, v] : flags) kv += k + "=" + v + "\n";
  NextCtx ctx{&next, {}};
  std::string model, err;
  const int rc =
      api->train(kv.c_str(), &NextTrampoline, &ctx, &AppendSink, &model, &AppendSink, &err);
  if (rc != 0) return InvalidArgument(err.empty() ? "training failed" : err);
  return model;
}

Result<std::unique_ptr<Processor>> Processor::Load(const std::string& serialized_model) {
  MLE_ASSIGN_OR_RETURN(const Api* api, GetApi());
  std::string err;
  void* h = api->load(serialized_model.data(), serialized_model.size(), &AppendSink, &err);
  if (!h) return InvalidArgument(err.empty() ? "not a SentencePiece model" : err);
  return std::unique_ptr<Processor>(new Processor(h));
}

Processor::~Processor() {
  A().unload(h_);
}
int Processor::size() const {
  return A().size(h_);
}
std::string Processor::IdToPiece(int id) const {
  std::string s;
  A().piece(h_, id, &AppendSink, &s);
  return s;
}
int Processor::PieceToId(std::string_view piece) const {
  return A().piece_to_id(h_, piece.data(), piece.size());
}
float Processor::Score(int id) const {
  return A().score(h_, id);
}
int Processor::Kind(int id) const {
  return A().kind(h_, id);
}
bool Processor::IsUnknown(int id) const {
  return Kind(id) & MLE_SPM_UNKNOWN;
}
bool Processor::IsControl(int id) const {
  return Kind(id) & MLE_SPM_CONTROL;
}
bool Processor::IsByte(int id) const {
  return Kind(id) & MLE_SPM_BYTE;
}
bool Processor::IsUnused(int id) const {
  return Kind(id) & MLE_SPM_UNUSED;
}

std::vector<int> Processor::Encode(std::string_view text) const {
  std::vector<int> ids;
  A().encode(h_, text.data(), text.size(), &IdsSink, &ids);
  return ids;
}

std::string Processor::Decode(const std::vector<int>& ids) const {
  std::string out;
  A().decode(h_, ids.data(), ids.size(), &AppendSink, &out);
  return out;
}

}  // namespace mle::lm::spm
