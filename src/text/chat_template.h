// Chat templates: turn a conversation (OpenAI-style messages) into the prompt text a model was
// trained on, by rendering the model's Jinja chat template exactly as Hugging Face's
// apply_chat_template does: Jinja2 semantics in its immutable sandbox, trim_blocks and
// lstrip_blocks on, loop controls, tojson without ASCII escaping, raise_exception(msg),
// strftime_now(fmt) and a {% generation %} tag that renders its body. Well-known templates
// are built in by name, so a model's template can be forced by flag or preset.
#pragma once

#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "text/jinja_template.h"

namespace mle::text {

struct RenderOptions {
  bool add_generation_prompt = false;
  std::string bos_token;  // the tokenizer's special tokens, as HF passes them
  std::string eos_token;
  // `tools`: the tool list (a JSON array). Null leaves `tools` undefined, as in the reference
  // renders; pass {"tools": null} in extra_context for HF's `tools=None`.
  nlohmann::ordered_json tools;
  // More variables (a JSON object, e.g. {"enable_thinking": false}); they override the above.
  nlohmann::ordered_json extra_context = nlohmann::ordered_json::object();
  // strftime_now's clock (local time); empty: now.
  std::optional<std::tm> now;
  // list.append and friends (off, as in HF's immutable sandbox; see jinja::RenderConfig).
  bool allow_mutation = false;
  size_t max_output_bytes = 64u << 20;
};

// Errors: Parse and Render return InvalidArgument (syntax, type and undefined-value errors),
// FailedPrecondition (raise_exception in the template) or ResourceExhausted (limits); every
// message starts with "template line N: ".
// Thread-safety: immutable after Parse; concurrent Render calls are safe.
class ChatTemplate {
 public:
  // Compiles a Jinja chat template (e.g. tokenizer.chat_template from a GGUF file).
  static Result<ChatTemplate> Parse(std::string source);
  // A built-in template by name (see BuiltinNames); NotFound lists the names.
  static Result<ChatTemplate> Builtin(std::string_view name);
  static std::vector<std::string> BuiltinNames();

  // Renders `messages` (a JSON array of {"role", "content", ...} objects). The ordered_json
  // overload keeps each object's member order, as Python dicts do (it shows in tojson
  // output); nlohmann::json sorts members by key.
  Result<std::string> Render(const nlohmann::ordered_json& messages,
                             const RenderOptions& options) const;
  Result<std::string> Render(const nlohmann::json& messages, const RenderOptions& options) const;

  const std::string& source() const { return source_; }

 private:
  std::string source_;
  jinja::Template template_;
};

// The built-in templates as {name, Jinja source}, in display order
// (chat_template_builtins.cpp).
const std::vector<std::pair<std::string, std::string>>& BuiltinChatTemplates();

}  // namespace mle::text
