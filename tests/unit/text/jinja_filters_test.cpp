// Jinja filters, one test per filter (or family): every filter of Jinja2 3.1 that chat
// templates use, with its arguments and edge cases, plus Hugging Face's tojson. Every
// expected string is what Jinja2 3.1 renders in Hugging Face's chat-template environment.
#include <gtest/gtest.h>

#include "jinja_test_util.h"

namespace mle::text::jinja {
namespace {

TEST(JinjaFilters, Trim) {
  EXPECT_EQ(
      Render(
          R"J([{{ '  pad  '|trim }}] [{{ 'xxhixx'|trim('x') }}] [{{ ' \n\t x \u3000'|trim }}] [{{ x|trim }}] [{{ 5|trim }}])J"),
      R"J([pad] [hi] [x] [] [5])J");
}

TEST(JinjaFilters, LengthAndCount) {
  EXPECT_EQ(
      Render(
          R"J({{ 'Hello'|length }} {{ '한국어'|length }} {{ [1, 2]|length }} {{ {'a': 1}|length }} {{ x|length }} {{ (1,)|count }})J"),
      R"J(5 3 2 1 0 1)J");
  EXPECT_TRUE(IsError(Render(R"J({{ 5|length }})J")))
      << "Jinja2: "
      << R"J(TypeError: object of type 'int' has no len())J";
}

TEST(JinjaFilters, ToJson) {
  EXPECT_EQ(
      Render(
          R"J({{ {'a': 1, 'b': [1, 2.5, 'é', none, true]}|tojson }} {{ 'é"\n\u0001'|tojson }} {{ {'b':1,'a':2}|tojson(sort_keys=true) }} {{ [1,2]|tojson(separators=(',', ':')) }} {{ 'é😀'|tojson(ensure_ascii=true) }} {{ 1.0|tojson }} {{ [[], {}]|tojson(indent=2) }})J"),
      R"J({"a": 1, "b": [1, 2.5, "é", null, true]} "é\"\n\u0001" {"a": 2, "b": 1} [1,2] "\u00e9\ud83d\ude00" 1.0 [
  [],
  {}
])J");
  EXPECT_EQ(
      Render(
          R"J({{ tools|tojson }}
{{ tools[0]|tojson(indent=4) }}
{{ tools[0].function|tojson(indent='\t') }})J",
          R"J({"tools": [{"type": "function", "function": {"name": "get_w", "description": "Météo", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer", "default": 1}}, "required": ["city"]}}}]})J"),
      R"J([{"type": "function", "function": {"name": "get_w", "description": "Météo", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer", "default": 1}}, "required": ["city"]}}}]
{
    "type": "function",
    "function": {
        "name": "get_w",
        "description": "Météo",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {
                    "type": "string"
                },
                "days": {
                    "type": "integer",
                    "default": 1
                }
            },
            "required": [
                "city"
            ]
        }
    }
}
{
	"name": "get_w",
	"description": "Météo",
	"parameters": {
		"type": "object",
		"properties": {
			"city": {
				"type": "string"
			},
			"days": {
				"type": "integer",
				"default": 1
			}
		},
		"required": [
			"city"
		]
	}
})J");
  EXPECT_TRUE(IsError(Render(R"J({{ x|tojson }})J")))
      << "Jinja2: "
      << R"J(TypeError: Object of type Undefined is not JSON serializable)J";
  EXPECT_TRUE(IsError(Render(R"J({{ namespace()|tojson }})J")))
      << "Jinja2: "
      << R"J(TypeError: Object of type Namespace is not JSON serializable)J";
}

TEST(JinjaFilters, Join) {
  EXPECT_EQ(
      Render(
          R"J({{ [1,2,3]|join(', ') }} {{ ['a','b']|join }} {{ [{'x':1},{'x':2}]|join('-', attribute='x') }} {{ [1,none,'a', x]|join('|') }} {{ 'abc'|join('.') }} [{{ x|join(',') }}])J"),
      R"J(1, 2, 3 ab 1-2 1|None|a| a.b.c [])J");
}

TEST(JinjaFilters, Case) {
  EXPECT_EQ(
      Render(
          R"J({{ 'Hello World'|lower }} {{ 'hello'|upper }} {{ 'hello WORLD'|capitalize }} {{ 'hello world-x (y [z <w {v'|title }} {{ "they're"|title }} {{ 'Ünïcödé ΑΒΓ абв'|upper }} {{ 'ÜNÏ ΑΒΓ АБВ'|lower }} {{ 'straße'|upper }} {{ 5|upper }})J"),
      R"J(hello world HELLO Hello world Hello World-X (Y [Z <W {V They're ÜNÏCÖDÉ ΑΒΓ АБВ ünï αβγ абв STRASSE 5)J");
}

TEST(JinjaFilters, Replace) {
  EXPECT_EQ(
      Render(
          R"J({{ 'hello'|replace('l', 'L') }} {{ 'hello'|replace('l', 'L', 1) }} {{ 'abc'|replace('', '-') }} {{ 123|replace('2', 'x') }})J"),
      R"J(heLLo heLlo -a-b-c- 1x3)J");
}

TEST(JinjaFilters, FirstAndLast) {
  EXPECT_EQ(
      Render(
          R"J({{ [1, 2]|first }} {{ [1, 2]|last }} {{ 'ab'|first }} {{ 'ab'|last }} {{ {'x': 1, 'y': 2}|first }} [{{ []|first }}] [{{ x|first }}])J"),
      R"J(1 2 a b x [] [])J");
}

TEST(JinjaFilters, MapWithFilterOrAttribute) {
  EXPECT_EQ(
      Render(
          R"J({{ ['x', 'y']|map('upper')|list }} {{ [1.5, 2.5]|map('round')|list }} {{ ['a','b']|map('replace', 'a', 'z')|list }} {{ [[1,2],[3]]|map('length')|list }} {{ [{'a':{'b':3}}]|map(attribute='a.b')|list }} {{ [{}]|map(attribute='x', default='d')|list }} {{ [[1, 2]]|map(attribute='1')|list }} {{ x|map('upper')|list }})J"),
      R"J(['X', 'Y'] [2.0, 2.0] ['z', 'b'] [2, 1] [3] ['d'] [2] [])J");
  EXPECT_EQ(
      Render(
          R"J({{ msgs|map(attribute='role')|join(',') }})J",
          R"J({"msgs": [{"role": "user", "content": "a"}, {"role": "system", "content": "s"}, {"role": "user", "content": "b"}]})J"),
      R"J(user,system,user)J");
}

TEST(JinjaFilters, SelectAndReject) {
  EXPECT_EQ(
      Render(
          R"J({{ [1,2,3,4]|select('even')|list }} {{ [1,2,3,4]|reject('even')|list }} {{ [0,1,'',none,'a']|select|list }} {{ [0,1,'',none,'a']|reject|list }} {{ [1,5,10]|select('gt', 3)|list }} {{ [1,5,10]|select('divisibleby', 5)|list }} {{ ['a', 1]|select('string')|list }})J"),
      R"J([2, 4] [1, 3] [1, 'a'] [0, '', None] [5, 10] [5, 10] ['a'])J");
}

TEST(JinjaFilters, SelectattrAndRejectattr) {
  EXPECT_EQ(
      Render(
          R"J({{ msgs|selectattr('role', 'equalto', 'user')|map(attribute='content')|join(',') }} {{ msgs|rejectattr('role', 'eq', 'user')|list|length }} {{ msgs|selectattr('content')|list|length }} {{ msgs|selectattr('role', 'in', ['system'])|list }})J",
          R"J({"msgs": [{"role": "user", "content": "a"}, {"role": "system", "content": "s"}, {"role": "user", "content": "b"}]})J"),
      R"J(a,b 1 3 [{'role': 'system', 'content': 's'}])J");
  EXPECT_EQ(
      Render(
          R"J({{ [{'a': 1}, {'b': 2}]|selectattr('a', 'defined')|list }} {{ [{'a': 1}, {'b': 2}]|selectattr('a')|list }} {{ [{'a': 1}, {'b': 2}]|rejectattr('a', 'defined')|list }})J"),
      R"J([{'a': 1}] [{'a': 1}] [{'b': 2}])J");
}

TEST(JinjaFilters, Default) {
  EXPECT_EQ(
      Render(
          R"J({{ 'a'|default('b') }} {{ x|default('b') }} [{{ ''|default('b') }}] {{ ''|default('b', true) }} {{ none|default('n') }} {{ none|default('n', boolean=true) }} {{ x|d('dd') }} [{{ x|default }}] {{ 0|d(5, true) }})J"),
      R"J(a b [] b None n dd [] 5)J");
}

TEST(JinjaFilters, ListAndString) {
  EXPECT_EQ(
      Render(
          R"J({{ 'abc'|list }} {{ {'a': 1}|list }} {{ (1, 2)|list }} {{ x|list }} {{ 42|string }} {{ 12.5|string }} {{ [1, 'a']|string }} {{ none|string }} {{ true|string }} [{{ x|string }}])J"),
      R"J(['a', 'b', 'c'] ['a'] [1, 2] [] 42 12.5 [1, 'a'] None True [])J");
  EXPECT_TRUE(IsError(Render(R"J({{ 5|list }})J")))
      << "Jinja2: "
      << R"J(TypeError: 'int' object is not iterable)J";
}

TEST(JinjaFilters, IntAndFloat) {
  EXPECT_EQ(
      Render(
          R"J({{ '42'|int + 1 }} {{ '3.9'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ '0x1A'|int(0, 16) }} {{ '0b101'|int(base=2) }} {{ '  12  '|int }} {{ '1_000'|int }} {{ '+5'|int }} {{ '- 5'|int }} {{ none|int }} {{ 3.9|int }} {{ -3.9|int }} {{ true|int }} {{ [1]|int }})J"),
      R"J(43 3 0 7 26 5 12 1000 5 0 0 3 -3 1 0)J");
  EXPECT_EQ(
      Render(
          R"J({{ '3.5'|float }} {{ 2|float }} {{ '5.'|float }} {{ '.5'|float }} {{ '1e2'|float }} {{ 'nan'|float }} {{ '-inf'|float }} {{ 'x'|float }} {{ 'x'|float(1.5) }} {{ none|float }} {{ '1_0.5'|float }})J"),
      R"J(3.5 2.0 5.0 0.5 100.0 nan -inf 0.0 1.5 0.0 10.5)J");
}

TEST(JinjaFilters, AbsAndRound) {
  EXPECT_EQ(
      Render(
          R"J({{ -3|abs }} {{ -2.5|abs }} {{ 3.7|round }} {{ 3.14159|round(2) }} {{ 2.5|round }} {{ 3.5|round }} {{ -2.5|round }} {{ 0.125|round(2) }} {{ 2.675|round(2) }} {{ 3.2|round(0, 'ceil') }} {{ 3.8|round(0, 'floor') }} {{ 3|round }} {{ 1234|round(-2) }} {{ 15|round(-1) }} {{ 25|round(-1) }})J"),
      R"J(3 2.5 4.0 3.14 2.0 4.0 -2.0 0.12 2.67 4.0 3.0 3 1200 20 20)J");
  EXPECT_TRUE(IsError(Render(R"J({{ 'a'|abs }})J")))
      << "Jinja2: "
      << R"J(TypeError: bad operand type for abs(): 'str')J";
  EXPECT_TRUE(IsError(Render(R"J({{ 1.5|round(0, 'up') }})J")))
      << "Jinja2: "
      << R"J(FilterArgumentError: method must be common, ceil or floor)J";
}

TEST(JinjaFilters, ItemsAndDictsort) {
  EXPECT_EQ(
      Render(
          R"J({{ {'b': 1, 'a': 2}|items|list }} {{ x|items|list }} {{ {'b': 1, 'a': 2, 'C': 0}|dictsort }} {{ {'b': 1, 'A': 2, 'a': 0}|dictsort(true) }} {{ {'b': 1, 'a': 2}|dictsort(by='value') }} {{ {'a':1,'b':2}|dictsort(reverse=true) }})J"),
      R"J([('b', 1), ('a', 2)] [] [('a', 2), ('b', 1), ('C', 0)] [('A', 2), ('a', 0), ('b', 1)] [('b', 1), ('a', 2)] [('b', 2), ('a', 1)])J");
  EXPECT_TRUE(IsError(Render(R"J({{ [1]|items|list }})J")))
      << "Jinja2: "
      << R"J(TypeError: Can only get item pairs from a mapping.)J";
  EXPECT_TRUE(IsError(Render(R"J({{ {'a': 1}|dictsort(by='x') }})J")))
      << "Jinja2: "
      << R"J(FilterArgumentError: You can only sort by either "key" or "value")J";
}

TEST(JinjaFilters, Sort) {
  EXPECT_EQ(
      Render(
          R"J({{ [3,1,2]|sort }} {{ [3,1,2]|sort(reverse=true) }} {{ ['b','A','c','a']|sort }} {{ ['b','A','c']|sort(case_sensitive=true) }} {{ [{'n': 2}, {'n': 1}]|sort(attribute='n') }} {{ [{'n': 'b', 'a': 2}, {'n': 'a', 'a': 2}, {'n': 'c', 'a': 1}]|sort(attribute='a,n')|map(attribute='n')|join }} {{ {'b': 1, 'a': 2}|sort }} {{ 'cba'|sort|join }})J"),
      R"J([1, 2, 3] [3, 2, 1] ['A', 'a', 'b', 'c'] ['A', 'b', 'c'] [{'n': 1}, {'n': 2}] cab ['a', 'b'] abc)J");
  EXPECT_TRUE(IsError(Render(R"J({{ [1, 'a']|sort }})J")))
      << "Jinja2: "
      << R"J(TypeError: '<' not supported between instances of 'str' and 'int')J";
}

TEST(JinjaFilters, Unique) {
  EXPECT_EQ(
      Render(
          R"J({{ ['B', 'a', 'b', 'A']|unique|list }} {{ ['B', 'a', 'b', 'A']|unique(case_sensitive=true)|list }} {{ [{'k': 1}, {'k': 1}, {'k': 2}]|unique(attribute='k')|list }} {{ [1, 1.0, true, 2]|unique|list }})J"),
      R"J(['B', 'a'] ['B', 'a', 'b', 'A'] [{'k': 1}, {'k': 2}] [1, 2])J");
}

TEST(JinjaFilters, MinMaxSum) {
  EXPECT_EQ(
      Render(
          R"J({{ ['b', 'A', 'c']|max }} {{ ['b', 'A', 'c']|min }} {{ ['b', 'A', 'c']|max(case_sensitive=true) }} {{ [{'v': 3}, {'v': 9}]|max(attribute='v') }} [{{ []|max }}] {{ 'abc'|max }} {{ [3,1]|sum }} {{ [1,2,3]|sum(start=10) }} {{ [{'v': 1}, {'v': 2}]|sum(attribute='v') }} {{ [0.1, 0.2]|sum }})J"),
      R"J(c A c {'v': 9} [] c 4 16 3 0.30000000000000004)J");
  EXPECT_TRUE(IsError(Render(R"J({{ ['a', 'b']|sum }})J")))
      << "Jinja2: "
      << R"J(TypeError: unsupported operand type(s) for +: 'int' and 'str')J";
}

TEST(JinjaFilters, Reverse) {
  EXPECT_EQ(
      Render(
          R"J({{ 'abc'|reverse }} {{ '한국어'|reverse }} {{ [1,2]|reverse|list }} {{ {'a': 1, 'b': 2}|reverse|list }} {{ range(3)|reverse|join(',') }})J"),
      R"J(cba 어국한 [2, 1] ['b', 'a'] 2,1,0)J");
}

TEST(JinjaFilters, BatchAndSlice) {
  EXPECT_EQ(
      Render(
          R"J({{ [1,2,3,4,5]|batch(2)|list }} {{ [1,2,3]|batch(2, 'x')|list }} {{ [1,2,3,4,5]|slice(3)|list }} {{ [1,2,3,4]|slice(3, 'f')|list }})J"),
      R"J([[1, 2], [3, 4], [5]] [[1, 2], [3, 'x']] [[1, 2], [3, 4], [5]] [[1, 2], [3, 'f'], [4, 'f']])J");
}

TEST(JinjaFilters, Indent) {
  EXPECT_EQ(
      Render(
          R"J({{ 'a\nb\n\nc'|indent }}|{{ 'a\nb'|indent(2, true) }}|{{ 'a\n\nb'|indent(2, blank=true) }}|{{ 'a\nb'|indent('> ') }}|{{ 'x'|indent(2) }}|{{ ''|indent }}|{{ 'a\n'|indent(first=true) }}|)J"),
      R"J(a
    b

    c|  a
  b|a
  
  b|a
> b|x||    a
|)J");
  EXPECT_TRUE(IsError(Render(R"J({{ 5|indent }})J")))
      << "Jinja2: "
      << R"J(TypeError: unsupported operand type(s) for +=: 'int' and 'str')J";
}

TEST(JinjaFilters, WordcountCenterTruncate) {
  EXPECT_EQ(
      Render(
          R"J({{ 'one two  three'|wordcount }} {{ 'A b-c d_e'|wordcount }} [{{ 'a'|center(7) }}] [{{ 'ab'|center(7) }}] {{ 'hello'|truncate(3) }}|{{ 'hello world foo bar baz'|truncate(12) }}|{{ 'hello world foo'|truncate(9, true) }}|{{ 'hello world foo'|truncate(11, false, '..', 0) }})J"),
      R"J(3 4 [   a   ] [   ab  ] hello|hello...|hello ...|hello..)J");
}

TEST(JinjaFilters, EscapeAndSafe) {
  EXPECT_EQ(
      Render(
          R"J({{ 'x'|e }} {{ '<b>"x" & \'y\''|e }} {{ '<b>'|escape }} {{ '<a>'|safe }} {{ none|e }} {{ '<i>'|forceescape }})J"),
      R"J(x &lt;b&gt;&#34;x&#34; &amp; &#39;y&#39; &lt;b&gt; <a> None &lt;i&gt;)J");
}

TEST(JinjaFilters, FormatAndAttr) {
  EXPECT_EQ(
      Render(
          R"J({{ '%s-%s'|format(1, 'b') }} {{ '%(a)s!'|format(a='x') }} {{ {'a': 1}|attr('a') }}|{{ {'a': 1}|attr('items') is callable }} {{ namespace(v=3)|attr('v') }})J"),
      R"J(1-b x! |True 3)J");
}

TEST(JinjaFilters, FilterCallsInExpressions) {
  EXPECT_EQ(
      Render(
          R"J({{ 'a' + 'b'|upper }} {{ ('a' + 'b')|upper }} {{ -2|abs + 1 }} {{ [3, 1]|sort|first }} {{ 'x'|upper ~ 'y'|upper }} {{ ['a']|map('upper')|first|lower }})J"),
      R"J(aB AB 3 1 XY a)J");
}

}  // namespace
}  // namespace mle::text::jinja
