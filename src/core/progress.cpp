// Progress bar (see progress.h).
#include "core/progress.h"

#include <unistd.h>

#include <algorithm>

namespace mle {

ProgressBar::ProgressBar(std::string label, int64_t total, std::FILE* out, int is_tty,
                         double plain_interval_s)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total, 0)),
      out_(out),
      tty_(is_tty < 0 ? ::isatty(::fileno(out)) != 0 : is_tty != 0),
      plain_interval_s_(plain_interval_s),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

std::string ProgressBar::FormatDuration(double s) {
  if (!(s >= 0) || s > 1e7) return "?";
  long total = static_cast<long>(s + 0.5);
  char buf[32];
  if (total >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", total / 3600, (total / 60) % 60);
  } else if (total >= 60) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", total / 60, total % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lds", total);
  }
  return buf;
}

void ProgressBar::Update(int64_t done, const std::string& suffix) {
  done_ = std::clamp<int64_t>(done, 0, total_);
  suffix_ = suffix;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  double due = tty_ ? 0.1 : plain_interval_s_;
  if (since >= due) Draw(false);
}

void ProgressBar::Finish(const std::string& suffix) {
  if (finished_) return;
  if (!suffix.empty()) suffix_ = suffix;
  done_ = total_;
  Draw(true);
  finished_ = true;
}

void ProgressBar::Draw(bool final_line) {
  auto now = std::chrono::steady_clock::now();
  last_draw_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double rate = elapsed > 0 ? done_ / elapsed : 0;
  double eta = rate > 0 ? (total_ - done_) / rate : -1;
  double frac = total_ > 0 ? static_cast<double>(done_) / total_ : 1.0;
  std::string timing = final_line ? FormatDuration(elapsed) : "eta " + FormatDuration(eta);
  if (tty_) {
    constexpr int kWidth = 28;
    int filled = static_cast<int>(frac * kWidth);
    std::string bar(filled, '#');
    bar.append(kWidth - filled, '.');
    std::fprintf(out_, "\r\033[K%s [%s] %3d%% %lld/%lld %.1f it/s %s %s", label_.c_str(),
                 bar.c_str(), static_cast<int>(frac * 100), static_cast<long long>(done_),
                 static_cast<long long>(total_), rate, timing.c_str(), suffix_.c_str());
    if (final_line) std::fputc('\n', out_);
  } else {
    std::fprintf(out_, "%s %3d%% %lld/%lld %.1f it/s %s %s\n", label_.c_str(),
                 static_cast<int>(frac * 100), static_cast<long long>(done_),
                 static_cast<long long>(total_), rate, timing.c_str(), suffix_.c_str());
  }
  std::fflush(out_);
}

}  // namespace mle
