// Scale searches of the K-quant reference quantizers (see quant_search.h). Every expression
// keeps ggml's evaluation order (e.g. w*l*l is (w*l)*l in float): the searches compare
// nearly equal errors, and a different rounding path would pick different codes.
#include "kernels/quant_search.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace mle::kernels::internal {
namespace {

constexpr float kGroupMaxEps = 1e-15f;  // a group whose largest magnitude is below this is zero

// Weighted sums of one symmetric candidate scale: sum(w*x*l) and sum(w*l*l).
void QxSums(int n, int nmax, const float* x, const float* weights, float iscale, float* sumlx,
            float* suml2) {
  *sumlx = 0;
  *suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = NearestInt(iscale * x[i]);
    l = std::max(-nmax, std::min(nmax - 1, l));
    const float w = weights ? weights[i] : x[i] * x[i];
    *sumlx += w * x[i] * l;
    *suml2 += w * l * l;
  }
}

void QxCodes(int n, int nmax, const float* x, float iscale, int8_t* L) {
  for (int i = 0; i < n; ++i) {
    const int l = NearestInt(iscale * x[i]);
    L[i] = static_cast<int8_t>(nmax + std::max(-nmax, std::min(nmax - 1, l)));
  }
}

// Weighted error of codes L under (scale, min): sum w * |scale*L + min - x|^p, p = 1 or 2.
float QkxError(int n, const float* x, const float* weights, const uint8_t* L, float scale,
               float min, bool use_mad) {
  float err = 0;
  for (int i = 0; i < n; ++i) {
    float diff = scale * L[i] + min - x[i];
    diff = use_mad ? std::fabs(diff) : diff * diff;
    err += weights[i] * diff;
  }
  return err;
}

// Codes clamp(nearest(iscale * (x - min)), 0, nmax).
void QkxCodes(int n, int nmax, const float* x, float iscale, float min, uint8_t* L) {
  for (int i = 0; i < n; ++i) {
    const int l = NearestInt(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
  }
}

// Weighted least-squares scale and min (min <= 0) for fixed codes L; false when the codes do
// not determine them (all equal).
bool FitScaleMin(int n, const float* x, const float* weights, const uint8_t* L, float sum_w,
                 float sum_x, float* scale, float* min) {
  float sum_l = 0, sum_l2 = 0, sum_xl = 0;
  for (int i = 0; i < n; ++i) {
    const int l = L[i];
    const float w = weights[i];
    sum_l += w * l;
    sum_l2 += w * l * l;
    sum_xl += w * l * x[i];
  }
  const float D = sum_w * sum_l2 - sum_l * sum_l;
  if (D <= 0) return false;
  *scale = (sum_w * sum_xl - sum_x * sum_l) / D;
  *min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
  if (*min > 0) {
    *min = 0;
    *scale = sum_xl / sum_l2;
  }
  return true;
}

}  // namespace

int NearestInt(float x) {
  const float val = x + 12582912.f;
  int32_t i;
  std::memcpy(&i, &val, sizeof(i));
  return (i & 0x007fffff) - 0x00400000;
}

float MakeQxQuants(int n, int nmax, const float* x, int8_t* L, const float* weights) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::memset(L, 0, n);
    return 0.f;
  }
  float iscale = -nmax / max;
  float sumlx, suml2;
  QxSums(n, nmax, x, weights, iscale, &sumlx, &suml2);
  QxCodes(n, nmax, x, iscale, L);
  float scale = suml2 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    QxSums(n, nmax, x, weights, iscale, &sumlx, &suml2);
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      QxCodes(n, nmax, x, iscale, L);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

float MakeQ3Quants(int n, int nmax, const float* x, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::memset(L, 0, n);
    return 0.f;
  }
  const float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::max(-nmax, std::min(nmax - 1, NearestInt(iscale * x[i])));
    L[i] = static_cast<int8_t>(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * L[i];
      if (slx <= 0) continue;
      float sl2 = suml2 - w * L[i] * L[i];
      const int new_l = std::max(-nmax, std::min(nmax - 1, NearestInt(x[i] * sl2 / slx)));
      if (new_l == L[i]) continue;
      slx += w * x[i] * new_l;
      sl2 += w * new_l * new_l;
      if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
        L[i] = static_cast<int8_t>(new_l);
        sumlx = slx;
        suml2 = sl2;
        ++n_changed;
      }
    }
    if (!n_changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

float MakeQkx2Quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                     float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep,
                     bool use_mad) {
  float min = x[0];
  float max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += weights[i];
    sum_x += weights[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    std::memset(L, 0, n);
    *the_min = -min;
    return 0.f;
  }
  float scale = 1 / (nmax / (max - min));
  QkxCodes(n, nmax, x, nmax / (max - min), min, L);
  float best_error = QkxError(n, x, weights, L, scale, min, use_mad);
  // Note: a better candidate moves `min`, and later candidates are taken relative to it.
  for (int is = 0; nstep >= 1 && is <= nstep; ++is) {
    const float iscale = (rmin + rdelta * is + nmax) / (max - min);
    QkxCodes(n, nmax, x, iscale, min, Laux);
    float this_scale, this_min;
    if (!FitScaleMin(n, x, weights, Laux, sum_w, sum_x, &this_scale, &this_min)) continue;
    const float cur_error = QkxError(n, x, weights, Laux, this_scale, this_min, use_mad);
    if (cur_error < best_error) {
      std::memcpy(L, Laux, n);
      best_error = cur_error;
      scale = this_scale;
      min = this_min;
    }
  }
  *the_min = -min;
  return scale;
}

void GetScaleMinK4(int j, const uint8_t* q, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

void PackScaleMinK4(const uint8_t* scales, const uint8_t* mins, uint8_t* q) {
  // Groups 0..3 keep their 6 bits in bytes 0..7; groups 4..7 put their low nibbles in bytes
  // 8..11 and their top two bits in the spare bits 6..7 of bytes 0..7.
  for (int j = 0; j < 4; ++j) {
    q[j] = scales[j];
    q[j + 4] = mins[j];
  }
  for (int j = 4; j < 8; ++j) {
    q[j + 4] = (scales[j] & 0xF) | ((mins[j] & 0xF) << 4);
    q[j - 4] |= (scales[j] >> 4) << 6;
    q[j] |= (mins[j] >> 4) << 6;
  }
}

}  // namespace mle::kernels::internal
