// ChatSession: a conversation rendered with the model's chat template (tokenizer.chat_template)
// into prompt tokens, turn after turn. Each prompt is the whole conversation so far plus the
// generation prompt; a Generator reuses the KV prefix the previous turn left, so only the
// new part is prefilled.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "llm/model.h"
#include "text/chat_template.h"

namespace mle::llm {

class ChatSession {
 public:
  // Errors: the model has no chat template (FailedPrecondition naming the fix), or the
  // template does not parse.
  static Result<ChatSession> Create(const Model& model, const std::string& system_message);

  // Appends a user message and returns the tokens of the whole conversation followed by the
  // assistant's generation prompt (special tokens parsed; one BOS at most). Errors: the
  // template's own (e.g. raise_exception for a role order it does not accept).
  Result<std::vector<TokenId>> PromptWithUser(const std::string& user_message);
  // Appends the assistant's reply to the conversation.
  void AddAssistantReply(const std::string& text);

  const nlohmann::ordered_json& messages() const { return messages_; }

 private:
  ChatSession(const Model& model, text::ChatTemplate tmpl)
      : model_(&model), template_(std::move(tmpl)) {}

  const Model* model_;
  text::ChatTemplate template_;
  nlohmann::ordered_json messages_ = nlohmann::ordered_json::array();
};

// Tokens of a rendered chat prompt: add_special and parse_special on, and a BOS the template
// wrote itself not doubled by the one the tokenizer adds (llama.cpp warns about that case).
std::vector<TokenId> TokenizeChatPrompt(const text::Tokenizer& tok, const std::string& prompt);

}  // namespace mle::llm
