// `ml-engine data mnist --out DIR`: downloads the four MNIST files from a public mirror and
// verifies their SHA-256 before writing them (atomically). Tests never need this: the default
// data is Debian's Fashion-MNIST, which is already on disk.
#include <cstdio>

#include "cli/commands.h"
#include "core/file_util.h"
#include "core/sha256.h"
#include "net/http_client.h"

namespace mle::cli {
namespace {

struct MnistFile {
  const char* name;
  const char* sha256;
};

constexpr MnistFile kMnistFiles[] = {
    {"train-images-idx3-ubyte.gz",
     "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
    {"train-labels-idx1-ubyte.gz",
     "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
    {"t10k-images-idx3-ubyte.gz",
     "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
    {"t10k-labels-idx1-ubyte.gz",
     "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
};
constexpr const char* kDefaultMirror = "https://ossci-datasets.s3.amazonaws.com/mnist/";

Status FetchOne(const std::string& mirror, const MnistFile& f, const std::string& out_dir) {
  std::string path = out_dir + "/" + f.name;
  if (auto existing = ReadFile(path); existing.ok() && ToHex(Sha256(*existing)) == f.sha256) {
    std::printf("%s: present, checksum ok\n", path.c_str());
    return Status::Ok();
  }
  std::string url = mirror + f.name;
  std::fprintf(stderr, "downloading %s\n", url.c_str());
  auto resp = net::HttpGet(url);
  if (!resp.ok()) {
    return Unavailable(resp.status().message() + " (offline? train on the default Fashion-MNIST " +
                       "in /usr/share/datasets/fashion-mnist, or copy the MNIST files into " +
                       out_dir + ")");
  }
  if (resp->status != 200) {
    return Unavailable("mirror answered HTTP " + std::to_string(resp->status) + " for '" + url +
                       "' (try another --mirror)");
  }
  std::string got = ToHex(Sha256(resp->body));
  if (got != f.sha256) {
    return Corruption("'" + url + "' has SHA-256 " + got + ", expected " + f.sha256 +
                      "; not saved (try another --mirror)");
  }
  MLE_RETURN_IF_ERROR(WriteFileAtomic(path, resp->body));
  std::printf("%s: %zu bytes, checksum ok\n", path.c_str(), resp->body.size());
  return Status::Ok();
}

}  // namespace

void AddDataCommand(CLI::App& app, CliContext& ctx) {
  auto* data = app.add_subcommand("data", "fetch datasets");
  data->require_subcommand(1);
  auto* mnist = data->add_subcommand("mnist", "download MNIST and verify its SHA-256 checksums");
  static std::string out = "data/mnist";
  static std::string mirror = kDefaultMirror;
  mnist->add_option("--out", out, "output directory")->capture_default_str();
  mnist->add_option("--mirror", mirror, "base URL of the mirror")->capture_default_str();
  BindConfigFlags(mnist, ctx, "data");
  mnist->callback([&ctx] {
    ctx.run = [] {
      if (!mirror.empty() && mirror.back() != '/') mirror += '/';
      if (Status s = EnsureDir(out); !s.ok()) return Fail(s);
      for (const auto& f : kMnistFiles) {
        if (Status s = FetchOne(mirror, f, out); !s.ok()) return Fail(s);
      }
      std::printf("MNIST is in %s (train with: ml-engine train cnn_mnist --data %s)\n", out.c_str(),
                  out.c_str());
      return kExitOk;
    };
  });
}

}  // namespace mle::cli
