// Reader and writer for PyTorch `torch.save` zip checkpoints holding a flat name -> tensor dict, which is
// what the official TRM code writes (docs/algorithm.md §7.3). No LibTorch and no Python: a zip directory walk plus an
// allow-list unpickler that never executes anything (docs/algorithm.md §7.5).
#pragma once

#include <string>
#include <vector>

#include "raw_tensor.h"

namespace trm::io {

/**
 * Reads a torch.save zip file whose top-level object is a dict or OrderedDict of name -> tensor (tensors or
 * nn.Parameters, any storage location such as "cpu" or "cuda:0"). Returns the entries in file order; their
 * bytes stay in the memory mapping. Zip64 archives (files over 4 GiB) are supported.
 *
 * verify_crc32: check each record's CRC-32 against the zip directory (records whose stored CRC is 0 are
 * skipped: torch writes 0 when its compute_crc32 option is off). It reads every byte once (about 1 s for a
 * 2 GB file); pass false to only map the file.
 *
 * Throws trm::Error(IO) when the file cannot be opened, trm::Error(CheckpointFormat) for anything
 * malformed, truncated or unsupported (compressed records, big-endian files, legacy non-zip torch files,
 * globals outside the allow-list, tensors that do not fit their storage, ...).
 */
std::vector<RawTensor> read_torch_zip(const std::string& path, bool verify_crc32 = true);

/**
 * Writes `tensors` the way `torch.save(OrderedDict(...), path)` does: pickle protocol 2 with
 * collections.OrderedDict + torch._utils._rebuild_tensor_v2, persistent ids
 * ('storage', torch.<X>Storage, '<i>', 'cpu', numel), one STORED record per tensor aligned to 64 bytes,
 * archive folder = the file's basename without its extension. Zip64 records are used when a size or offset
 * reaches 4 GiB - 1. Written atomically (write_file_atomic). Loads with torch.load(path, weights_only=True).
 *
 * Throws trm::Error(InvalidArgument) for duplicate or non-UTF-8 names, negative dims, or nbytes that do not
 * match shape x dtype; trm::Error(IO) when writing fails.
 */
void write_torch_zip(const std::string& path, const std::vector<TensorToWrite>& tensors);

namespace detail {
/** write_torch_zip with zip64 records forced on every entry and the end record, to test that code path. */
void write_torch_zip_forcing_zip64(const std::string& path, const std::vector<TensorToWrite>& tensors);
}  // namespace detail

}  // namespace trm::io
