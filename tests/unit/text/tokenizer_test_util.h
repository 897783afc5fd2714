// Shared helpers for the tokenizer tests: the vocabularies of shared/testdata/vocab, loaded
// once per test process (BPE vocabularies with 100k+ merges take a moment to index).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "text/tokenizer.h"

namespace mle::text::testing_util {

// The tokenizer of shared/testdata/vocab/ggml-vocab-NAME.gguf; fails the test if missing.
inline const Tokenizer& SharedTokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    auto tok = Tokenizer::FromGguf(std::string(MLE_SHARED_DIR) + "/testdata/vocab/ggml-vocab-" +
                                   name + ".gguf");
    if (!tok.ok()) {
      ADD_FAILURE() << tok.status().ToString();
      std::abort();
    }
    it = cache.emplace(name, std::move(tok).value()).first;
  }
  return *it->second;
}

}  // namespace mle::text::testing_util
