// Portable kernels: the activation formats of matmul_isa.h (their defining implementation,
// which the SIMD converters must reproduce bit for bit) and plain C++ dot products of every
// weight type with them. Integer sums per block are exact, so every ISA agrees with this one
// up to the order of float additions.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/float_convert.h"
#include "kernels/matmul_isa.h"
#include "kernels/quant_blocks.h"

namespace mle::kernels::internal {
namespace {

using gguf::TensorType;

// ---- Activation conversion -------------------------------------------------------------------

void ToQ8_32(const float* x, uint8_t* dst, int64_t n) {
  int8_t* q = reinterpret_cast<int8_t*>(dst);
  const Q8Row v = Q8_32View(dst, n);
  float* dd = const_cast<float*>(v.d);
  float* ss = const_cast<float*>(v.s);
  for (int64_t b = 0; b < n / 32; ++b, x += 32, q += 32) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d ? 1.0f / d : 0.0f;
    int sum = 0;
    for (int j = 0; j < 32; ++j) {
      q[j] = static_cast<int8_t>(std::round(x[j] * id));
      sum += q[j];
    }
    dd[b] = Fp16ToFp32(Fp32ToFp16(d));
    ss[b] = dd[b] * static_cast<float>(sum);
  }
}

// Round half to even, as QuantizeRowQ8_K's NearestInt.
int RoundEven(float v) {
  return static_cast<int>(std::nearbyint(v));
}

void ToQ8_K(const float* x, uint8_t* dst, int64_t n) {
  int8_t* q = reinterpret_cast<int8_t*>(dst);
  const Q8KRow v = Q8_KView(dst, n);
  float* dd = const_cast<float*>(v.d);
  int16_t* bsums = const_cast<int16_t*>(v.bsums);
  for (int64_t b = 0; b < n / 256; ++b, x += 256, q += 256, bsums += 16) {
    float max = 0, amax = 0;
    for (int j = 0; j < 256; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    if (!amax) {
      std::memset(q, 0, 256);
      std::memset(bsums, 0, 32);
      dd[b] = 0;
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < 256; ++j)
      q[j] = static_cast<int8_t>(std::min(127, RoundEven(iscale * x[j])));
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += q[16 * g + j];
      bsums[g] = static_cast<int16_t>(sum);
    }
    dd[b] = 1 / iscale;
  }
}

// ---- Dot products ----------------------------------------------------------------------------

template <typename Block>
const Block* Blocks(const uint8_t* w) {
  return reinterpret_cast<const Block*>(w);
}

float DotQ4_0(const uint8_t* w, const uint8_t* a, int64_t n) {
  const auto* x = Blocks<BlockQ4_0>(w);
  const Q8Row v = Q8_32View(a, n);
  float acc = 0;
  for (int64_t b = 0; b < n / 32; ++b) {
    int sum = 0;
    for (int j = 0; j < 16; ++j) {
      sum += ((x[b].qs[j] & 0xF) - 8) * v.q[32 * b + j];
      sum += ((x[b].qs[j] >> 4) - 8) * v.q[32 * b + j + 16];
    }
    acc += Fp16ToFp32(x[b].d) * v.d[b] * static_cast<float>(sum);
  }
  return acc;
}

float DotQ4_1(const uint8_t* w, const uint8_t* a, int64_t n) {
  const auto* x = Blocks<BlockQ4_1>(w);
  const Q8Row v = Q8_32View(a, n);
  float acc = 0;
  for (int64_t b = 0; b < n / 32; ++b) {
    int sum = 0;
    for (int j = 0; j < 16; ++j) {
      sum += (x[b].qs[j] & 0xF) * v.q[32 * b + j] + (x[b].qs[j] >> 4) * v.q[32 * b + j + 16];
    }
    acc += Fp16ToFp32(x[b].d) * v.d[b] * static_cast<float>(sum) + Fp16ToFp32(x[b].m) * v.s[b];
  }
  return acc;
}

// The 5-bit codes of a Q5_0 / Q5_1 block, 0..31, in element order.
template <typename Block>
void Codes5(const Block& b, int* q) {
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  for (int j = 0; j < 16; ++j) {
    q[j] = (b.qs[j] & 0xF) | (((qh >> j) & 1) << 4);
    q[j + 16] = (b.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
  }
}

float DotQ5_0(const uint8_t* w, const uint8_t* a, int64_t n) {
  const auto* x = Blocks<BlockQ5_0>(w);
  const Q8Row v = Q8_32View(a, n);
  float acc = 0;
  int q[32];
  for (int64_t b = 0; b < n / 32; ++b) {
    Codes5(x[b], q);
    int sum = 0;
    for (int j = 0; j < 32; ++j) sum += (q[j] - 16) * v.q[32 * b + j];
    acc += Fp16ToFp32(x[b].d) * v.d[b] * static_cast<float>(sum);
  }
  return acc;
}

float DotQ5_1(const uint8_t* w, const uint8_t* a, int64_t n) {
  const auto* x = Blocks<BlockQ5_1>(w);
  const Q8Row v = Q8_32View(a, n);
  float acc = 0;
  int q[32];
  for (int64_t b = 0; b < n / 32; ++b) {
    Codes5(x[b], q);
    int sum = 0;
    for (int j = 0; j < 32; ++j) sum += q[j] * v.q[32 * b + j];
    acc += Fp16ToFp32(x[b].d) * v.d[b] * static_cast<float>(sum) + Fp16ToFp32(x[b].m) * v.s[b];
  }
  return acc;
}

float DotQ8_0(const uint8_t* w, const uint8_t* a, int64_t n) {
  const auto* x = Blocks<BlockQ8_0>(w);
  const Q8Row v = Q8_32View(a, n);
  float acc = 0;
  for (int64_t b = 0; b < n / 32; ++b) {
    int sum = 0;
    for (int j = 0; j < 32; ++j) sum += x[b].qs[j] * v.q[32 * b + j];
    acc += Fp16ToFp32(x[b].d) * v.d[b] * static_cast<float>(sum);
  }
  return acc;
}

// Scale and min of group j of the packed 6-bit Q4_K / Q5_K scales.
void ScaleMinK4(int j, const uint8_t* q, int* sc, int* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Q4_K and Q5_K: per group of 32, d * sc * sum(q x) - dmin * m * sum(x).
template <bool kFive>
float DotQ45_K(const uint8_t* w, const uint8_t* a, int64_t n) {
  const Q8KRow v = Q8_KView(a, n);
  float acc = 0;
  for (int64_t b = 0; b < n / 256; ++b) {
    const uint8_t *scales, *qs, *qh = nullptr;
    uint16_t d16, dmin16;
    if constexpr (kFive) {
      const auto& x = Blocks<BlockQ5_K>(w)[b];
      scales = x.scales, qs = x.qs, qh = x.qh, d16 = x.d, dmin16 = x.dmin;
    } else {
      const auto& x = Blocks<BlockQ4_K>(w)[b];
      scales = x.scales, qs = x.qs, d16 = x.d, dmin16 = x.dmin;
    }
    const int8_t* q8 = v.q + 256 * b;
    int sum_q = 0, sum_m = 0;
    for (int g = 0; g < 8; ++g) {
      int sc, m;
      ScaleMinK4(g, scales, &sc, &m);
      int s = 0;
      for (int l = 0; l < 32; ++l) {
        const uint8_t byte = qs[32 * (g / 2) + l];
        int q = (g % 2) ? byte >> 4 : byte & 0xF;
        if (kFive) q |= ((qh[l] >> g) & 1) << 4;
        s += q * q8[32 * g + l];
      }
      sum_q += sc * s;
      sum_m += m * (v.bsums[16 * b + 2 * g] + v.bsums[16 * b + 2 * g + 1]);
    }
    acc += v.d[b] * (Fp16ToFp32(d16) * static_cast<float>(sum_q) -
                     Fp16ToFp32(dmin16) * static_cast<float>(sum_m));
  }
  return acc;
}

float DotQ6_K(const uint8_t* w, const uint8_t* a, int64_t n) {
  const Q8KRow v = Q8_KView(a, n);
  float acc = 0;
  int8_t q[256];
  for (int64_t b = 0; b < n / 256; ++b) {
    const auto& x = Blocks<BlockQ6_K>(w)[b];
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = x.ql + 64 * h;
      const uint8_t* qh = x.qh + 32 * h;
      int8_t* o = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        o[l] = static_cast<int8_t>(((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32);
        o[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        o[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        o[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    const int8_t* q8 = v.q + 256 * b;
    int sum = 0;
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int l = 0; l < 16; ++l) s += q[16 * g + l] * q8[16 * g + l];
      sum += x.scales[g] * s;
    }
    acc += v.d[b] * Fp16ToFp32(x.d) * static_cast<float>(sum);
  }
  return acc;
}

template <float (*kConv)(uint16_t)>
float DotHalf(const uint8_t* w, const uint8_t* a, int64_t n) {
  const auto* x = reinterpret_cast<const uint16_t*>(w);
  const auto* f = reinterpret_cast<const float*>(a);
  float acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += kConv(x[i]) * f[i];
  return acc;
}

float DotF32(const uint8_t* w, const uint8_t* a, int64_t n) {
  const auto* x = reinterpret_cast<const float*>(w);
  const auto* f = reinterpret_cast<const float*>(a);
  float acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += x[i] * f[i];
  return acc;
}

// Q4_0 in the kQ4_0x8 layout: the defining implementation the SIMD kernels follow. Row i of the
// group has its scale at bytes 2i of each block and its codes at bytes 4i..4i+3 of each of the
// 4 code vectors (low nibbles: elements 4v..4v+3, high nibbles: 16+4v..16+4v+3).
float DotQ4_0x8(const uint8_t* group, int i, const uint8_t* a, int64_t n) {
  const int64_t nb = n / 32;
  const Q8Row x = Q8_32View(a, n);
  float acc = 0;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = group + b * kQ4_0x8BlockBytes;
    uint16_t d;
    std::memcpy(&d, blk + 2 * i, 2);
    const uint8_t* codes = blk + 2 * kQ4_0x8Rows + 4 * i;
    const int8_t* xq = x.q + 32 * b;
    int sum = 0;
    for (int v = 0; v < 4; ++v) {
      for (int m = 0; m < 4; ++m) {
        const int c = codes[32 * v + m];
        sum += ((c & 15) - 8) * xq[4 * v + m] + ((c >> 4) - 8) * xq[16 + 4 * v + m];
      }
    }
    acc += Fp16ToFp32(d) * x.d[b] * static_cast<float>(sum);
  }
  return acc;
}

// Q4_K in the kQ4_Kx8 layout (offsets in matmul_isa.h), as DotQ45_K computes it.
float DotQ4_Kx8(const uint8_t* group, int i, const uint8_t* a, int64_t n) {
  const int64_t nb = n / 256;
  const Q8KRow x = Q8_KView(a, n);
  float acc = 0;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = group + b * kQ4_Kx8BlockBytes;
    uint16_t d, dmin;
    std::memcpy(&d, blk + kQ4_Kx8D + 2 * i, 2);
    std::memcpy(&dmin, blk + kQ4_Kx8Dmin + 2 * i, 2);
    uint8_t u[128];
    UnpackQ4_Kx8Scales(blk, u);
    const int8_t* q8 = x.q + 256 * b;
    int sum_q = 0, sum_m = 0;
    for (int g = 0; g < 8; ++g) {
      const int sc = u[8 * g + i];
      const int m = u[kQ4_Kx8Mins + 16 * (g / 2) + 2 * i + g % 2];
      const uint8_t* codes = blk + kQ4_Kx8Codes + 32 * 8 * (g / 2) + 4 * i;
      int s = 0;
      for (int l = 0; l < 32; ++l) {
        const uint8_t byte = codes[32 * (l / 4) + l % 4];
        s += ((g % 2) ? byte >> 4 : byte & 0xF) * q8[32 * g + l];
      }
      sum_q += sc * s;
      sum_m += m * (x.bsums[16 * b + 2 * g] + x.bsums[16 * b + 2 * g + 1]);
    }
    acc += x.d[b] * (Fp16ToFp32(d) * static_cast<float>(sum_q) -
                     Fp16ToFp32(dmin) * static_cast<float>(sum_m));
  }
  return acc;
}

// Q6_K in the kQ6_Kx8 layout (offsets in matmul_isa.h), as DotQ6_K computes it.
float DotQ6_Kx8(const uint8_t* group, int i, const uint8_t* a, int64_t n) {
  const int64_t nb = n / 256;
  const Q8KRow x = Q8_KView(a, n);
  float acc = 0;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = group + b * kQ6_Kx8BlockBytes;
    uint16_t d;
    std::memcpy(&d, blk + 2 * i, 2);
    const int8_t* q8 = x.q + 256 * b;
    int sum = 0;
    for (int g = 0; g < 16; ++g) {
      const int sc = static_cast<int8_t>(blk[kQ6_Kx8Scales + 16 * (g / 2) + 2 * i + g % 2]);
      const uint8_t* codes = blk + kQ6_Kx8Codes + 96 * g + 4 * i;
      int s = 0;
      for (int e = 0; e < 16; ++e) {
        const int step = e / 4, m = e % 4;
        const int lo = codes[32 * (step / 2) + m];
        const int q = ((step % 2) ? lo >> 4 : lo & 0xF) | ((codes[64 + m] >> (2 * step)) & 3) << 4;
        s += (q - 32) * q8[16 * g + e];
      }
      sum += sc * s;
    }
    acc += x.d[b] * Fp16ToFp32(d) * static_cast<float>(sum);
  }
  return acc;
}

// Q8_0 in the kQ8_0x8 layout: codes stored + 128, as DotQ8_0 computes it.
float DotQ8_0x8(const uint8_t* group, int i, const uint8_t* a, int64_t n) {
  const int64_t nb = n / 32;
  const Q8Row x = Q8_32View(a, n);
  float acc = 0;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = group + b * kQ8_0x8BlockBytes;
    uint16_t d;
    std::memcpy(&d, blk + 2 * i, 2);
    int sum = 0;
    for (int e = 0; e < 32; ++e) {
      sum += (blk[16 + 32 * (e / 4) + 4 * i + e % 4] - 128) * x.q[32 * b + e];
    }
    acc += Fp16ToFp32(d) * x.d[b] * static_cast<float>(sum);
  }
  return acc;
}

// A tile of a repacked layout: row i of the group at t.w against each token.
template <float (*kDot)(const uint8_t*, int, const uint8_t*, int64_t)>
void GroupTileLoop(const Tile& t) {
  for (int j = 0; j < t.nt; ++j) {
    for (int i = 0; i < t.nr; ++i)
      t.y[j * t.y_stride + i] = kDot(t.w, i, t.a + j * t.a_row_bytes, t.n);
  }
}

TypeKernel ScalarPacked(WeightLayout layout) {
  switch (layout) {
    case WeightLayout::kQ4_0x8:
      return {ActFormat::kQ8_32, GroupTileLoop<DotQ4_0x8>, kQ4_0x8Rows, 4};
    case WeightLayout::kQ4_Kx8:
      return {ActFormat::kQ8_K, GroupTileLoop<DotQ4_Kx8>, kQ4_Kx8Rows, 4};
    case WeightLayout::kQ6_Kx8:
      return {ActFormat::kQ8_K, GroupTileLoop<DotQ6_Kx8>, kQ6_Kx8Rows, 4};
    case WeightLayout::kQ8_0x8:
      return {ActFormat::kQ8_32, GroupTileLoop<DotQ8_0x8>, kQ8_0x8Rows, 4};
    default:
      return {};
  }
}

template <float (*kDot)(const uint8_t*, const uint8_t*, int64_t)>
void TileLoop(const Tile& t) {
  for (int r = 0; r < t.nr; ++r) {
    for (int j = 0; j < t.nt; ++j) {
      t.y[j * t.y_stride + r] = kDot(t.w + r * t.w_row_bytes, t.a + j * t.a_row_bytes, t.n);
    }
  }
}

TypeKernel ScalarKernel(TensorType type) {
  constexpr int kR = 4, kT = 4;
  switch (type) {
    case TensorType::kQ4_0:
      return {ActFormat::kQ8_32, TileLoop<DotQ4_0>, kR, kT};
    case TensorType::kQ4_1:
      return {ActFormat::kQ8_32, TileLoop<DotQ4_1>, kR, kT};
    case TensorType::kQ5_0:
      return {ActFormat::kQ8_32, TileLoop<DotQ5_0>, kR, kT};
    case TensorType::kQ5_1:
      return {ActFormat::kQ8_32, TileLoop<DotQ5_1>, kR, kT};
    case TensorType::kQ8_0:
      return {ActFormat::kQ8_32, TileLoop<DotQ8_0>, kR, kT};
    case TensorType::kQ4_K:
      return {ActFormat::kQ8_K, TileLoop<DotQ45_K<false>>, kR, kT};
    case TensorType::kQ5_K:
      return {ActFormat::kQ8_K, TileLoop<DotQ45_K<true>>, kR, kT};
    case TensorType::kQ6_K:
      return {ActFormat::kQ8_K, TileLoop<DotQ6_K>, kR, kT};
    case TensorType::kF16:
      return {ActFormat::kF32, TileLoop<DotHalf<Fp16ToFp32>>, kR, kT};
    case TensorType::kBF16:
      return {ActFormat::kF32, TileLoop<DotHalf<Bf16ToFp32>>, kR, kT};
    case TensorType::kF32:
      return {ActFormat::kF32, TileLoop<DotF32>, kR, kT};
    default:
      return {};
  }
}

}  // namespace

size_t ActRowBytes(ActFormat f, int64_t n) {
  int64_t bytes = 0;
  switch (f) {
    case ActFormat::kF32:
      bytes = 4 * n;
      break;
    case ActFormat::kBf16:
      bytes = 2 * n;
      break;
    case ActFormat::kQ8_32:
      bytes = RoundUp32(n) + 2 * RoundUp32(4 * (n / 32));
      break;
    case ActFormat::kQ8_K:
      bytes = RoundUp32(n) + RoundUp32(4 * (n / 256)) + 2 * (n / 16);
      break;
  }
  return static_cast<size_t>((bytes + 63) & ~int64_t{63});
}

void ConvertScalar(ActFormat f, const float* x, uint8_t* dst, int64_t n) {
  switch (f) {
    case ActFormat::kF32:
      std::memcpy(dst, x, 4 * n);
      break;
    case ActFormat::kBf16: {
      auto* o = reinterpret_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) o[i] = Fp32ToBf16(x[i]);
      break;
    }
    case ActFormat::kQ8_32:
      ToQ8_32(x, dst, n);
      break;
    case ActFormat::kQ8_K:
      ToQ8_K(x, dst, n);
      break;
  }
}

const IsaTable* ScalarTable() {
  static const IsaTable table{Isa::kScalar, "scalar", ScalarKernel, ScalarPacked, ConvertScalar};
  return &table;
}

}  // namespace mle::kernels::internal
