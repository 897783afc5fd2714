// Licenses: keys, signing, and every way verification must refuse a license.
#include "server/license.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "common/subprocess.h"
#include "core/file_util.h"

namespace mle::server {
namespace {

class LicenseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("license");
    priv_ = dir_ + "/priv.pem";
    pub_ = dir_ + "/pub.pem";
    ASSERT_TRUE(GenerateLicenseKeys(priv_, pub_).ok());
    lic_.licensee = "ACME";
    lic_.issued_at = "2026-01-01T00:00:00Z";
    lic_.expires_at = "2027-01-01";
    lic_.features = {"api", "llm"};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::chrono::system_clock::time_point At(const std::string& t) { return *ParseUtcTime(t); }

  std::string dir_, priv_, pub_;
  License lic_;
};

TEST_F(LicenseTest, SignedLicenseVerifies) {
  ASSERT_TRUE(SignLicense(priv_, lic_, dir_ + "/l.json").ok());
  auto l = VerifyLicense(dir_ + "/l.json", pub_, At("2026-06-01T00:00:00Z"));
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->licensee, "ACME");
  EXPECT_EQ(l->features, (std::set<std::string>{"api", "llm"}));
  // A date-only expiry covers that whole day.
  EXPECT_TRUE(VerifyLicense(dir_ + "/l.json", pub_, At("2027-01-01T23:00:00Z")).ok());
  EXPECT_EQ(std::filesystem::status(priv_).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);
}

TEST_F(LicenseTest, ExpiredTamperedAndForeignLicensesAreRefused) {
  ASSERT_TRUE(SignLicense(priv_, lic_, dir_ + "/l.json").ok());
  auto expired = VerifyLicense(dir_ + "/l.json", pub_, At("2027-01-02T00:00:00Z"));
  ASSERT_FALSE(expired.ok());
  EXPECT_NE(expired.status().message().find("expired on 2027-01-01"), std::string::npos);

  auto doc = nlohmann::json::parse(*ReadFile(dir_ + "/l.json"));
  doc["payload"]["features"].push_back("train");
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/t.json", doc.dump()).ok());
  auto tampered = VerifyLicense(dir_ + "/t.json", pub_, At("2026-06-01T00:00:00Z"));
  ASSERT_FALSE(tampered.ok());
  EXPECT_NE(tampered.status().message().find("invalid signature"), std::string::npos);

  ASSERT_TRUE(GenerateLicenseKeys(dir_ + "/p2.pem", dir_ + "/pub2.pem").ok());
  EXPECT_FALSE(
      VerifyLicense(dir_ + "/l.json", dir_ + "/pub2.pem", At("2026-06-01T00:00:00Z")).ok());
  EXPECT_FALSE(VerifyLicense(dir_ + "/l.json", "", At("2026-06-01T00:00:00Z")).ok());
  EXPECT_FALSE(VerifyLicense(dir_ + "/missing.json", pub_, At("2026-06-01T00:00:00Z")).ok());
  EXPECT_FALSE(VerifyLicense(dir_ + "/l.json", priv_, At("2026-06-01T00:00:00Z")).ok());
}

TEST_F(LicenseTest, MalformedInputsGiveClearErrors) {
  for (const std::string bad : {"not json", "{}", R"({"payload":{},"signature":"AAAA"})",
                                R"({"payload":{"licensee":1},"signature":"x"})"}) {
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/b.json", bad).ok());
    auto r = VerifyLicense(dir_ + "/b.json", pub_, At("2026-06-01T00:00:00Z"));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("b.json"), std::string::npos) << r.status().message();
  }
  License l = lic_;
  l.features = {"teleport"};
  EXPECT_FALSE(SignLicense(priv_, l, dir_ + "/x.json").ok());
  l = lic_;
  l.expires_at = "2025-01-01";
  EXPECT_FALSE(SignLicense(priv_, l, dir_ + "/x.json").ok());
  l.expires_at = "tomorrow";
  EXPECT_FALSE(SignLicense(priv_, l, dir_ + "/x.json").ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/x.json"));
  EXPECT_FALSE(GenerateLicenseKeys(priv_, dir_ + "/other.pem").ok());  // no overwrite
}

}  // namespace
}  // namespace mle::server
