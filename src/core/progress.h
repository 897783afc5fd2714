// A progress bar for long loops: items done, items/s, ETA and a caller-supplied suffix
// (e.g. the running loss). On a terminal it redraws one line; otherwise (logs, CI) it
// prints a plain line at most every `plain_interval_s` seconds and at the end.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace mle {

class ProgressBar {
 public:
  // `out` defaults to stderr; `is_tty` is detected from it unless forced.
  ProgressBar(std::string label, int64_t total, std::FILE* out = stderr, int is_tty = -1,
              double plain_interval_s = 10.0);
  // Sets the number of items done (monotonic) and redraws if due.
  void Update(int64_t done, const std::string& suffix = "");
  // Draws the final state and ends the line.
  void Finish(const std::string& suffix = "");

  // "1m05s" style duration.
  static std::string FormatDuration(double seconds);

 private:
  void Draw(bool final_line);

  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  std::string suffix_;
  std::FILE* out_;
  bool tty_;
  double plain_interval_s_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool finished_ = false;
};

}  // namespace mle
