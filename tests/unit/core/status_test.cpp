// Status, Result and the progress bar's plain (non-terminal) output.
#include "core/status.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "core/progress.h"
#include "core/sha256.h"

namespace mle {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  MLE_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = NotFound("no file 'x'");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "not_found: no file 'x'");
  EXPECT_EQ(s.WithContext("loading").message(), "loading: no file 'x'");
  Status copy = s;
  EXPECT_EQ(copy.message(), s.message());
}

TEST(StatusTest, ResultPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_FALSE(Quarter(6).ok());
  EXPECT_EQ(Quarter(6).status().message(), "odd");
  EXPECT_FALSE(Quarter(7).ok());
}

TEST(Sha256Test, KnownVector) {
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ProgressTest, PlainLinesWhenNotATerminal) {
  std::FILE* f = std::tmpfile();
  ProgressBar bar("epoch 1", 10, f, /*is_tty=*/0, /*plain_interval_s=*/0.0);
  bar.Update(5, "loss=1.0");
  bar.Finish("loss=0.5");
  std::rewind(f);
  char buf[512] = {};
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  std::string out(buf, n);
  EXPECT_NE(out.find("epoch 1  50% 5/10"), std::string::npos) << out;
  EXPECT_NE(out.find("100% 10/10"), std::string::npos) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos) << "no carriage returns in logs";
  EXPECT_EQ(ProgressBar::FormatDuration(65), "1m05s");
  EXPECT_EQ(ProgressBar::FormatDuration(3700), "1h01m");
}

}  // namespace
}  // namespace mle
