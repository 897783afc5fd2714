// ChatSession (see chat_session.h).
#include "llm/chat_session.h"

namespace mle::llm {

std::vector<TokenId> TokenizeChatPrompt(const text::Tokenizer& tok, const std::string& prompt) {
  std::vector<TokenId> ids = tok.Tokenize(prompt, /*add_special=*/true, /*parse_special=*/true);
  if (ids.size() >= 2 && tok.bos() >= 0 && ids[0] == tok.bos() && ids[1] == tok.bos()) {
    ids.erase(ids.begin());
  }
  return ids;
}

Result<ChatSession> ChatSession::Create(const Model& model, const std::string& system_message) {
  std::optional<std::string> source = model.chat_template();
  if (!source) {
    return FailedPrecondition("model '" + model.hparams().name +
                              "' has no chat template (tokenizer.chat_template); drop --chat/-i "
                              "or use a model that has one");
  }
  MLE_ASSIGN_OR_RETURN(text::ChatTemplate tmpl, text::ChatTemplate::Parse(*source));
  ChatSession session(model, std::move(tmpl));
  if (!system_message.empty()) {
    session.messages_.push_back({{"role", "system"}, {"content", system_message}});
  }
  return session;
}

Result<std::vector<TokenId>> ChatSession::PromptWithUser(const std::string& user_message) {
  messages_.push_back({{"role", "user"}, {"content", user_message}});
  const text::Tokenizer& tok = model_->tokenizer();
  text::RenderOptions options;
  options.add_generation_prompt = true;
  if (tok.bos() >= 0) options.bos_token = std::string(tok.TokenToPiece(tok.bos(), true));
  if (tok.eos() >= 0) options.eos_token = std::string(tok.TokenToPiece(tok.eos(), true));
  Result<std::string> prompt = template_.Render(messages_, options);
  if (!prompt.ok()) {
    messages_.erase(messages_.end() - 1);
    return prompt.status().WithContext("chat template");
  }
  return TokenizeChatPrompt(tok, *prompt);
}

void ChatSession::AddAssistantReply(const std::string& text) {
  messages_.push_back({{"role", "assistant"}, {"content", text}});
}

}  // namespace mle::llm
