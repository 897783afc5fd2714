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

TEST(Bandwidth, ProbeTakesPassesOneAtATime) {
  BandwidthOptions o;
  o.buffer_bytes = 8u << 20;
  o.n_threads = 2;
  auto probe = ReadBandwidthProbe::Create(o);
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  const uint64_t warm = (*probe)->checksum();
  EXPECT_NE(warm, 0u);  // the warm pass read the buffer
  for (int i = 0; i < 3; ++i) {
    const double gbps = (*probe)->Pass();
    EXPECT_GT(gbps, 0.1);
    EXPECT_LT(gbps, 10000);
  }
  EXPECT_NE((*probe)->checksum(), warm);  // and so did every pass since
  o.n_threads = 0;
  EXPECT_FALSE(ReadBandwidthProbe::Create(o).ok());
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
