// Jinja statements: if/elif/else, for (loop variables, unpacking, filters, else, recursion,
// break/continue), set (names, tuples, namespaces, blocks), macros (defaults, keywords,
// varargs/kwargs, caller), call/filter/with/generation blocks, and Jinja2's scoping rules.
// Every expected string is what Jinja2 3.1 renders in Hugging Face's chat-template
// environment.
#include <gtest/gtest.h>

#include "jinja_test_util.h"

namespace mle::text::jinja {
namespace {

TEST(JinjaIf, Branches) {
  EXPECT_EQ(
      Render(
          R"J({% for x in [1, 2, 3, 4] %}{% if x == 1 %}one{% elif x == 2 %}two{% elif x > 3 %}big{% else %}other{% endif %},{% endfor %})J"),
      R"J(one,two,other,big,)J");
  EXPECT_EQ(Render(R"J({% if [] %}a{% elif '' %}b{% elif 0.0 %}c{% else %}d{% endif %})J"),
            R"J(d)J");
}

TEST(JinjaIf, TestsInConditions) {
  EXPECT_EQ(
      Render(R"J({% if x is not defined and none is none and 'a' is string %}ok{% endif %})J"),
      R"J(ok)J");
  EXPECT_EQ(
      Render(
          R"J({% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}{% endif %})J",
          R"J({"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})J"),
      R"J(S)J");
}

TEST(JinjaIf, SetInsideIfIsVisibleAfter) {
  EXPECT_EQ(Render(R"J({% if true %}{% set y = 'in-if' %}{% endif %}{{ y }})J"), R"J(in-if)J");
}

TEST(JinjaFor, LoopVariables) {
  EXPECT_EQ(
      Render(
          R"J({% for x in [1,2,3] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %})J"),
      R"J(1032TrueFalse3|2121FalseFalse3|3210FalseTrue3|)J");
  EXPECT_EQ(
      Render(
          R"J({% for x in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }},{{ loop.cycle('a','b') }};{% endfor %})J"),
      R"J(-2,a;1-3,b;2-,a;)J");
  EXPECT_EQ(
      Render(
          R"J({% for x in [1,1,2,3,3] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %})J"),
      R"J(123)J");
}

TEST(JinjaFor, NestedLoops) {
  EXPECT_EQ(
      Render(
          R"J({% for x in [1,2] %}{% for y in [3,4] %}{{ loop.index }}{% endfor %}{{ loop.index }}{% endfor %})J"),
      R"J(121122)J");
  EXPECT_EQ(
      Render(
          R"J({% for x in [1,2] %}{% set outer = loop %}{% for y in [3] %}{{ outer.index }}{{ loop.index }}{% endfor %}{% endfor %})J"),
      R"J(1121)J");
}

TEST(JinjaFor, Unpacking) {
  EXPECT_EQ(
      Render(
          R"J({% for a, b in [(1,2),(3,4)] %}{{ a }}{{ b }}{% endfor %}{% for k, v in {'x': 1, 'y': 2}.items() %}{{ k }}={{ v }}{% endfor %}{% for k, v in {'b': 1, 'a': 2}|dictsort %}{{ k }}{% endfor %})J"),
      R"J(1234x=1y=2ab)J");
  EXPECT_TRUE(IsError(Render(R"J({% for a, b in [[1, 2], [3]] %}{{ a }}{% endfor %})J")))
      << "Jinja2: "
      << R"J(ValueError: not enough values to unpack (expected 2, got 1))J";
  EXPECT_EQ(Render(R"J({% for (a, (b, c)) in [(1, (2, 3))] %}{{ a }}{{ b }}{{ c }}{% endfor %})J"),
            R"J(123)J");
}

TEST(JinjaFor, IterablesOfEveryKind) {
  EXPECT_EQ(
      Render(
          R"J({% for x in 'ab' %}{{ x }}{% endfor %}{% for k in {'p': 1, 'q': 2} %}{{ k }}{% endfor %}{% for x in none_var %}{{ x }}{% endfor %}{% for i in range(3) %}{{ i }}{% endfor %})J"),
      R"J(abpq012)J");
  EXPECT_TRUE(IsError(Render(R"J({% for x in 5 %}{% endfor %})J")))
      << "Jinja2: "
      << R"J(TypeError: 'int' object is not iterable)J";
  EXPECT_TRUE(IsError(Render(R"J({% for x in none %}{% endfor %})J")))
      << "Jinja2: "
      << R"J(TypeError: 'NoneType' object is not iterable)J";
}

TEST(JinjaFor, FilterAndElse) {
  EXPECT_EQ(
      Render(
          R"J({% for x in range(10) if x is odd %}{{ x }}{{ loop.index }}/{{ loop.length }} {% else %}none{% endfor %}|{% for x in [] %}a{% else %}empty{% endfor %}|{% for x in [1] if false %}a{% else %}filtered{% endfor %})J"),
      R"J(11/5 32/5 53/5 74/5 95/5 |empty|filtered)J");
}

TEST(JinjaFor, BreakAndContinue) {
  EXPECT_EQ(
      Render(
          R"J({% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %})J"),
      R"J(0134)J");
  EXPECT_EQ(
      Render(
          R"J({% for x in [1, 2] %}{% for y in [1, 2] %}{% if y == 2 %}{% break %}{% endif %}{{ x }}{{ y }}{% endfor %}{% endfor %})J"),
      R"J(1121)J");
  EXPECT_EQ(Render(R"J({% for x in [1] %}{% break %}{% else %}else{% endfor %}done)J"),
            R"J(elsedone)J");
  EXPECT_EQ(
      Render(
          R"J({% for x in [1,2] %}{% if x == 2 %}{% break %}{% endif %}{% else %}E{% endfor %})J"),
      R"J()J");
  EXPECT_EQ(Render(R"J({% for x in [1,2] %}{% continue %}{% else %}E{% endfor %})J"), R"J(E)J");
}

TEST(JinjaFor, RecursiveLoop) {
  EXPECT_EQ(
      Render(
          R"J({% set tree = [{'n': 'a', 'c': [{'n': 'b', 'c': []}, {'n': 'c', 'c': [{'n': 'd', 'c': []}]}]}] %}{% for item in tree recursive %}{{ item.n }}{{ loop.depth }}{{ loop.depth0 }}{% if item.c %}({{ loop(item.c) }}){% endif %}{% endfor %})J"),
      R"J(a10(b21c21(d32)))J");
}

TEST(JinjaFor, EachIterationHasItsOwnScope) {
  EXPECT_EQ(
      Render(
          R"J({% set x = 'outer' %}{% for i in [1,2] %}{{ x }}{% set x = i %}{{ x }}{% endfor %}{{ x }})J"),
      R"J(outer1outer2outer)J");
  EXPECT_EQ(
      Render(
          R"J({% for i in [1,2] %}{% if i == 1 %}{% set y = 'one' %}{% endif %}[{{ y }}]{% endfor %})J"),
      R"J([one][])J");
  EXPECT_EQ(
      Render(
          R"J({% set found = false %}{% for m in [1,2,3] %}{% if m == 2 %}{% set found = true %}{% endif %}{% endfor %}{{ found }})J"),
      R"J(False)J");
}

TEST(JinjaSet, NamesAndTuples) {
  EXPECT_EQ(
      Render(
          R"J({% set a = 1 %}{% set b = a + 1 %}{{ a }}{{ b }}{% set a, b = b, a %}{{ a }}{{ b }}{% set (c, d) = [3, 4] %}{{ c }}{{ d }}{% set t = 1, 2 %}{{ t }})J"),
      R"J(122134(1, 2))J");
  EXPECT_TRUE(IsError(Render(R"J({% set a, b = [1] %})J")))
      << "Jinja2: "
      << R"J(ValueError: not enough values to unpack (expected 2, got 1))J";
  EXPECT_TRUE(IsError(Render(R"J({% set a, b = [1, 2, 3] %})J")))
      << "Jinja2: "
      << R"J(ValueError: too many values to unpack (expected 2))J";
}

TEST(JinjaSet, Namespaces) {
  EXPECT_EQ(
      Render(
          R"J({% set ns = namespace(count=0, found=false) %}{% for i in range(4) %}{% set ns.count = ns.count + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.count }} {{ ns.found }})J"),
      R"J(6 True)J");
  EXPECT_EQ(
      Render(
          R"J({% set ns = namespace() %}{% set ns.a = [1] %}{% set ns.a = ns.a + [2] %}{{ ns.a }} {{ namespace(a=1, b=2) }} {{ namespace({'x': 1}).x }})J"),
      R"J([1, 2] <Namespace {'a': 1, 'b': 2}> 1)J");
  EXPECT_TRUE(IsError(Render(R"J({% set x = 5 %}{% set x.y = 1 %})J")))
      << "Jinja2: "
      << R"J(TemplateRuntimeError: cannot assign attribute on non-namespace object)J";
  EXPECT_TRUE(IsError(Render(R"J({% for i in [1] %}{% set loop.x = 1 %}{% endfor %})J")))
      << "Jinja2: "
      << R"J(TemplateRuntimeError: cannot assign attribute on non-namespace object)J";
}

TEST(JinjaSet, BlockSet) {
  EXPECT_EQ(
      Render(
          R"J({% set x %}block {{ 1 + 1 }}{% endset %}[{{ x }}]{% set y | upper | replace('O', '0') %}shout{% endset %}{{ y }})J"),
      R"J([block 2]SH0UT)J");
}

TEST(JinjaMacro, ArgumentsAndDefaults) {
  EXPECT_EQ(
      Render(
          R"J({% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('A') }} {{ greet('B', 'Hi') }} {{ greet(greeting='Yo', name='C') }} [{{ greet() }}])J"),
      R"J(Hello, A! Hi, B! Yo, C! [Hello, !])J");
  EXPECT_EQ(
      Render(R"J({% macro m(a, b=a * 2) %}{{ a }}-{{ b }}{% endmacro %}{{ m(3) }} {{ m(3, 1) }})J"),
      R"J(3-6 3-1)J");
}

TEST(JinjaMacro, VarargsAndKwargs) {
  EXPECT_EQ(
      Render(
          R"J({% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }})J"),
      R"J(1(2, 3){'x': 4})J");
  EXPECT_TRUE(IsError(Render(R"J({% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }})J")))
      << "Jinja2: "
      << R"J(TypeError: macro 'm' takes not more than 1 argument(s))J";
  EXPECT_TRUE(IsError(Render(R"J({% macro m(a) %}{{ a }}{% endmacro %}{{ m(b=2) }})J")))
      << "Jinja2: "
      << R"J(TypeError: macro 'm' takes no keyword argument 'b')J";
}

TEST(JinjaMacro, ClosureSeesDefinitionScopeAtCallTime) {
  EXPECT_EQ(
      Render(R"J({% set x = 1 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ m() }})J"),
      R"J(2)J");
  EXPECT_EQ(Render(R"J({% macro m() %}{{ v }}{% endmacro %}{{ m() }})J", R"J({"v": "ctx"})J"),
            R"J(ctx)J");
  EXPECT_EQ(
      Render(
          R"J({% macro outer() %}{% set y = 5 %}{% macro inner() %}{{ y }}{% endmacro %}{{ inner() }}{% endmacro %}{{ outer() }})J"),
      R"J(5)J");
  EXPECT_EQ(Render(R"J({% macro m() %}{% set z = 1 %}{% endmacro %}{{ m() }}[{{ z }}])J"),
            R"J([])J");
}

TEST(JinjaMacro, RecursionAndValues) {
  EXPECT_EQ(
      Render(
          R"J({% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(5) }})J"),
      R"J(120)J");
  EXPECT_EQ(
      Render(
          R"J({% macro m(x) %}<{{ x }}>{% endmacro %}{% set f = m %}{{ f('via var') }} {{ m('a') ~ m('b') }} {{ m is callable }})J"),
      R"J(<via var> <a><b> True)J");
}

TEST(JinjaMacro, CallBlocks) {
  EXPECT_EQ(
      Render(
          R"J({% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}inner{% endcall %})J"),
      R"J(<inner>)J");
  EXPECT_EQ(
      Render(
          R"J({% macro list_items(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) list_items([1,2]) %}[{{ x }}]{% endcall %})J"),
      R"J([1][2])J");
  EXPECT_EQ(Render(R"J({% macro m() %}[{{ caller is defined }}]{% endmacro %}{{ m() }})J"),
            R"J([False])J");
}

TEST(JinjaBlocks, FilterBlock) {
  EXPECT_EQ(
      Render(
          R"J({% filter upper %}hello {{ 'world' }}{% endfilter %}|{% filter replace('a', 'b')|upper %}aaa{% endfilter %})J"),
      R"J(HELLO WORLD|BBB)J");
}

TEST(JinjaBlocks, WithBlock) {
  EXPECT_EQ(Render(R"J({% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}])J"), R"J(3[])J");
}

TEST(JinjaBlocks, GenerationBlockRendersItsBody) {
  EXPECT_EQ(Render(R"J({% generation %}gen {{ 1 }}{% set g = 1 %}{% endgeneration %}[{{ g }}])J"),
            R"J(gen 1[])J");
  EXPECT_EQ(
      Render(
          R"J({% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}|{% endfor %})J",
          R"J({"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})J"),
      R"J(S|hi|yo|)J");
}

TEST(JinjaBlocks, PrintStatement) {
  EXPECT_EQ(Render(R"J({% print 'a' ~ 1 %})J"), R"J(a1)J");
}

TEST(JinjaGlobals, RangeDictNamespace) {
  EXPECT_EQ(
      Render(
          R"J({{ range(5)|list }} {{ range(2, 5)|list }} {{ range(10, 0, -3)|list }} {{ range(0)|list }} {{ dict(a=1, b=2) }} {{ dict([('x', 1)]) }} {{ dict({'k': 'v'}, z=0) }})J"),
      R"J([0, 1, 2, 3, 4] [2, 3, 4] [10, 7, 4, 1] [] {'a': 1, 'b': 2} {'x': 1} {'k': 'v', 'z': 0})J");
  EXPECT_TRUE(IsError(Render(R"J({{ range(100001)|length }})J")))
      << "Jinja2: "
      << R"J(OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).)J";
  EXPECT_EQ(Render(R"J({{ range(0, 100000)|length }})J"), R"J(100000)J");
}

TEST(JinjaGlobals, CyclerAndJoiner) {
  EXPECT_EQ(
      Render(
          R"J({% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}{{ c.current }}|{% set j = joiner(', ') %}{% for x in [1,2,3] %}{{ j() }}{{ x }}{% endfor %})J"),
      R"J(abab|1, 2, 3)J");
}

TEST(JinjaGlobals, StrftimeNowUsesFixedClock) {
  EXPECT_EQ(
      Render(
          R"J({{ strftime_now('%Y-%m-%d %H:%M %A %B %j %d %b %a') }}|{{ strftime_now('%-d %e') }}|{{ strftime_now('') }}|)J"),
      R"J(2026-11-23 09:30 Monday November 327 23 Nov Mon|23 23||)J");
}

TEST(JinjaGlobals, RaiseException) {
  EXPECT_TRUE(IsError(Render(R"J({{ raise_exception('boom') }})J"))) << "Jinja2: "
                                                                     << R"J(Exception: boom)J";
}

TEST(JinjaGlobals, ContextVariablesOverrideNothingButAreVisible) {
  EXPECT_EQ(Render(R"J({{ messages|length }} {{ bos_token }}{{ add_generation_prompt }})J",
                   R"J({"messages": [1, 2], "bos_token": "<s>", "add_generation_prompt": true})J"),
            R"J(2 <s>True)J");
}

}  // namespace
}  // namespace mle::text::jinja
