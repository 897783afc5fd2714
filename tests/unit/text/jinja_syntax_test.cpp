// Jinja syntax: whitespace control (trim_blocks, lstrip_blocks, -/+ markers), comments, raw,
// literals, operators and precedence, attribute/item access, slicing and undefined values.
// Every expected string is what Jinja2 3.1 renders in Hugging Face's chat-template
// environment (the reference the project is checked against).
#include <gtest/gtest.h>

#include "jinja_test_util.h"

namespace mle::text::jinja {
namespace {

TEST(JinjaWhitespace, TrimBlocksRemovesNewlineAfterBlockTag) {
  EXPECT_EQ(Render(R"J({% if true %}
A
{% endif %}
B)J"),
            R"J(A
B)J");
  EXPECT_EQ(Render(R"J({% for i in [1,2] %}{{ i }}
{% endfor %})J"),
            R"J(1
2
)J");
  EXPECT_EQ(Render(R"J({% if true %}
{% endif %}
)J"),
            R"J()J");
}

TEST(JinjaWhitespace, LstripBlocksStripsIndentBeforeBlockTag) {
  EXPECT_EQ(Render(R"J(a
  {% if true %}
    b
  {% endif %}
c)J"),
            R"J(a
    b
c)J");
  EXPECT_EQ(Render(R"J(	 {% for i in [1,2] %}
	{{ i }}
	 {% endfor %}
end
)J"),
            R"J(	1
	2
end)J");
  EXPECT_EQ(Render(R"J(   {% if true %}a{% endif %})J"), R"J(a)J");
}

TEST(JinjaWhitespace, LstripOnlyAtLineStart) {
  EXPECT_EQ(Render(R"J(x   {% if true %}a{% endif %})J"), R"J(x   a)J");
  EXPECT_EQ(Render(R"J(text  {% if true %}x{% endif %}
)J"),
            R"J(text  x)J");
  EXPECT_EQ(Render(R"J({{ 'a' }}  {% if true %}b{% endif %})J"), R"J(a  b)J");
  EXPECT_EQ(Render(R"J({% if true %}a{% endif %}  {% if true %}b{% endif %})J"), R"J(a  b)J");
  EXPECT_EQ(Render(R"J({% if true %}a{% endif %}
  {% if true %}b{% endif %})J"),
            R"J(ab)J");
}

TEST(JinjaWhitespace, LstripDoesNotApplyToVariables) {
  EXPECT_EQ(Render(R"J(  {{ 'x' }}  
  {% if true %}y{% endif %}  
)J"),
            R"J(  x  
y  )J");
  EXPECT_EQ(Render(R"J({{ 'a' }}
  {% if true %}b{% endif %})J"),
            R"J(a
b)J");
}

TEST(JinjaWhitespace, MinusStripsAllWhitespace) {
  EXPECT_EQ(Render(R"J(a
  {%- if true %}
    b
  {%- endif %}
c)J"),
            R"J(a    bc)J");
  EXPECT_EQ(Render(R"J(a
  {% if true -%}
    b
  {% endif -%}
c)J"),
            R"J(a
b
c)J");
  EXPECT_EQ(Render(R"J({{- '  a  ' -}}   b   {{- 'c' }})J"), R"J(  a  bc)J");
  EXPECT_EQ(Render(R"J(x

  {%- set a = 1 -%}

  y)J"),
            R"J(xy)J");
  EXPECT_EQ(Render(R"J({{ 'a' -}}

  {% if true %}b{% endif %})J"),
            R"J(ab)J");
}

TEST(JinjaWhitespace, PlusDisablesTrimAndLstrip) {
  EXPECT_EQ(Render(R"J(a
  {%+ if true %}
    b
  {% endif +%}
c)J"),
            R"J(a
      b

c)J");
}

TEST(JinjaWhitespace, UnicodeWhitespace) {
  EXPECT_EQ(Render(R"J(a　{%- if true %}b{% endif %})J"), R"J(ab)J");
  EXPECT_EQ(Render(R"J(a  {% if true %}b{% endif %}
  {% if true %}c{% endif %})J"),
            R"J(a  bc)J");
}

TEST(JinjaWhitespace, Comments) {
  EXPECT_EQ(Render(R"J(a {#- c -#} b
  {# c #}
d)J"),
            R"J(ab
d)J");
  EXPECT_EQ(Render(R"J(  {# c #}  
x)J"),
            R"J(  
x)J");
  EXPECT_EQ(Render(R"J({#
multiline
#}
  {% if true %}x{% endif %})J"),
            R"J(x)J");
  EXPECT_EQ(Render(R"J({# comment #}a{#- stripped -#}   b {#+ plus +#} c)J"), R"J(ab  c)J");
}

TEST(JinjaWhitespace, Raw) {
  EXPECT_EQ(Render(R"J({% raw %}{{ not rendered }}{% endraw %}|{% raw -%}   x   {%- endraw %}|)J"),
            R"J({{ not rendered }}|x|)J");
  EXPECT_EQ(Render(R"J({% raw %}
  {{ x }}
{% endraw %}
)J"),
            R"J(
  {{ x }}
)J");
  EXPECT_EQ(Render(R"J(a
  {%- raw -%}  x  {%- endraw -%}  
b)J"),
            R"J(axb)J");
}

TEST(JinjaWhitespace, NewlinesAndTrailingNewline) {
  EXPECT_EQ(Render("{% if true %}\015\nA\015\n{% endif %}\015\n"),
            R"J(A
)J");
  EXPECT_EQ(Render(R"J(trailing
)J"),
            R"J(trailing)J");
  EXPECT_EQ(Render(R"J(trailing

)J"),
            R"J(trailing
)J");
  EXPECT_EQ(Render(R"J({%- for m in [1] %}
{{- m }}
{% endfor %})J"),
            R"J(1
)J");
}

TEST(JinjaLiterals, Numbers) {
  EXPECT_EQ(
      Render(
          R"J({{ 1_000 + 0x10 + 0o10 + 0b10 }} {{ 1e3 }} {{ 1_0.5 }} {{ 2E-2 }} {{ 42 }} {{ 0 }})J"),
      R"J(1026 1000.0 10.5 0.02 42 0)J");
}

TEST(JinjaLiterals, FloatsPrintLikePython) {
  EXPECT_EQ(
      Render(
          R"J({{ 1.0 }} {{ 0.1 }} {{ 1e100 }} {{ 1.5e-7 }} {{ 3.0 * 2 }} {{ 10 / 4 }} {{ 0.1 + 0.2 }} {{ 1/3 }} {{ 2.5e15 }} {{ 1e16 }} {{ 123456789012345678.0 }} {{ -0.0 }} {{ 0.0001 }} {{ 0.00001 }})J"),
      R"J(1.0 0.1 1e+100 1.5e-07 6.0 2.5 0.30000000000000004 0.3333333333333333 2500000000000000.0 1e+16 1.2345678901234568e+17 -0.0 0.0001 1e-05)J");
}

TEST(JinjaLiterals, Strings) {
  EXPECT_EQ(
      Render(R"J({{ "a" "b" 'c' }} {{ '\x41\u00e9\101\t|\\\q' }} {{ "'" ~ "\"" }} {{ '\'' }})J"),
      R"J(abc AéA	|\\q '" ')J");
  EXPECT_EQ(Render(R"J({{ '한국어 😀' }})J"), R"J(한국어 😀)J");
}

TEST(JinjaLiterals, ConstantsAndContainers) {
  EXPECT_EQ(
      Render(
          R"J({{ true }} {{ True }} {{ false }} {{ none }} {{ None }} {{ (1, 2) }} {{ () }} {{ [] }} {{ {} }} {{ ('a',) }} {{ 1, 2 }})J"),
      R"J(True True False None None (1, 2) () [] {} ('a',) (1, 2))J");
  EXPECT_EQ(Render(R"J({{ {'a': 1, 'b': [1, 'x']} }} {{ [none, true, false, 1.5] }})J"),
            R"J({'a': 1, 'b': [1, 'x']} [None, True, False, 1.5])J");
}

TEST(JinjaLiterals, ReprOfStrings) {
  EXPECT_EQ(
      Render(
          R"J({{ ["it's", 'say "hi"', 'both \' and "', 'tab\there', 'nl\n', 'bs\\', 'ünï', '\x01', '\u00a0', '\u200b', '😀'] }})J"),
      R"J(["it's", 'say "hi"', 'both \' and "', 'tab\there', 'nl\n', 'bs\\', 'ünï', '\x01', '\xa0', '\u200b', '😀'])J");
}

TEST(JinjaOperators, Arithmetic) {
  EXPECT_EQ(
      Render(
          R"J({{ 1 + 2 * 3 - 4 / 2 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % -3 }}|{{ -3 % 5 }}|{{ 2 ** 10 }}|{{ 2 ** -1 }})J"),
      R"J(5.0|3|-4|-2|2|1024|0.5)J");
  EXPECT_EQ(
      Render(
          R"J({{ true + true }} {{ true * 3 }} {{ 1 + 1.5 }} {{ 3 // 2.0 }} {{ 3.5 % 2 }} {{ -3.5 % 2 }} {{ 2 ** 0.5 }})J"),
      R"J(2 3 2.5 1.0 1.5 0.5 1.4142135623730951)J");
}

TEST(JinjaOperators, JinjaPrecedenceQuirks) {
  EXPECT_TRUE(IsError(
      Render(R"J({{ 2**3**2 }} {{ -2**2 }} {{ -1|abs }} {{ 1 + 2|string }} {{ 'a' ~ 1 + 2 }})J")))
      << "Jinja2: "
      << R"J(TypeError: unsupported operand type(s) for +: 'int' and 'str')J";
}

TEST(JinjaOperators, ConcatAndRepeat) {
  EXPECT_EQ(
      Render(
          R"J({{ 'a' ~ 1 ~ none ~ true ~ 1.5 ~ x }}|{{ 'ab' * 3 }}|{{ 3 * 'x' }}|{{ [1] * 3 }}|{{ [1,2] + [3] }}|{{ (1,) + (2,) }}|{{ 'a' * -1 }})J"),
      R"J(a1NoneTrue1.5|ababab|xxx|[1, 1, 1]|[1, 2, 3]|(1, 2)|)J");
}

TEST(JinjaOperators, Comparisons) {
  EXPECT_EQ(
      Render(
          R"J({{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ 'B' < 'a' }} {{ [1,2] < [1,3] }} {{ none == none }} {{ (1, 2) == [1, 2] }} {{ {'a': 1} == {'a': 1} }} {{ 2 >= 2 }} {{ 1 != 2 }})J"),
      R"J(True False True True True True True True False True True True)J");
}

TEST(JinjaOperators, Membership) {
  EXPECT_EQ(
      Render(
          R"J({{ 'a' in 'cat' }} {{ 2 not in [1,3] }} {{ 'k' in {'k':1} }} {{ 1 in (1, 2) }} {{ x in [1] }} {{ 1 in x }})J"),
      R"J(True True True True False False)J");
}

TEST(JinjaOperators, LogicReturnsOperands) {
  EXPECT_EQ(
      Render(
          R"J({{ 1 and 2 }}{{ 0 and 2 }}{{ 0 or 'b' }}{{ none or [] }}{{ not 0 }}{{ not 'a' }}{{ x or 'dflt' }})J"),
      R"J(20b[]TrueFalsedflt)J");
}

TEST(JinjaOperators, InlineIf) {
  EXPECT_EQ(
      Render(
          R"J({{ 'x' if true else 'y' }}{{ 'x' if false else 'y' }}{{ 'z' if false }}|{{ 'a' if x is defined else 'b' }} {{ 'c' if (x|default(0)) > 0 else 'd' }})J"),
      R"J(xy|b d)J");
}

TEST(JinjaAccess, DictAttributesAndItems) {
  EXPECT_EQ(
      Render(
          R"J({% set d = {'a': 1, 'items': 2} %}{{ d.a }} {{ d['a'] }} {{ d['items'] }} {{ d.b }}|{{ d.get('a') }} {{ d.get('z', 9) }})J"),
      R"J(1 1 2 |1 9)J");
  EXPECT_EQ(
      Render(
          R"J({{ {'a': 1}['a'] }} {{ {1: 'one'}[1] }} {{ {1: 'one'}[1.0] }} {{ {true: 'T'}[1] }})J"),
      R"J(1 one one T)J");
}

TEST(JinjaAccess, Indexing) {
  EXPECT_EQ(
      Render(
          R"J({{ 'abc'[1] }} {{ 'abc'[-1] }} {{ 'abc'[5] }}|{{ [10, 20].1 }} {{ (1, 2)[0] }} {{ ((1, 2), (3, 4))[1][0] }} {{ [1, [2, [3]]][1][1][0] }} {{ '한국어'[1] }})J"),
      R"J(b c |20 1 3 3 국)J");
}

TEST(JinjaAccess, Slicing) {
  EXPECT_EQ(
      Render(
          R"J({{ [1,2,3][1:] }} {{ [1,2,3][::-1] }} {{ [1,2,3,4,5][1:4:2] }} {{ 'hello'[1:-1] }} {{ [1,2,3][-10:10] }} {{ [1,2,3][5:] }} {{ 'abcdef'[::2] }} {{ 'abcdef'[4:1:-1] }} {{ [1,2,3][:-1] }} {{ '한국어'[::-1] }} {{ 'abc'[true:] }} {{ [1,2][none:1] }})J"),
      R"J([2, 3] [3, 2, 1] [2, 4] ell [1, 2, 3] [] ace edc [1, 2] 어국한 bc [1])J");
}

TEST(JinjaAccess, FailedLookupsAreUndefined) {
  EXPECT_EQ(
      Render(
          R"J([{{ [1, 2, 3][1.5] }}|{{ none[0] }}|{{ 5[0] }}|{{ none['a'] }}|{{ 'abc'['x'] }}|{{ none[1:] }}|{{ {'a': 1}[0:1] }}|{{ none.x }}|{{ 'a'.x }}])J"),
      R"J([||||||||])J");
}

TEST(JinjaAccess, UndefinedIsLenient) {
  EXPECT_EQ(
      Render(
          R"J({{ x }}|{{ x ~ 'ok' }} {{ x|length }} {{ x|list }} {{ x|upper }} {{ not x }} {{ x == none }} {{ x is none }} {{ [x] }}{% for i in x %}never{% endfor %})J"),
      R"J(|ok 0 []  True False False [Undefined])J");
}

TEST(JinjaAccess, UndefinedRaisesWhenUsed) {
  EXPECT_TRUE(IsError(Render(R"J({{ foo.bar }})J"))) << "Jinja2: "
                                                     << R"J(UndefinedError: 'foo' is undefined)J";
  EXPECT_TRUE(IsError(Render(R"J({{ foo['bar'] }})J")))
      << "Jinja2: "
      << R"J(UndefinedError: 'foo' is undefined)J";
  EXPECT_TRUE(IsError(Render(R"J({{ {}.x.y }})J")))
      << "Jinja2: "
      << R"J(UndefinedError: 'dict object' has no attribute 'x')J";
  EXPECT_TRUE(IsError(Render(R"J({{ x + 1 }})J"))) << "Jinja2: "
                                                   << R"J(UndefinedError: 'x' is undefined)J";
  EXPECT_TRUE(IsError(Render(R"J({{ x < 1 }})J"))) << "Jinja2: "
                                                   << R"J(UndefinedError: 'x' is undefined)J";
  EXPECT_TRUE(IsError(Render(R"J({{ x() }})J"))) << "Jinja2: "
                                                 << R"J(UndefinedError: 'x' is undefined)J";
  EXPECT_TRUE(IsError(Render(R"J({{ x|int }})J"))) << "Jinja2: "
                                                   << R"J(UndefinedError: 'x' is undefined)J";
  EXPECT_TRUE(IsError(Render(R"J({{ x[1:] }})J"))) << "Jinja2: "
                                                   << R"J(UndefinedError: 'x' is undefined)J";
  EXPECT_TRUE(IsError(Render(R"J({{ [1,2,3][x:] }})J")))
      << "Jinja2: "
      << R"J(TypeError: slice indices must be integers or None or have an __index__ method)J";
  EXPECT_TRUE(IsError(Render(R"J({{ x|tojson }})J")))
      << "Jinja2: "
      << R"J(TypeError: Object of type Undefined is not JSON serializable)J";
}

TEST(JinjaAccess, TypeErrors) {
  EXPECT_TRUE(IsError(Render(R"J({{ 1 + 'a' }})J")))
      << "Jinja2: "
      << R"J(TypeError: unsupported operand type(s) for +: 'int' and 'str')J";
  EXPECT_TRUE(IsError(Render(R"J({{ 'a' + 1 }})J")))
      << "Jinja2: "
      << R"J(TypeError: can only concatenate str (not "int") to str)J";
  EXPECT_TRUE(IsError(Render(R"J({{ [1] + 'a' }})J")))
      << "Jinja2: "
      << R"J(TypeError: can only concatenate list (not "str") to list)J";
  EXPECT_TRUE(IsError(Render(R"J({{ 1 < 'a' }})J")))
      << "Jinja2: "
      << R"J(TypeError: '<' not supported between instances of 'int' and 'str')J";
  EXPECT_TRUE(IsError(Render(R"J({{ 1/0 }})J"))) << "Jinja2: "
                                                 << R"J(ZeroDivisionError: division by zero)J";
  EXPECT_TRUE(IsError(Render(R"J({{ 1 // 0 }})J")))
      << "Jinja2: "
      << R"J(ZeroDivisionError: integer division or modulo by zero)J";
  EXPECT_TRUE(IsError(Render(R"J({{ 'abc'[1:2:0] }})J")))
      << "Jinja2: "
      << R"J(ValueError: slice step cannot be zero)J";
  EXPECT_TRUE(IsError(Render(R"J({{ 1 in 5 }})J")))
      << "Jinja2: "
      << R"J(TypeError: argument of type 'int' is not iterable)J";
  EXPECT_TRUE(IsError(Render(R"J({{ 1 in 'abc' }})J")))
      << "Jinja2: "
      << R"J(TypeError: 'in <string>' requires string as left operand, not int)J";
}

}  // namespace
}  // namespace mle::text::jinja
