// `ml-engine gguf ...`: tools for GGUF model files. `gguf` is a parent command; its children
// are `inspect` (here) and `quantize` (added by the quantize module through
// AddGgufQuantizeCommand). Formatting lives in gguf/gguf_inspect.h.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_inspect.h"

namespace mle::cli {
namespace {

struct InspectArgs {
  std::string path;
  bool json = false;
  bool list_tensors = false;
  size_t max_items = 8;
};

int RunInspect(const InspectArgs& args) {
  auto file = gguf::GgufFile::Open(args.path);
  if (!file.ok()) return Fail(file.status());
  gguf::InspectOptions options;
  options.list_tensors = args.list_tensors;
  options.max_array_items = args.max_items;
  std::string report = args.json ? gguf::FormatInspectJson(**file, options)
                                 : gguf::FormatInspectText(**file, options);
  std::fwrite(report.data(), 1, report.size(), stdout);
  return kExitOk;
}

void AddInspectCommand(CLI::App* gguf_cmd, CliContext& ctx) {
  auto args = std::make_shared<InspectArgs>();
  auto* cmd = gguf_cmd->add_subcommand(
      "inspect", "print a GGUF file's header, metadata, tensor statistics and chat template");
  cmd->add_option("file", args->path, "the .gguf file")->required();
  cmd->add_flag("--json", args->json, "print one JSON object instead of text");
  cmd->add_flag("--tensors", args->list_tensors, "also list every tensor");
  cmd->add_option("--max-items", args->max_items, "array items shown before '...' (default 8)")
      ->check(CLI::Range(1, 1 << 20));
  BindConfigFlags(cmd, ctx, "gguf");
  cmd->callback([&ctx, args] { ctx.run = [args] { return RunInspect(*args); }; });
}

}  // namespace

void AddGgufCommand(CLI::App& app, CliContext& ctx) {
  auto* gguf_cmd = app.add_subcommand("gguf", "inspect and convert GGUF model files");
  gguf_cmd->require_subcommand(1);
  AddInspectCommand(gguf_cmd, ctx);
  AddGgufQuantizeCommand(gguf_cmd, ctx);
  AddGgufSynthCommand(gguf_cmd, ctx);
}

}  // namespace mle::cli
