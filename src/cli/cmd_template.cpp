// `ml-engine template render`: renders a chat template (a Jinja file, or a built-in by name)
// over a conversation read from a JSON file, as Hugging Face's apply_chat_template would, and
// prints the prompt text. Template errors print "error: template line N: ..." and exit 2.
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "core/file_util.h"
#include "text/chat_template.h"

namespace mle::cli {
namespace {

struct TemplateArgs {
  std::string file;
  std::string builtin;
  std::string messages;
  std::string context;
  std::string now;
  std::string bos_token;
  std::string eos_token;
  bool add_generation_prompt = false;
};

Result<nlohmann::ordered_json> ReadJsonFile(const std::string& path, const std::string& what) {
  MLE_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return InvalidArgument(what + " file '" + path + "' is not valid JSON (fix its syntax)");
  }
  return j;
}

Result<text::ChatTemplate> LoadTemplate(const TemplateArgs& a) {
  if (a.file.empty() == a.builtin.empty()) {
    return InvalidArgument("template render: give either TEMPLATE_FILE or --builtin NAME");
  }
  if (!a.builtin.empty()) return text::ChatTemplate::Builtin(a.builtin);
  MLE_ASSIGN_OR_RETURN(std::string source, ReadFile(a.file));
  return text::ChatTemplate::Parse(std::move(source));
}

// --now "YYYY-MM-DD HH:MM" fixes strftime_now's clock (for reproducible prompts).
Status ParseNow(const std::string& text, std::tm* tm) {
  int y, mo, d, h = 0, mi = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%d %d:%d", &y, &mo, &d, &h, &mi) < 3) {
    return InvalidArgument("--now '" + text + "': expected \"YYYY-MM-DD HH:MM\"");
  }
  *tm = std::tm{};
  tm->tm_year = y - 1900;
  tm->tm_mon = mo - 1;
  tm->tm_mday = d;
  tm->tm_hour = h;
  tm->tm_min = mi;
  return Status::Ok();
}

int RunRender(const TemplateArgs& a) {
  Result<text::ChatTemplate> tmpl = LoadTemplate(a);
  if (!tmpl.ok()) return Fail(tmpl.status());
  Result<nlohmann::ordered_json> input = ReadJsonFile(a.messages, "messages");
  if (!input.ok()) return Fail(input.status());
  text::RenderOptions options;
  options.add_generation_prompt = a.add_generation_prompt;
  options.bos_token = a.bos_token;
  options.eos_token = a.eos_token;
  nlohmann::ordered_json messages = *input;
  if (input->is_object()) {  // {"messages": [...], "tools": [...]}
    messages = input->value("messages", nlohmann::ordered_json());
    if (input->contains("tools")) options.tools = (*input)["tools"];
  }
  if (!a.context.empty()) {
    Result<nlohmann::ordered_json> ctx = ReadJsonFile(a.context, "context");
    if (!ctx.ok()) return Fail(ctx.status());
    options.extra_context = *ctx;
  }
  if (!a.now.empty()) {
    std::tm tm;
    if (Status s = ParseNow(a.now, &tm); !s.ok()) return Fail(s);
    options.now = tm;
  }
  Result<std::string> out = tmpl->Render(messages, options);
  if (!out.ok()) return Fail(out.status());
  std::fwrite(out->data(), 1, out->size(), stdout);
  return kExitOk;
}

}  // namespace

void AddTemplateCommand(CLI::App& app, CliContext& ctx) {
  auto* parent = app.add_subcommand("template", "render chat templates");
  parent->require_subcommand(1);
  auto args = std::make_shared<TemplateArgs>();
  std::string names;
  for (const std::string& n : text::ChatTemplate::BuiltinNames()) names += " " + n;
  auto* cmd = parent->add_subcommand(
      "render", "render a chat template over a conversation, as HF apply_chat_template does");
  cmd->add_option("template", args->file, "Jinja chat template file");
  cmd->add_option("--builtin", args->builtin, "a built-in template instead of a file:" + names);
  cmd->add_option("--messages", args->messages,
                  "JSON file: an array of messages, or {\"messages\": [...], \"tools\": [...]}")
      ->required();
  cmd->add_flag("--add-generation-prompt", args->add_generation_prompt,
                "end with the header of the assistant's turn");
  cmd->add_option("--bos-token", args->bos_token, "the bos_token variable (e.g. '<s>')");
  cmd->add_option("--eos-token", args->eos_token, "the eos_token variable (e.g. '</s>')");
  cmd->add_option("--context", args->context,
                  "JSON file with more variables, e.g. {\"enable_thinking\": false}");
  cmd->add_option("--now", args->now, "fix strftime_now's clock: \"YYYY-MM-DD HH:MM\"");
  BindConfigFlags(cmd, ctx, "template");
  cmd->callback([&ctx, args] { ctx.run = [args] { return RunRender(*args); }; });
}

}  // namespace mle::cli
