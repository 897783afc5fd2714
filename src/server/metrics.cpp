#include "server/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mle::server {
namespace {

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  return buf;
}

std::string LabelSet(const std::vector<std::string>& names, const std::vector<std::string>& values,
                     const std::string& extra = "") {
  if (names.empty() && extra.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i] + "=\"" + EscapeLabel(values[i]) + "\"";
  }
  if (!extra.empty()) {
    if (!names.empty()) out += ',';
    out += extra;
  }
  return out + "}";
}

}  // namespace

MetricFamily::MetricFamily(std::string name, std::string help, Kind kind,
                           std::vector<std::string> labels, std::vector<double> buckets)
    : name_(std::move(name)),
      help_(std::move(help)),
      kind_(kind),
      labels_(std::move(labels)),
      bounds_(std::move(buckets)) {
  std::sort(bounds_.begin(), bounds_.end());
}

void MetricFamily::Add(const std::vector<std::string>& lv, double v) {
  std::lock_guard<std::mutex> lock(mu_);
  series_[lv].value += v;
}

void MetricFamily::Set(const std::vector<std::string>& lv, double v) {
  std::lock_guard<std::mutex> lock(mu_);
  series_[lv].value = v;
}

void MetricFamily::Observe(const std::vector<std::string>& lv, double v) {
  const size_t b = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = series_[lv];
  if (s.buckets.empty()) s.buckets.assign(bounds_.size() + 1, 0);
  s.buckets[b]++;
  s.sum += v;
  s.count++;
}

void MetricFamily::Render(std::string* out) const {
  static const char* kTypes[] = {"counter", "gauge", "histogram"};
  *out += "# HELP " + name_ + " " + help_ + "\n";
  *out += "# TYPE " + name_ + " " + kTypes[static_cast<int>(kind_)] + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  if (series_.empty() && labels_.empty() && kind_ != Kind::kHistogram) {
    *out += name_ + " 0\n";
    return;
  }
  for (const auto& [lv, s] : series_) {
    if (kind_ != Kind::kHistogram) {
      *out += name_ + LabelSet(labels_, lv) + " " + FormatNumber(s.value) + "\n";
      continue;
    }
    uint64_t cum = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      cum += s.buckets[i];
      const std::string le =
          "le=\"" + (i < bounds_.size() ? FormatNumber(bounds_[i]) : std::string("+Inf")) + "\"";
      *out += name_ + "_bucket" + LabelSet(labels_, lv, le) + " " + std::to_string(cum) + "\n";
    }
    *out += name_ + "_sum" + LabelSet(labels_, lv) + " " + FormatNumber(s.sum) + "\n";
    *out += name_ + "_count" + LabelSet(labels_, lv) + " " + std::to_string(s.count) + "\n";
  }
}

MetricFamily* MetricsRegistry::Counter(const std::string& name, const std::string& help,
                                       std::vector<std::string> labels) {
  std::lock_guard<std::mutex> lock(mu_);
  families_.push_back(std::make_unique<MetricFamily>(name, help, MetricFamily::Kind::kCounter,
                                                     std::move(labels), std::vector<double>{}));
  return families_.back().get();
}

MetricFamily* MetricsRegistry::Gauge(const std::string& name, const std::string& help,
                                     std::vector<std::string> labels) {
  std::lock_guard<std::mutex> lock(mu_);
  families_.push_back(std::make_unique<MetricFamily>(name, help, MetricFamily::Kind::kGauge,
                                                     std::move(labels), std::vector<double>{}));
  return families_.back().get();
}

MetricFamily* MetricsRegistry::Histogram(const std::string& name, const std::string& help,
                                         std::vector<std::string> labels,
                                         std::vector<double> buckets) {
  std::lock_guard<std::mutex> lock(mu_);
  families_.push_back(std::make_unique<MetricFamily>(name, help, MetricFamily::Kind::kHistogram,
                                                     std::move(labels), std::move(buckets)));
  return families_.back().get();
}

void MetricsRegistry::GaugeCallback(const std::string& name, const std::string& help,
                                    std::function<double()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  callbacks_.push_back({name, help, std::move(fn)});
}

std::string MetricsRegistry::Render() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : families_) f->Render(&out);
  for (const auto& c : callbacks_) {
    out += "# HELP " + c.name + " " + c.help + "\n# TYPE " + c.name + " gauge\n";
    out += c.name + " " + FormatNumber(c.fn()) + "\n";
  }
  return out;
}

std::vector<double> LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

}  // namespace mle::server
