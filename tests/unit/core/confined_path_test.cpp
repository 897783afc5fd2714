// Paths named in requests stay inside their root: no "..", no absolute escapes, no symlinks
// out.
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "common/subprocess.h"
#include "core/file_util.h"

namespace mle {
namespace {

namespace fs = std::filesystem;

TEST(ConfinedPathTest, InsideIsAcceptedOutsideIsNot) {
  const std::string root = testing::MakeTempDir("confine");
  fs::create_directories(root + "/data/sub");
  fs::create_directories(root + "/other");
  const std::string data = root + "/data";
  EXPECT_EQ(*ConfinedPath(data, "", "f"), data);
  EXPECT_EQ(*ConfinedPath(data, "sub", "f"), data + "/sub");
  EXPECT_EQ(*ConfinedPath(data, "new/dir", "f"), data + "/new/dir") << "need not exist yet";
  EXPECT_EQ(*ConfinedPath(data, data + "/sub", "f"), data + "/sub") << "absolute inside";
  EXPECT_EQ(*ConfinedPath("checkpoints", "cnn", "f"), "checkpoints/cnn") << "relative root";

  for (const std::string& bad : std::vector<std::string>{"../other", "sub/../../other", "/etc",
                                                         root + "/other", root + "/data-sibling"}) {
    auto r = ConfinedPath(data, bad, "ckpt_dir");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("ckpt_dir"), std::string::npos) << r.status().message();
  }
  // A symlink inside the root that points out of it does not let a request out.
  fs::create_directory_symlink(root + "/other", data + "/link");
  EXPECT_FALSE(ConfinedPath(data, "link", "f").ok());
  EXPECT_FALSE(ConfinedPath(data, "link/x", "f").ok());
  EXPECT_FALSE(ConfinedPath(data, std::string("a\0b", 3), "f").ok());
  fs::remove_all(root);
}

}  // namespace
}  // namespace mle
