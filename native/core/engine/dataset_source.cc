#include "dataset_source.h"

#include <algorithm>

#include "../data/puzzle_dataset.h"
#include "../errors.h"

namespace trm {

namespace {

/** The native loader, prefetching on its own thread, behind the trainer's BatchSource interface. */
class DatasetSource final : public BatchSource {
 public:
  explicit DatasetSource(PuzzleDatasetConfig cfg) : ds_(std::move(cfg)) { ds_.start(); }

  void begin_iteration() override { ds_.begin_iteration(); }
  bool next(SourcedBatch& out) override {
    int64_t set_index = 0;
    if (!ds_.next(out.batch, &out.set_name, &out.effective_global_batch, &set_index)) return false;
    // Test windows: rank r takes rows [r·b, (r+1)·b) of each window of effective rows (§5.8).
    const int64_t b = out.batch.inputs.size(0), rank = ds_.config().rank;
    out.rows = ds_.config().test_set_mode ? std::clamp<int64_t>(out.effective_global_batch - rank * b, 0, b) : b;
    out.path_index = ds_.path_of_set(set_index);
    out.identifier_offset = ds_.identifier_offsets()[static_cast<size_t>(out.path_index)];
    return true;
  }
  std::vector<std::string> sets() const override { return ds_.set_names(); }
  std::vector<int64_t> set_examples() const override { return ds_.set_examples(); }
  const PuzzleDatasetMetadata& metadata() const override { return ds_.metadata(); }

  std::string describe() const override {
    std::string out;
    for (const auto& p : ds_.config().dataset_paths) out += (out.empty() ? "" : ", ") + p + "/" + ds_.config().split;
    return out;
  }
  int64_t total_steps(int64_t epochs) const override { return ds_.total_steps_for(epochs); }

  std::vector<int64_t> position() const override {
    const auto p = ds_.position();
    return {p.iteration, p.set_index, p.batch_index};
  }

  void restore(const std::vector<int64_t>& v) override {
    if (v.size() != 3) throw Error(ErrorCode::CheckpointFormat, "loader position must have 3 numbers");
    ds_.restore({v[0], v[1], v[2]});
  }

 private:
  PuzzleDataset ds_;
};

}  // namespace

std::unique_ptr<BatchSource> make_dataset_source(const DataSpec& spec) {
  const std::string split = spec.test_mode ? "test" : "train";
  // No test split: the trainer runs without evaluation, as the official one does ("NO EVAL DATA FOUND").
  if (spec.test_mode && !PuzzleDataset::split_exists(spec.paths.at(0), split)) return nullptr;
  PuzzleDatasetConfig c;
  c.dataset_paths = spec.paths;
  c.split = split;
  c.seed = static_cast<int64_t>(spec.seed);
  c.global_batch_size = spec.global_batch_size;
  c.test_set_mode = spec.test_mode;
  c.epochs_per_iter = spec.test_mode ? 1 : spec.epochs_per_iter;
  c.rank = spec.rank;
  c.num_replicas = spec.world_size;
  c.pin_memory = spec.pin_memory;
  return std::make_unique<DatasetSource>(std::move(c));
}

}  // namespace trm
