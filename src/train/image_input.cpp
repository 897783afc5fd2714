// Image input decoding (see image_input.h). PNG goes through libpng with transforms that
// reduce any color type and bit depth to 8-bit gray; PGM is parsed here (it is tiny).
#include "train/image_input.h"

#include <png.h>

#include <cctype>
#include <cstring>

#include "train/csv_data.h"
#include "train/idx.h"

namespace mle::train {
namespace {

constexpr int64_t kSide = 28;

Status CheckSize(int64_t h, int64_t w, const std::string& name) {
  if (h != kSide || w != kSide) {
    return InvalidArgument("'" + name + "' is " + std::to_string(w) + "x" + std::to_string(h) +
                           "; the models expect 28x28 grayscale images (resize it first)");
  }
  return Status::Ok();
}

// Reads the next whitespace-separated token of a PGM header, skipping # comments.
bool NextToken(std::string_view s, size_t& pos, std::string& tok) {
  tok.clear();
  while (pos < s.size()) {
    if (s[pos] == '#') {
      while (pos < s.size() && s[pos] != '\n') ++pos;
    } else if (std::isspace(static_cast<unsigned char>(s[pos]))) {
      ++pos;
    } else {
      break;
    }
  }
  while (pos < s.size() && !std::isspace(static_cast<unsigned char>(s[pos]))) tok += s[pos++];
  return !tok.empty() && tok.size() < 12;
}

struct PngReader {
  std::string_view data;
  size_t pos = 0;
};

void PngRead(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<PngReader*>(png_get_io_ptr(png));
  if (r->pos + n > r->data.size()) png_error(png, "truncated PNG data");
  std::memcpy(out, r->data.data() + r->pos, n);
  r->pos += n;
}

}  // namespace

Result<ImageBatch> DecodePgm(std::string_view s, const std::string& name) {
  size_t pos = 0;
  std::string magic, tw, th, tmax;
  if (!NextToken(s, pos, magic) || (magic != "P2" && magic != "P5") || !NextToken(s, pos, tw) ||
      !NextToken(s, pos, th) || !NextToken(s, pos, tmax)) {
    return InvalidArgument("'" + name + "' is not a valid PGM image (bad header)");
  }
  int64_t w = std::atoll(tw.c_str()), h = std::atoll(th.c_str()), maxv = std::atoll(tmax.c_str());
  if (w <= 0 || h <= 0 || maxv <= 0 || maxv > 255) {
    return InvalidArgument("'" + name + "' has an unsupported PGM header (8-bit gray only)");
  }
  MLE_RETURN_IF_ERROR(CheckSize(h, w, name));
  ImageBatch b;
  b.n = 1;
  b.format = "pgm";
  b.pixels.resize(h * w);
  if (magic == "P5") {
    ++pos;  // exactly one whitespace byte after maxval
    if (s.size() < pos + h * w) return InvalidArgument("'" + name + "' is a truncated PGM image");
    for (int64_t i = 0; i < h * w; ++i) b.pixels[i] = uint8_t(s[pos + i]) * 255.0f / maxv;
  } else {
    std::string tok;
    for (int64_t i = 0; i < h * w; ++i) {
      if (!NextToken(s, pos, tok))
        return InvalidArgument("'" + name + "' is a truncated PGM image");
      long v = std::atol(tok.c_str());
      if (v < 0 || v > maxv) return InvalidArgument("'" + name + "' has a pixel out of range");
      b.pixels[i] = v * 255.0f / maxv;
    }
  }
  return b;
}

Result<ImageBatch> DecodePng(std::string_view bytes, const std::string& name) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return Internal("libpng initialization failed");
  }
  PngReader reader{bytes, 0};
  ImageBatch b;
  std::vector<png_bytep> rows;
  std::vector<uint8_t> buf;
  // libpng reports errors by longjmp: nothing with a destructor may be created below.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return InvalidArgument("'" + name + "' is a corrupt or unsupported PNG image");
  }
  png_set_read_fn(png, &reader, PngRead);
  png_read_info(png, info);
  png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  int color = png_get_color_type(png, info);
  if (png_get_bit_depth(png, info) == 16) png_set_strip_16(png);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) {
    png_set_expand_gray_1_2_4_to_8(png);
  }
  if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
  if (color == PNG_COLOR_TYPE_RGB || color == PNG_COLOR_TYPE_RGB_ALPHA ||
      color == PNG_COLOR_TYPE_PALETTE) {
    png_set_rgb_to_gray_fixed(png, 1, -1, -1);
  }
  png_read_update_info(png, info);
  bool size_ok = w == kSide && h == kSide && png_get_rowbytes(png, info) == kSide;
  if (size_ok) {
    buf.resize(kSide * kSide);
    rows.resize(kSide);
    for (int64_t y = 0; y < kSide; ++y) rows[y] = buf.data() + y * kSide;
    png_read_image(png, rows.data());
  }
  png_destroy_read_struct(&png, &info, nullptr);
  MLE_RETURN_IF_ERROR(CheckSize(h, w, name));
  if (!size_ok) return InvalidArgument("'" + name + "' could not be reduced to 8-bit gray");
  b.n = 1;
  b.format = "png";
  b.pixels.assign(buf.begin(), buf.end());
  return b;
}

Result<ImageBatch> LoadImages(const std::string& path) {
  MLE_ASSIGN_OR_RETURN(std::string bytes, ReadMaybeGzip(path));
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), "\x89PNG\r\n\x1a\n", 8) == 0) {
    return DecodePng(bytes, path);
  }
  if (bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '2' || bytes[1] == '5')) {
    return DecodePgm(bytes, path);
  }
  if (bytes.size() >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x08) {
    MLE_ASSIGN_OR_RETURN(IdxArray arr, ParseIdx(bytes, path));
    int64_t n = 1;
    if (arr.dims.size() == 3) {
      n = arr.dims[0];
      MLE_RETURN_IF_ERROR(CheckSize(arr.dims[1], arr.dims[2], path));
    } else if (arr.dims.size() == 2) {
      MLE_RETURN_IF_ERROR(CheckSize(arr.dims[0], arr.dims[1], path));
    } else {
      return InvalidArgument("'" + path + "' is an IDX file but not of images (use an " +
                             "images-idx3-ubyte file)");
    }
    ImageBatch b;
    b.n = n;
    b.format = "idx";
    b.pixels.assign(arr.data.begin(), arr.data.end());
    return b;
  }
  auto table = ParseCsv(bytes, path, /*has_label=*/false);
  if (!table.ok()) {
    return InvalidArgument("'" + path + "' is not a PNG, PGM, IDX or CSV file of 28x28 images (" +
                           table.status().message() + ")");
  }
  int64_t nf = table->n_features;
  if (nf != kSide * kSide && nf != kSide * kSide + 1) {
    return InvalidArgument("'" + path + "' rows have " + std::to_string(nf) +
                           " values; expected 784 pixels (optionally after a label)");
  }
  ImageBatch b;
  b.n = static_cast<int64_t>(table->labels.size());
  b.format = "csv";
  for (int64_t r = 0; r < b.n; ++r) {
    auto first = table->features.begin() + r * nf + (nf - kSide * kSide);
    b.pixels.insert(b.pixels.end(), first, first + kSide * kSide);
  }
  for (float v : b.pixels) {
    if (v < 0 || v > 255) return InvalidArgument("'" + path + "' holds a pixel outside 0..255");
  }
  return b;
}

}  // namespace mle::train
