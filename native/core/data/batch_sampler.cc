#include "batch_sampler.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace trm::data::detail {

namespace {

// ---------------------------------------------------------------------------------------------------------
// Portable randomness: std::mt19937_64 is specified bit for bit by the standard, the distributions are not.

/** Uniform integer in [0, n), n > 0, by rejection (unbiased and identical on every platform). */
uint64_t uniform_below(Rng& rng, uint64_t n) {
  const uint64_t rem = (std::numeric_limits<uint64_t>::max() % n + 1) % n;  // 2^64 mod n
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - rem;        // [0, limit] holds a multiple of n values
  uint64_t x;
  do {
    x = rng();
  } while (x > limit);
  return x % n;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// The train walk (§5.8 steps 2–4)

bool TrainWalk::next_global(int64_t global, std::vector<int64_t>* rows, std::vector<int64_t>* puzzles) {
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

bool TrainWalk::next_group(int64_t* g) {
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

// ---------------------------------------------------------------------------------------------------------
// The cursor over an iteration's sets

void Cursor::reset(int64_t iteration) {
  iteration_ = iteration;
  set_index_ = 0;
  open_set();
}

bool Cursor::next_plan(Plan* plan) {
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

bool Cursor::skip_in_set(int64_t n) {
  if (spec_->test_set_mode) {
    const int64_t windows = test_windows((*sets_)[static_cast<size_t>(set_index_)], spec_->global_batch_size);
    if (batch_index_ + n > windows) return false;
    batch_index_ += n;
    return true;
  }
  for (int64_t i = 0; i < n; ++i) {
    if (!walk_->next_global(spec_->global_batch_size, &global_rows_, &global_puzzles_)) return false;
    ++batch_index_;
  }
  return true;
}

void Cursor::seek_set(int64_t s) {
  set_index_ = s;
  open_set();
}

void Cursor::open_set() {
  batch_index_ = 0;
  walk_.reset();
  if (finished() || spec_->test_set_mode) return;
  // §5.8 step 1: the counter advances once per set and iteration; seed + counter seeds the walk.
  const int64_t counter = (iteration_ - 1) * static_cast<int64_t>(sets_->size()) + set_index_ + 1;
  const auto seed = static_cast<uint64_t>(spec_->seed) + static_cast<uint64_t>(counter);
  walk_ = std::make_unique<TrainWalk>((*sets_)[static_cast<size_t>(set_index_)], seed, spec_->epochs_per_iter);
}

bool Cursor::plan_in_set(Plan* plan) {
  const auto& set = (*sets_)[static_cast<size_t>(set_index_)];
  const int64_t global = spec_->global_batch_size, b = spec_->local_batch, r = spec_->rank;
  plan->rows.clear();
  plan->puzzles.clear();
  if (spec_->test_set_mode) {
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

}  // namespace trm::data::detail
