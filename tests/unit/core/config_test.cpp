// Config: precedence (defaults < file < env < flags) and validation errors naming the path.
#include "core/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "common/subprocess.h"

namespace mle {
namespace {

std::string WriteTemp(const std::string& text) {
  std::string dir = testing::MakeTempDir("mle-config");
  std::string path = dir + "/engine-config.json";
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigTest, DefaultsFromTable) {
  Config c(EngineOptionSpecs());
  EXPECT_EQ(c.GetInt("train.epochs"), 3);
  EXPECT_EQ(c.GetString("train.optimizer"), "adam");
  EXPECT_EQ(c.Origin("train.epochs"), "default");
}

TEST(ConfigTest, PrecedenceFileEnvFlag) {
  Config c(EngineOptionSpecs());
  std::string path = WriteTemp(R"({"train": {"epochs": 5, "batch_size": 32, "lr": 0.01}})");
  ASSERT_TRUE(c.MergeFile(path).ok());
  EXPECT_EQ(c.GetInt("train.epochs"), 5);
  std::map<std::string, std::string> env = {{"MLE_TRAIN_EPOCHS", "7"},
                                            {"MLE_TRAIN_BATCH_SIZE", "16"}};
  ASSERT_TRUE(c.MergeEnv([&](const char* n) -> const char* {
                 auto it = env.find(n);
                 return it == env.end() ? nullptr : it->second.c_str();
               }).ok());
  EXPECT_EQ(c.GetInt("train.epochs"), 7);
  ASSERT_TRUE(c.SetFromString("train.epochs", "9", "flag --epochs").ok());
  EXPECT_EQ(c.GetInt("train.epochs"), 9);
  EXPECT_EQ(c.Origin("train.epochs"), "flag --epochs");
  EXPECT_EQ(c.GetInt("train.batch_size"), 16);
  EXPECT_EQ(c.Origin("train.batch_size"), "env MLE_TRAIN_BATCH_SIZE");
  EXPECT_DOUBLE_EQ(c.GetDouble("train.lr"), 0.01);
  EXPECT_EQ(c.Origin("train.lr"), path);
}

TEST(ConfigTest, UnknownKeyNamesPath) {
  Config c(EngineOptionSpecs());
  Status s = c.MergeFile(WriteTemp(R"({"train": {"epocs": 5}})"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unknown key 'train.epocs'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("epochs"), std::string::npos) << "lists known keys";
}

TEST(ConfigTest, UnknownSection) {
  Config c(EngineOptionSpecs());
  Status s = c.MergeFile(WriteTemp(R"({"trian": {}})"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unknown key 'trian'"), std::string::npos) << s.message();
}

TEST(ConfigTest, WrongTypeNamesPathAndTypes) {
  Config c(EngineOptionSpecs());
  Status s = c.MergeFile(WriteTemp(R"({"train": {"epochs": "five"}})"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'train.epochs' must be an integer, got string"), std::string::npos)
      << s.message();
  EXPECT_EQ(c.GetInt("train.epochs"), 3) << "a rejected value changes nothing";
}

TEST(ConfigTest, SectionMustBeObject) {
  Config c(EngineOptionSpecs());
  Status s = c.MergeJson(nlohmann::json::parse(R"({"train": 3})"), "x.json");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'train' must be an object"), std::string::npos) << s.message();
}

TEST(ConfigTest, RangeAndChoices) {
  Config c(EngineOptionSpecs());
  EXPECT_FALSE(c.SetFromString("train.epochs", "0", "flag --epochs").ok());
  EXPECT_FALSE(c.SetFromString("train.batch_size", "-1", "flag --batch-size").ok());
  Status lr = c.SetFromString("train.lr", "0", "flag --lr");
  ASSERT_FALSE(lr.ok());
  EXPECT_NE(lr.message().find("must be > 0"), std::string::npos) << lr.message();
  Status opt = c.SetFromString("train.optimizer", "rmsprop", "flag --optimizer");
  ASSERT_FALSE(opt.ok());
  EXPECT_NE(opt.message().find("sgd"), std::string::npos) << opt.message();
  EXPECT_FALSE(c.SetFromString("train.epochs", "3x", "flag --epochs").ok());
  EXPECT_FALSE(c.SetFromString("train.lr", "nan", "flag --lr").ok());
}

TEST(ConfigTest, InvalidJsonNamesFile) {
  Config c(EngineOptionSpecs());
  std::string path = WriteTemp("{\"train\": {\"epochs\": 5,,}}");
  Status s = c.MergeFile(path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path), std::string::npos);
  EXPECT_NE(s.message().find("invalid JSON"), std::string::npos);
}

TEST(ConfigTest, IntegerAcceptedForNumber) {
  Config c(EngineOptionSpecs());
  ASSERT_TRUE(c.MergeJson(nlohmann::json::parse(R"({"train": {"lr": 1}})"), "f").ok());
  EXPECT_DOUBLE_EQ(c.GetDouble("train.lr"), 1.0);
}

TEST(ConfigTest, ToJsonIsNested) {
  Config c(EngineOptionSpecs());
  auto j = c.ToJson();
  EXPECT_EQ(j["train"]["epochs"], 3);
  EXPECT_EQ(j["common"]["log_level"], "info");
}

TEST(ConfigTest, EnvVarNames) {
  OptionSpec s;
  s.key = "train.batch_size";
  EXPECT_EQ(s.EnvVar(), "MLE_TRAIN_BATCH_SIZE");
}

}  // namespace
}  // namespace mle
