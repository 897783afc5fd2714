// Tokenizer construction (vocabulary checks, lookup tables) and the tokenize entry point:
// split special tokens out, encode the raw fragments with SPM or BPE, add BOS / EOS.
#include "text/tokenizer.h"

#include <algorithm>

#include "text/tokenizer_internal.h"

namespace mle::text {
namespace {

using internal::TokenizerImpl;

void BuildSpm(const Vocab& vocab, internal::SpmModel* spm) {
  spm->map.Reserve(vocab.tokens.size());
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    spm->map.Insert(vocab.tokens[i], static_cast<int32_t>(i));
  }
  spm->scores = vocab.scores;
  spm->scores.resize(vocab.tokens.size(), 0.0f);
  // llama.cpp's byte_to_token: "<0xXX>", else the one-byte token itself.
  for (int b = 0; b < 256; ++b) {
    TokenId id = spm->map.Find(internal::ByteTokenText(static_cast<uint8_t>(b)));
    if (id < 0) id = spm->map.Find(std::string(1, static_cast<char>(b)));
    spm->byte_ids[b] = id;
  }
  spm->BuildPairs(vocab.tokens);
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<TokenizerImpl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::Create(Vocab vocab) {
  auto impl = std::make_unique<TokenizerImpl>();
  // llama.cpp renames empty token texts so that every text is a distinct, matchable key.
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    if (vocab.tokens[i].empty()) vocab.tokens[i] = "[EMPTY_" + std::to_string(i) + "]";
  }
  MLE_ASSIGN_OR_RETURN(impl->config, ResolveVocabConfig(vocab));
  impl->vocab = std::move(vocab);
  const Vocab& v = impl->vocab;
  impl->text_map.Reserve(v.tokens.size());
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    impl->text_map.Insert(v.tokens[i], static_cast<int32_t>(i));
  }
  impl->specials.Build(v.tokens, impl->config.attrs);
  if (impl->config.type == VocabType::kSpm) {
    BuildSpm(v, &impl->spm);
  } else {
    MLE_RETURN_IF_ERROR(impl->bpe.Build(v, impl->config));
    impl->pre = PreTokenizer(impl->config.pre_type);
  }
  impl->BuildPieces();
  auto tok = std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
  // The newline token: SPM's byte token for '\n', else whatever "\n" tokenizes to.
  VocabConfig& c = tok->impl_->config;
  if (c.type == VocabType::kSpm) {
    c.linefeed = tok->impl_->spm.byte_ids['\n'];
  } else {
    std::vector<TokenId> nl = tok->Tokenize("\n", false, false);
    c.linefeed = nl.empty() ? c.pad : nl[0];
  }
  return tok;
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromGguf(const std::string& path) {
  MLE_ASSIGN_OR_RETURN(Vocab vocab, LoadVocabFromGgufPath(path));
  auto tok = Create(std::move(vocab));
  if (!tok.ok()) return tok.status().WithContext(path);
  return tok;
}

std::vector<TokenId> Tokenizer::Tokenize(std::string_view text, bool add_special,
                                         bool parse_special) const {
  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 4);
  TokenizeAppend(text, add_special, parse_special, &out);
  return out;
}

void Tokenizer::TokenizeAppend(std::string_view text, bool add_special, bool parse_special,
                               std::vector<TokenId>* out) const {
  const VocabConfig& c = impl_->config;
  MLE_CHECK_MSG(text.size() < (size_t{1} << 32), "Tokenize: text of 4 GiB or more");
  std::vector<internal::Fragment> frags;
  impl_->specials.Partition(text, parse_special, &frags);
  if (add_special && c.add_bos) out->push_back(c.bos);
  if (c.type == VocabType::kSpm) {
    impl_->EncodeSpm(text, frags, out);
  } else {
    impl_->EncodeBpe(text, frags, out);
  }
  if (add_special && c.add_eos) out->push_back(c.eos);
}

const VocabConfig& Tokenizer::config() const {
  return impl_->config;
}

int32_t Tokenizer::n_tokens() const {
  return static_cast<int32_t>(impl_->vocab.tokens.size());
}

const std::string& Tokenizer::TokenText(TokenId id) const {
  return impl_->vocab.tokens.at(id);
}

float Tokenizer::TokenScore(TokenId id) const {
  MLE_CHECK(id >= 0 && id < n_tokens());
  return impl_->vocab.scores.empty() ? 0.0f : impl_->vocab.scores[id];
}

uint32_t Tokenizer::TokenAttrs(TokenId id) const {
  return id >= 0 && id < n_tokens() ? impl_->config.attrs[id] : 0;
}

TokenId Tokenizer::FindToken(std::string_view text) const {
  return impl_->text_map.Find(text);
}

bool Tokenizer::IsEog(TokenId id) const {
  const auto& eog = impl_->config.eog_ids;
  return id != kNoToken && std::binary_search(eog.begin(), eog.end(), id);
}

}  // namespace mle::text
