// Reading and writing llama.cpp's tokenizer test-case format (see vocab_cases.h), shared by
// the conformance tests and `ml-engine tokenize --cases`.
#include "text/vocab_cases.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mle::text {

std::vector<std::string> ParseVocabTestCases(std::string_view content) {
  std::vector<std::string> cases;
  size_t pos = 0;
  for (;;) {
    const size_t sep = content.find(kVocabTestSeparator, pos);
    if (sep == std::string_view::npos) break;
    cases.emplace_back(content.substr(pos, sep - pos));
    pos = sep + kVocabTestSeparator.size();
  }
  if (pos < content.size()) cases.emplace_back(content.substr(pos));
  return cases;
}

Result<std::vector<std::vector<TokenId>>> ParseVocabTestIds(std::string_view content) {
  std::vector<std::vector<TokenId>> lines;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t eol = content.find('\n', pos);
    if (eol == std::string_view::npos) eol = content.size();
    std::string_view line = content.substr(pos, eol - pos);
    std::vector<TokenId>& ids = lines.emplace_back();
    size_t i = 0;
    while (i < line.size()) {
      if (line[i] == ' ' || line[i] == '\r') {
        ++i;
        continue;
      }
      TokenId id = 0;
      auto [end, ec] = std::from_chars(line.data() + i, line.data() + line.size(), id);
      if (ec != std::errc() || end == line.data() + i) {
        return InvalidArgument("line " + std::to_string(lines.size()) + ": not a token id: '" +
                               std::string(line) + "'");
      }
      ids.push_back(id);
      i = static_cast<size_t>(end - line.data());
    }
    pos = eol + 1;
  }
  return lines;
}

std::string FormatVocabTestIds(std::span<const TokenId> ids) {
  std::string out;
  for (TokenId id : ids) {
    out.push_back(' ');
    out += std::to_string(id);
  }
  return out;
}

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return errno == ENOENT ? NotFound("cannot open '" + path + "': no such file")
                           : IoError("cannot open '" + path + "': " + std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError("cannot read '" + path + "'");
  return ss.str();
}

}  // namespace mle::text
