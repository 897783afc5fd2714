// Jinja tests (`x is ...`), Python methods of str/list/dict values, str.format and `%`
// formatting, and the immutable sandbox's refusal of mutating methods. Every expected string
// is what Jinja2 3.1 renders in Hugging Face's chat-template environment.
#include <gtest/gtest.h>

#include "jinja_test_util.h"

namespace mle::text::jinja {
namespace {

TEST(JinjaTests, DefinedUndefinedNone) {
  EXPECT_EQ(
      Render(
          R"J({{ x is defined }} {{ x is undefined }} {{ none is none }} {{ x is none }} {{ m.content is none }} {{ m.content is defined }} {{ m.tool_calls is defined }} {{ m['tool_calls'] is not defined }} {{ m.n is none }})J",
          R"J({"m": {"role": "user", "content": null, "n": 0}})J"),
      R"J(False True True False True True False True False)J");
}

TEST(JinjaTests, Types) {
  EXPECT_EQ(
      Render(
          R"J({{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ '1' is number }} {{ 1.5 is float }} {{ 1 is float }} {{ 1 is integer }} {{ true is integer }} {{ true is boolean }} {{ 1 is boolean }} {{ 'a' is string }} {{ {} is mapping }} {{ [] is mapping }} {{ range is callable }} {{ 'a' is callable }})J"),
      R"J(True True True False True False True False True False True True False True False)J");
}

TEST(JinjaTests, IterableAndSequence) {
  EXPECT_EQ(
      Render(
          R"J({{ [] is iterable }} {{ 'a' is iterable }} {{ {} is iterable }} {{ x is iterable }} {{ none is iterable }} {{ 1 is iterable }} {{ [] is sequence }} {{ 'a' is sequence }} {{ {} is sequence }} {{ x is sequence }} {{ none is sequence }})J"),
      R"J(True True True True False False True True True True False)J");
}

TEST(JinjaTests, Booleans) {
  EXPECT_EQ(
      Render(
          R"J({{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ none is false }})J"),
      R"J(True False True False False)J");
}

TEST(JinjaTests, Numbers) {
  EXPECT_EQ(
      Render(
          R"J({{ 3 is odd }} {{ 4 is even }} {{ 3.0 is odd }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(2) }})J"),
      R"J(True True True True False)J");
  EXPECT_TRUE(IsError(Render(R"J({{ 'a' is odd }})J")))
      << "Jinja2: "
      << R"J(TypeError: not all arguments converted during string formatting)J";
}

TEST(JinjaTests, Comparisons) {
  EXPECT_TRUE(IsError(Render(
      R"J({{ 1 is eq 1 }} {{ 1 is equalto 2 }} {{ 'a' is == 'a' }} {{ 1 is ne 2 }} {{ 2 is gt 1 }} {{ 2 is greaterthan 3 }} {{ 1 is lt 2 }} {{ 1 is lessthan 1 }} {{ 2 is ge 2 }} {{ 2 is le 1 }} {{ 1 is in [1] }} {{ 'a' is in 'cat' }})J")))
      << "Jinja2: "
      << R"J(TemplateSyntaxError: expected token 'name', got '==')J";
}

TEST(JinjaTests, CaseAndIdentity) {
  EXPECT_EQ(
      Render(
          R"J({{ 'abc' is lower }} {{ 'aBc' is lower }} {{ 'ABC' is upper }} {{ '1' is upper }} {{ 1 is sameas 1 }} {{ none is sameas none }} {{ [] is sameas [] }} {{ 'upper' is filter }} {{ 'nope' is filter }} {{ 'odd' is test }} {{ 'x' is escaped }})J"),
      R"J(True False True False True True False True False True False)J");
}

TEST(JinjaTests, NegatedAndChained) {
  EXPECT_EQ(
      Render(
          R"J({{ x is not defined and 1 is not string }} {{ not 1 is string }} {{ (1 is number) == true }})J"),
      R"J(True True True)J");
}

TEST(JinjaStrMethods, StripSplit) {
  EXPECT_EQ(
      Render(
          R"J([{{ ' a b '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a\n\n'.rstrip('\n') }}|{{ 'xya'.lstrip('yx') }}])J"),
      R"J([a b|a|a|a|a])J");
  EXPECT_EQ(
      Render(
          R"J({{ 'a,b,c'.split(',') }} {{ 'a b  c'.split() }} {{ '  a b '.split(none, 1) }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ 'a b c'.rsplit(maxsplit=1) }} {{ ''.split(',') }} {{ ''.split() }} {{ 'a\u3000b'.split() }} {{ 'a\nb\r\nc'.splitlines() }})J"),
      R"J(['a', 'b', 'c'] ['a', 'b', 'c'] ['a', 'b '] ['a', 'b,c'] ['a,b', 'c'] ['a b', 'c'] [''] [] ['a', 'b'] ['a', 'b', 'c'])J");
  EXPECT_TRUE(IsError(Render(R"J({{ 'a'.split('') }})J"))) << "Jinja2: "
                                                           << R"J(ValueError: empty separator)J";
}

TEST(JinjaStrMethods, StartsEnds) {
  EXPECT_EQ(
      Render(
          R"J({{ 'abc'.startswith('ab') }} {{ 'abc'.startswith('b', 1) }} {{ 'abc'.endswith(('x','c')) }} {{ 'abc'.endswith('') }} {{ '한국어'.startswith('한') }})J"),
      R"J(True True True True True)J");
  EXPECT_TRUE(IsError(Render(R"J({{ 'abc'.startswith(1) }})J")))
      << "Jinja2: "
      << R"J(TypeError: startswith first arg must be str or a tuple of str, not int)J";
}

TEST(JinjaStrMethods, CaseMethods) {
  EXPECT_EQ(
      Render(
          R"J({{ 'abc'.upper() }} {{ 'Hi There'.lower() }} {{ "hello world's 1st".title() }} {{ 'hELLO'.capitalize() }} {{ 'aBc'.swapcase() }} {{ 'ABC'.isupper() }} {{ 'abc'.islower() }} {{ '123'.isdigit() }} {{ 'ab'.isalpha() }} {{ 'a1'.isalnum() }} {{ ' '.isspace() }} {{ ''.isspace() }})J"),
      R"J(ABC hi there Hello World'S 1St Hello AbC True True True True True True False)J");
}

TEST(JinjaStrMethods, FindReplaceCount) {
  EXPECT_EQ(
      Render(
          R"J({{ 'hello'.replace('l', 'L') }} {{ 'hello'.replace('l', 'L', 1) }} {{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.find('z') }} {{ 'hello'.find('l', 3) }} {{ 'hello'.count('l') }} {{ ''.count('') }} {{ '한국어'.find('어') }} {{ 'hello'.index('e') }})J"),
      R"J(heLLo heLlo 2 3 -1 3 2 1 2 1)J");
  EXPECT_TRUE(IsError(Render(R"J({{ 'hello'.index('z') }})J")))
      << "Jinja2: "
      << R"J(ValueError: substring not found)J";
}

TEST(JinjaStrMethods, JoinPadPartition) {
  EXPECT_EQ(
      Render(
          R"J({{ '-'.join(['a','b']) }} {{ ', '.join('ab') }} [{{ 'abc'.center(8, '*') }}|{{ 'ab'.ljust(4, '.') }}|{{ 'ab'.rjust(4) }}|{{ '42'.zfill(5) }}|{{ '-42'.zfill(5) }}] {{ 'a-b-c'.partition('-') }} {{ 'a-b-c'.rpartition('-') }} {{ 'abc'.removeprefix('a') }} {{ 'abc'.removesuffix('c') }})J"),
      R"J(a-b a, b [**abc***|ab..|  ab|00042|-0042] ('a', '-', 'b-c') ('a-b', '-', 'c') bc ab)J");
  EXPECT_TRUE(IsError(Render(R"J({{ ''.join(['a', 1]) }})J")))
      << "Jinja2: "
      << R"J(TypeError: sequence item 1: expected str instance, int found)J";
}

TEST(JinjaStrMethods, Format) {
  EXPECT_EQ(
      Render(
          R"J({{ '{} and {}'.format(1, 'b') }} {{ '{0}{1}{0}'.format('a', 'b') }} {{ '{name}!'.format(name='x') }} {{ '{{}}{}'.format(1) }} {{ '{0[0]} {0[1]} {1.a}'.format(['x', 'y'], {'a': 'attr'}) }} {{ '{a[k]}'.format(a={'k': 'v'}) }} {{ '{:{w}}|'.format('x', w=4) }})J"),
      R"J(1 and b aba x! {}1 x y attr v x   |)J");
  EXPECT_EQ(
      Render(
          R"J({{ '{:>6}|{:<6}|{:^6}|{:06.2f}|{:+d}|{:,}|{:x}|{:#x}|{:.3}|{:e}|{:%}|{!r}|{!s}'.format('ab', 'cd', 'ef', 3.14159, 5, 1234567, 255, 255, 'abcdef', 12345.678, 0.25, 'q', 1) }})J"),
      R"J(    ab|cd    |  ef  |003.14|+5|1,234,567|ff|0xff|abc|1.234568e+04|25.000000%|'q'|1)J");
  EXPECT_EQ(
      Render(
          R"J({{ '{:10.3f}|{:<10}|{:>+8.2e}|{:08.3f}|{:_}|{:b}|{:o}|{:c}|{:5}|{}|{:.2}|{:g}'.format(3.14159, 'left', 12345.6789, -3.14159, 1000000, 10, 8, 65, 42, true, 1.0, 0.00001) }})J"),
      R"J(     3.142|left      |+1.23e+04|-003.142|1_000_000|1010|10|A|   42|True|1.0|1e-05)J");
  EXPECT_TRUE(IsError(Render(R"J({{ '{} {}'.format(1) }})J")))
      << "Jinja2: "
      << R"J(IndexError: tuple index out of range)J";
  EXPECT_TRUE(IsError(Render(R"J({{ '{0} {}'.format(1, 2) }})J")))
      << "Jinja2: "
      << R"J(ValueError: cannot switch from manual field specification to automatic field numbering)J";
  EXPECT_TRUE(IsError(Render(R"J({{ '{:d}'.format('a') }})J")))
      << "Jinja2: "
      << R"J(ValueError: Unknown format code 'd' for object of type 'str')J";
  EXPECT_TRUE(IsError(Render(R"J({{ '}'.format() }})J")))
      << "Jinja2: "
      << R"J(ValueError: Single '}' encountered in format string)J";
}

TEST(JinjaStrMethods, PercentFormatting) {
  EXPECT_EQ(
      Render(
          R"J({{ '%s is %d years and %.2f%%' % ('Al', 30, 99.5) }} {{ '%5s|%-5s|%05d|%x|%r' % ('a', 'b', 42, 255, 'c') }} {{ '%(a)s-%(b)s' % {'a': 1, 'b': 2} }} {{ 'x%sy' % 5 }} {{ '%s' % [1, 2] }} {{ '%s' % {'a': 1} }})J"),
      R"J(Al is 30 years and 99.50%     a|b    |00042|ff|'c' 1-2 x5y [1, 2] {'a': 1})J");
  EXPECT_EQ(
      Render(
          R"J({{ '%c%c' % (72, 'i') }} {{ '%3d|%-3d|%+d|% d' % (5, 5, 5, 5) }} {{ '%.3s' % 'abcdef' }} {{ '%e' % 1234.5 }} {{ '%g' % 0.0001 }} {{ '%o %X %#x' % (8, 255, 255) }} {{ '%d' % 3.9 }} {{ '%i' % true }})J"),
      R"J(Hi   5|5  |+5| 5 abc 1.234500e+03 0.0001 10 FF 0xff 3 1)J");
  EXPECT_TRUE(IsError(Render(R"J({{ '%s %s' % ('a',) }})J")))
      << "Jinja2: "
      << R"J(TypeError: not enough arguments for format string)J";
  EXPECT_TRUE(IsError(Render(R"J({{ '%s' % ('a', 'b') }})J")))
      << "Jinja2: "
      << R"J(TypeError: not all arguments converted during string formatting)J";
  EXPECT_TRUE(IsError(Render(R"J({{ '%d' % 'x' }})J")))
      << "Jinja2: "
      << R"J(TypeError: %d format: a real number is required, not str)J";
}

TEST(JinjaContainerMethods, DictMethods) {
  EXPECT_EQ(
      Render(
          R"J({% set d = {'a': 1, 'b': 2} %}{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 9) }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }} {{ d.copy() }} {% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %})J"),
      R"J(1 None 9 ['a', 'b'] [1, 2] [('a', 1), ('b', 2)] {'a': 1, 'b': 2} a1b2)J");
}

TEST(JinjaContainerMethods, ListMethods) {
  EXPECT_EQ(
      Render(
          R"J({% set l = [10, 20, 30, 20] %}{{ l.index(20) }} {{ l.index(20, 2) }} {{ l.count(20) }} {{ l.copy() }} {{ (1, 2).count(1) }})J"),
      R"J(1 3 2 [10, 20, 30, 20] 1)J");
  EXPECT_TRUE(IsError(Render(R"J({{ [1].index(5) }})J"))) << "Jinja2: "
                                                          << R"J(ValueError: 5 is not in list)J";
}

TEST(JinjaContainerMethods, SandboxRefusesMutation) {
  EXPECT_TRUE(IsError(Render(R"J({{ [1,2].append(3) }})J")))
      << "Jinja2: "
      << R"J(SecurityError: access to attribute 'append' of 'list' object is unsafe.)J";
  EXPECT_TRUE(IsError(Render(R"J({% set d = {} %}{{ d.update({'a': 1}) }})J")))
      << "Jinja2: "
      << R"J(SecurityError: access to attribute 'update' of 'dict' object is unsafe.)J";
  EXPECT_TRUE(IsError(Render(R"J({% set l = [1] %}{{ l.pop() }})J")))
      << "Jinja2: "
      << R"J(SecurityError: access to attribute 'pop' of 'list' object is unsafe.)J";
  EXPECT_EQ(Render(R"J({% set l = [1] %}[{{ l.append }}|{{ l.append is defined }}])J"),
            R"J([|False])J");
  EXPECT_EQ(Render(R"J({{ (1, 2).append }}|)J"), R"J(|)J");
}

}  // namespace
}  // namespace mle::text::jinja
