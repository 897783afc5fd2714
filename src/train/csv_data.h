// CSV datasets: one example per line, the label in the first column and the features after
// it (the layout of the popular mnist_train.csv). A header line is skipped when its first
// field is not a number. All rows must have the same number of features.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace mle::train {

struct CsvTable {
  std::vector<int64_t> labels;  // one per row (-1 when `has_label` is false)
  std::vector<float> features;  // rows x n_features, row-major
  int64_t n_features = 0;
};

// Parses CSV text. With has_label=false every column is a feature (for predict inputs).
Result<CsvTable> ParseCsv(std::string_view text, const std::string& name, bool has_label);
Result<CsvTable> ReadCsvFile(const std::string& path, bool has_label);

}  // namespace mle::train
