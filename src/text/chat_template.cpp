// ChatTemplate (see chat_template.h): the variables Hugging Face passes to a chat template,
// and the table of built-in templates.
#include "text/chat_template.h"

#include <utility>

namespace mle::text {

Result<ChatTemplate> ChatTemplate::Parse(std::string source) {
  MLE_ASSIGN_OR_RETURN(jinja::Template t, jinja::Template::Parse(source));
  ChatTemplate ct;
  ct.source_ = std::move(source);
  ct.template_ = std::move(t);
  return ct;
}

std::vector<std::string> ChatTemplate::BuiltinNames() {
  std::vector<std::string> names;
  for (const auto& [name, source] : BuiltinChatTemplates()) names.push_back(name);
  return names;
}

Result<ChatTemplate> ChatTemplate::Builtin(std::string_view name) {
  std::string known;
  for (const auto& [n, source] : BuiltinChatTemplates()) {
    if (n == name) {
      Result<ChatTemplate> t = Parse(source);
      if (!t.ok()) return t.status().WithContext("built-in chat template '" + n + "'");
      return t;
    }
    known += (known.empty() ? "" : ", ") + n;
  }
  return NotFound("unknown built-in chat template '" + std::string(name) + "' (known: " + known +
                  ")");
}

Result<std::string> ChatTemplate::Render(const nlohmann::ordered_json& messages,
                                         const RenderOptions& options) const {
  if (!messages.is_array()) {
    return InvalidArgument("chat messages must be a JSON array of message objects, got " +
                           std::string(messages.type_name()));
  }
  if (!options.extra_context.is_object() && !options.extra_context.is_null()) {
    return InvalidArgument("chat template extra context must be a JSON object");
  }
  nlohmann::ordered_json vars = nlohmann::ordered_json::object();
  vars["messages"] = messages;
  vars["add_generation_prompt"] = options.add_generation_prompt;
  vars["bos_token"] = options.bos_token;
  vars["eos_token"] = options.eos_token;
  if (!options.tools.is_null()) vars["tools"] = options.tools;
  if (options.extra_context.is_object()) {
    for (const auto& [k, v] : options.extra_context.items()) vars[k] = v;
  }
  jinja::RenderConfig config;
  config.now = options.now;
  config.allow_mutation = options.allow_mutation;
  config.max_output_bytes = options.max_output_bytes;
  return template_.Render(vars, config);
}

Result<std::string> ChatTemplate::Render(const nlohmann::json& messages,
                                         const RenderOptions& options) const {
  return Render(nlohmann::ordered_json(messages), options);
}

}  // namespace mle::text
