// Every subcommand of `ml-engine`; main.cpp calls each Add* once. One file per subcommand.
#pragma once

#include "cli/cli_common.h"

namespace mle::cli {

void AddVersionCommand(CLI::App& app, CliContext& ctx);
void AddModelsCommand(CLI::App& app, CliContext& ctx);
void AddTrainCommand(CLI::App& app, CliContext& ctx);
void AddPredictCommand(CLI::App& app, CliContext& ctx);
void AddEvalCommand(CLI::App& app, CliContext& ctx);
void AddDataCommand(CLI::App& app, CliContext& ctx);
void AddQuickstartCommand(CLI::App& app, CliContext& ctx);
void AddGgufCommand(CLI::App& app, CliContext& ctx);  // `gguf` parent + `gguf inspect`
// `gguf quantize`, a child of the `gguf` subcommand (defined by the quantize module).
void AddGgufQuantizeCommand(CLI::App* gguf_cmd, CliContext& ctx);
// `gguf synth`, a child of `gguf` (synthetic models of real shapes).
void AddGgufSynthCommand(CLI::App* gguf_cmd, CliContext& ctx);
void AddTokenizeCommand(CLI::App& app, CliContext& ctx);
void AddTemplateCommand(CLI::App& app, CliContext& ctx);
void AddGenerateCommand(CLI::App& app, CliContext& ctx);
void AddLogitsCommand(CLI::App& app, CliContext& ctx);
void AddBenchCommand(CLI::App& app, CliContext& ctx);  // `bench` parent + `bench model`
void AddServeCommand(CLI::App& app, CliContext& ctx);
void AddLicenseCommand(CLI::App& app, CliContext& ctx);
void AddPerplexityCommand(CLI::App& app, CliContext& ctx);
// `lm` parent (own-LLM pipeline) and its children, one file each (cmd_lm_*.cpp).
void AddLmCommand(CLI::App& app, CliContext& ctx);
void AddLmTokenizerCommand(CLI::App* lm, CliContext& ctx);
void AddLmDataCommand(CLI::App* lm, CliContext& ctx);
void AddLmPretrainCommand(CLI::App* lm, CliContext& ctx);  // LibTorch builds only
void AddLmEvalCommand(CLI::App* lm, CliContext& ctx);
void AddLmExportCommand(CLI::App* lm, CliContext& ctx);
void AddLmGenerateCommand(CLI::App* lm, CliContext& ctx);

}  // namespace mle::cli
