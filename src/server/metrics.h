// Prometheus metrics: counter, gauge and histogram families with labels, rendered in the text
// exposition format (version 0.0.4) for GET /metrics. Thread-safe; updates take one short lock
// per family.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mle::server {

class MetricFamily {
 public:
  enum class Kind { kCounter, kGauge, kHistogram };
  MetricFamily(std::string name, std::string help, Kind kind, std::vector<std::string> labels,
               std::vector<double> buckets);

  // REQUIRES: label_values.size() == number of label names.
  void Add(const std::vector<std::string>& label_values, double v);      // counter / gauge
  void Set(const std::vector<std::string>& label_values, double v);      // gauge
  void Observe(const std::vector<std::string>& label_values, double v);  // histogram
  void Render(std::string* out) const;

 private:
  struct Series {
    double value = 0;               // counter / gauge
    std::vector<uint64_t> buckets;  // histogram: per bucket (not cumulative)
    double sum = 0;
    uint64_t count = 0;
  };
  std::string name_, help_;
  Kind kind_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, Series> series_;
};

class MetricsRegistry {
 public:
  MetricFamily* Counter(const std::string& name, const std::string& help,
                        std::vector<std::string> labels = {});
  MetricFamily* Gauge(const std::string& name, const std::string& help,
                      std::vector<std::string> labels = {});
  MetricFamily* Histogram(const std::string& name, const std::string& help,
                          std::vector<std::string> labels, std::vector<double> buckets);
  // A gauge read at render time (queue lengths, jobs by state).
  void GaugeCallback(const std::string& name, const std::string& help, std::function<double()> fn);

  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<MetricFamily>> families_;
  struct Callback {
    std::string name, help;
    std::function<double()> fn;
  };
  std::vector<Callback> callbacks_;
};

// Default latency buckets in seconds (1 ms .. 60 s).
std::vector<double> LatencyBuckets();

}  // namespace mle::server
