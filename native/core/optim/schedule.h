// The learning-rate schedule of pretrain.py, `cosine_schedule_with_warmup_lr_lambda` (docs/algorithm.md §3.5):
// linear warm-up, then cosine decay to min_ratio·base. With the shipped min_ratio = 1 it is warm-up
// then constant. Applied to each optimizer with its own base lr, every step, before step().
#pragma once

#include <cstdint>

namespace trm {

/**
 * lr at the 1-based training `step`: base·step/max(1, warmup) while step < warmup; afterwards
 * base·(min_ratio + max(0, (1 - min_ratio)·0.5·(1 + cos(π·num_cycles·2·progress)))) with
 * progress = (step - warmup) / max(1, total - warmup). The operations run in the official order,
 * in double, so the values match Python's bit for bit.
 */
double cosine_schedule_with_warmup(int64_t step, double base_lr, int64_t warmup, int64_t total, double min_ratio, double num_cycles = 0.5);

}  // namespace trm
