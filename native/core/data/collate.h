// Collation (§5.8): the rows a sampler plan names become the int32 tensors of a Batch.
#pragma once

#include <cstdint>

#include "../models/inner.h"  // trm::Batch
#include "batch_sampler.h"
#include "dataset_arrays.h"
#include "dataset_metadata.h"

namespace trm::data::detail {

/**
 * inputs [b, S], labels [b, S] and puzzle_identifiers [b] (int32) of the plan's rows of `set`: cast to
 * int32, ignore_label_id → -100, padded to b rows with pad_id / -100 / blank_identifier_id.
 * With `pinned`, the tensors live in page-locked memory, so a CUDA consumer copies them without blocking.
 */
Batch collate(const SetData& set, const Plan& plan, const PuzzleDatasetMetadata& m, int64_t b, bool pinned = false);

}  // namespace trm::data::detail
