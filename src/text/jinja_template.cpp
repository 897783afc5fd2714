// jinja::Template: parse once, render many times (see jinja_template.h). Internal errors are
// exceptions (JinjaError); this is the boundary where they become Statuses.
#include "text/jinja_template.h"

#include <new>

#include "text/jinja_builtins.h"
#include "text/jinja_interp.h"
#include "text/jinja_parser.h"

namespace mle::text::jinja {
namespace {

Status ToStatus(const JinjaError& e) {
  std::string msg = e.line() > 0 ? "template line " + std::to_string(e.line()) + ": " + e.message()
                                 : "template: " + e.message();
  switch (e.kind()) {
    case ErrorKind::kLimit:
      return ResourceExhausted(std::move(msg));
    case ErrorKind::kRaised:
      return FailedPrecondition(std::move(msg));
    default:
      return InvalidArgument(std::move(msg));
  }
}

}  // namespace

struct Template::Impl {
  Body body;
};

Result<Template> Template::Parse(std::string_view source, const TemplateOptions& options) {
  try {
    auto impl = std::make_shared<Impl>();
    impl->body = ParseTemplate(source, LexerOptions{options.trim_blocks, options.lstrip_blocks});
    Template t;
    t.impl_ = std::move(impl);
    return t;
  } catch (const JinjaError& e) {
    return ToStatus(e);
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("template: out of memory while parsing");
  }
}

Result<std::string> Template::Render(const nlohmann::ordered_json& variables,
                                     const RenderConfig& config) const {
  if (!impl_) return FailedPrecondition("template: render called on an unparsed template");
  if (!variables.is_object() && !variables.is_null()) {
    return InvalidArgument("template: variables must be a JSON object, got " +
                           std::string(variables.type_name()));
  }
  try {
    ValueArena arena;  // declared first: it outlives the scopes and cleans up after them
    auto globals = std::make_shared<Scope>(nullptr);
    DefineGlobals(*globals);
    if (variables.is_object()) {
      for (const auto& [name, v] : variables.items()) globals->Set(name, ValueFromJson(v));
    }
    auto root = std::make_shared<Scope>(globals);
    Interpreter interp(config);
    return interp.Run(impl_->body, root);
  } catch (const JinjaError& e) {
    return ToStatus(e);
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("template: out of memory while rendering");
  }
}

}  // namespace mle::text::jinja
