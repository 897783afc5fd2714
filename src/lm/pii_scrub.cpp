// PII scanners: one pass per kind, each copying the text and replacing what it finds. A
// candidate is checked from a position where it may start (a boundary) and, when rejected,
// the scan resumes after its first run of characters, which keeps every pass linear.
#include "lm/pii_scrub.h"

#include <vector>

namespace mle::lm {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsAlnum(char c) {
  return IsDigit(c) || IsAlpha(c);
}
bool IsWordChar(char c) {
  return IsAlnum(c) || c == '_' || static_cast<uint8_t>(c) >= 0x80;
}
bool IsLocalChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsDomainChar(char c) {
  return IsAlnum(c) || c == '-' || c == '.';
}

size_t DigitRun(std::string_view t, size_t i) {
  size_t j = i;
  while (j < t.size() && IsDigit(t[j])) ++j;
  return j - i;
}

// End of the e-mail address whose '@' is at `at`, or 0 when the domain is not one.
size_t EmailDomainEnd(std::string_view t, size_t at) {
  size_t end = at + 1;
  while (end < t.size() && IsDomainChar(t[end])) ++end;
  while (end > at + 1 && (t[end - 1] == '.' || t[end - 1] == '-')) --end;
  std::string_view domain = t.substr(at + 1, end - at - 1);
  const size_t last_dot = domain.rfind('.');
  if (last_dot == std::string_view::npos || last_dot + 3 > domain.size()) return 0;
  for (char c : domain.substr(last_dot + 1)) {
    if (!IsAlpha(c)) return 0;
  }
  // Every label non-empty and not starting or ending with '-'.
  for (size_t pos = 0; pos <= domain.size();) {
    size_t dot = domain.find('.', pos);
    if (dot == std::string_view::npos) dot = domain.size();
    std::string_view label = domain.substr(pos, dot - pos);
    if (label.empty() || label.front() == '-' || label.back() == '-') return 0;
    pos = dot + 1;
  }
  return end;
}

std::string ScrubEmails(std::string_view t, int64_t* n) {
  std::string out;
  out.reserve(t.size());
  size_t copied = 0;  // t[0, copied) is in out
  for (size_t at = t.find('@'); at != std::string_view::npos; at = t.find('@', at + 1)) {
    if (at < copied) continue;
    size_t start = at;
    while (start > copied && IsLocalChar(t[start - 1])) --start;
    while (start < at && t[start] == '.') ++start;
    if (start == at || t[at - 1] == '.') continue;
    const size_t end = EmailDomainEnd(t, at);
    if (end == 0) continue;
    out.append(t.substr(copied, start - copied));
    out.append(kEmailTag);
    copied = end;
    ++*n;
  }
  out.append(t.substr(copied));
  return out;
}

// Length of the IPv4 address starting at i (a boundary), or 0.
size_t MatchIpv4(std::string_view t, size_t i) {
  size_t j = i;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (j >= t.size() || t[j] != '.') return 0;
      ++j;
    }
    const size_t len = DigitRun(t, j);
    if (len == 0 || len > 3) return 0;
    int v = 0;
    for (size_t k = j; k < j + len; ++k) v = v * 10 + (t[k] - '0');
    if (v > 255) return 0;
    j += len;
  }
  if (j < t.size() && (IsAlnum(t[j]) || t[j] == '_')) return 0;
  if (j + 1 < t.size() && t[j] == '.' && IsDigit(t[j + 1])) return 0;
  return j - i;
}

// A phone number candidate: digit groups and what separates them.
struct PhoneShape {
  bool plus = false;
  bool paren = false;          // the first group (after a country code) was in parentheses
  std::vector<size_t> groups;  // digit counts
  size_t first_start = 0;      // where the first group's digits begin
  std::string seps;            // one char per gap: ' ', '-', '.', or ')' for ") " / ")"
  size_t end = 0;
};

PhoneShape ScanPhone(std::string_view t, size_t i) {
  PhoneShape s;
  size_t j = i;
  if (t[j] == '+') s.plus = true, ++j;
  while (j < t.size() && s.groups.size() < 6) {
    bool in_paren = false;
    if (t[j] == '(') {
      if (s.paren) break;
      in_paren = true;
      ++j;
    }
    const size_t len = DigitRun(t, j);
    if (len == 0) break;
    if (s.groups.empty()) s.first_start = j;
    s.groups.push_back(len);
    j += len;
    s.end = j;
    if (in_paren) {
      if (j >= t.size() || t[j] != ')') break;
      s.paren = true;
      ++j;
      s.end = j;
      if (j < t.size() && t[j] == ' ') ++j;
      s.seps.push_back(')');
      continue;
    }
    if (j + 1 < t.size() && (t[j] == ' ' || t[j] == '-' || t[j] == '.') &&
        (IsDigit(t[j + 1]) || t[j + 1] == '(')) {
      s.seps.push_back(t[j]);
      ++j;
      continue;
    }
    break;
  }
  s.seps.resize(s.groups.empty() ? 0 : s.groups.size() - 1);
  return s;
}

bool SameSeps(std::string_view seps, size_t from) {
  for (size_t k = from + 1; k < seps.size(); ++k) {
    if (seps[k] != seps[from]) return false;
  }
  return true;
}

bool IsPhone(std::string_view t, const PhoneShape& s) {
  if (s.groups.empty()) return false;
  if (s.end < t.size() && IsWordChar(t[s.end])) return false;
  size_t digits = 0;
  for (size_t g : s.groups) digits += g;
  const std::vector<size_t>& g = s.groups;
  if (s.plus) {
    if (g.size() == 1) return digits >= 10 && digits <= 15;  // E.164 written solid
    return digits >= 8 && digits <= 15 && g.front() <= 4;
  }
  // 3-3-4 with one kind of separator, or (3) 3-4; optionally after a "1".
  const size_t first = g.size() == 4 && g[0] == 1 && t[s.first_start] == '1' ? 1 : 0;
  if (g.size() - first == 3 && g[first] == 3 && g[first + 1] == 3 && g[first + 2] == 4) {
    if (s.paren) {
      return s.seps[first] == ')' && (s.seps[first + 1] == '-' || s.seps[first + 1] == ' ');
    }
    const char sep = s.seps[first];
    return (sep == '-' || sep == '.') && SameSeps(s.seps, first);
  }
  return !s.paren && g.size() == 2 && g[0] == 3 && g[1] == 4 && s.seps[0] == '-';
}

std::string ScrubPhones(std::string_view t, int64_t* n) {
  std::string out;
  out.reserve(t.size());
  size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    const bool can_start = IsDigit(c) || ((c == '+' || c == '(') && i + 1 < t.size() &&
                                          (IsDigit(t[i + 1]) || t[i + 1] == '('));
    const bool boundary =
        i == 0 || !(IsWordChar(t[i - 1]) || t[i - 1] == '.' || t[i - 1] == '-' || t[i - 1] == '+' ||
                    t[i - 1] == '/' || t[i - 1] == ')' || t[i - 1] == ',');
    if (!can_start || !boundary) {
      out.push_back(c);
      ++i;
      continue;
    }
    const PhoneShape s = ScanPhone(t, i);
    if (IsPhone(t, s)) {
      out.append(kPhoneTag);
      i = s.end;
      ++*n;
      continue;
    }
    // Rejected: copy through the first digit run so its inner digits are not tried again.
    size_t j = i + 1;
    while (j < t.size() && IsDigit(t[j])) ++j;
    out.append(t.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string ScrubIps(std::string_view t, int64_t* n) {
  std::string out;
  out.reserve(t.size());
  size_t i = 0;
  while (i < t.size()) {
    const bool boundary = i == 0 || !(IsWordChar(t[i - 1]) || t[i - 1] == '.');
    if (IsDigit(t[i]) && boundary) {
      if (const size_t len = MatchIpv4(t, i); len > 0) {
        out.append(kIpTag);
        i += len;
        ++*n;
        continue;
      }
    }
    const size_t run = IsDigit(t[i]) ? DigitRun(t, i) : 1;
    out.append(t.substr(i, run));
    i += run;
  }
  return out;
}

// Numbers that are constants rather than identifiers: round numbers (1000000000,
// 6402373705728000), one repeated digit, 0123456789-style runs, and powers of two and their
// neighbours (2147483647, 4294967296, 18446744073709551615). Code is full of these.
bool LooksLikeConstant(std::string_view d) {
  if (d.ends_with("000")) return true;
  if (d.find_first_not_of(d[0]) == std::string_view::npos) return true;
  if (std::string_view("01234567890").find(d) != std::string_view::npos ||
      std::string_view("9876543210").find(d) != std::string_view::npos) {
    return true;
  }
  if (d.size() > 20) return false;
  unsigned __int128 v = 0;
  for (char c : d) v = v * 10 + static_cast<unsigned>(c - '0');
  auto pow2 = [](unsigned __int128 x) { return x != 0 && (x & (x - 1)) == 0; };
  return pow2(v) || pow2(v + 1) || pow2(v - 1);
}

// Runs of >= 9 digits standing alone: not inside a word (0x123456789, id_123456789), not
// part of a decimal number (3.14159265358979), and not a constant (above).
std::string ScrubLongNumbers(std::string_view t, int64_t* n) {
  std::string out;
  out.reserve(t.size());
  size_t i = 0;
  while (i < t.size()) {
    if (!IsDigit(t[i])) {
      out.push_back(t[i++]);
      continue;
    }
    const size_t len = DigitRun(t, i);
    const size_t end = i + len;
    const bool before_ok = i == 0 || !(IsWordChar(t[i - 1]) || t[i - 1] == '.');
    const bool after_ok =
        end == t.size() ||
        !(IsWordChar(t[end]) || (t[end] == '.' && end + 1 < t.size() && IsDigit(t[end + 1])));
    if (len >= 9 && before_ok && after_ok && !LooksLikeConstant(t.substr(i, len))) {
      out.append(kNumTag);
      ++*n;
    } else {
      out.append(t.substr(i, len));
    }
    i = end;
  }
  return out;
}

}  // namespace

std::string ScrubPii(std::string_view text, PiiCounts* counts) {
  PiiCounts c;
  std::string s = ScrubEmails(text, &c.emails);
  s = ScrubIps(s, &c.ips);
  s = ScrubPhones(s, &c.phones);
  s = ScrubLongNumbers(s, &c.numbers);
  if (counts != nullptr) *counts += c;
  return s;
}

}  // namespace mle::lm
