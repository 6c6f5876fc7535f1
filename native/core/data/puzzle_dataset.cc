#include "puzzle_dataset.h"

#include <sys/stat.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "../errors.h"
#include "batch_sampler.h"
#include "collate.h"
#include "dataset_arrays.h"
#include "dataset_files.h"
#include "dataset_metadata.h"

namespace trm {

namespace {

using data::detail::collate;
using data::detail::Cursor;
using data::detail::data_error;
using data::detail::FileMetadata;
using data::detail::join_path;
using data::detail::Plan;
using data::detail::SamplerSpec;
using data::detail::SetData;

// ---------------------------------------------------------------------------------------------------------
// The loaded datasets, shared read-only by the consumer and the producer thread.

struct Data {
  PuzzleDatasetConfig cfg;
  PuzzleDatasetMetadata meta;
  std::vector<SetData> sets;
  std::vector<std::string> names;
  std::vector<int64_t> offsets;
  SamplerSpec sampling;  // the cfg fields the sampler reads, with local_batch = global / num_replicas
};

void validate_config(const PuzzleDatasetConfig& c) {
  auto bad = [](const std::string& what) { throw Error(ErrorCode::InvalidArgument, "PuzzleDataset: " + what); };
  if (c.dataset_paths.empty()) bad("dataset_paths is empty; pass at least one dataset directory");
  if (c.split.empty()) bad("split is empty; expected \"train\" or \"test\"");
  if (c.global_batch_size <= 0) bad("global_batch_size must be positive, got " + std::to_string(c.global_batch_size));
  if (c.num_replicas <= 0) bad("num_replicas must be positive, got " + std::to_string(c.num_replicas));
  if (c.rank < 0 || c.rank >= c.num_replicas) {
    bad("rank " + std::to_string(c.rank) + " outside [0, num_replicas = " + std::to_string(c.num_replicas) + ")");
  }
  if (c.global_batch_size % c.num_replicas != 0) {
    bad("global_batch_size " + std::to_string(c.global_batch_size) + " must be a multiple of num_replicas " +
        std::to_string(c.num_replicas) + " (docs/algorithm.md §5.8)");
  }
  if (c.epochs_per_iter <= 0) bad("epochs_per_iter must be positive, got " + std::to_string(c.epochs_per_iter));
  if (c.prefetch_batches <= 0) bad("prefetch_batches must be positive, got " + std::to_string(c.prefetch_batches));
}

/** Reads every path, checks that the metadata agree, merges it (§5.8) and loads the sets. */
void load(Data* d) {
  const auto& cfg = d->cfg;
  std::vector<FileMetadata> metas;
  std::vector<std::string> dirs;
  for (const auto& p : cfg.dataset_paths) {
    dirs.push_back(join_path(p, cfg.split));
    metas.push_back(data::detail::read_metadata(join_path(dirs.back(), "dataset.json")));
  }
  int64_t total_identifiers = 0;
  d->offsets = data::detail::identifier_offsets(metas, cfg.dataset_paths, cfg.offset_puzzle_identifiers, &total_identifiers);

  // Sets in the official order: for each set name, each path (names s, s1, s2, ...).
  std::vector<int64_t> path_puzzles(metas.size(), 0), path_groups(metas.size(), 0);
  for (const auto& set : metas[0].m.sets) {
    for (size_t k = 0; k < metas.size(); ++k) {
      const std::string name = k == 0 ? set : set + std::to_string(k);
      d->sets.push_back(data::detail::load_set(dirs[k], set, name, metas[k].m, d->offsets[k]));
      d->names.push_back(name);
      path_puzzles[k] += static_cast<int64_t>(d->sets.back().puzzle_identifiers.size());
      path_groups[k] += d->sets.back().groups();
    }
  }
  // total_groups must be the arrays' group count (every official builder writes it so); a wrong one would
  // silently change the number of training steps (§3.5). total_puzzles is not checked: the Sudoku and
  // Maze builders write the group count there, not the augmented puzzles'.
  for (size_t k = 0; k < metas.size(); ++k) {
    if (metas[k].m.total_groups != path_groups[k]) {
      data_error(join_path(dirs[k], "dataset.json"), "'total_groups' is " + std::to_string(metas[k].m.total_groups) +
                                                         " but the group_indices of its sets hold " + std::to_string(path_groups[k]) +
                                                         " groups");
    }
  }

  d->meta = data::detail::merge_metadata(metas, path_puzzles, total_identifiers);
  d->sampling = {.seed = cfg.seed,
                 .global_batch_size = cfg.global_batch_size,
                 .local_batch = cfg.global_batch_size / cfg.num_replicas,
                 .rank = cfg.rank,
                 .epochs_per_iter = cfg.epochs_per_iter,
                 .test_set_mode = cfg.test_set_mode};
}

// ---------------------------------------------------------------------------------------------------------
// The prefetch thread

/** One entry of the prefetch queue: a batch, the end of the iteration, or the producer's exception. */
struct Item {
  enum class Kind { Batch, End, Error } kind = Kind::Batch;
  Batch batch;
  int64_t set_index = 0;
  int64_t effective = 0;
  LoaderPosition after;  // the consumer's position once this item is taken
  std::exception_ptr error;
};

}  // namespace

// -------------------------------------------------------------------------------------------------------------

struct PuzzleDataset::Impl {
  Data data;
  Cursor cursor{data.sets, data.sampling};  // touched only by the producer while it runs, else by the consumer

  // Consumer state.
  LoaderPosition position;
  std::exception_ptr broken;  // the last error, rethrown until begin_iteration()/restore()
  bool prefetch = false;      // start() in effect

  // Prefetch queue.
  std::mutex mu;
  std::condition_variable not_full, not_empty;
  std::deque<Item> queue;
  bool stop_requested = false;
  bool producer_active = false;
  std::thread producer;

  /** Builds the item that follows the cursor (a batch or the end marker). Exceptions propagate. */
  Item produce() {
    Item item;
    Plan plan;
    if (!cursor.next_plan(&plan)) {
      item.kind = Item::Kind::End;
      item.after = {cursor.iteration(), static_cast<int64_t>(data.sets.size()), 0};
      return item;
    }
    const auto& set = data.sets[static_cast<size_t>(cursor.set_index())];
    item.batch = collate(set, plan, data.meta, data.sampling.local_batch, data.cfg.pin_memory);
    item.set_index = cursor.set_index();
    item.effective = plan.effective;
    item.after = {cursor.iteration(), cursor.set_index(), cursor.batch_index()};
    return item;
  }

  void producer_loop() {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu);
        const auto bound = static_cast<size_t>(data.cfg.prefetch_batches);
        not_full.wait(lock, [&] { return stop_requested || queue.size() < bound; });
        if (stop_requested) break;
      }
      Item item;
      try {
        item = produce();
      } catch (...) {
        item.kind = Item::Kind::Error;
        item.error = std::current_exception();
      }
      const bool last = item.kind != Item::Kind::Batch;
      {
        std::lock_guard<std::mutex> lock(mu);
        queue.push_back(std::move(item));
      }
      not_empty.notify_one();
      if (last) break;
    }
    std::lock_guard<std::mutex> lock(mu);
    producer_active = false;
    not_empty.notify_all();
  }

  void launch() {
    if (producer.joinable() || cursor.finished() || broken) return;
    stop_requested = false;
    producer_active = true;
    producer = std::thread([this] { producer_loop(); });
  }

  /** Joins the producer; the queue keeps what it produced (it precedes the cursor). */
  void halt() {
    if (!producer.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mu);
      stop_requested = true;
    }
    not_full.notify_all();
    producer.join();
  }

  void discard_queue() {
    halt();
    queue.clear();
    broken = nullptr;
  }
};

PuzzleDataset::PuzzleDataset(PuzzleDatasetConfig config) : impl_(std::make_unique<Impl>()) {
  validate_config(config);
  impl_->data.cfg = std::move(config);
  load(&impl_->data);
}

PuzzleDataset::~PuzzleDataset() {
  if (impl_) impl_->halt();
}

bool PuzzleDataset::split_exists(const std::string& dataset_path, const std::string& split) {
  struct stat st;
  const std::string f = join_path(join_path(dataset_path, split), "dataset.json");
  return ::stat(f.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

const PuzzleDatasetConfig& PuzzleDataset::config() const { return impl_->data.cfg; }
const PuzzleDatasetMetadata& PuzzleDataset::metadata() const { return impl_->data.meta; }
const std::vector<std::string>& PuzzleDataset::set_names() const { return impl_->data.names; }
const std::vector<int64_t>& PuzzleDataset::identifier_offsets() const { return impl_->data.offsets; }
// Sets are ordered set name by set name, path by path within each (load()).
int64_t PuzzleDataset::path_of_set(int64_t set_index) const {
  return set_index % static_cast<int64_t>(impl_->data.cfg.dataset_paths.size());
}
int64_t PuzzleDataset::local_batch_size() const { return impl_->data.sampling.local_batch; }

std::vector<int64_t> PuzzleDataset::set_examples() const {
  std::vector<int64_t> out;
  for (const auto& s : impl_->data.sets) out.push_back(s.examples());
  return out;
}

int64_t PuzzleDataset::total_steps_for(int64_t epochs) const {
  // Python evaluates epochs * total_groups (exact integers), then * mean, then / global in float64.
  const auto& m = impl_->data.meta;
  const double v =
      static_cast<double>(epochs * m.total_groups) * m.mean_puzzle_examples / static_cast<double>(impl_->data.cfg.global_batch_size);
  return static_cast<int64_t>(v);
}

int64_t PuzzleDataset::batches_in_iteration(int64_t iteration) const {
  if (iteration <= 0) throw Error(ErrorCode::InvalidArgument, "batches_in_iteration: iterations count from 1");
  Cursor c(impl_->data.sets, impl_->data.sampling);
  c.reset(iteration);
  int64_t n = 0;
  while (!c.finished()) {
    if (impl_->data.cfg.test_set_mode) {
      const auto& set = impl_->data.sets[static_cast<size_t>(c.set_index())];
      n += Cursor::test_windows(set, impl_->data.cfg.global_batch_size);
    } else {
      while (c.skip_in_set(1)) ++n;
    }
    c.seek_set(c.set_index() + 1);
  }
  return n;
}

void PuzzleDataset::begin_iteration() {
  Impl& s = *impl_;
  s.discard_queue();
  const int64_t next_iteration = s.position.iteration + 1;
  s.cursor.reset(next_iteration);
  s.position = {next_iteration, 0, 0};
  if (s.prefetch) s.launch();
}

bool PuzzleDataset::next(Batch& out, std::string* set_name, int64_t* effective_global_batch_size, int64_t* set_index) {
  Impl& s = *impl_;
  if (s.position.iteration == 0) {
    throw Error(ErrorCode::State, "PuzzleDataset::next: no iteration has begun; call begin_iteration() first");
  }
  if (s.broken) std::rethrow_exception(s.broken);

  Item item;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    s.not_empty.wait(lock, [&] { return !s.queue.empty() || !s.producer_active; });
    if (!s.queue.empty()) {
      item = std::move(s.queue.front());
      s.queue.pop_front();
      s.not_full.notify_one();
    } else {
      lock.unlock();
      // No producer: the producer thread, if any, has exited, so the cursor is ours. Join it first.
      if (s.producer.joinable()) s.producer.join();
      if (s.position.set_index >= static_cast<int64_t>(s.data.sets.size())) return false;  // already ended
      try {
        item = s.produce();
      } catch (...) {
        s.broken = std::current_exception();
        throw;
      }
    }
  }

  switch (item.kind) {
    case Item::Kind::Error: s.broken = item.error; std::rethrow_exception(item.error);
    case Item::Kind::End: s.position = item.after; return false;
    case Item::Kind::Batch: break;
  }
  s.position = item.after;
  out = std::move(item.batch);
  if (set_name != nullptr) *set_name = s.data.names[static_cast<size_t>(item.set_index)];
  if (effective_global_batch_size != nullptr) *effective_global_batch_size = item.effective;
  if (set_index != nullptr) *set_index = item.set_index;
  return true;
}

void PuzzleDataset::start() {
  Impl& s = *impl_;
  s.prefetch = true;
  // Produce ahead only from the cursor; what an earlier stop() left queued is still served first.
  s.launch();
}

void PuzzleDataset::stop() {
  impl_->prefetch = false;
  impl_->halt();
}

bool PuzzleDataset::prefetching() const { return impl_->prefetch; }

LoaderPosition PuzzleDataset::position() const { return impl_->position; }

void PuzzleDataset::restore(const LoaderPosition& pos) {
  Impl& s = *impl_;
  const int64_t sets = static_cast<int64_t>(s.data.sets.size());
  auto unreachable = [&](const std::string& why) {
    throw Error(ErrorCode::State, "PuzzleDataset::restore: position {iteration " + std::to_string(pos.iteration) + ", set " +
                                      std::to_string(pos.set_index) + ", batch " + std::to_string(pos.batch_index) + "} " + why);
  };
  if (pos.iteration < 0 || pos.set_index < 0 || pos.batch_index < 0) unreachable("has a negative field");
  if (pos.iteration == 0 && (pos.set_index != 0 || pos.batch_index != 0)) unreachable("has no iteration");
  if (pos.set_index > sets || (pos.set_index == sets && pos.batch_index != 0)) unreachable("is past the last set");

  s.discard_queue();
  s.cursor.reset(pos.iteration);
  if (pos.iteration > 0) {
    s.cursor.seek_set(pos.set_index);
    if (pos.set_index < sets && !s.cursor.skip_in_set(pos.batch_index)) {
      unreachable("lies beyond the end of set '" + s.data.names[static_cast<size_t>(pos.set_index)] +
                  "' for this config (was it saved with another seed, batch size or dataset?)");
    }
  }
  s.position = pos;
  if (s.prefetch) s.launch();
}

}  // namespace trm
