#include "dataset_source.h"

#include "../data/puzzle_dataset.h"
#include "../errors.h"

namespace trm {

namespace {

/** The native loader, prefetching on its own thread, behind the trainer's BatchSource interface. */
class DatasetSource final : public BatchSource {
 public:
  explicit DatasetSource(PuzzleDatasetConfig cfg) : ds_(std::move(cfg)) { ds_.start(); }

  void begin_iteration() override { ds_.begin_iteration(); }
  bool next(SourcedBatch& out) override { return ds_.next(out.batch, &out.set_name, &out.effective_global_batch); }
  std::vector<std::string> sets() const override { return ds_.set_names(); }
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
  return std::make_unique<DatasetSource>(std::move(c));
}

}  // namespace trm
