// The label value that marks a position as not supervised: IGNORE_LABEL_ID of the official
// models/losses.py. Datasets store their own ignore_label_id; the loader maps it to this value.
#pragma once

#include <cstdint>

namespace trm {

constexpr int32_t kIgnoreLabel = -100;

}  // namespace trm
