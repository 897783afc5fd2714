// IDX, CSV and image-input parsing, including corrupt and hostile files.
#include <gtest/gtest.h>
#include <png.h>

#include <fstream>

#include "common/subprocess.h"
#include "core/file_util.h"
#include "train/csv_data.h"
#include "train/idx.h"
#include "train/image_input.h"

namespace mle::train {
namespace {

std::string IdxBytes(std::vector<uint32_t> dims, uint8_t type = 0x08, size_t drop = 0) {
  std::string s = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  size_t n = 1;
  for (uint32_t d : dims) {
    for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((d >> (8 * i)) & 0xff));
    n *= d;
  }
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(i % 251));
  s.resize(s.size() - drop);
  return s;
}

TEST(IdxTest, ParsesImagesAndLabels) {
  auto arr = ParseIdx(IdxBytes({3, 28, 28}), "x");
  ASSERT_TRUE(arr.ok()) << arr.status().message();
  EXPECT_EQ(arr->dims, (std::vector<uint32_t>{3, 28, 28}));
  EXPECT_EQ(arr->data.size(), 3u * 28 * 28);
  EXPECT_EQ(arr->data[300], 300 % 251);
}

TEST(IdxTest, BadMagic) {
  auto arr = ParseIdx("\x12\x34\x08\x01\x00\x00\x00\x01\x05", "bad.idx");
  ASSERT_FALSE(arr.ok());
  EXPECT_NE(arr.status().message().find("bad magic"), std::string::npos);
  EXPECT_NE(arr.status().message().find("bad.idx"), std::string::npos);
}

TEST(IdxTest, WrongDataType) {
  EXPECT_FALSE(ParseIdx(IdxBytes({2}, 0x0d), "f").ok());
}

TEST(IdxTest, Truncated) {
  auto arr = ParseIdx(IdxBytes({10, 28, 28}, 0x08, 100), "t.idx");
  ASSERT_FALSE(arr.ok());
  EXPECT_NE(arr.status().message().find("truncated"), std::string::npos);
  EXPECT_FALSE(ParseIdx(std::string("\0\0\x08\x03\0\0", 6), "h").ok()) << "truncated header";
}

TEST(IdxTest, HugeDimensionsDoNotAllocate) {
  auto arr = ParseIdx(IdxBytes({0, 0, 0}).substr(0, 4) + std::string(12, '\xff'), "huge");
  ASSERT_FALSE(arr.ok());
}

TEST(IdxTest, ReadsGzipAndRejectsCorruptGzip) {
  auto arr = ReadIdxFile("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
  ASSERT_TRUE(arr.ok()) << arr.status().message();
  EXPECT_EQ(arr->dims, std::vector<uint32_t>{10000});
  std::string dir = testing::MakeTempDir("mle-gz");
  auto gz = ReadFile("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
  ASSERT_TRUE(gz.ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/cut.gz", gz->substr(0, gz->size() / 2)).ok());
  auto cut = ReadIdxFile(dir + "/cut.gz");
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("gzip"), std::string::npos) << cut.status().message();
}

TEST(CsvTest, ParsesWithHeader) {
  auto t = ParseCsv("label,a,b\n1,0.5,2\n0, 3 ,4\r\n", "c.csv", true);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->labels, (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(t->features, (std::vector<float>{0.5f, 2, 3, 4}));
  EXPECT_EQ(t->n_features, 2);
}

TEST(CsvTest, Errors) {
  auto ragged = ParseCsv("1,2,3\n1,2\n", "r.csv", true);
  ASSERT_FALSE(ragged.ok());
  EXPECT_NE(ragged.status().message().find("r.csv:2"), std::string::npos);
  auto bad_num = ParseCsv("1,2,x\n", "n.csv", true);
  ASSERT_FALSE(bad_num.ok());
  EXPECT_NE(bad_num.status().message().find("'x'"), std::string::npos);
  EXPECT_FALSE(ParseCsv("1.5,2\n", "l.csv", true).ok()) << "fractional label";
  EXPECT_FALSE(ParseCsv("", "e.csv", true).ok()) << "no rows";
}

TEST(ImageInputTest, PgmBinaryAndAscii) {
  std::string p5 = "P5\n# comment\n28 28\n255\n" + std::string(784, '\x80');
  auto b = DecodePgm(p5, "a.pgm");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->n, 1);
  EXPECT_FLOAT_EQ(b->pixels[0], 128);
  std::string p2 = "P2 28 28 15\n";
  for (int i = 0; i < 784; ++i) p2 += "15 ";
  auto a = DecodePgm(p2, "b.pgm");
  ASSERT_TRUE(a.ok());
  EXPECT_FLOAT_EQ(a->pixels[783], 255);
  EXPECT_FALSE(DecodePgm("P5 28 28 255\n" + std::string(100, 'x'), "t.pgm").ok());
  auto wrong = DecodePgm("P5 32 32 255\n" + std::string(1024, 'x'), "w.pgm");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("32x32"), std::string::npos);
}

void WritePng(const std::string& path, int w, int h, int color_type) {
  FILE* f = fopen(path.c_str(), "wb");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, f);
  png_set_IHDR(png, info, w, h, 8, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  int channels = color_type == PNG_COLOR_TYPE_RGB ? 3 : 1;
  std::vector<uint8_t> row(w * channels);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w * channels; ++x) row[x] = static_cast<uint8_t>(y * 9);
    png_write_row(png, row.data());
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  fclose(f);
}

TEST(ImageInputTest, PngGrayAndRgb) {
  std::string dir = testing::MakeTempDir("mle-png");
  WritePng(dir + "/g.png", 28, 28, PNG_COLOR_TYPE_GRAY);
  WritePng(dir + "/c.png", 28, 28, PNG_COLOR_TYPE_RGB);
  WritePng(dir + "/big.png", 64, 64, PNG_COLOR_TYPE_GRAY);
  auto g = LoadImages(dir + "/g.png");
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->format, "png");
  EXPECT_FLOAT_EQ(g->pixels[28 * 3], 27);
  auto c = LoadImages(dir + "/c.png");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_NEAR(c->pixels[28 * 3], 27, 1);
  auto big = LoadImages(dir + "/big.png");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("64x64"), std::string::npos);
  auto bytes = ReadFile(dir + "/g.png");
  EXPECT_FALSE(DecodePng(bytes->substr(0, bytes->size() / 2), "cut.png").ok());
}

TEST(ImageInputTest, IdxAndCsvBatches) {
  std::string dir = testing::MakeTempDir("mle-img");
  ASSERT_TRUE(WriteFileAtomic(dir + "/x.idx", IdxBytes({4, 28, 28})).ok());
  auto idx = LoadImages(dir + "/x.idx");
  ASSERT_TRUE(idx.ok());
  EXPECT_EQ(idx->n, 4);
  std::string row;
  for (int i = 0; i < 784; ++i) row += (i ? "," : "") + std::to_string(i % 256);
  ASSERT_TRUE(WriteFileAtomic(dir + "/x.csv", row + "\n7," + row + "\n").ok());
  auto csv = LoadImages(dir + "/x.csv");
  ASSERT_FALSE(csv.ok()) << "rows of different widths";
  ASSERT_TRUE(WriteFileAtomic(dir + "/y.csv", row + "\n" + row + "\n").ok());
  csv = LoadImages(dir + "/y.csv");
  ASSERT_TRUE(csv.ok()) << csv.status().message();
  EXPECT_EQ(csv->n, 2);
  ASSERT_TRUE(WriteFileAtomic(dir + "/z.txt", "hello world").ok());
  EXPECT_FALSE(LoadImages(dir + "/z.txt").ok());
  EXPECT_FALSE(LoadImages(dir + "/missing.png").ok());
}

}  // namespace
}  // namespace mle::train
