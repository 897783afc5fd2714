// Internal helpers shared by the K-quant reference quantizers (not part of the public API):
// llama.cpp's rounding trick and its iterative scale searches, reproduced operation for
// operation so that float rounding follows the same path and the chosen codes are identical.
#pragma once

#include <cstdint>

namespace mle::kernels::internal {

// Rounds to the nearest integer, ties to even (ggml's nearest_int: the 1.5 * 2^23 trick).
// REQUIRES: |x| <= 4194303.
int NearestInt(float x);

// Symmetric scale search for a group of n values with codes in [-nmax, nmax-1]: tries 19
// scales around -nmax/max and keeps the one with the least weighted squared error. Weights
// are `weights` or, when null, x^2. Writes codes + nmax to L; returns the scale.
float MakeQxQuants(int n, int nmax, const float* x, int8_t* L, const float* weights);

// Q3_K's symmetric search for codes in [-nmax, nmax-1] with weights x^2: starts at -nmax/max,
// then up to 5 passes that move single codes while the weighted fit improves. Writes codes +
// nmax to L; returns the least-squares scale.
float MakeQ3Quants(int n, int nmax, const float* x, int8_t* L);

// Asymmetric (scale, min) search for codes in [0, nmax] (ggml's make_qkx2_quants): starts at
// the [min, max] fit, then tries nstep+1 scales (rmin + rdelta*is + nmax)/(max - min) with a
// weighted least-squares fit of scale and min for each. Writes codes to L (Laux is scratch of
// n bytes); stores -min (>= 0) in *the_min; returns the scale.
float MakeQkx2Quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                     float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep,
                     bool use_mad);

// Unpacks the 6-bit scale and min of group j (0..7) from the 12 packed bytes of Q4_K / Q5_K.
void GetScaleMinK4(int j, const uint8_t* q, uint8_t* scale, uint8_t* min);
// Packs 8 scales and 8 mins (each 0..63) into 12 bytes, the inverse of GetScaleMinK4.
void PackScaleMinK4(const uint8_t* scales, const uint8_t* mins, uint8_t* q);

}  // namespace mle::kernels::internal
