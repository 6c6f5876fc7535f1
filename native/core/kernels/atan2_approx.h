// A branch-free float atan2(y, x) for x >= 0, so loops that call it auto-vectorise (libm's atan2f
// is an opaque scalar call). The fused Adam-atan2 kernel (docs/algorithm.md §3.2) only needs x >= 0 because
// there x = sqrt(v) / sqrt(1 - β2^t). Measured max error against double atan2 is in
// test/native/optim_test.cc (must stay below 2e-7 absolute).
#pragma once

#include <cmath>

namespace trm::kernels {

/**
 * atan(a) for a in [0, 1]: the odd minimax polynomial of Hastings (Abramowitz & Stegun 4.4.49,
 * |error| <= 2e-8 in exact arithmetic), evaluated by Horner in s = a².
 */
inline float atan_unit_interval(float a) {
  const float s = a * a;
  float p = 0.0028662257f;
  p = p * s - 0.0161657367f;
  p = p * s + 0.0429096138f;
  p = p * s - 0.0752896400f;
  p = p * s + 0.1065626393f;
  p = p * s - 0.1420889944f;
  p = p * s + 0.1999355085f;
  p = p * s - 0.3333314528f;
  return a + a * (s * p);  // a·(1 + s·p), written so the leading term is exact
}

/**
 * atan2(y, x) for x >= 0 (or NaN), without branches: reduce to a = min(|y|, x) / max(|y|, x) in
 * [0, 1], take atan there, reflect through π/2 when |y| > x, and give the result the sign of y.
 * atan2(±0, 0) = ±0 and atan2(y, 0) = ±π/2 as in libm; NaN in either argument gives NaN (a NaN
 * gradient must not turn into a silent finite update). atan2(±inf, inf) is NaN, not ±π/4.
 */
inline float atan2_nonneg_x(float y, float x) {
  // π/2 as a float plus the remainder: float(π/2) alone is 4.4e-8 too large, a third of the budget.
  constexpr float kHalfPiHi = 1.57079637050628662109375f;
  constexpr float kHalfPiLo = -4.37113900018624283e-8f;
  const float ay = std::fabs(y);
  const bool swap = ay > x;  // false when either is NaN, so NaN flows into lo or hi below
  const float lo = swap ? x : ay;
  const float hi = swap ? ay : x;
  // hi == 0 implies lo == 0 (both zero): divide by 0 + 1 instead (0 / 1 = 0, not NaN); otherwise by
  // hi + 0 = hi. A NaN hi stays NaN. (Not `hi == 0 ? 1 : hi`: GCC turns that into a conditional divide.)
  const float a = lo / (hi + static_cast<float>(hi == 0.0f));
  const float r = atan_unit_interval(a);
  // Reflection π/2 - r, as hi + (lo - r) so the big part is added once (|r| <= π/4). Written with
  // selected constants and unconditional arithmetic: under -ftrapping-math GCC will not if-convert
  // (and so not vectorise) an FP operation that runs on one side of a condition only. For !swap this
  // is 0 + (0 + r) = r exactly.
  const float sign = swap ? -1.0f : 1.0f;
  const float off_hi = swap ? kHalfPiHi : 0.0f;
  const float off_lo = swap ? kHalfPiLo : 0.0f;
  return std::copysign(off_hi + (off_lo + sign * r), y);
}

}  // namespace trm::kernels
