// Chat-template conformance: every case of ../shared/testdata/chat-templates/expected.json
// (real templates x conversations x add_generation_prompt, rendered by Jinja2 3.1 as Hugging
// Face does) must render to exactly the expected text, or fail where the reference failed,
// with the reference's message. Prints the pass count of every template.
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <map>
#include <string>

#include "core/file_util.h"
#include "text/chat_template.h"

namespace mle::text {
namespace {

const std::string kDir = std::string(MLE_SHARED_DIR) + "/testdata/chat-templates/";

// A window of `s` around byte `pos`, JSON-escaped so whitespace differences show.
std::string Around(const std::string& s, size_t pos) {
  size_t from = pos > 60 ? pos - 60 : 0;
  return nlohmann::json(s.substr(from, 140))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string FirstDifference(const std::string& want, const std::string& got) {
  size_t k = 0;
  while (k < want.size() && k < got.size() && want[k] == got[k]) ++k;
  return "first difference at byte " + std::to_string(k) + "\n  want: " + Around(want, k) +
         "\n  got:  " + Around(got, k);
}

struct Counts {
  int passed = 0;
  int total = 0;
};

TEST(ChatTemplateConformance, EveryReferenceCaseMatches) {
  Result<std::string> text = ReadFile(kDir + "expected.json");
  ASSERT_TRUE(text.ok()) << text.status().message();
  auto ref = nlohmann::ordered_json::parse(*text);
  const auto& cases = ref.at("cases");
  ASSERT_FALSE(cases.empty());

  std::tm clock{};  // strftime_now is fixed at 2026-11-23 09:30 in the reference
  clock.tm_year = 2026 - 1900;
  clock.tm_mon = 10;
  clock.tm_mday = 23;
  clock.tm_hour = 9;
  clock.tm_min = 30;

  std::map<std::string, Counts> counts;
  std::map<std::string, Result<ChatTemplate>> parsed;
  for (const auto& c : cases) {
    std::string name = c.at("template");
    std::string label = name + " / " + c.at("conversation").get<std::string>() +
                        " / add_generation_prompt=" + c.at("add_generation_prompt").dump();
    Counts& n = counts[name];
    ++n.total;
    auto it = parsed.find(name);
    if (it == parsed.end()) {
      Result<std::string> source = ReadFile(kDir + "templates/" + name);
      ASSERT_TRUE(source.ok()) << source.status().message();
      it = parsed.emplace(name, ChatTemplate::Parse(*source)).first;
    }
    if (!it->second.ok()) {
      ADD_FAILURE() << label << ": parse failed: " << it->second.status().message();
      continue;
    }
    RenderOptions options;
    options.add_generation_prompt = c.at("add_generation_prompt");
    options.bos_token = ref.at("bos_token");
    options.eos_token = ref.at("eos_token");
    options.now = clock;
    Result<std::string> out = it->second->Render(c.at("messages"), options);
    if (c.contains("error")) {
      std::string want = c.at("error");
      want = want.substr(want.find(": ") + 2);  // drop the Python exception type
      if (!out.ok() && out.status().message().find(want) != std::string::npos) {
        ++n.passed;
      } else {
        ADD_FAILURE() << label << ": expected the error '" << want << "', got "
                      << (out.ok() ? "a rendering" : out.status().message());
      }
      continue;
    }
    if (!out.ok()) {
      ADD_FAILURE() << label << ": " << out.status().message();
    } else if (*out != c.at("expected").get<std::string>()) {
      ADD_FAILURE() << label << ": " << FirstDifference(c.at("expected"), *out);
    } else {
      ++n.passed;
    }
  }

  int passed = 0, total = 0;
  std::printf("chat-template conformance (passed/cases per template):\n");
  for (const auto& [name, n] : counts) {
    std::printf("  %-55s %2d/%d\n", name.c_str(), n.passed, n.total);
    passed += n.passed;
    total += n.total;
  }
  std::printf("  %-55s %d/%d\n", "TOTAL", passed, total);
  RecordProperty("passed", passed);
  RecordProperty("total", total);
  EXPECT_EQ(passed, total);
}

}  // namespace
}  // namespace mle::text
