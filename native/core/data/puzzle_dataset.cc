#include "puzzle_dataset.h"

#include <ATen/ATen.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <random>
#include <thread>
#include <type_traits>

#include "../errors.h"
#include "../io/json_lite.h"
#include "../io/mapped_file.h"
#include "npy.h"

namespace trm {

namespace {

constexpr int32_t kIgnoreLabel = -100;  // IGNORE_LABEL_ID of the loss (§2.3)

[[noreturn]] void data_error(const std::string& file, const std::string& what) {
  throw Error(ErrorCode::DataFormat, "invalid dataset file '" + file + "': " + what);
}

std::string names_list(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out + "]";
}

std::string join_path(const std::string& a, const std::string& b) {
  if (a.empty() || a.back() == '/') return a + b;
  return a + "/" + b;
}

// ---------------------------------------------------------------------------------------------------------
// dataset.json (§5.2)

/** One path's metadata as written; total_puzzles is absent in HRM files (§5.2) and defaulted later. */
struct FileMetadata {
  PuzzleDatasetMetadata m;
  bool has_total_puzzles = false;
};

const io::json::Value& member(const io::json::Value& obj, const std::string& key, const std::string& file) {
  const io::json::Value* v = obj.find(key);
  if (v == nullptr) data_error(file, "missing key '" + key + "' (required by PuzzleDatasetMetadata, SPEC 5.2)");
  return *v;
}

int64_t as_int(const io::json::Value& v, const std::string& key, const std::string& file) {
  if (v.kind == io::json::Value::Kind::Number) {
    errno = 0;
    char* end = nullptr;
    const long long x = std::strtoll(v.text.c_str(), &end, 10);
    if (errno == 0 && end != nullptr && *end == '\0') return static_cast<int64_t>(x);
  }
  data_error(file, "'" + key + "' must be an integer, found " +
                       (v.kind == io::json::Value::Kind::Number ? v.text : io::json::kind_name(v.kind)));
}

FileMetadata read_metadata(const std::string& file) {
  const auto mapped = io::MappedFile::open(file);
  io::json::Value root;
  std::string err;
  if (!io::json::parse(reinterpret_cast<const char*>(mapped->data()), mapped->size(), &root, &err)) {
    data_error(file, "not valid JSON: " + err);
  }
  if (root.kind != io::json::Value::Kind::Object) data_error(file, "expected a JSON object");

  FileMetadata out;
  PuzzleDatasetMetadata& m = out.m;
  m.pad_id = as_int(member(root, "pad_id", file), "pad_id", file);
  const auto& ignore = member(root, "ignore_label_id", file);
  if (ignore.kind != io::json::Value::Kind::Null) m.ignore_label_id = as_int(ignore, "ignore_label_id", file);
  m.blank_identifier_id = as_int(member(root, "blank_identifier_id", file), "blank_identifier_id", file);
  m.vocab_size = as_int(member(root, "vocab_size", file), "vocab_size", file);
  m.seq_len = as_int(member(root, "seq_len", file), "seq_len", file);
  m.num_puzzle_identifiers = as_int(member(root, "num_puzzle_identifiers", file), "num_puzzle_identifiers", file);
  m.total_groups = as_int(member(root, "total_groups", file), "total_groups", file);

  const auto& mean = member(root, "mean_puzzle_examples", file);
  char* end = nullptr;
  if (mean.kind == io::json::Value::Kind::Number) m.mean_puzzle_examples = std::strtod(mean.text.c_str(), &end);
  if (end == nullptr || *end != '\0') data_error(file, "'mean_puzzle_examples' must be a number");

  if (const auto* tp = root.find("total_puzzles")) {
    m.total_puzzles = as_int(*tp, "total_puzzles", file);
    out.has_total_puzzles = true;
  }
  const auto& sets = member(root, "sets", file);
  if (sets.kind != io::json::Value::Kind::Array || sets.items.empty()) {
    data_error(file, "'sets' must be a non-empty list of names");
  }
  for (const auto& s : sets.items) {
    if (s.kind != io::json::Value::Kind::String || s.text.empty()) {
      data_error(file, "'sets' must hold non-empty strings");
    }
    m.sets.push_back(s.text);
  }
  if (m.seq_len <= 0) data_error(file, "'seq_len' must be positive, found " + std::to_string(m.seq_len));
  if (m.num_puzzle_identifiers < 0 || m.num_puzzle_identifiers > std::numeric_limits<int32_t>::max()) {
    data_error(file, "'num_puzzle_identifiers' out of range: " + std::to_string(m.num_puzzle_identifiers));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The five arrays of one set (§5.3)

struct SetData {
  std::string name;             // loader name (s, s1, s2, ...)
  data::NpyArray inputs;        // [E, S], memory-mapped
  data::NpyArray labels;        // [E, S], memory-mapped
  std::vector<int32_t> puzzle_identifiers;  // [P], offset already applied
  std::vector<int64_t> puzzle_indices;      // [P + 1]
  std::vector<int64_t> group_indices;       // [G + 1]
  int64_t examples() const { return inputs.shape.empty() ? 0 : inputs.shape[0]; }
  int64_t groups() const { return static_cast<int64_t>(group_indices.size()) - 1; }
};

/** Checks a CSR offset array: starts at 0, ends at `last`, never decreases (strictly increases if `strict`). */
void check_csr(const std::vector<int64_t>& idx, int64_t last, bool strict, const std::string& file,
               const std::string& what) {
  if (idx.empty()) data_error(file, "empty; expected " + what + " offsets with at least one entry (0)");
  if (idx.front() != 0) data_error(file, "must start with 0, found " + std::to_string(idx.front()));
  for (size_t i = 1; i < idx.size(); ++i) {
    if (idx[i] < idx[i - 1] || (strict && idx[i] == idx[i - 1])) {
      const char* rule = strict ? "strictly increase (every group needs a puzzle)" : "not decrease";
      data_error(file, std::string("offsets must ") + rule + ", but entry " + std::to_string(i) + " is " +
                           std::to_string(idx[i]) + " after " + std::to_string(idx[i - 1]));
    }
  }
  if (idx.back() != last) {
    data_error(file, "last offset is " + std::to_string(idx.back()) + " but there are " + std::to_string(last) + " " +
                         what);
  }
}

SetData load_set(const std::string& dir, const std::string& set, const std::string& loader_name,
                 const PuzzleDatasetMetadata& m, int64_t id_offset) {
  auto file = [&](const char* field) { return join_path(dir, set + "__" + field + ".npy"); };
  SetData s;
  s.name = loader_name;
  s.inputs = data::read_npy(file("inputs"));
  s.labels = data::read_npy(file("labels"));
  const auto ids_npy = data::read_npy(file("puzzle_identifiers"));
  const auto ids = data::to_int64_vector(ids_npy);
  s.puzzle_indices = data::to_int64_vector(data::read_npy(file("puzzle_indices")));
  s.group_indices = data::to_int64_vector(data::read_npy(file("group_indices")));

  if (s.inputs.shape.size() != 2 || s.inputs.shape[1] != m.seq_len) {
    data_error(s.inputs.path,
               "expected shape [examples, seq_len = " + std::to_string(m.seq_len) + "] from dataset.json");
  }
  if (s.labels.shape != s.inputs.shape) {
    data_error(s.labels.path, "labels must have the shape of inputs [" + std::to_string(s.inputs.shape[0]) + ", " +
                                  std::to_string(m.seq_len) + "]");
  }
  const int64_t puzzles = static_cast<int64_t>(ids.size());
  if (static_cast<int64_t>(s.puzzle_indices.size()) != puzzles + 1) {
    data_error(file("puzzle_indices"), "expected " + std::to_string(puzzles + 1) + " entries (puzzles + 1), found " +
                                           std::to_string(s.puzzle_indices.size()));
  }
  check_csr(s.puzzle_indices, s.examples(), false, file("puzzle_indices"), "examples");
  check_csr(s.group_indices, puzzles, true, file("group_indices"), "puzzles");

  s.puzzle_identifiers.resize(ids.size());
  for (size_t p = 0; p < ids.size(); ++p) {
    if (ids[p] < 0 || ids[p] >= m.num_puzzle_identifiers) {
      data_error(ids_npy.path, "puzzle " + std::to_string(p) + " has identifier " + std::to_string(ids[p]) +
                                   ", outside [0, num_puzzle_identifiers = " +
                                   std::to_string(m.num_puzzle_identifiers) + ")");
    }
    s.puzzle_identifiers[p] = static_cast<int32_t>(ids[p] + id_offset);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// Portable randomness: std::mt19937_64 is specified bit for bit by the standard, the distributions are not.

using Rng = std::mt19937_64;

/** Uniform integer in [0, n), n > 0, by rejection (unbiased and identical on every platform). */
uint64_t uniform_below(Rng& rng, uint64_t n) {
  const uint64_t rem = (std::numeric_limits<uint64_t>::max() % n + 1) % n;  // 2^64 mod n
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - rem;         // [0, limit] holds a multiple of n values
  uint64_t x;
  do {
    x = rng();
  } while (x > limit);
  return x % n;
}

// ---------------------------------------------------------------------------------------------------------
// Sampling plans: which rows of a set make one local batch (no data is touched here).

struct Plan {
  std::vector<int64_t> rows;     // example rows of this rank, at most local_batch
  std::vector<int64_t> puzzles;  // the puzzle of each row
  int64_t effective = 0;         // yielded effective global batch size
};

/**
 * One set's train walk (§5.8 steps 2–4): group order = epochs_per_iter independent permutations (each drawn
 * when the walk reaches it; the stream is deterministic either way), one uniformly chosen puzzle per group,
 * its examples in random order, truncated at the batch end; a batch that cannot be filled ends the walk.
 */
class TrainWalk {
 public:
  TrainWalk(const SetData& set, uint64_t seed, int64_t epochs) : set_(&set), rng_(seed), epochs_left_(epochs) {}

  /** The next global batch into rows/puzzles (exactly `global` rows); false when only a partial one is left. */
  bool next_global(int64_t global, std::vector<int64_t>* rows, std::vector<int64_t>* puzzles) {
    rows->clear();
    puzzles->clear();
    while (static_cast<int64_t>(rows->size()) < global) {
      int64_t g;
      if (!next_group(&g)) return false;  // step 4: the final partial batch is dropped
      const int64_t lo = set_->group_indices[g], hi = set_->group_indices[g + 1];
      const int64_t p = lo + static_cast<int64_t>(uniform_below(rng_, static_cast<uint64_t>(hi - lo)));
      const int64_t first = set_->puzzle_indices[p];
      const int64_t size = set_->puzzle_indices[p + 1] - first;
      const int64_t take = std::min(size, global - static_cast<int64_t>(rows->size()));
      // A random order without replacement (np.random.choice(size, take, replace=False)): the first `take`
      // entries of a partial Fisher–Yates shuffle. Rows beyond `take` are dropped, not carried over (step 3).
      order_.resize(static_cast<size_t>(size));
      for (int64_t i = 0; i < size; ++i) order_[i] = i;
      for (int64_t i = 0; i < take; ++i) {
        const int64_t j = i + static_cast<int64_t>(uniform_below(rng_, static_cast<uint64_t>(size - i)));
        std::swap(order_[i], order_[j]);
        rows->push_back(first + order_[i]);
        puzzles->push_back(p);
      }
    }
    return true;
  }

 private:
  bool next_group(int64_t* g) {
    if (pos_ == perm_.size()) {
      if (epochs_left_ == 0 || set_->groups() == 0) return false;
      --epochs_left_;
      // rng.permutation(G): Fisher–Yates from the identity, so epochs are independent permutations.
      perm_.resize(static_cast<size_t>(set_->groups()));
      for (size_t i = 0; i < perm_.size(); ++i) perm_[i] = static_cast<int64_t>(i);
      for (size_t i = perm_.size(); i > 1; --i) {
        std::swap(perm_[i - 1], perm_[uniform_below(rng_, i)]);
      }
      pos_ = 0;
    }
    *g = perm_[pos_++];
    return true;
  }

  const SetData* set_;
  Rng rng_;
  int64_t epochs_left_;
  std::vector<int64_t> perm_;
  size_t pos_ = 0;
  std::vector<int64_t> order_;
};

// ---------------------------------------------------------------------------------------------------------
// Collation (§5.8): cast to int32, ignore_label_id → -100, pad to b rows.

template <typename T, bool kMapIgnore>
void convert_row(const uint8_t* src, int32_t* dst, int64_t n, int64_t ignore, const data::NpyArray& a, int64_t row) {
  for (int64_t i = 0; i < n; ++i) {
    // bool is read as its byte (np.bool_ astype(int32) maps any non-zero byte to 1).
    std::conditional_t<std::is_same_v<T, bool>, uint8_t, T> v;
    std::memcpy(&v, src + i * static_cast<int64_t>(sizeof(v)), sizeof(v));
    int32_t x;
    if constexpr (std::is_same_v<T, bool>) {
      x = v != 0 ? 1 : 0;
    } else {
      if constexpr (sizeof(T) > 4 || (sizeof(T) == 4 && std::is_unsigned_v<T>)) {
        // The official astype(int32) would wrap such values silently into wrong tokens.
        if (v > static_cast<T>(std::numeric_limits<int32_t>::max()) ||
            (std::is_signed_v<T> && static_cast<int64_t>(v) < std::numeric_limits<int32_t>::min())) {
          data_error(a.path,
                     "row " + std::to_string(row) + " holds " + std::to_string(v) + ", outside the int32 range");
        }
      }
      x = static_cast<int32_t>(v);
    }
    if constexpr (kMapIgnore) x = x == ignore ? kIgnoreLabel : x;
    dst[i] = x;
  }
}

template <typename T>
void convert_row(const uint8_t* src, int32_t* dst, int64_t n, const std::optional<int64_t>& ignore,
                 const data::NpyArray& a, int64_t row) {
  // Two instantiations keep the per-token loop free of the optional test (it vectorises for uint8).
  if (ignore) {
    convert_row<T, true>(src, dst, n, *ignore, a, row);
  } else {
    convert_row<T, false>(src, dst, n, 0, a, row);
  }
}

void copy_row(const data::NpyArray& a, int64_t row, int32_t* dst, const std::optional<int64_t>& ignore) {
  const int64_t n = a.shape[1];
  const uint8_t* src = a.data + static_cast<uint64_t>(row * n) * data::npy_dtype_size(a.dtype);
  switch (a.dtype) {
    case data::NpyDType::U8: return convert_row<uint8_t>(src, dst, n, ignore, a, row);
    case data::NpyDType::I8: return convert_row<int8_t>(src, dst, n, ignore, a, row);
    case data::NpyDType::Bool: return convert_row<bool>(src, dst, n, ignore, a, row);
    case data::NpyDType::I16: return convert_row<int16_t>(src, dst, n, ignore, a, row);
    case data::NpyDType::U16: return convert_row<uint16_t>(src, dst, n, ignore, a, row);
    case data::NpyDType::I32: return convert_row<int32_t>(src, dst, n, ignore, a, row);
    case data::NpyDType::U32: return convert_row<uint32_t>(src, dst, n, ignore, a, row);
    case data::NpyDType::I64: return convert_row<int64_t>(src, dst, n, ignore, a, row);
    case data::NpyDType::U64: return convert_row<uint64_t>(src, dst, n, ignore, a, row);
  }
}

Batch collate(const SetData& set, const Plan& plan, const PuzzleDatasetMetadata& m, int64_t b) {
  const int64_t S = m.seq_len;
  Batch out;
  out.inputs = at::empty({b, S}, at::kInt);
  out.labels = at::empty({b, S}, at::kInt);
  out.puzzle_identifiers = at::empty({b}, at::kInt);
  int32_t* in = out.inputs.data_ptr<int32_t>();
  int32_t* lab = out.labels.data_ptr<int32_t>();
  int32_t* ids = out.puzzle_identifiers.data_ptr<int32_t>();
  const int64_t n = static_cast<int64_t>(plan.rows.size());
  const std::optional<int64_t> no_ignore;
  for (int64_t i = 0; i < n; ++i) {
    copy_row(set.inputs, plan.rows[i], in + i * S, no_ignore);
    copy_row(set.labels, plan.rows[i], lab + i * S, m.ignore_label_id);
    ids[i] = set.puzzle_identifiers[static_cast<size_t>(plan.puzzles[i])];
  }
  // Padding rows (test windows shorter than b): pad_id / -100 / blank_identifier_id.
  std::fill(in + n * S, in + b * S, static_cast<int32_t>(m.pad_id));
  std::fill(lab + n * S, lab + b * S, kIgnoreLabel);
  std::fill(ids + n, ids + b, static_cast<int32_t>(m.blank_identifier_id));
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The loaded datasets, shared read-only by the consumer and the producer thread.

struct Data {
  PuzzleDatasetConfig cfg;
  PuzzleDatasetMetadata meta;
  std::vector<SetData> sets;
  std::vector<std::string> names;
  std::vector<int64_t> offsets;
  int64_t local_batch = 0;
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
        std::to_string(c.num_replicas) + " (SPEC 5.8)");
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
    metas.push_back(read_metadata(join_path(dirs.back(), "dataset.json")));
  }
  const PuzzleDatasetMetadata& first = metas[0].m;
  int64_t id_offset = 0;
  for (size_t k = 0; k < metas.size(); ++k) {
    const auto& m = metas[k].m;
    auto disagree = [&](const char* key, const std::string& a, const std::string& b) {
      throw Error(ErrorCode::DataFormat, "dataset paths disagree on " + std::string(key) + ": '" +
                                             cfg.dataset_paths[0] + "' has " + a + ", '" + cfg.dataset_paths[k] +
                                             "' has " + b + "; every path must share it (SPEC 5.8)");
    };
    auto same = [&](const char* key, int64_t a, int64_t b) {
      if (a != b) disagree(key, std::to_string(a), std::to_string(b));
    };
    auto opt = [](const std::optional<int64_t>& v) { return v ? std::to_string(*v) : std::string("null"); };
    same("seq_len", first.seq_len, m.seq_len);
    same("vocab_size", first.vocab_size, m.vocab_size);
    same("pad_id", first.pad_id, m.pad_id);
    if (m.ignore_label_id != first.ignore_label_id) {
      disagree("ignore_label_id", opt(first.ignore_label_id), opt(m.ignore_label_id));
    }
    same("blank_identifier_id", first.blank_identifier_id, m.blank_identifier_id);
    if (m.sets != first.sets) disagree("sets", names_list(first.sets), names_list(m.sets));
    // Without the offset fix the ids of every path index one shared table, so (as the official assert) the
    // table sizes must agree.
    if (!cfg.offset_puzzle_identifiers) {
      same("num_puzzle_identifiers", first.num_puzzle_identifiers, m.num_puzzle_identifiers);
    }
    d->offsets.push_back(cfg.offset_puzzle_identifiers ? id_offset : 0);
    id_offset += m.num_puzzle_identifiers;
  }
  if (id_offset > std::numeric_limits<int32_t>::max()) {
    throw Error(ErrorCode::DataFormat, "the dataset paths together have " + std::to_string(id_offset) +
                                           " puzzle identifiers, more than int32 holds");
  }

  // Sets in the official order: for each set name, each path (names s, s1, s2, ...).
  std::vector<int64_t> path_puzzles(metas.size(), 0);
  for (const auto& set : first.sets) {
    for (size_t k = 0; k < metas.size(); ++k) {
      const std::string name = k == 0 ? set : set + std::to_string(k);
      d->sets.push_back(load_set(dirs[k], set, name, metas[k].m, d->offsets[k]));
      d->names.push_back(name);
      path_puzzles[k] += static_cast<int64_t>(d->sets.back().puzzle_identifiers.size());
    }
  }

  // Merge (§5.8): ids and groups summed, mean weighted by total_puzzles.
  PuzzleDatasetMetadata& out = d->meta;
  out = first;
  out.num_puzzle_identifiers = id_offset;
  out.total_groups = 0;
  out.total_puzzles = 0;
  double weighted = 0;
  for (size_t k = 0; k < metas.size(); ++k) {
    const auto& m = metas[k].m;
    const int64_t tp = metas[k].has_total_puzzles ? m.total_puzzles : path_puzzles[k];  // HRM default (§5.2)
    weighted += m.mean_puzzle_examples * static_cast<double>(tp);
    out.total_puzzles += tp;
    out.total_groups += m.total_groups;
  }
  out.mean_puzzle_examples = out.total_puzzles > 0 ? weighted / static_cast<double>(out.total_puzzles) : 0.0;
  d->local_batch = cfg.global_batch_size / cfg.num_replicas;
}

// ---------------------------------------------------------------------------------------------------------
// The producer's cursor: where in an iteration the next batch comes from.

class Cursor {
 public:
  explicit Cursor(const Data& d) : d_(&d) {}

  /** Positions at the start of iteration `iteration` (1-based; 0 = none). */
  void reset(int64_t iteration) {
    iteration_ = iteration;
    set_index_ = 0;
    open_set();
  }
  int64_t iteration() const { return iteration_; }
  int64_t set_index() const { return set_index_; }
  int64_t batch_index() const { return batch_index_; }
  bool finished() const { return iteration_ == 0 || set_index_ >= static_cast<int64_t>(d_->sets.size()); }

  /** The next batch's rows; false at the end of the iteration. */
  bool next_plan(Plan* plan) {
    while (!finished()) {
      if (plan_in_set(plan)) {
        ++batch_index_;
        return true;
      }
      ++set_index_;
      open_set();
    }
    return false;
  }

  /** Skips `n` batches of the current set; false if the set ends first. */
  bool skip_in_set(int64_t n) {
    if (d_->cfg.test_set_mode) {
      const int64_t windows = test_windows(d_->sets[static_cast<size_t>(set_index_)], d_->cfg.global_batch_size);
      if (batch_index_ + n > windows) return false;
      batch_index_ += n;
      return true;
    }
    for (int64_t i = 0; i < n; ++i) {
      if (!walk_->next_global(d_->cfg.global_batch_size, &global_rows_, &global_puzzles_)) return false;
      ++batch_index_;
    }
    return true;
  }

  /** Moves to set `s` of the current iteration (train: replays nothing; the walk is re-seeded). */
  void seek_set(int64_t s) {
    set_index_ = s;
    open_set();
  }

  static int64_t test_windows(const SetData& s, int64_t global) { return (s.examples() + global - 1) / global; }

 private:
  void open_set() {
    batch_index_ = 0;
    walk_.reset();
    if (finished() || d_->cfg.test_set_mode) return;
    // §5.8 step 1: the counter advances once per set and iteration; seed + counter seeds the walk.
    const int64_t counter = (iteration_ - 1) * static_cast<int64_t>(d_->sets.size()) + set_index_ + 1;
    const auto seed = static_cast<uint64_t>(d_->cfg.seed) + static_cast<uint64_t>(counter);
    walk_ = std::make_unique<TrainWalk>(d_->sets[static_cast<size_t>(set_index_)], seed, d_->cfg.epochs_per_iter);
  }

  bool plan_in_set(Plan* plan) {
    const auto& set = d_->sets[static_cast<size_t>(set_index_)];
    const int64_t global = d_->cfg.global_batch_size, b = d_->local_batch, r = d_->cfg.rank;
    plan->rows.clear();
    plan->puzzles.clear();
    if (d_->cfg.test_set_mode) {
      // File order in windows of global rows; rank r takes [start + r·b, min(start + (r+1)·b, end)).
      const int64_t start = batch_index_ * global;
      if (start >= set.examples()) return false;
      const int64_t end = std::min(set.examples(), start + global);
      const int64_t lo = start + r * b, hi = std::min(start + (r + 1) * b, end);
      // The puzzle of row lo: searchsorted(puzzle_indices, lo, side="right") - 1, then walk forward.
      const auto& pi = set.puzzle_indices;
      int64_t p = (std::upper_bound(pi.begin(), pi.end(), lo) - pi.begin()) - 1;
      for (int64_t row = lo; row < hi; ++row) {
        while (p + 1 < static_cast<int64_t>(pi.size()) && row >= pi[static_cast<size_t>(p + 1)]) ++p;
        plan->rows.push_back(row);
        plan->puzzles.push_back(p);
      }
      plan->effective = end - start;
      return true;
    }
    if (!walk_->next_global(global, &global_rows_, &global_puzzles_)) return false;
    // Every rank built the same global batch (seeded walk); rank r keeps rows [r·b, (r+1)·b) (§5.8 step 5).
    plan->rows.assign(global_rows_.begin() + r * b, global_rows_.begin() + (r + 1) * b);
    plan->puzzles.assign(global_puzzles_.begin() + r * b, global_puzzles_.begin() + (r + 1) * b);
    plan->effective = global;
    return true;
  }

  const Data* d_;
  int64_t iteration_ = 0;
  int64_t set_index_ = 0;
  int64_t batch_index_ = 0;
  std::unique_ptr<TrainWalk> walk_;
  std::vector<int64_t> global_rows_, global_puzzles_;
};

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
  Cursor cursor{data};  // touched only by the producer while it runs, else by the consumer

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
    item.batch = collate(set, plan, data.meta, data.local_batch);
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
int64_t PuzzleDataset::local_batch_size() const { return impl_->data.local_batch; }

std::vector<int64_t> PuzzleDataset::set_examples() const {
  std::vector<int64_t> out;
  for (const auto& s : impl_->data.sets) out.push_back(s.examples());
  return out;
}

int64_t PuzzleDataset::total_steps_for(int64_t epochs) const {
  // Python evaluates epochs * total_groups (exact integers), then * mean, then / global in float64.
  const auto& m = impl_->data.meta;
  const double v = static_cast<double>(epochs * m.total_groups) * m.mean_puzzle_examples /
                   static_cast<double>(impl_->data.cfg.global_batch_size);
  return static_cast<int64_t>(v);
}

int64_t PuzzleDataset::batches_in_iteration(int64_t iteration) const {
  if (iteration <= 0) throw Error(ErrorCode::InvalidArgument, "batches_in_iteration: iterations count from 1");
  Cursor c(impl_->data);
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

bool PuzzleDataset::next(Batch& out, std::string* set_name, int64_t* effective_global_batch_size) {
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
    case Item::Kind::Error:
      s.broken = item.error;
      std::rethrow_exception(item.error);
    case Item::Kind::End:
      s.position = item.after;
      return false;
    case Item::Kind::Batch:
      break;
  }
  s.position = item.after;
  out = std::move(item.batch);
  if (set_name != nullptr) *set_name = s.data.names[static_cast<size_t>(item.set_index)];
  if (effective_global_batch_size != nullptr) *effective_global_batch_size = item.effective;
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
    throw Error(ErrorCode::State, "PuzzleDataset::restore: position {iteration " + std::to_string(pos.iteration) +
                                      ", set " + std::to_string(pos.set_index) + ", batch " +
                                      std::to_string(pos.batch_index) + "} " + why);
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
