// The data.pkl of a state dict: pickle protocol 2 as Python's pickler emits it for
// torch.save(OrderedDict(name -> tensor)) (docs/algorithm.md §7.3), so that torch.load(weights_only=True) reads it.
#pragma once

#include <string>
#include <vector>

#include "raw_tensor.h"

namespace trm::io::detail {

/**
 * data.pkl for OrderedDict(name -> tensor), storage key = index as a decimal string. Each tensor is
 * _rebuild_tensor_v2 of its own contiguous storage ('storage', torch.<X>Storage, '<i>', 'cpu', numel) with
 * offset 0, row-major strides and requires_grad False. The caller has validated the tensors (unique UTF-8
 * names, non-negative dims whose product does not overflow).
 */
std::string pickle_state_dict(const std::vector<TensorToWrite>& tensors);

}  // namespace trm::io::detail
