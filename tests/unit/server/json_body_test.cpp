// Strict request-body reading: every wrong type, range and unknown field is named.
#include "server/json_body.h"

#include <gtest/gtest.h>

namespace mle::server {
namespace {

TEST(JsonBodyTest, ReadsFieldsAndNamesEveryProblem) {
  auto b = JsonBody::Parse(
      R"({"model":"cnn","epochs":3,"lr":0.5,"resume":true,"opt":"adam","big":3.0,"tags":["a"]})");
  ASSERT_TRUE(b.ok());
  std::string model, opt;
  int64_t epochs = 0, big = 0;
  double lr = 0;
  bool resume = false;
  std::vector<std::string> tags;
  EXPECT_TRUE(b->String("model", &model, true).ok());
  EXPECT_TRUE(b->Int("epochs", &epochs, 1, 10).ok());
  EXPECT_TRUE(b->Int("big", &big, 1, 10).ok()) << "3.0 is an integer";
  EXPECT_TRUE(b->Double("lr", &lr, 0, 1, true).ok());
  EXPECT_TRUE(b->Bool("resume", &resume).ok());
  EXPECT_TRUE(b->Choice("opt", &opt, {"sgd", "adam"}).ok());
  EXPECT_TRUE(b->StringList("tags", &tags, 4).ok());
  EXPECT_TRUE(b->Finish().ok());
  EXPECT_EQ(model, "cnn");
  EXPECT_EQ(epochs, 3);
  EXPECT_EQ(big, 3);
  EXPECT_DOUBLE_EQ(lr, 0.5);
  EXPECT_TRUE(resume);
  EXPECT_EQ(opt, "adam");
  EXPECT_EQ(tags, std::vector<std::string>{"a"});

  int64_t keep = 7;
  EXPECT_TRUE(b->Int("absent", &keep, 0, 1).ok());
  EXPECT_EQ(keep, 7) << "absent fields leave the default";
  EXPECT_FALSE(b->String("absent2", &model, /*required=*/true).ok());
}

TEST(JsonBodyTest, WrongTypesRangesAndUnknownFields) {
  auto expect_error = [](const char* body, auto read, const std::string& words) {
    auto b = JsonBody::Parse(body);
    ASSERT_TRUE(b.ok()) << body;
    Status s = read(*b);
    ASSERT_FALSE(s.ok()) << body;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(words), std::string::npos) << s.message();
  };
  int64_t i = 0;
  double d = 0;
  std::string str;
  expect_error(R"({"n":"3"})", [&](JsonBody& b) { return b.Int("n", &i, 0, 9); }, "'n'");
  expect_error(R"({"n":10})", [&](JsonBody& b) { return b.Int("n", &i, 0, 9); }, "0 to 9");
  expect_error(R"({"n":1.5})", [&](JsonBody& b) { return b.Int("n", &i, 0, 9); }, "integer");
  expect_error(R"({"n":18446744073709551615})", [&](JsonBody& b) { return b.Int("n", &i, 0, 9); },
               "'n'");
  expect_error(R"({"x":0})", [&](JsonBody& b) { return b.Double("x", &d, 0, 1, true); }, "> 0");
  expect_error(R"({"x":-0.5})", [&](JsonBody& b) { return b.Double("x", &d, 0, 1); }, "'x'");
  expect_error(R"({"s":null})", [&](JsonBody& b) { return b.String("s", &str); }, "null");
  expect_error(R"({"c":"z"})",
               [&](JsonBody& b) {
                 return b.Choice("c", &str, {"a", "b"});
               },
               "a, b");
  expect_error(R"({"a":1,"zz":2})",
               [&](JsonBody& b) {
                 (void)b.Int("a", &i, 0, 9);
                 return b.Finish();
               },
               "unknown field 'zz'");
  EXPECT_FALSE(JsonBody::Parse(R"({"x":1e400})").ok()) << "numbers beyond double are refused";
  EXPECT_FALSE(JsonBody::Parse("{").ok());
  EXPECT_FALSE(JsonBody::Parse("").ok());
  EXPECT_NE(JsonBody::Parse("[1]").status().message().find("object"), std::string::npos);
}

TEST(JsonBodyTest, Base64) {
  EXPECT_EQ(*DecodeBase64("aGVsbG8=", "x"), "hello");
  EXPECT_EQ(*DecodeBase64("aGVsbG8", "x"), "hello") << "padding is optional";
  EXPECT_EQ(*DecodeBase64("aGVs\nbG8h", "x"), "hello!");
  EXPECT_EQ(*DecodeBase64("", "x"), "");
  EXPECT_FALSE(DecodeBase64("aGV$", "x").ok());
  EXPECT_FALSE(DecodeBase64("a", "x").ok()) << "one character cannot encode a byte";
  EXPECT_FALSE(DecodeBase64("aA==aA", "x").ok()) << "data after padding";
}

}  // namespace
}  // namespace mle::server
