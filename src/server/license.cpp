#include "server/license.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/file_util.h"

namespace mle::server {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

Result<Pkey> ReadKey(const std::string& path, bool is_private) {
  auto pem = ReadFile(path);
  if (!pem.ok()) return pem.status();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem->data(), pem->size()),
                                                &BIO_free);
  EVP_PKEY* k = is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                           : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (!k || EVP_PKEY_id(k) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(k);
    return InvalidArgument("'" + path + "' is not an Ed25519 " +
                           (is_private ? "private" : "public") +
                           " key in PEM format (make one with: ml-engine license keygen)");
  }
  return Pkey(k);
}

std::string Base64(const std::string& raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()),
                                static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> Unbase64(const std::string& text) {
  if (text.empty() || text.size() % 4 != 0) return InvalidArgument("not base64");
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return InvalidArgument("not base64");
  size_t pad = 0;
  if (text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

nlohmann::json PayloadJson(const License& l) {
  return {{"licensee", l.licensee},
          {"issued_at", l.issued_at},
          {"expires_at", l.expires_at},
          {"features", std::vector<std::string>(l.features.begin(), l.features.end())}};
}

Status CheckFeatures(const std::set<std::string>& features) {
  for (const auto& f : features) {
    const auto& known = KnownLicenseFeatures();
    if (std::find(known.begin(), known.end(), f) == known.end()) {
      return InvalidArgument("unknown license feature '" + f +
                             "' (known: api, train, predict, llm)");
    }
  }
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& KnownLicenseFeatures() {
  static const std::vector<std::string> k = {"api", "train", "predict", "llm"};
  return k;
}

std::string License::Describe() const {
  std::string f;
  for (const auto& x : features) f += (f.empty() ? "" : ",") + x;
  return licensee + ", expires " + expires_at + ", features " + (f.empty() ? "none" : f);
}

Result<std::chrono::system_clock::time_point> ParseUtcTime(const std::string& text) {
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char tail = 0;
  bool date_only = false;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%c", &y, &mo, &d, &h, &mi, &s, &tail) ==
          6 &&
      text.size() == 20) {
  } else if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3 &&
             text.size() == 10) {
    date_only = true;
  } else {
    return InvalidArgument("'" + text +
                           "' is not a UTC time (use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)");
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || y < 1970) {
    return InvalidArgument("'" + text + "' is not a valid date");
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  auto tp = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (date_only) tp += std::chrono::hours(24) - std::chrono::seconds(1);  // the whole day
  return tp;
}

Status GenerateLicenseKeys(const std::string& private_key_path,
                           const std::string& public_key_path) {
  for (const auto& p : {private_key_path, public_key_path}) {
    if (std::filesystem::exists(p)) {
      return AlreadyExists("'" + p + "' exists; refusing to overwrite a key (move it away first)");
    }
  }
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) return Internal("Ed25519 key generation failed");
  auto pem = [&](bool priv) -> std::string {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (priv) {
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    } else {
      PEM_write_bio_PUBKEY(bio.get(), key.get());
    }
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(n));
  };
  MLE_RETURN_IF_ERROR(WriteFileAtomic(private_key_path, pem(true)));
  ::chmod(private_key_path.c_str(), 0600);
  return WriteFileAtomic(public_key_path, pem(false));
}

Status SignLicense(const std::string& private_key_path, const License& license,
                   const std::string& out_path) {
  MLE_RETURN_IF_ERROR(CheckFeatures(license.features));
  auto issued = ParseUtcTime(license.issued_at);
  if (!issued.ok()) return issued.status().WithContext("issued_at");
  auto expires = ParseUtcTime(license.expires_at);
  if (!expires.ok()) return expires.status().WithContext("expires_at");
  if (*expires <= *issued) return InvalidArgument("expires_at must be after issued_at");
  auto key = ReadKey(private_key_path, true);
  if (!key.ok()) return key.status();
  const std::string msg = PayloadJson(license).dump();
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::string sig(64, '\0');
  size_t sig_len = sig.size();
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key->get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                     reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) != 1) {
    return Internal("signing the license failed");
  }
  sig.resize(sig_len);
  nlohmann::json doc = {{"payload", PayloadJson(license)}, {"signature", Base64(sig)}};
  return WriteFileAtomic(out_path, doc.dump(2) + "\n");
}

Result<License> VerifyLicense(const std::string& license_path, const std::string& public_key_path,
                              std::chrono::system_clock::time_point now) {
  if (public_key_path.empty()) {
    return InvalidArgument(
        "a license needs the public key that signed it: set "
        "common.public_key_path (or --public-key)");
  }
  auto text = ReadFile(license_path);
  if (!text.ok()) return text.status();
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  const std::string bad = "license '" + license_path + "' is malformed: ";
  if (doc.is_discarded() || !doc.is_object()) return InvalidArgument(bad + "not JSON");
  if (!doc.contains("payload") || !doc["payload"].is_object()) {
    return InvalidArgument(bad + "no \"payload\" object");
  }
  if (!doc.contains("signature") || !doc["signature"].is_string()) {
    return InvalidArgument(bad + "no \"signature\" string");
  }
  const auto& p = doc["payload"];
  License l;
  try {
    l.licensee = p.at("licensee").get<std::string>();
    l.issued_at = p.at("issued_at").get<std::string>();
    l.expires_at = p.at("expires_at").get<std::string>();
    for (const auto& f : p.at("features")) l.features.insert(f.get<std::string>());
  } catch (const nlohmann::json::exception&) {
    return InvalidArgument(bad +
                           "payload needs licensee, issued_at, expires_at (strings) and "
                           "features (array of strings)");
  }
  auto key = ReadKey(public_key_path, false);
  if (!key.ok()) return key.status();
  auto sig = Unbase64(doc["signature"].get<std::string>());
  const std::string msg = p.dump();
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!sig.ok() || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key->get()) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                       reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) != 1) {
    return PermissionDenied("license '" + license_path +
                            "' has an invalid signature: it was modified or signed with another "
                            "key (check common.public_key_path)");
  }
  MLE_RETURN_IF_ERROR(CheckFeatures(l.features));
  auto expires = ParseUtcTime(l.expires_at);
  if (!expires.ok()) return expires.status().WithContext("license expires_at");
  if (now > *expires) {
    return PermissionDenied("license '" + license_path + "' expired on " + l.expires_at +
                            " (ask for a renewed license)");
  }
  return l;
}

}  // namespace mle::server
