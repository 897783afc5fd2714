// ChatTemplate API: parsing, rendering with HF's variables (bos/eos tokens, tools, extra
// context, a fixed clock), the built-in templates (expected prompts rendered by Jinja2 3.1
// from the same sources) and the errors a caller sees.
#include "text/chat_template.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace mle::text {
namespace {

const nlohmann::ordered_json kMultiTurn = nlohmann::ordered_json::parse(R"([
  {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"},
  {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "2+2?"}])");
const nlohmann::ordered_json kUserOnly =
    nlohmann::ordered_json::parse(R"([{"role": "user", "content": "Hi!"}])");

RenderOptions Options(bool add_generation_prompt) {
  RenderOptions o;
  o.add_generation_prompt = add_generation_prompt;
  o.bos_token = "<s>";
  o.eos_token = "</s>";
  return o;
}

struct BuiltinCase {
  const char* name;
  bool add_generation_prompt;
  bool multi_turn;
  const char* expected;
};

TEST(ChatTemplate, BuiltinsRenderAsJinja2Does) {
  const BuiltinCase cases[] = {
      {"chatml", true, true,
       "<|im_start|>system\nBe "
       "brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>"
       "\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"},
      {"chatml", false, false, "<|im_start|>user\nHi!<|im_end|>\n"},
      {"llama2", true, true,
       "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi! [/INST] Hello. </s><s>[INST] 2+2? [/INST]"},
      {"llama2", false, false, "<s>[INST] Hi! [/INST]"},
      {"llama3", true, true,
       "<s><|start_header_id|>system<|end_header_id|>\n\nBe "
       "brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|><|start_header_id|"
       ">assistant<|end_header_id|>\n\nHello.<|eot_id|><|start_header_id|>user<|end_header_id|>"
       "\n\n2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
      {"llama3", false, false, "<s><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>"},
      {"mistral", true, true, "<s>[INST] Be brief.\n\nHi! [/INST]Hello.</s>[INST] 2+2? [/INST]"},
      {"mistral", false, false, "<s>[INST] Hi! [/INST]"},
      {"gemma", true, true,
       "<s><start_of_turn>user\nBe "
       "brief.\n\nHi!<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n<start_of_turn>"
       "user\n2+2?<end_of_turn>\n<start_of_turn>model\n"},
      {"gemma", false, false, "<s><start_of_turn>user\nHi!<end_of_turn>\n"},
      {"phi3", true, true,
       "<|system|>\nBe "
       "brief.<|end|>\n<|user|>\nHi!<|end|>\n<|assistant|>\nHello.<|end|>\n<|user|>\n2+2?<|end|>\n<"
       "|assistant|>\n"},
      {"phi3", false, false, "<|user|>\nHi!<|end|>\n</s>"},
      {"deepseek", true, true,
       "<s>Be "
       "brief.<｜User｜>Hi!<｜Assistant｜>Hello.<｜end▁of▁sentence｜><｜User｜>2+2?<"
       "｜Assistant｜>"},
      {"deepseek", false, false, "<s><｜User｜>Hi!"},
      {"zephyr", true, true,
       "<|system|>\nBe "
       "brief.</s>\n<|user|>\nHi!</s>\n<|assistant|>\nHello.</s>\n<|user|>\n2+2?</"
       "s>\n<|assistant|>\n"},
      {"zephyr", false, false, "<|user|>\nHi!</s>\n"},
      {"vicuna", true, true,
       "Be brief.\n\nUSER: Hi!\nASSISTANT: Hello.</s>\nUSER: 2+2?\nASSISTANT:"},
      {"vicuna", false, false,
       "A chat between a curious user and an artificial intelligence assistant. The assistant "
       "gives helpful, detailed, and polite answers to the user's questions.\n\nUSER: Hi!\n"},
  };
  std::set<std::string> covered;
  for (const BuiltinCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto t = ChatTemplate::Builtin(c.name);
    ASSERT_TRUE(t.ok()) << t.status().message();
    auto r = t->Render(c.multi_turn ? kMultiTurn : kUserOnly, Options(c.add_generation_prompt));
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(*r, c.expected);
    covered.insert(c.name);
  }
  for (const std::string& name : ChatTemplate::BuiltinNames()) {
    EXPECT_TRUE(covered.count(name)) << "no expected rendering for built-in '" << name << "'";
  }
}

TEST(ChatTemplate, BuiltinsEnforceTheirRoleRules) {
  auto t = ChatTemplate::Builtin("llama2");
  ASSERT_TRUE(t.ok());
  auto r = t->Render(nlohmann::ordered_json::parse(R"([{"role": "assistant", "content": "x"}])"),
                     Options(true));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("Conversation roles must alternate"), std::string::npos);
}

TEST(ChatTemplate, UnknownBuiltinListsTheNames) {
  auto t = ChatTemplate::Builtin("llama9");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_NE(t.status().message().find("unknown built-in chat template 'llama9'"),
            std::string::npos);
  for (const std::string& name : ChatTemplate::BuiltinNames()) {
    EXPECT_NE(t.status().message().find(name), std::string::npos) << name;
  }
  EXPECT_GE(ChatTemplate::BuiltinNames().size(), 7u);
}

TEST(ChatTemplate, PassesToolsExtraContextAndClock) {
  auto t = ChatTemplate::Parse(
      "{% if tools is defined %}{{ tools|tojson }}|{% endif %}"
      "{{ 'think' if enable_thinking else 'fast' }}|{{ strftime_now('%d %b %Y') }}|"
      "{{ messages[-1].content }}");
  ASSERT_TRUE(t.ok()) << t.status().message();
  RenderOptions o = Options(false);
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 10;
  tm.tm_mday = 23;
  o.now = tm;
  auto plain = t->Render(kUserOnly, o);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(*plain, "fast|23 Nov 2026|Hi!");
  o.tools = nlohmann::ordered_json::parse(R"([{"name": "f", "args": {"z": 1, "a": "é"}}])");
  o.extra_context = {{"enable_thinking", true}};
  auto full = t->Render(kUserOnly, o);
  ASSERT_TRUE(full.ok()) << full.status().message();
  EXPECT_EQ(*full, R"([{"name": "f", "args": {"z": 1, "a": "é"}}]|think|23 Nov 2026|Hi!)");
}

TEST(ChatTemplate, JsonOverloadSortsMembersOrderedJsonKeepsThem) {
  auto t = ChatTemplate::Parse("{{ messages[0]|tojson }}");
  ASSERT_TRUE(t.ok());
  const char* msgs = R"([{"role": "user", "content": "x"}])";
  auto ordered = t->Render(nlohmann::ordered_json::parse(msgs), Options(false));
  auto sorted = t->Render(nlohmann::json::parse(msgs), Options(false));
  ASSERT_TRUE(ordered.ok() && sorted.ok());
  EXPECT_EQ(*ordered, R"({"role": "user", "content": "x"})");
  EXPECT_EQ(*sorted, R"({"content": "x", "role": "user"})");
}

TEST(ChatTemplate, ErrorsNameTheTemplateLine) {
  auto bad = ChatTemplate::Parse("{% for m in messages %}\n{{ m.content }\n{% endfor %}");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("template line 2: ", 0), 0u) << bad.status().message();

  auto t = ChatTemplate::Parse("{% for m in messages %}\n{{ m.content + 1 }}\n{% endfor %}");
  ASSERT_TRUE(t.ok());
  auto r = t->Render(kUserOnly, Options(false));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "template line 2: can only concatenate str (not \"int\") to str");

  auto not_array = t->Render(nlohmann::ordered_json::object(), Options(false));
  ASSERT_FALSE(not_array.ok());
  EXPECT_NE(not_array.status().message().find("JSON array"), std::string::npos);
}

TEST(ChatTemplate, KeepsItsSource) {
  auto t = ChatTemplate::Parse("{{ bos_token }}");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->source(), "{{ bos_token }}");
  auto r = t->Render(kUserOnly, Options(false));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "<s>");
}

}  // namespace
}  // namespace mle::text
