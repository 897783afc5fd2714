// CSV parsing (see csv_data.h). Numbers are parsed with from_chars: no locale, no exceptions.
#include "train/csv_data.h"

#include <charconv>
#include <cmath>

#include "core/file_util.h"

namespace mle::train {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool ParseFloat(std::string_view s, float* out) {
  s = Trim(s);
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(*out);
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    fields.push_back(
        line.substr(start, comma == std::string_view::npos ? line.npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fields;
}

}  // namespace

Result<CsvTable> ParseCsv(std::string_view text, const std::string& name, bool has_label) {
  CsvTable table;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == text.npos ? text.npos : nl - pos);
    pos = nl == text.npos ? text.size() : nl + 1;
    ++line_no;
    if (Trim(line).empty()) continue;
    auto fields = SplitFields(line);
    float first = 0;
    if (line_no == 1 && !ParseFloat(fields[0], &first)) continue;  // header line
    int64_t n_feat = static_cast<int64_t>(fields.size()) - (has_label ? 1 : 0);
    if (n_feat <= 0) {
      return InvalidArgument(name + ":" + std::to_string(line_no) +
                             ": a row needs a label column and at least one feature");
    }
    if (table.n_features == 0) table.n_features = n_feat;
    if (n_feat != table.n_features) {
      return InvalidArgument(name + ":" + std::to_string(line_no) + ": row has " +
                             std::to_string(n_feat) + " features, earlier rows have " +
                             std::to_string(table.n_features));
    }
    size_t i = 0;
    if (has_label) {
      float label = 0;
      if (!ParseFloat(fields[0], &label) || label < 0 || label != std::floor(label)) {
        return InvalidArgument(name + ":" + std::to_string(line_no) + ": label '" +
                               std::string(Trim(fields[0])) + "' is not a non-negative integer");
      }
      table.labels.push_back(static_cast<int64_t>(label));
      i = 1;
    } else {
      table.labels.push_back(-1);
    }
    for (; i < fields.size(); ++i) {
      float v = 0;
      if (!ParseFloat(fields[i], &v)) {
        return InvalidArgument(name + ":" + std::to_string(line_no) + ": field " +
                               std::to_string(i + 1) + " ('" + std::string(Trim(fields[i])) +
                               "') is not a number");
      }
      table.features.push_back(v);
    }
  }
  if (table.labels.empty()) return InvalidArgument(name + ": no data rows");
  return table;
}

Result<CsvTable> ReadCsvFile(const std::string& path, bool has_label) {
  MLE_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseCsv(text, path, has_label);
}

}  // namespace mle::train
