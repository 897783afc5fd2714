// Bandwidth measurement: sane figures on a small buffer, and argument checks.
#include "llm/bandwidth.h"

#include <gtest/gtest.h>

namespace mle::llm {
namespace {

TEST(Bandwidth, MeasuresAPlausibleRate) {
  BandwidthOptions o;
  o.buffer_bytes = 64u << 20;
  o.n_threads = 2;
  auto r = MeasureReadBandwidth(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->best_gb_per_s, 0.1);
  EXPECT_LT(r->best_gb_per_s, 10000);
  EXPECT_GE(r->best_gb_per_s, r->mean_gb_per_s);
}

TEST(Bandwidth, RejectsBadOptions) {
  BandwidthOptions o;
  o.n_threads = 0;
  EXPECT_FALSE(MeasureReadBandwidth(o).ok());
  o.n_threads = 1;
  o.buffer_bytes = 100;
  EXPECT_FALSE(MeasureReadBandwidth(o).ok());
}

}  // namespace
}  // namespace mle::llm
