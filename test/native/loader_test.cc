// Tests of the native dataset loader (native/core/data): the .npy reader against files NumPy wrote, and
// PuzzleDataset's sampling, collation, ranks, prefetch and resume rules (docs/algorithm.md §5.1–5.3, §5.8) on the small
// datasets of loader_fixtures.py. doctest cases, run by CTest: loader_test --fixtures <dir> [--bench <dir>].
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <ATen/ATen.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/data/npy.h"
#include "core/data/puzzle_dataset.h"
#include "core/errors.h"

namespace {

/** Runs f and checks that it throws trm::Error with `code` and a message containing `needle`. */
void expect_error(trm::ErrorCode code, const std::string& needle, const std::function<void()>& f, const std::string& what) {
  try {
    f();
  } catch (const trm::Error& e) {
    CHECK_MESSAGE((e.code() == code && std::string(e.what()).find(needle) != std::string::npos),
                  what << ": got " << trm::error_code_name(e.code()) << " '" << e.what() << "', expected " << trm::error_code_name(code)
                       << " containing '" << needle << "'");
    return;
  } catch (const std::exception& e) {
    FAIL_CHECK(what << ": non-trm exception '" << e.what() << "'");
    return;
  }
  FAIL_CHECK(what << ": no exception");
}

std::string g_fx;  // fixtures directory
std::string ds(const std::string& name) { return g_fx + "/ds/" + name; }

// ------------------------------------------------------------------------------------------------------------
// .npy

TEST_CASE("npy_good") {
  std::ifstream in(g_fx + "/npy/expected.txt");
  std::string line;
  int files = 0;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string name, descr;
    int ndim;
    ls >> name >> descr >> ndim;
    std::vector<int64_t> shape(ndim);
    for (auto& d : shape) ls >> d;
    std::vector<int64_t> values;
    int64_t v;
    while (ls >> v) values.push_back(v);
    const auto a = trm::data::read_npy(g_fx + "/npy/" + name + ".npy");
    CHECK_EQ(std::string(trm::data::npy_dtype_descr(a.dtype)), descr);
    CHECK(a.shape == shape);
    CHECK_EQ(a.numel(), static_cast<int64_t>(values.size()));
    CHECK_EQ(a.nbytes, static_cast<uint64_t>(values.size() * trm::data::npy_dtype_size(a.dtype)));
    bool same = a.numel() == static_cast<int64_t>(values.size());
    for (int64_t i = 0; same && i < a.numel(); ++i) same = a.element(i) == values[static_cast<size_t>(i)];
    if (!same) std::fprintf(stderr, "  values differ in %s\n", name.c_str());
    CHECK(same);
    ++files;
  }
  CHECK(files >= 30);
  const auto vec = trm::data::to_int64_vector(trm::data::read_npy(g_fx + "/npy/vec.npy"));
  CHECK_EQ(vec.size(), size_t{10});
  CHECK_EQ(vec[9], int64_t{9});
  expect_error(
      trm::ErrorCode::DataFormat, "u8_vec.npy", [] { trm::data::to_int64_vector(trm::data::read_npy(g_fx + "/npy/u8_vec.npy")); },
      "u64 above int64");
  expect_error(
      trm::ErrorCode::DataFormat, "1-D", [] { trm::data::to_int64_vector(trm::data::read_npy(g_fx + "/npy/i4_v1.npy")); }, "2-D to vector");
}

TEST_CASE("npy_bad") {
  const std::vector<std::string> bad = {"bad_bool",       "bad_tuple",        "bigendian", "empty",    "extra_key", "float", "fortran",
                                        "garbage",        "huge_shape",       "magic",     "no_shape", "object",    "short", "structured",
                                        "truncated_data", "truncated_header", "version"};
  for (const auto& name : bad) {
    const std::string path = g_fx + "/npy_bad/" + name + ".npy";
    expect_error(
        trm::ErrorCode::DataFormat, path, [&] { trm::data::read_npy(path); }, "bad npy " + name);
  }
  expect_error(
      trm::ErrorCode::IO, "nope.npy", [] { trm::data::read_npy(g_fx + "/npy_bad/nope.npy"); }, "missing npy");
}

// ------------------------------------------------------------------------------------------------------------
// Datasets

trm::PuzzleDatasetConfig cfg(std::vector<std::string> paths, int64_t global, int64_t epochs = 1, int64_t seed = 0, bool test = false,
                             int64_t rank = 0, int64_t replicas = 1) {
  trm::PuzzleDatasetConfig c;
  c.dataset_paths = std::move(paths);
  c.split = test ? "test" : "train";
  c.seed = seed;
  c.global_batch_size = global;
  c.test_set_mode = test;
  c.epochs_per_iter = epochs;
  c.rank = rank;
  c.num_replicas = replicas;
  return c;
}

/** A batch as plain vectors, for comparisons. */
struct Rec {
  std::string set;
  int64_t effective = 0;
  std::vector<int32_t> inputs, labels, ids;
  bool operator==(const Rec& o) const {
    return set == o.set && effective == o.effective && inputs == o.inputs && labels == o.labels && ids == o.ids;
  }
  int64_t rows() const { return static_cast<int64_t>(ids.size()); }
  int64_t seq() const { return ids.empty() ? 0 : static_cast<int64_t>(inputs.size()) / rows(); }
  int32_t row_id(int64_t i) const { return inputs[static_cast<size_t>(i * seq())]; }  // inputs[r, 0] = r
};

void expect_open_error(trm::ErrorCode code, const std::string& needle, const trm::PuzzleDatasetConfig& c, const std::string& what) {
  expect_error(
      code, needle, [&] { trm::PuzzleDataset d(c); }, what);
}

std::vector<int32_t> flat(const at::Tensor& t) {
  CHECK((t.scalar_type() == at::kInt));
  CHECK(t.is_contiguous());
  const int32_t* p = t.data_ptr<int32_t>();
  return std::vector<int32_t>(p, p + t.numel());
}

bool take(trm::PuzzleDataset& d, Rec* r) {
  trm::Batch b;
  std::string set;
  int64_t eff = -1;
  if (!d.next(b, &set, &eff)) return false;
  CHECK_EQ(b.inputs.dim(), int64_t{2});
  CHECK_EQ(b.inputs.size(0), d.local_batch_size());
  CHECK_EQ(b.inputs.size(1), d.metadata().seq_len);
  CHECK(b.labels.sizes() == b.inputs.sizes());
  CHECK_EQ(b.puzzle_identifiers.dim(), int64_t{1});
  CHECK_EQ(b.puzzle_identifiers.size(0), d.local_batch_size());
  *r = Rec{set, eff, flat(b.inputs), flat(b.labels), flat(b.puzzle_identifiers)};
  return true;
}

std::vector<Rec> drain(trm::PuzzleDataset& d) {
  std::vector<Rec> out;
  Rec r;
  while (take(d, &r)) out.push_back(r);
  return out;
}

std::vector<Rec> iteration(trm::PuzzleDataset& d) {
  d.begin_iteration();
  return drain(d);
}

/** Loads the CSR arrays of a fixture set (checked against NumPy by test_npy_good). */
struct Layout {
  std::vector<int64_t> pi, gi;
  int64_t puzzle_of_row(int64_t r) const { return (std::upper_bound(pi.begin(), pi.end(), r) - pi.begin()) - 1; }
  int64_t group_of_puzzle(int64_t p) const { return (std::upper_bound(gi.begin(), gi.end(), p) - gi.begin()) - 1; }
  int64_t size(int64_t p) const { return pi[p + 1] - pi[p]; }
};
Layout layout(const std::string& path, const std::string& split = "train") {
  Layout l;
  l.pi = trm::data::to_int64_vector(trm::data::read_npy(path + "/" + split + "/all__puzzle_indices.npy"));
  l.gi = trm::data::to_int64_vector(trm::data::read_npy(path + "/" + split + "/all__group_indices.npy"));
  return l;
}

/** A run of rows from one puzzle: the unit a group contributes (§5.8 step 3). */
struct Segment {
  int64_t puzzle;
  std::vector<int64_t> rows;
};

// ------------------------------------------------------------------------------------------------------------

TEST_CASE("train_counts") {
  // uniform3: 5 groups × 2 puzzles × 3 examples, global 4: every batch = 3 rows of one puzzle + 1 truncated
  // row of the next group, so a batch consumes 2 groups; an odd leftover group is a dropped partial batch.
  for (int64_t epochs : {1, 2, 3, 4}) {
    trm::PuzzleDataset d(cfg({ds("uniform3")}, 4, epochs));
    const auto batches = iteration(d);
    const int64_t expected = (5 * epochs) / 2;
    CHECK_EQ(static_cast<int64_t>(batches.size()), expected);
    CHECK_EQ(d.batches_in_iteration(1), expected);
    CHECK_EQ(d.batches_in_iteration(7), expected);
  }
  // uneven: groups of puzzle sizes {3,3}, {5}, {2,2,2} (10 rows per epoch untruncated).
  struct Case {
    int64_t global, epochs, batches;
  };
  for (const Case& c :
       {Case{10, 3, 3}, Case{10, 1, 1}, Case{2, 2, 6}, Case{1, 2, 6}, Case{11, 1, 0}, Case{12, 2, 1}, Case{20, 2, 1}, Case{21, 3, 1}}) {
    trm::PuzzleDataset d(cfg({ds("uneven")}, c.global, c.epochs, 3));
    const auto batches = iteration(d);
    if (static_cast<int64_t>(batches.size()) != c.batches) {
      std::fprintf(stderr, "  uneven global %lld epochs %lld\n", (long long)c.global, (long long)c.epochs);
    }
    CHECK_EQ(static_cast<int64_t>(batches.size()), c.batches);
    CHECK_EQ(d.batches_in_iteration(1), c.batches);
    for (const auto& b : batches) {
      CHECK_EQ(b.rows(), c.global);  // exactly global rows: no padding in train
      CHECK_EQ(b.effective, c.global);
      CHECK_EQ(b.set, std::string("all"));
      for (int32_t id : b.ids) CHECK(id >= 1);  // never the blank id
    }
  }
}

/** Splits a train batch into per-group segments, given that each segment is a complete or truncated puzzle. */
std::vector<Segment> segments(const Rec& b, const Layout& l, int64_t global) {
  std::vector<Segment> out;
  int64_t i = 0;
  while (i < b.rows()) {
    Segment s;
    s.puzzle = l.puzzle_of_row(b.row_id(i));
    const int64_t n = std::min(l.size(s.puzzle), global - i);
    for (int64_t k = 0; k < n; ++k, ++i) {
      CHECK_EQ(l.puzzle_of_row(b.row_id(i)), s.puzzle);
      CHECK_EQ(b.ids[static_cast<size_t>(i)], static_cast<int32_t>(s.puzzle + 1));  // fixture ids = puzzle + 1
      s.rows.push_back(b.row_id(i));
    }
    out.push_back(s);
  }
  return out;
}

TEST_CASE("train_structure") {
  // uneven, global 10: the three groups fill a batch exactly, so batch k is epoch k: every group once, one
  // puzzle each, all of its examples, none twice.
  const Layout lu = layout(ds("uneven"));
  {
    trm::PuzzleDataset d(cfg({ds("uneven")}, 10, 4, 11));
    std::map<int64_t, std::set<int64_t>> puzzles_per_group;
    for (const auto& b : iteration(d)) {
      const auto segs = segments(b, lu, 10);
      CHECK_EQ(segs.size(), size_t{3});
      std::set<int64_t> groups;
      std::set<int64_t> rows;
      for (const auto& s : segs) {
        groups.insert(lu.group_of_puzzle(s.puzzle));
        CHECK_EQ(static_cast<int64_t>(s.rows.size()), lu.size(s.puzzle));
        puzzles_per_group[lu.group_of_puzzle(s.puzzle)].insert(s.puzzle);
        rows.insert(s.rows.begin(), s.rows.end());
      }
      CHECK_EQ(groups.size(), size_t{3});
      CHECK_EQ(rows.size(), size_t{10});
    }
    CHECK(puzzles_per_group.size() == 3);
  }
  // Over many epochs every puzzle of a group is picked sometimes, and example orders vary (a shuffle).
  {
    trm::PuzzleDataset d(cfg({ds("uneven")}, 10, 200, 5));
    std::set<int64_t> puzzles;
    std::set<std::vector<int64_t>> orders_of_puzzle2;
    for (const auto& b : iteration(d)) {
      for (const auto& s : segments(b, lu, 10)) {
        puzzles.insert(s.puzzle);
        if (s.puzzle == 2) orders_of_puzzle2.insert(s.rows);
      }
    }
    CHECK_EQ(puzzles.size(), size_t{6});
    CHECK(orders_of_puzzle2.size() > 20);  // 5! = 120 orders of the 5 examples
  }
  // uniform3, global 4: segment 2k = 3 complete rows, segment 2k+1 = one truncated row. The segment
  // sequence is the group walk: each epoch's 5 segments are 5 distinct groups; in epoch 1, no example twice.
  const Layout l3 = layout(ds("uniform3"));
  for (int64_t seed : {0, 1, 2, 3}) {
    trm::PuzzleDataset d(cfg({ds("uniform3")}, 4, 2, seed));
    std::vector<Segment> walk;
    for (const auto& b : iteration(d)) {
      const auto segs = segments(b, l3, 4);
      CHECK_EQ(segs.size(), size_t{2});
      CHECK_EQ(segs[0].rows.size(), size_t{3});
      CHECK_EQ(segs[1].rows.size(), size_t{1});
      CHECK_EQ(std::set<int64_t>(segs[0].rows.begin(), segs[0].rows.end()).size(), size_t{3});
      walk.insert(walk.end(), segs.begin(), segs.end());
    }
    CHECK_EQ(walk.size(), size_t{10});
    for (int e = 0; e < 2; ++e) {
      std::set<int64_t> groups, rows;
      size_t taken = 0;
      for (int k = 0; k < 5; ++k) {
        groups.insert(l3.group_of_puzzle(walk[e * 5 + k].puzzle));
        rows.insert(walk[e * 5 + k].rows.begin(), walk[e * 5 + k].rows.end());
        taken += walk[e * 5 + k].rows.size();
      }
      CHECK_EQ(groups.size(), size_t{5});  // each group once per epoch, so no example twice
      CHECK_EQ(rows.size(), taken);
    }
  }
}

TEST_CASE("ranks") {
  // Rank slices of one global batch (train and test) concatenate to the 1-replica batch, iteration after
  // iteration. Test windows are padded per rank, so there the real rows (id != blank 0) are compared.
  struct Case {
    std::string path;
    int64_t global, replicas, epochs;
    bool test;
  };
  const std::vector<Case> cases = {{"uniform3", 4, 2, 3, false}, {"uneven", 10, 2, 3, false}, {"uneven", 10, 5, 2, false},
                                   {"uneven", 2, 2, 2, false},   {"uneven", 4, 2, 1, true},   {"uneven", 6, 3, 1, true},
                                   {"uneven", 8, 2, 1, true},    {"uniform3", 12, 4, 1, true}};
  for (const Case& c : cases) {
    for (int64_t seed : {0, 9}) {
      trm::PuzzleDataset one(cfg({ds(c.path)}, c.global, c.epochs, seed, c.test));
      std::vector<std::unique_ptr<trm::PuzzleDataset>> ranks;
      for (int64_t r = 0; r < c.replicas; ++r) {
        const auto rc = cfg({ds(c.path)}, c.global, c.epochs, seed, c.test, r, c.replicas);
        ranks.push_back(std::make_unique<trm::PuzzleDataset>(rc));
        CHECK_EQ(ranks.back()->local_batch_size(), c.global / c.replicas);
      }
      for (int it = 0; it < 2; ++it) {
        const auto full = iteration(one);
        CHECK(!full.empty());
        std::vector<std::vector<Rec>> per_rank;
        for (auto& d : ranks) per_rank.push_back(iteration(*d));
        for (const auto& pr : per_rank) CHECK_EQ(pr.size(), full.size());
        for (size_t k = 0; k < full.size(); ++k) {
          Rec cat{full[k].set, full[k].effective, {}, {}, {}};
          const int64_t S = full[k].seq();
          for (const auto& pr : per_rank) {
            if (k >= pr.size()) continue;
            CHECK_EQ(pr[k].effective, full[k].effective);
            CHECK_EQ(pr[k].set, full[k].set);
            for (int64_t i = 0; i < pr[k].rows(); ++i) {
              if (c.test && pr[k].ids[static_cast<size_t>(i)] == 0) continue;
              cat.ids.push_back(pr[k].ids[static_cast<size_t>(i)]);
              cat.inputs.insert(cat.inputs.end(), pr[k].inputs.begin() + i * S, pr[k].inputs.begin() + (i + 1) * S);
              cat.labels.insert(cat.labels.end(), pr[k].labels.begin() + i * S, pr[k].labels.begin() + (i + 1) * S);
            }
          }
          Rec f = full[k];
          if (c.test) {  // drop the 1-replica padding too
            f.ids.resize(static_cast<size_t>(f.effective));
            f.inputs.resize(static_cast<size_t>(f.effective * S));
            f.labels.resize(static_cast<size_t>(f.effective * S));
          }
          CHECK((cat == f));
        }
      }
    }
  }
}

TEST_CASE("test_mode") {
  // uneven test split: puzzles of sizes 3, 0, 5, 2 (ids 1..4), 10 examples; pad_id 1, blank 0, ignore 0.
  const int64_t S = 4;
  auto expect_row = [&](const Rec& b, int64_t i, int64_t row) {
    CHECK_EQ(b.row_id(i), static_cast<int32_t>(row));
    const int32_t id = row < 3 ? 1 : row < 8 ? 3 : 4;  // searchsorted skips the empty puzzle (id 2)
    CHECK_EQ(b.ids[static_cast<size_t>(i)], id);
    for (int64_t j = 0; j < S; ++j) {
      const int32_t raw = static_cast<int32_t>((row + j) % 5);
      CHECK_EQ(b.labels[static_cast<size_t>(i * S + j)], raw == 0 ? -100 : raw);
      CHECK_EQ(b.inputs[static_cast<size_t>(i * S + j)], static_cast<int32_t>((row + j) % 256));
    }
  };
  auto expect_pad = [&](const Rec& b, int64_t i) {
    CHECK_EQ(b.ids[static_cast<size_t>(i)], 0);
    for (int64_t j = 0; j < S; ++j) {
      CHECK_EQ(b.inputs[static_cast<size_t>(i * S + j)], 1);
      CHECK_EQ(b.labels[static_cast<size_t>(i * S + j)], -100);
    }
  };
  {
    trm::PuzzleDataset d(cfg({ds("uneven")}, 4, 1, 0, true));
    const auto bs = iteration(d);
    CHECK_EQ(bs.size(), size_t{3});
    CHECK_EQ(d.batches_in_iteration(1), int64_t{3});
    CHECK_EQ(bs[0].effective, int64_t{4});
    CHECK_EQ(bs[1].effective, int64_t{4});
    CHECK_EQ(bs[2].effective, int64_t{2});
    for (int64_t r = 0; r < 10; ++r) expect_row(bs[static_cast<size_t>(r / 4)], r % 4, r);
    expect_pad(bs[2], 2);
    expect_pad(bs[2], 3);
    CHECK((iteration(d) == bs));  // test iterations repeat exactly
  }
  {
    // global 8 over 2 ranks (b = 4): window 2 = rows [8, 10): rank 0 gets 8, 9 + 2 pads; rank 1 an empty
    // range, i.e. a fully padded batch; both report effective size 2.
    trm::PuzzleDataset r0(cfg({ds("uneven")}, 8, 1, 0, true, 0, 2));
    trm::PuzzleDataset r1(cfg({ds("uneven")}, 8, 1, 0, true, 1, 2));
    const auto a = iteration(r0), b = iteration(r1);
    CHECK_EQ(a.size(), size_t{2});
    CHECK_EQ(b.size(), size_t{2});
    for (int64_t i = 0; i < 4; ++i) {
      expect_row(a[0], i, i);
      expect_row(b[0], i, 4 + i);
    }
    expect_row(a[1], 0, 8);
    expect_row(a[1], 1, 9);
    expect_pad(a[1], 2);
    expect_pad(a[1], 3);
    for (int64_t i = 0; i < 4; ++i) expect_pad(b[1], i);
    CHECK_EQ(a[1].effective, int64_t{2});
    CHECK_EQ(b[1].effective, int64_t{2});
    CHECK_EQ(a[0].effective, int64_t{8});
  }
  {
    // global 6 over 2 ranks (b = 3): window 2 = rows [6, 10): rank 0 rows 6..8, rank 1 row 9 + 2 pads.
    trm::PuzzleDataset r1(cfg({ds("uneven")}, 6, 1, 0, true, 1, 2));
    const auto b = iteration(r1);
    CHECK_EQ(b.size(), size_t{2});
    expect_row(b[0], 0, 3);
    expect_row(b[1], 0, 9);
    expect_pad(b[1], 1);
    expect_pad(b[1], 2);
    CHECK_EQ(b[1].effective, int64_t{4});
  }
}

TEST_CASE("collation_dtypes") {
  // u16: uint16 inputs above 255 kept; int64 labels with ignore_label_id 7 → -100, others unchanged.
  trm::PuzzleDataset d(cfg({ds("u16")}, 4, 1));
  const auto bs = iteration(d);
  CHECK_EQ(bs.size(), size_t{1});
  const std::map<int32_t, std::vector<int32_t>> labels = {
      {600, {-100, 300, -100}}, {700, {1, 2, 3}}, {800, {999, -100, 0}}, {900, {4, 5, 6}}};
  std::set<int32_t> seen;
  for (int64_t i = 0; i < 4; ++i) {
    const int32_t first = bs[0].inputs[static_cast<size_t>(i * 3)];
    seen.insert(first);
    const std::vector<int32_t> l(bs[0].labels.begin() + i * 3, bs[0].labels.begin() + (i + 1) * 3);
    CHECK((labels.count(first) == 1 && labels.at(first) == l));
  }
  CHECK_EQ(seen.size(), size_t{4});
  CHECK_EQ(d.metadata().pad_id, int64_t{2});
  CHECK((d.metadata().ignore_label_id.has_value() && *d.metadata().ignore_label_id == 7));

  // HRM metadata: total_puzzles defaulted to the puzzle count; ignore_label_id null keeps label 0.
  trm::PuzzleDataset h(cfg({ds("hrm")}, 10, 1));
  CHECK_EQ(h.metadata().total_puzzles, int64_t{6});
  CHECK(!h.metadata().ignore_label_id.has_value());
  CHECK(std::abs(h.metadata().mean_puzzle_examples - 10.0 / 6.0) < 1e-12);
  const auto hb = iteration(h);
  CHECK_EQ(hb.size(), size_t{1});
  bool zero_kept = false, any_ignored = false;
  for (int32_t v : hb[0].labels) {
    zero_kept |= v == 0;
    any_ignored |= v == -100;
  }
  CHECK(zero_kept);
  CHECK(!any_ignored);
}

TEST_CASE("metadata_and_paths") {
  trm::PuzzleDataset u(cfg({ds("uniform3")}, 4, 1));
  CHECK_EQ(u.metadata().total_groups, int64_t{5});
  CHECK_EQ(u.metadata().total_puzzles, int64_t{10});
  CHECK_EQ(u.metadata().num_puzzle_identifiers, int64_t{11});
  CHECK_EQ(u.total_steps_for(10), int64_t{37});  // int(10 · 5 · 3 / 4)
  CHECK_EQ(u.total_steps_for(1), int64_t{3});
  CHECK(trm::PuzzleDataset::split_exists(ds("uniform3"), "test"));
  CHECK(!trm::PuzzleDataset::split_exists(ds("uneven_b") + "/nothing", "test"));
  CHECK(!trm::PuzzleDataset::split_exists(ds("uneven_same"), "test"));

  // Two paths: sets all, all1; path 1's ids shifted by path 0's num_puzzle_identifiers (the fix of §5.8).
  trm::PuzzleDataset m(cfg({ds("uneven"), ds("uneven_b")}, 2, 3));
  CHECK((m.set_names() == std::vector<std::string>({"all", "all1"})));
  CHECK(m.identifier_offsets() == std::vector<int64_t>({0, 7}));
  CHECK(m.set_examples() == std::vector<int64_t>({17, 9}));
  CHECK_EQ(m.metadata().num_puzzle_identifiers, int64_t{27});
  CHECK_EQ(m.metadata().total_groups, int64_t{5});
  CHECK_EQ(m.metadata().total_puzzles, int64_t{9});
  CHECK(std::abs(m.metadata().mean_puzzle_examples - 26.0 / 9.0) < 1e-12);
  std::set<int32_t> ids_all, ids_all1;
  int64_t n_all = 0, n_all1 = 0;
  for (const auto& b : iteration(m)) {
    CHECK((b.set == "all" || b.set == "all1"));
    if (b.set == "all") {
      CHECK_EQ(n_all1, int64_t{0});  // sets come one after the other
      ++n_all;
      ids_all.insert(b.ids.begin(), b.ids.end());
    } else {
      ++n_all1;
      ids_all1.insert(b.ids.begin(), b.ids.end());
    }
  }
  CHECK_EQ(n_all, int64_t{9});          // 3 groups × 3 epochs, each filling a batch of 2
  CHECK((n_all1 >= 2 && n_all1 <= 6));  // groups of puzzle sizes {1}, {4,4}: 6 walk entries, 1 or 2 per batch
  for (int32_t id : ids_all) CHECK((id >= 1 && id <= 6));
  for (int32_t id : ids_all1) CHECK((id == 12 || id == 16 || id == 26));
  CHECK_EQ(m.batches_in_iteration(1), n_all + n_all1);

  // Test mode over two paths.
  trm::PuzzleDataset mt(cfg({ds("uneven"), ds("uneven_b")}, 4, 1, 0, true));
  const auto tb = iteration(mt);
  CHECK_EQ(tb.size(), size_t{4});  // 10 examples → 3 windows, 3 examples → 1 window
  CHECK_EQ(tb[3].set, std::string("all1"));
  CHECK_EQ(tb[3].effective, int64_t{3});
  CHECK(tb[3].ids == std::vector<int32_t>({3 + 7, 3 + 7, 4 + 7, 0}));

  // Parity mode: no offsets, and the table sizes must agree as in the official assert.
  auto parity = cfg({ds("uneven"), ds("uneven_b")}, 2, 1);
  parity.offset_puzzle_identifiers = false;
  expect_open_error(trm::ErrorCode::DataFormat, "num_puzzle_identifiers", parity, "parity sizes");
  parity.dataset_paths = {ds("uneven"), ds("uneven_same")};
  trm::PuzzleDataset p(parity);
  CHECK(p.identifier_offsets() == std::vector<int64_t>({0, 0}));
  CHECK_EQ(p.metadata().num_puzzle_identifiers, int64_t{14});  // summed, as the official code does
  for (const auto& b : iteration(p)) {
    for (int32_t id : b.ids) CHECK((id >= 1 && id <= 6));
  }

  // The iteration counter advances per set: set all1 of iteration 1 is walked with seed + 2, like the
  // single set of iteration 2 (uneven_same holds the same arrays as uneven).
  auto two = cfg({ds("uneven"), ds("uneven_same")}, 2, 2, 4);
  two.offset_puzzle_identifiers = false;
  trm::PuzzleDataset t(two);
  std::vector<Rec> all1;
  for (auto& b : iteration(t)) {
    if (b.set == "all1") {
      b.set = "all";
      all1.push_back(b);
    }
  }
  trm::PuzzleDataset single(cfg({ds("uneven")}, 2, 2, 4));
  iteration(single);
  CHECK((iteration(single) == all1));

  expect_open_error(trm::ErrorCode::DataFormat, "seq_len", cfg({ds("uneven"), ds("mismatch_seq")}, 2), "seq mismatch");
  expect_open_error(trm::ErrorCode::DataFormat, "sets", cfg({ds("uneven"), ds("mismatch_sets")}, 2), "sets mismatch");
}

TEST_CASE("bad_datasets") {
  const std::vector<std::pair<std::string, std::string>> bad = {{"bad_pi_start", "all__puzzle_indices.npy"},
                                                                {"bad_pi_order", "all__puzzle_indices.npy"},
                                                                {"bad_pi_last", "all__puzzle_indices.npy"},
                                                                {"bad_pi_len", "all__puzzle_indices.npy"},
                                                                {"bad_gi_empty", "all__group_indices.npy"},
                                                                {"bad_gi_last", "all__group_indices.npy"},
                                                                {"bad_labels_shape", "all__labels.npy"},
                                                                {"bad_seq_len", "all__inputs.npy"},
                                                                {"bad_id_range", "all__puzzle_identifiers.npy"},
                                                                {"bad_float_inputs", "all__inputs.npy"},
                                                                {"bad_json", "dataset.json"},
                                                                {"bad_json_key", "vocab_size"}};
  for (const auto& [name, needle] : bad) {
    expect_open_error(trm::ErrorCode::DataFormat, needle, cfg({ds(name)}, 2), name);
  }
  expect_open_error(trm::ErrorCode::IO, "all__group_indices.npy", cfg({ds("missing_array")}, 2), "missing array");
  expect_open_error(trm::ErrorCode::IO, "dataset.json", cfg({ds("nothing_here")}, 2), "missing dataset");

  // Config errors.
  const auto uneven = ds("uneven");
  expect_open_error(trm::ErrorCode::InvalidArgument, "multiple", cfg({uneven}, 5, 1, 0, false, 0, 2), "divisible");
  expect_open_error(trm::ErrorCode::InvalidArgument, "rank", cfg({uneven}, 4, 1, 0, false, 2, 2), "rank range");
  expect_open_error(trm::ErrorCode::InvalidArgument, "epochs_per_iter", cfg({uneven}, 4, 0), "epochs");
  expect_open_error(trm::ErrorCode::InvalidArgument, "dataset_paths", cfg({}, 4), "no paths");
  {
    trm::PuzzleDataset d(cfg({ds("uneven")}, 2));
    trm::Batch b;
    expect_error(
        trm::ErrorCode::State, "begin_iteration", [&] { d.next(b); }, "next before begin");
  }

  // Tokens are checked against vocab_size when the dataset opens, never per batch: a value that does not
  // even fit int32 is refused there, naming the file, the row and the value.
  expect_open_error(trm::ErrorCode::TokenRange, "row 0 holds token 1099511627776", cfg({ds("bad_wide_tokens")}, 2), "wide tokens");
  expect_open_error(trm::ErrorCode::TokenRange, "all__labels.npy': row 3 holds token -5", cfg({ds("bad_label_token")}, 2),
                    "label outside the vocabulary and not ignore_label_id");
  trm::PuzzleDataset ignored(cfg({ds("ok_negative_ignore")}, 2));  // -100 = ignore_label_id: accepted
  CHECK(ignored.set_names().size() == 1);
}

TEST_CASE("determinism_and_prefetch") {
  auto c = cfg({ds("uniform3")}, 4, 5, 123);
  trm::PuzzleDataset a(c), b(c);
  std::vector<std::vector<Rec>> ref;
  for (int it = 0; it < 3; ++it) {
    ref.push_back(iteration(a));
    CHECK((iteration(b) == ref.back()));  // same seed, same sequence
  }
  CHECK((!(ref[0] == ref[1])));  // the counter reseeds every iteration
  c.seed = 124;
  trm::PuzzleDataset other(c);
  CHECK((!(iteration(other) == ref[0])));  // another seed, another sequence

  // Prefetch (any queue bound) yields the same sequence as direct iteration.
  for (int64_t bound : {1, 2, 8}) {
    auto pc = cfg({ds("uniform3")}, 4, 5, 123);
    pc.prefetch_batches = bound;
    trm::PuzzleDataset p(pc);
    p.start();
    CHECK(p.prefetching());
    for (int it = 0; it < 3; ++it) CHECK((iteration(p) == ref[static_cast<size_t>(it)]));
    p.stop();
    CHECK(!p.prefetching());
  }
  // Start after the iteration began, and stop()/start() in the middle: still the same sequence.
  {
    trm::PuzzleDataset p(cfg({ds("uniform3")}, 4, 5, 123));
    p.begin_iteration();
    std::vector<Rec> got;
    Rec r;
    CHECK(take(p, &r));
    got.push_back(r);
    p.start();
    for (int k = 0; k < 3; ++k) {
      CHECK(take(p, &r));
      got.push_back(r);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the queue fill
    p.stop();                                                    // must not hang; queued batches kept
    for (int k = 0; k < 2; ++k) {
      CHECK(take(p, &r));
      got.push_back(r);
    }
    p.start();
    while (take(p, &r)) got.push_back(r);
    CHECK((got == ref[0]));
    CHECK(!take(p, &r));  // stays ended
  }
  // Test mode through the prefetch thread.
  {
    trm::PuzzleDataset direct(cfg({ds("uneven"), ds("uneven_b")}, 4, 1, 0, true));
    trm::PuzzleDataset p(cfg({ds("uneven"), ds("uneven_b")}, 4, 1, 0, true));
    p.start();
    const auto want = iteration(direct);
    CHECK((iteration(p) == want));
    CHECK((iteration(p) == want));
  }
  // Destroying a dataset whose producer waits on a full queue, or is mid-iteration, returns promptly.
  for (int k = 0; k < 5; ++k) {
    auto pc = cfg({ds("uniform3")}, 4, 50, k);
    pc.prefetch_batches = 2;
    trm::PuzzleDataset p(pc);
    p.start();
    p.begin_iteration();
    Rec r;
    take(p, &r);
    if (k % 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // begin_iteration() in the middle abandons the rest of the iteration.
  {
    trm::PuzzleDataset p(cfg({ds("uniform3")}, 4, 5, 123));
    p.start();
    p.begin_iteration();
    Rec r;
    take(p, &r);
    CHECK((r == ref[0][0]));
    CHECK((iteration(p) == ref[1]));
  }
}

TEST_CASE("restore") {
  // Save the position after k batches of iteration 2, reopen, restore: the remaining batches (and the next
  // iteration) are identical — with and without prefetch, in one set and across sets.
  struct Case {
    std::vector<std::string> paths;
    int64_t global, epochs;
    bool test;
  };
  for (const Case& c : {Case{{ds("uniform3")}, 4, 5, false}, Case{{ds("uneven"), ds("uneven_b")}, 2, 2, false},
                        Case{{ds("uneven"), ds("uneven_b")}, 4, 1, true}}) {
    const auto conf = cfg(c.paths, c.global, c.epochs, 77, c.test);
    trm::PuzzleDataset ref(conf);
    iteration(ref);
    const auto it2 = iteration(ref);
    const auto it3 = iteration(ref);
    for (size_t k = 0; k <= it2.size(); ++k) {
      for (bool prefetch : {false, true}) {
        trm::PuzzleDataset a(conf);
        if (prefetch) a.start();
        iteration(a);
        a.begin_iteration();
        Rec r;
        for (size_t i = 0; i < k; ++i) take(a, &r);
        if (k == it2.size()) CHECK(!take(a, &r));  // reached the end: position says finished
        const trm::LoaderPosition pos = a.position();
        CHECK_EQ(pos.iteration, int64_t{2});

        trm::PuzzleDataset b(conf);
        if (prefetch) b.start();
        b.restore(pos);
        CHECK_EQ(b.position().iteration, pos.iteration);
        std::vector<Rec> rest = drain(b);
        CHECK((rest == std::vector<Rec>(it2.begin() + static_cast<long>(k), it2.end())));
        CHECK((iteration(b) == it3));
      }
    }
  }
  trm::PuzzleDataset d(cfg({ds("uniform3")}, 4, 1));
  expect_error(
      trm::ErrorCode::State, "beyond the end",
      [&] {
        d.restore({1, 0, 3});
      },
      "restore past the set");
  expect_error(
      trm::ErrorCode::State, "past the last set",
      [&] {
        d.restore({1, 2, 0});
      },
      "restore past the sets");
  d.restore({0, 0, 0});
  trm::Batch b;
  expect_error(
      trm::ErrorCode::State, "begin_iteration", [&] { d.next(b); }, "restore to fresh");
}

// ------------------------------------------------------------------------------------------------------------

/** Times batches from a large set; false when the resume check inside fails. */
bool bench(const std::string& dir) {
  for (bool prefetch : {false, true}) {
    auto c = cfg({dir}, 768, 1000, 0);
    trm::PuzzleDataset d(c);
    if (prefetch) d.start();
    d.begin_iteration();
    trm::Batch b;
    int64_t n = 0;
    int64_t sum = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double secs = 0;
    while (d.next(b)) {
      sum += b.inputs.data_ptr<int32_t>()[0];
      ++n;
      secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (secs > 5.0) break;
    }
    std::printf(
        "bench: %s, batch 768 x %lld from a %lld-example mmap'd set: %lld batches in %.2f s = %.1f batches/s"
        " (%.0f MB/s of int32)\n",
        prefetch ? "prefetch thread" : "direct", (long long)d.metadata().seq_len, (long long)d.set_examples()[0], (long long)n, secs,
        n / secs, n * 768.0 * d.metadata().seq_len * 8 / secs / 1e6);
    (void)sum;
  }
  // Resuming replays the sampler's draws without reading data; time a jump deep into a long iteration.
  trm::PuzzleDataset d(cfg({dir}, 768, 1000, 0));
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t total = d.batches_in_iteration(1);
  const double count_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto t1 = std::chrono::steady_clock::now();
  d.restore({1, 0, total - 1});
  const double restore_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  trm::Batch b;
  const bool last = d.next(b) && !d.next(b);
  if (!last) std::fprintf(stderr, "bench: restore to the last batch did not yield exactly one batch\n");
  std::printf("bench: dry run of a %lld-batch iteration (1000 epochs) %.2f s; restore to its last batch %.2f s\n", (long long)total,
              count_s, restore_s);
  return last;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bench_dir;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--fixtures") g_fx = argv[i + 1];
    if (std::string(argv[i]) == "--bench") bench_dir = argv[i + 1];
  }
  if (g_fx.empty()) {
    std::fprintf(stderr, "usage: loader_test --fixtures <dir> [--bench <dataset dir>] [doctest options]\n");
    return 2;
  }
  alarm(600);  // a hang (e.g. a prefetch deadlock) fails the run instead of blocking CI
  doctest::Context context(argc, argv);
  const int failed = context.run();
  if (failed || context.shouldExit()) return failed;
  if (!bench_dir.empty() && !bench(bench_dir)) return 1;
  return 0;
}
