// The per-instruction-set kernel tables behind MatMul (internal to mle_kernels and its tests).
// Each ISA (portable scalar, AVX2+FMA+F16C, AVX-512) provides, per weight type, a tile function
// computing up to max_rows x max_tokens dot products of weight rows with activation rows that
// were converted once per call into the type's activation format (ActFormat below). MatMul
// picks the best table the CPU supports; tests force each one with SetIsaForTesting.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/tensor_types.h"
#include "kernels/matmul.h"

namespace mle::kernels::internal {

enum class Isa { kScalar, kAvx2, kAvx512 };

// Activation row formats (n = row length; every region starts 32-byte aligned):
//   kF32:   float[n].
//   kBf16:  uint16 BF16 bits[n] (round to nearest even, as Fp32ToBf16).
//   kQ8_32: int8 q[n] | float d[n/32] | float s[n/32]. Per block of 32 the values and d are
//           exactly those of the reference QuantizeRowQ8_0 (d rounded through F16, q =
//           round(x / d) ties away from zero); s = d * sum(q) computed in float.
//   kQ8_K:  int8 q[n] | float d[n/256] | int16 bsums[n/16]: exactly QuantizeRowQ8_K's values.
enum class ActFormat { kF32, kBf16, kQ8_32, kQ8_K };

// Bytes of one activation row of n elements in format f (a multiple of 64).
size_t ActRowBytes(ActFormat f, int64_t n);

constexpr int64_t RoundUp32(int64_t v) {
  return (v + 31) & ~int64_t{31};
}

// Views of a kQ8_32 / kQ8_K activation row of n elements.
struct Q8Row {
  const int8_t* q;
  const float* d;
  const float* s;
};
inline Q8Row Q8_32View(const uint8_t* a, int64_t n) {
  const float* d = reinterpret_cast<const float*>(a + n);
  return {reinterpret_cast<const int8_t*>(a), d,
          reinterpret_cast<const float*>(a + n + RoundUp32(4 * (n / 32)))};
}
struct Q8KRow {
  const int8_t* q;
  const float* d;
  const int16_t* bsums;
};
inline Q8KRow Q8_KView(const uint8_t* a, int64_t n) {
  return {reinterpret_cast<const int8_t*>(a), reinterpret_cast<const float*>(a + n),
          reinterpret_cast<const int16_t*>(a + n + RoundUp32(4 * (n / 256)))};
}

// One tile: y[t * y_stride + r] = dot(weight row r, activation row t) for r < nr, t < nt.
// Weight row r starts at w + r * w_row_bytes, activation row t at a + t * a_row_bytes; n is the
// row length in elements (a multiple of the weight type's block size).
struct Tile {
  const uint8_t* w;
  size_t w_row_bytes;
  int nr;
  const uint8_t* a;
  size_t a_row_bytes;
  int nt;
  int64_t n;
  float* y;
  int64_t y_stride;
};
using TileFn = void (*)(const Tile& tile);

// What an ISA does with one weight type. fn == nullptr: not handled by this ISA table; the
// driver then dequantizes rows (reference code) and uses the table's F32 kernel.
struct TypeKernel {
  ActFormat act = ActFormat::kF32;
  TileFn fn = nullptr;
  int max_rows = 1;    // nr <= max_rows
  int max_tokens = 1;  // nt <= max_tokens
};

struct IsaTable {
  Isa isa;
  const char* name;
  TypeKernel (*kernel)(gguf::TensorType type);
  // The kernel for a repacked layout (WeightLayout other than kRows); its tiles always hold
  // whole groups (max_rows is the group height and nr == max_rows).
  TypeKernel (*packed)(WeightLayout layout);
  // Converts n floats (a multiple of 32, of 256 for kQ8_K) to format f at dst
  // (ActRowBytes(f, n) bytes, 64-byte aligned).
  void (*convert)(ActFormat f, const float* x, uint8_t* dst, int64_t n);
};

// The kQ4_0x8 layout (matmul.h): groups of 8 rows, per block 8 F16 scales then 128 code bytes.
constexpr int kQ4_0x8Rows = 8;
constexpr size_t kQ4_0x8BlockBytes = 16 + 128;
// The kQ4_Kx8 layout: per super-block of 8 rows, at these byte offsets. The kernels work on
// the 128 unpacked 6-bit values u: u[8 g + row] = scale of group g, u[64 + 16 (g / 2) + 2 row +
// g % 2] = its min. They are stored as 96 bytes: at kQ4_Kx8Low, byte j = low nibbles of u[j]
// (bits 0..3) and u[64 + j] (bits 4..7); at kQ4_Kx8High, byte j = the top 2 bits of u[j],
// u[32 + j], u[64 + j], u[96 + j] at bits 0..1, 2..3, 4..5, 6..7.
constexpr int kQ4_Kx8Rows = 8;
constexpr size_t kQ4_Kx8D = 0, kQ4_Kx8Dmin = 16, kQ4_Kx8Low = 32, kQ4_Kx8High = 96,
                 kQ4_Kx8Codes = 128, kQ4_Kx8BlockBytes = 128 + 1024;
constexpr size_t kQ4_Kx8Mins = 64;  // offset of the mins in the unpacked u

// The unpacked scales and mins u (above) of the kQ4_Kx8 super-block at blk.
inline void UnpackQ4_Kx8Scales(const uint8_t* blk, uint8_t* u) {
  for (int j = 0; j < 32; ++j) {
    const int h = blk[kQ4_Kx8High + j];
    for (int q = 0; q < 4; ++q) {
      const int k = 32 * q + j;  // u index; its low nibble: byte k % 64, half k / 64
      const int lo = (blk[kQ4_Kx8Low + k % 64] >> (4 * (k / 64))) & 0xF;
      u[k] = static_cast<uint8_t>(lo | ((h >> (2 * q)) & 3) << 4);
    }
  }
}
// The kQ6_Kx8 layout: d at 0, scales at 16 ([g / 2][row][g % 2]), group g's 96 code bytes at
// 144 + 96 g: low nibbles of steps 0|1 at +0, of steps 2|3 at +32, high bits of step t at bits
// 2t..2t+1 of +64; row i's 4 bytes at 4i in each.
// The kQ8_0x8 layout: 8 F16 scales, then 8 x 32 biased code bytes per block of 8 rows.
constexpr int kQ8_0x8Rows = 8;
constexpr size_t kQ8_0x8BlockBytes = 16 + 256;
constexpr int kQ6_Kx8Rows = 8;
constexpr size_t kQ6_Kx8Scales = 16, kQ6_Kx8Codes = 144, kQ6_Kx8BlockBytes = 144 + 16 * 96;

// The tables; nullptr where the build or the CPU lacks the ISA.
const IsaTable* ScalarTable();
const IsaTable* Avx2Table();    // needs AVX2, FMA, F16C
const IsaTable* Avx512Table();  // needs AVX512F/BW/VL (VNNI and BF16 used where present)

// The table MatMul uses: the forced one if set, else the best the CPU supports.
const IsaTable& ActiveTable();
// Forces MatMul onto `isa` (false, and nothing changes, when it is unavailable); Reset goes
// back to automatic choice. Not thread-safe: tests only.
bool SetIsaForTesting(Isa isa);
void ResetIsaForTesting();
const IsaTable* TableFor(Isa isa);

// Scalar converters shared by the tables (they define the formats above).
void ConvertScalar(ActFormat f, const float* x, uint8_t* dst, int64_t n);

}  // namespace mle::kernels::internal
