#include "schedule.h"

#include <algorithm>
#include <cmath>

namespace trm {

double cosine_schedule_with_warmup(int64_t step, double base_lr, int64_t warmup, int64_t total, double min_ratio, double num_cycles) {
  constexpr double kPi = 3.141592653589793;  // math.pi
  if (step < warmup) return base_lr * static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  // Python evaluates math.pi * float(num_cycles) * 2.0 * progress left to right.
  const double cosine = std::cos(kPi * num_cycles * 2.0 * progress);
  return base_lr * (min_ratio + std::max(0.0, (1.0 - min_ratio) * 0.5 * (1.0 + cosine)));
}

}  // namespace trm
