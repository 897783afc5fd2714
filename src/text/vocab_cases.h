// llama.cpp's tokenizer test-case files: `NAME.inp` holds cases, each followed by the line
// "__ggml_vocab_test__" (the newline before that line belongs to the separator, not to the
// case); `NAME.out` holds one line per case with the ids, each preceded by a space.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "text/vocab.h"

namespace mle::text {

inline constexpr std::string_view kVocabTestSeparator = "\n__ggml_vocab_test__\n";

// Splits an .inp file's content into cases. Text after the last separator is one more case
// when non-empty (files need not end with a separator).
std::vector<std::string> ParseVocabTestCases(std::string_view content);

// Parses an .out file's content: one vector of ids per line. Errors name the line.
Result<std::vector<std::vector<TokenId>>> ParseVocabTestIds(std::string_view content);

// The .out line for `ids`: " 1 2 3" (no newline); "" for no ids.
std::string FormatVocabTestIds(std::span<const TokenId> ids);

// Reads a whole file. Errors: NotFound / IoError naming the path.
Result<std::string> ReadTextFile(const std::string& path);

}  // namespace mle::text
