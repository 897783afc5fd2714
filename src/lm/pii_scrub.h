// PII scrubbing for training text: e-mail addresses, phone numbers, IPv4 addresses and long
// digit runs (account, card or ID numbers) are replaced by placeholders. Hand-written scanners
// (one linear pass per kind) rather than std::regex, which is slow on megabytes of text.
// The rules lean towards missing an odd format over damaging ordinary text: version numbers
// (1.2.3), dates, times, C hex constants and identifiers are left alone.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mle::lm {

struct PiiCounts {
  int64_t emails = 0;
  int64_t phones = 0;
  int64_t ips = 0;
  int64_t numbers = 0;

  PiiCounts& operator+=(const PiiCounts& o) {
    emails += o.emails, phones += o.phones, ips += o.ips, numbers += o.numbers;
    return *this;
  }
  int64_t total() const { return emails + phones + ips + numbers; }
};

inline constexpr std::string_view kEmailTag = "<EMAIL>";
inline constexpr std::string_view kPhoneTag = "<PHONE>";
inline constexpr std::string_view kIpTag = "<IP>";
inline constexpr std::string_view kNumTag = "<NUM>";

// Replaces, in this order:
//  - e-mail addresses: local@domain.tld (local part [A-Za-z0-9._%+-], dot-separated domain
//    labels of [A-Za-z0-9-] not starting or ending with '-', an alphabetic TLD of 2+ letters);
//  - IPv4 addresses: four dot-separated numbers 0-255 (1-3 digits each), not preceded by a
//    letter, digit or '.', not followed by a letter, digit or ".digit";
//  - phone numbers: '+' and 8-15 digits in groups; or 10 digits grouped 3-3-4 (area code
//    optionally in parentheses, optional leading "1"); or 7 digits as 3-4 with '-' (555-1234).
//    Groups are separated by one of ' ', '-', '.', or ") ", consistently;
//  - runs of 9 or more digits that are not part of a word (hex constants, identifiers) or a
//    decimal number, and do not look like a constant: round (ending in 000), one repeated
//    digit, 0123456789-like, or a power of two or its neighbour (2147483647, 4294967295).
// Adds the number of replacements of each kind to *counts (may be null).
std::string ScrubPii(std::string_view text, PiiCounts* counts);

}  // namespace mle::lm
