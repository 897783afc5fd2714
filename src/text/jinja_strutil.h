// String helpers with Python's semantics, for the Jinja interpreter: Python indexes strings by
// code point, has its own notion of whitespace (str.isspace) and maps case over Unicode.
// Strings are UTF-8. Invalid bytes decode to one code point each (U+DC80 + byte, as Python's
// surrogateescape does) and encode back to the same byte, so no input makes these fail.
// Case mapping covers ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic and fullwidth Latin.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mle::text::jinja {

std::u32string DecodeUtf8(std::string_view s);
void AppendUtf8(std::string& out, char32_t cp);
std::string EncodeUtf8(std::u32string_view s);
// Number of code points (Python's len of a str).
int64_t CodePointCount(std::string_view s);

// Python's str.isspace for one code point.
bool IsPySpace(char32_t c);
// Python's \w for one code point (letters, digits, underscore; approximate outside ASCII).
bool IsWordChar(char32_t c);

std::string PyUpper(std::string_view s);
std::string PyLower(std::string_view s);
std::string PyCapitalize(std::string_view s);  // str.capitalize
std::string PyTitle(std::string_view s);       // str.title (not Jinja's title filter)
std::string PySwapCase(std::string_view s);
bool PyIsUpper(std::string_view s);  // str.isupper: has cased chars, all upper
bool PyIsLower(std::string_view s);
char32_t UpperChar(char32_t c);  // single-char mapping (ß stays ß here)
char32_t LowerChar(char32_t c);

// str.strip / lstrip / rstrip; `chars` empty-optional strips whitespace.
std::string PyStrip(std::string_view s, const std::optional<std::string>& chars, bool left,
                    bool right);
// str.split / str.rsplit; no `sep` splits on runs of whitespace. maxsplit < 0: no limit.
// REQUIRES: sep, when given, is not empty (Python raises; callers check).
std::vector<std::string> PySplit(std::string_view s, const std::optional<std::string>& sep,
                                 int64_t maxsplit);
std::vector<std::string> PyRSplit(std::string_view s, const std::optional<std::string>& sep,
                                  int64_t maxsplit);
// str.splitlines (all of Python's line boundaries).
std::vector<std::string> PySplitLines(std::string_view s, bool keepends);
// str.replace; count < 0 replaces all. An empty `from` inserts between code points.
std::string PyReplace(std::string_view s, std::string_view from, std::string_view to,
                      int64_t count);

// Code point index <-> byte offset. Indices past the end clamp to the end.
size_t ByteOffsetOfIndex(std::string_view s, int64_t index);
int64_t IndexOfByteOffset(std::string_view s, size_t offset);
// Python slice bounds normalisation: clamps start/end (negative counts from the end) to
// [0, length].
void ClampSliceBounds(int64_t length, std::optional<int64_t>* start, std::optional<int64_t>* end);

// str.find / rfind / count over code point indices [start, end); -1 when absent.
int64_t PyFind(std::string_view s, std::string_view sub, std::optional<int64_t> start,
               std::optional<int64_t> end, bool reverse);
int64_t PyCount(std::string_view s, std::string_view sub, std::optional<int64_t> start,
                std::optional<int64_t> end);

// Markup-style HTML escaping: & < > ' " (as Jinja2's escape filter).
std::string HtmlEscape(std::string_view s);

}  // namespace mle::text::jinja
