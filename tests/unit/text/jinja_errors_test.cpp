// Jinja errors and limits: messages carry the template line of the failing tag or expression,
// Status codes tell syntax/type errors from raise_exception and from resource limits, and no
// input (deep nesting, endless recursion, huge loops or outputs, random bytes) crashes the
// process or runs forever.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "jinja_test_util.h"

namespace mle::text::jinja {
namespace {

Status RenderStatus(std::string_view source, std::string_view vars = "{}",
                    RenderConfig config = {}) {
  auto t = Template::Parse(source);
  if (!t.ok()) return t.status();
  auto r = t->Render(nlohmann::ordered_json::parse(vars), config);
  return r.ok() ? Status() : r.status();
}

TEST(JinjaErrors, SyntaxErrorsNameTheLine) {
  EXPECT_EQ(Render("line1\n{{ 1 + }}\n"),
            "error: template line 2: unexpected 'end of print statement'");
  EXPECT_EQ(Render("a\n\n{% foo %}"), "error: template line 3: Encountered unknown tag 'foo'.");
  EXPECT_EQ(Render("{% for x in y %}\n\n{% endif %}"),
            "error: template line 3: Encountered unknown tag 'endif'. Jinja was looking for the "
            "following tags: 'endfor' or 'else'. The innermost block that needs to be closed is "
            "'for'.");
  EXPECT_EQ(Render("{% if x %}\nabc"),
            "error: template line 2: Unexpected end of template. Jinja was looking for the "
            "following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be "
            "closed is 'if'.");
  EXPECT_EQ(Render("x\n{{ 'abc }}"), "error: template line 2: unterminated string literal");
  EXPECT_EQ(Render("{# open comment"), "error: template line 1: missing end of comment tag (#})");
  EXPECT_EQ(Render("\n{{ (1, 2] }}"), "error: template line 2: unexpected ']', expected ')'");
  EXPECT_EQ(Render("{% set 1 = 2 %}"), "error: template line 1: can't assign to a constant");
  EXPECT_EQ(Render("{% break %}"), "error: template line 1: 'break' outside loop");
  EXPECT_EQ(Render("{% macro m(a=1, b) %}{% endmacro %}"),
            "error: template line 1: non-default argument follows default argument");
  EXPECT_EQ(Render("{% include 'x' %}"),
            "error: template line 1: 'include' is not supported: chat templates are rendered "
            "on their own");
}

TEST(JinjaErrors, UnknownFilterFailsAtParseUnlessInsideIf) {
  EXPECT_EQ(Render("\n{{ x|from_json }}"), "error: template line 2: No filter named 'from_json'.");
  EXPECT_EQ(Render("{{ 1 is frobbed }}"), "error: template line 1: No test named 'frobbed'.");
  // Jinja2 compiles if-blocks and inline ifs in a "soft" frame: the error waits for run time.
  EXPECT_EQ(Render("{% if false %}{{ x|from_json }}{% endif %}ok"), "ok");
  EXPECT_EQ(Render("{{ x|from_json if false else 'ok' }}"), "ok");
  EXPECT_EQ(Render("{% if true %}\n{{ '1'|from_json }}{% endif %}"),
            "error: template line 2: No filter named 'from_json' found.");
  // A for loop inside an if is a frame of its own again.
  EXPECT_TRUE(
      IsError(Render("{% if false %}{% for x in [] %}{{ x|nope }}{% endfor %}{% endif %}")));
}

TEST(JinjaErrors, RuntimeErrorsNameTheInnermostLine) {
  EXPECT_EQ(Render("a\nb\n{{ foo.bar }}"), "error: template line 3: 'foo' is undefined");
  EXPECT_EQ(Render("{% macro m() %}\n{{ 1 + 'a' }}\n{% endmacro %}\n\n{{ m() }}"),
            "error: template line 2: unsupported operand type(s) for +: 'int' and 'str'");
  EXPECT_EQ(Render("{% for x in [1] %}\n  {% set y = x.z.w %}\n{% endfor %}"),
            "error: template line 2: 'int object' has no attribute 'z'");
  EXPECT_EQ(Render("{{ [1,2].append(3) }}"),
            "error: template line 1: access to attribute 'append' of 'list' object is unsafe.");
  EXPECT_EQ(Render("{% set x %}\n{{ 1/0 }}{% endset %}"),
            "error: template line 2: division by zero");
}

TEST(JinjaErrors, RaiseExceptionIsFailedPrecondition) {
  Status s = RenderStatus(
      "{% if messages[0].role == 'system' %}\n"
      "{{ raise_exception('System role not supported') }}\n{% endif %}",
      R"({"messages": [{"role": "system"}]})");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "template line 2: System role not supported");
  EXPECT_EQ(RenderStatus("{{ x + 1 }}").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RenderStatus("{% for %}").code(), StatusCode::kInvalidArgument);
}

TEST(JinjaLimits, EndlessRecursionStops) {
  Status s = RenderStatus("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("maximum recursion depth"), std::string::npos) << s.message();
  RenderConfig shallow;
  shallow.max_call_depth = 3;
  EXPECT_EQ(RenderStatus("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{% endif %}{% endmacro %}"
                         "{{ f(2) }}",
                         "{}", shallow)
                .code(),
            StatusCode::kOk);
  EXPECT_EQ(RenderStatus("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{% endif %}{% endmacro %}"
                         "{{ f(5) }}",
                         "{}", shallow)
                .code(),
            StatusCode::kResourceExhausted);
  Status loop = RenderStatus("{% for x in [[1]] recursive %}{{ loop([[1]]) }}{% endfor %}");
  EXPECT_EQ(loop.code(), StatusCode::kResourceExhausted) << loop.message();
}

TEST(JinjaLimits, OutputAndValueSizeAreBounded) {
  RenderConfig small;
  small.max_output_bytes = 1000;
  EXPECT_EQ(RenderStatus("{% for i in range(2000) %}x{% endfor %}", "{}", small).code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(RenderStatus("{{ 'x' * 5000 }}", "{}", small).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(RenderStatus("{{ 'x' * 9223372036854775807 }}").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(RenderStatus("{% set ns = namespace(s='ab') %}{% for i in range(40) %}"
                         "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                         "{}", small)
                .code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(RenderStatus("{{ 'x' * 500 }}", "{}", small).code(), StatusCode::kOk);
}

TEST(JinjaLimits, WorkIsBounded) {
  RenderConfig config;
  config.max_steps = 100000;
  Status s = RenderStatus(
      "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", "{}",
      config);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("steps"), std::string::npos);
}

TEST(JinjaLimits, DeepNestingIsASyntaxErrorNotACrash) {
  std::string parens = std::string(5000, '(') + "1" + std::string(5000, ')');
  EXPECT_EQ(Render("{{ " + parens + " }}"), "error: template line 1: template nested too deeply");
  std::string lists = "{{ " + std::string(5000, '[') + std::string(5000, ']') + " }}";
  EXPECT_TRUE(IsError(Render(lists)));
  std::string ifs;
  for (int i = 0; i < 1000; ++i) ifs += "{% if true %}";
  EXPECT_TRUE(IsError(Render(ifs)));
  std::string nots = "{{ " + std::string(0, ' ');
  for (int i = 0; i < 5000; ++i) nots += "not ";
  EXPECT_TRUE(IsError(Render(nots + "1 }}")));
  std::string json = std::string(2000, '[') + std::string(2000, ']');
  EXPECT_TRUE(IsError(Render("{{ v }}", "{\"v\": " + json + "}")));
}

TEST(JinjaLimits, CyclesAndDeepValuesAreSafe) {
  // A namespace that contains itself: repr and tojson stop instead of recursing forever.
  EXPECT_TRUE(IsError(Render("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns|tojson }}")));
  // Deeply nested lists built in a loop are freed without recursion.
  EXPECT_EQ(Render("{% set ns = namespace(v=[]) %}{% for i in range(50000) %}"
                   "{% set ns.v = [ns.v] %}{% endfor %}{{ ns.v|length }}"),
            "1");
}

TEST(JinjaLimits, RandomInputNeverCrashes) {
  const std::string alphabet[] = {
      "{{",     "}}", "{%", "%}", "{#", "#}", "-",     "+",  "(",   ")",     "[",        "]",
      "{",      "}",  "'",  "\"", "\\", " ",  "\n",    "if", "for", "in",    "endif",    "endfor",
      "set",    "=",  "x",  "1",  ".",  "|",  "upper", "is", "not", "macro", "endmacro", "raw",
      "endraw", ",",  ":",  "*",  "**", "~",  "loop",  "é",  "\xff"};
  std::mt19937 rng(42);
  std::uniform_int_distribution<size_t> pick(0, std::size(alphabet) - 1);
  std::uniform_int_distribution<int> len(1, 40);
  int n_ok = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string src;
    for (int k = len(rng); k > 0; --k) src += alphabet[pick(rng)];
    auto t = Template::Parse(src);
    if (!t.ok()) {
      EXPECT_EQ(t.status().message().rfind("template line ", 0), 0u) << t.status().message();
      continue;
    }
    RenderConfig config;
    config.max_steps = 100000;
    if (t->Render(nlohmann::ordered_json::object(), config).ok()) ++n_ok;
  }
  EXPECT_GT(n_ok, 0);
}

TEST(JinjaMutation, AllowedWhenConfigured) {
  RenderConfig config;
  config.allow_mutation = true;
  EXPECT_EQ(Render("{% set l = [1] %}{% set _ = l.append(2) %}{% set _ = l.extend([3, 4]) %}"
                   "{% set _ = l.insert(0, 0) %}{{ l.pop() }}{{ l }}{% set _ = l.remove(1) %}"
                   "{% set _ = l.reverse() %}{{ l }}{% set _ = l.sort() %}{{ l }}",
                   "{}", config),
            "4[0, 1, 2, 3][3, 2, 0][0, 2, 3]");
  EXPECT_EQ(Render("{% set d = {'a': 1} %}{% set _ = d.update({'b': 2}, c=3) %}{{ d }}"
                   "{{ d.pop('a') }}{{ d.setdefault('z', 9) }}{{ d }}",
                   "{}", config),
            "{'a': 1, 'b': 2, 'c': 3}19{'b': 2, 'c': 3, 'z': 9}");
  // Shared by reference, as in Python: the namespace sees the appended item.
  EXPECT_EQ(Render("{% set ns = namespace(ids=[]) %}{% for i in range(3) %}"
                   "{% set _ = ns.ids.append(i) %}{% endfor %}{{ ns.ids }}",
                   "{}", config),
            "[0, 1, 2]");
  EXPECT_TRUE(IsError(Render("{{ (1, 2).append(3) }}", "{}", config)));
}

TEST(JinjaTemplate, ParsedTemplateIsReusable) {
  auto t = Template::Parse("{{ greeting }}, {{ name|default('you') }}!");
  ASSERT_TRUE(t.ok());
  auto a = t->Render(nlohmann::ordered_json{{"greeting", "Hi"}});
  auto b = t->Render(nlohmann::ordered_json{{"greeting", "Yo"}, {"name", "Ann"}});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, "Hi, you!");
  EXPECT_EQ(*b, "Yo, Ann!");
  EXPECT_FALSE(t->Render(nlohmann::ordered_json::array()).ok());
}

TEST(JinjaTemplate, VariablesKeepJsonMemberOrder) {
  EXPECT_EQ(Render("{{ d|tojson }} {% for k in d %}{{ k }}{% endfor %}",
                   R"({"d": {"zeta": 1, "alpha": {"y": 2, "b": 3}}})"),
            R"({"zeta": 1, "alpha": {"y": 2, "b": 3}} zetaalpha)");
  EXPECT_EQ(Render("{{ big }} {{ neg }} {{ f }}",
                   R"({"big": 18446744073709551615, "neg": -5, "f": 2.50})"),
            "1.8446744073709552e+19 -5 2.5");
}

TEST(JinjaTemplate, ConcurrentRendersOfOneTemplateAgree) {
  auto t = Template::Parse(
      "{% macro m(x) %}[{{ x|upper }}]{% endmacro %}{% set ns = namespace(n=0) %}"
      "{% for i in range(n) %}{% set ns.n = ns.n + i %}{{ m('a' ~ i) }}{% endfor %}{{ ns.n }}");
  ASSERT_TRUE(t.ok());
  std::vector<std::string> results(8);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < results.size(); ++k) {
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 50; ++rep) {
        auto r = t->Render(nlohmann::ordered_json{{"n", 20 + static_cast<int>(k)}});
        results[k] = r.ok() ? *r : r.status().message();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (size_t k = 0; k < results.size(); ++k) {
    std::string want;
    int n = 20 + static_cast<int>(k), sum = 0;
    for (int i = 0; i < n; ++i) want += "[A" + std::to_string(i) + "]", sum += i;
    EXPECT_EQ(results[k], want + std::to_string(sum));
  }
}

}  // namespace
}  // namespace mle::text::jinja
