// `ml-engine predict MODEL --ckpt PATH --input FILE [--json]`: class and probabilities for
// each image in FILE (IDX, CSV, PNG or PGM).
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "train/evaluate.h"

namespace mle::cli {

void AddPredictCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("predict", "classify images with a trained checkpoint");
  static std::string model, ckpt, input;
  static bool json = false;
  static int64_t limit = 20;
  cmd->add_option("model", model, "model name (must match the checkpoint)")->required();
  cmd->add_option("--ckpt", ckpt, "checkpoint file (e.g. checkpoints/cnn_mnist/best.ckpt)")
      ->required();
  cmd->add_option("--input", input, "IDX, CSV, PNG or PGM file of 28x28 images")->required();
  cmd->add_option("--limit", limit, "print at most this many images (text output)")
      ->capture_default_str();
  cmd->add_flag("--json", json, "machine-readable output");
  BindConfigFlags(cmd, ctx, "predict");
  cmd->callback([&ctx] {
    ctx.run = [&ctx] {
      auto images = train::LoadImages(input);
      if (!images.ok()) return Fail(images.status());
      train::PredictOptions o{ckpt, model, ResolvedThreads(ctx.config)};
      auto preds = train::Predict(o, *images);
      if (!preds.ok()) return Fail(preds.status());
      if (json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& p : *preds)
          out.push_back({{"class", p.label}, {"probabilities", p.probs}});
        std::printf("%s\n", nlohmann::json{{"model", model}, {"predictions", out}}.dump().c_str());
        return kExitOk;
      }
      int64_t shown = 0;
      for (const auto& p : *preds) {
        if (shown == limit) break;
        std::printf("image %lld: class %lld (p=%.4f) probs=[", static_cast<long long>(shown),
                    static_cast<long long>(p.label), p.probs[p.label]);
        for (size_t c = 0; c < p.probs.size(); ++c) std::printf(c ? " %.4f" : "%.4f", p.probs[c]);
        std::printf("]\n");
        ++shown;
      }
      if (static_cast<int64_t>(preds->size()) > shown) {
        std::printf("... %zu images in all (--limit to show more, --json for all)\n",
                    preds->size());
      }
      return kExitOk;
    };
  });
}

}  // namespace mle::cli
