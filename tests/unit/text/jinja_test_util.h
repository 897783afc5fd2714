// Helpers for the Jinja unit tests: render a template string with JSON variables the way chat
// templates are rendered (trim_blocks, lstrip_blocks, strftime_now at 2026-11-23 09:30), and
// get either the output or "error: <message>".
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "text/jinja_template.h"

namespace mle::text::jinja {

inline std::tm FixedTestTime() {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 10;
  tm.tm_mday = 23;
  tm.tm_hour = 9;
  tm.tm_min = 30;
  return tm;
}

inline std::string Render(std::string_view source, std::string_view vars_json = "{}",
                          RenderConfig config = {}) {
  auto t = Template::Parse(source);
  if (!t.ok()) return "error: " + t.status().message();
  if (!config.now) config.now = FixedTestTime();
  auto r = t->Render(nlohmann::ordered_json::parse(vars_json), config);
  if (!r.ok()) return "error: " + r.status().message();
  return *r;
}

inline bool IsError(const std::string& rendered) {
  return rendered.rfind("error: ", 0) == 0;
}

}  // namespace mle::text::jinja
