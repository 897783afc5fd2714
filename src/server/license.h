// Licenses: a JSON payload (licensee, issued_at, expires_at, features) signed with Ed25519.
// The signature covers the canonical payload: the payload object serialized with sorted keys
// and no whitespace. The server verifies the license at start with the configured public key
// and gates routes by feature; `ml-engine license keygen|sign|verify` manage keys and licenses.
//
// license.json: {"payload": {...}, "signature": "<base64>"}
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace mle::server {

// Features a license may grant.
const std::vector<std::string>& KnownLicenseFeatures();  // api, train, predict, llm

struct License {
  std::string licensee;
  std::string issued_at;   // ISO 8601 UTC, e.g. 2026-11-23T00:00:00Z
  std::string expires_at;  // ISO 8601 UTC (or YYYY-MM-DD = that day's end)
  std::set<std::string> features;

  std::string Describe() const;  // "licensee, expires 2027-01-01T00:00:00Z, features api,llm"
};

// Writes a new Ed25519 key pair as PEM files (the private key with mode 0600). Refuses to
// overwrite existing files.
Status GenerateLicenseKeys(const std::string& private_key_path, const std::string& public_key_path);

// Signs `license` with the private key and writes license.json atomically. Errors: unreadable
// key, unknown feature, malformed dates, expiry before issue.
Status SignLicense(const std::string& private_key_path, const License& license,
                   const std::string& out_path);

// Reads and verifies a license. Errors name the problem and the fix: missing file, malformed
// JSON, bad signature ("the license was modified or signed with another key"), expired
// ("expired on ..."), unknown features.
Result<License> VerifyLicense(const std::string& license_path, const std::string& public_key_path,
                              std::chrono::system_clock::time_point now);

// Parses an ISO 8601 UTC time (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ).
Result<std::chrono::system_clock::time_point> ParseUtcTime(const std::string& text);

}  // namespace mle::server
