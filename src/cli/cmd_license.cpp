// `ml-engine license keygen|sign|verify`: Ed25519 key pairs and signed license files for the
// server's feature gating (see server/license.h).
#include <cstdio>

#include "cli/commands.h"
#include "server/license.h"

namespace mle::cli {
namespace {

struct LicenseArgs {
  std::string private_key = "license-private.pem";
  std::string public_key = "license-public.pem";
  std::string out = "license.json";
  std::string license = "license.json";
  server::License lic;
  std::vector<std::string> features;
};

std::string TodayUtc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

void AddLicenseCommand(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<LicenseArgs>();
  CLI::App* cmd = app.add_subcommand("license", "make keys, sign and verify server licenses");
  cmd->require_subcommand(1);

  CLI::App* keygen = cmd->add_subcommand("keygen", "write a new Ed25519 key pair (PEM)");
  keygen->add_option("--private", args->private_key, "private key file (kept secret)");
  keygen->add_option("--public", args->public_key, "public key file (given to servers)");
  keygen->callback([&ctx, args] {
    ctx.run = [args] {
      Status s = server::GenerateLicenseKeys(args->private_key, args->public_key);
      if (!s.ok()) return Fail(s);
      std::printf("wrote %s (private, mode 0600) and %s (public)\n", args->private_key.c_str(),
                  args->public_key.c_str());
      return kExitOk;
    };
  });

  CLI::App* sign = cmd->add_subcommand("sign", "sign a license");
  sign->add_option("--private", args->private_key, "private key file");
  sign->add_option("--licensee", args->lic.licensee, "who the license is for")->required();
  sign->add_option("--expires", args->lic.expires_at, "expiry, YYYY-MM-DD or ISO 8601 UTC")
      ->required();
  sign->add_option("--features", args->features, "features: api, train, predict, llm")
      ->delimiter(',')
      ->required();
  sign->add_option("-o,--out", args->out, "license file to write");
  sign->callback([&ctx, args] {
    ctx.run = [args] {
      args->lic.issued_at = TodayUtc();
      args->lic.features = {args->features.begin(), args->features.end()};
      Status s = server::SignLicense(args->private_key, args->lic, args->out);
      if (!s.ok()) return Fail(s);
      std::printf("wrote %s: %s\n", args->out.c_str(), args->lic.Describe().c_str());
      return kExitOk;
    };
  });

  CLI::App* verify = cmd->add_subcommand("verify", "check a license's signature and expiry");
  verify->add_option("license", args->license, "license file")->required();
  verify->add_option("--public", args->public_key, "public key file");
  verify->callback([&ctx, args] {
    ctx.run = [args] {
      auto l =
          server::VerifyLicense(args->license, args->public_key, std::chrono::system_clock::now());
      if (!l.ok()) return Fail(l.status());
      std::printf("valid: %s\n", l->Describe().c_str());
      return kExitOk;
    };
  });
}

}  // namespace mle::cli
