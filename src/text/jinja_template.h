// A Jinja template engine that renders as Python's Jinja2 does (the ImmutableSandboxedEnvironment
// Hugging Face uses for chat templates). Template::Parse compiles a source once; Render runs it
// with variables given as a JSON object. Rendering is bounded (recursion depth, work steps,
// output size), so no input can crash the process or loop forever.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace mle::text::jinja {

struct Stmt;

struct TemplateOptions {
  bool trim_blocks = true;    // drop the first newline after a block tag (HF: on)
  bool lstrip_blocks = true;  // strip indentation before a block tag (HF: on)
};

struct RenderConfig {
  size_t max_output_bytes = 64u << 20;  // also the limit for any one string or list built
  int max_call_depth = 256;             // nested macro calls (recursion)
  int64_t max_steps = 50'000'000;       // statements run + loop iterations + calls
  // list.append/pop/extend/insert/remove/sort/reverse/clear and dict.update/pop/setdefault/
  // clear. Jinja2's ImmutableSandboxedEnvironment (what HF uses) refuses them ("access to
  // attribute 'append' of 'list' object is unsafe."), so they are off by default.
  bool allow_mutation = false;
  // The clock for strftime_now(fmt), as local time; empty: the real local time.
  std::optional<std::tm> now;
};

// Errors are Statuses whose message starts with "template line N: " (syntax errors, undefined
// values used in operations, type errors, raise_exception(msg) from the template).
// Thread-safety: a parsed Template is immutable; concurrent Render calls are safe.
class Template {
 public:
  static Result<Template> Parse(std::string_view source, const TemplateOptions& options = {});

  // `variables`: a JSON object; each member becomes a template variable (JSON objects keep
  // their member order, as Python dicts do). Globals range, dict, namespace, cycler, joiner,
  // raise_exception and strftime_now are always defined; a variable of the same name wins.
  Result<std::string> Render(const nlohmann::ordered_json& variables,
                             const RenderConfig& config = {}) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace mle::text::jinja
