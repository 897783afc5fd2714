// Inputs for prediction: 28x28 grayscale images from an IDX file (one or many images), a
// CSV (784 pixels per row, optionally preceded by a label column), a PNG or a PGM (P2/P5).
// The format is recognised from the content, not the file name. Pixels are 0..255.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace mle::train {

struct ImageBatch {
  int64_t n = 0;
  int64_t height = 28, width = 28;
  std::vector<float> pixels;  // n * height * width, row-major, 0..255
  std::string format;         // "idx" | "csv" | "png" | "pgm"
};

Result<ImageBatch> LoadImages(const std::string& path);
// Decoders on bytes (exposed for tests). `name` is used in messages.
Result<ImageBatch> DecodePgm(std::string_view bytes, const std::string& name);
Result<ImageBatch> DecodePng(std::string_view bytes, const std::string& name);

}  // namespace mle::train
