#include "dataset_metadata.h"

#include <limits>

#include "../errors.h"
#include "../io/json.h"
#include "../io/mapped_file.h"
#include "dataset_files.h"

namespace trm::data::detail {

namespace {

std::string names_list(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out + "]";
}

const io::Json& member(const io::Json& obj, const std::string& key, const std::string& file) {
  const auto it = obj.find(key);
  if (it == obj.end()) data_error(file, "missing key '" + key + "' (required by PuzzleDatasetMetadata, docs/algorithm.md §5.2)");
  return *it;
}

int64_t as_int(const io::Json& v, const std::string& key, const std::string& file) {
  // An integer literal that fits int64 (the parser keeps larger ones, fractions and exponents as floats).
  if (v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX})) return v.get<int64_t>();
  data_error(file, "'" + key + "' must be an integer, found " + (v.is_number() ? v.dump() : io::json_kind(v)));
}

}  // namespace

FileMetadata read_metadata(const std::string& file) {
  const auto mapped = io::MappedFile::open(file);
  io::Json root;
  std::string err;
  if (!io::parse_json(reinterpret_cast<const char*>(mapped->data()), mapped->size(), &root, &err)) {
    data_error(file, "not valid JSON: " + err);
  }
  if (!root.is_object()) data_error(file, "expected a JSON object");

  FileMetadata out;
  PuzzleDatasetMetadata& m = out.m;
  m.pad_id = as_int(member(root, "pad_id", file), "pad_id", file);
  const auto& ignore = member(root, "ignore_label_id", file);
  if (!ignore.is_null()) m.ignore_label_id = as_int(ignore, "ignore_label_id", file);
  m.blank_identifier_id = as_int(member(root, "blank_identifier_id", file), "blank_identifier_id", file);
  m.vocab_size = as_int(member(root, "vocab_size", file), "vocab_size", file);
  m.seq_len = as_int(member(root, "seq_len", file), "seq_len", file);
  m.num_puzzle_identifiers = as_int(member(root, "num_puzzle_identifiers", file), "num_puzzle_identifiers", file);
  m.total_groups = as_int(member(root, "total_groups", file), "total_groups", file);

  const auto& mean = member(root, "mean_puzzle_examples", file);
  if (!mean.is_number()) data_error(file, "'mean_puzzle_examples' must be a number");
  m.mean_puzzle_examples = mean.get<double>();

  if (const auto tp = root.find("total_puzzles"); tp != root.end()) {
    m.total_puzzles = as_int(*tp, "total_puzzles", file);
    out.has_total_puzzles = true;
  }
  const auto& sets = member(root, "sets", file);
  if (!sets.is_array() || sets.empty()) {
    data_error(file, "'sets' must be a non-empty list of names");
  }
  for (const auto& s : sets) {
    if (!s.is_string() || s.get_ref<const std::string&>().empty()) data_error(file, "'sets' must hold non-empty strings");
    m.sets.push_back(s.get<std::string>());
  }
  if (m.seq_len <= 0) data_error(file, "'seq_len' must be positive, found " + std::to_string(m.seq_len));
  // Tokens are checked against vocab_size when a set loads, so every batch fits the int32 tensors.
  if (m.vocab_size <= 0 || m.vocab_size > std::numeric_limits<int32_t>::max()) {
    data_error(file, "'vocab_size' must be in [1, 2^31 - 1], found " + std::to_string(m.vocab_size));
  }
  if (m.num_puzzle_identifiers < 0 || m.num_puzzle_identifiers > std::numeric_limits<int32_t>::max()) {
    data_error(file, "'num_puzzle_identifiers' out of range: " + std::to_string(m.num_puzzle_identifiers));
  }
  return out;
}

std::vector<int64_t> identifier_offsets(const std::vector<FileMetadata>& metas, const std::vector<std::string>& dataset_paths,
                                        bool offset_puzzle_identifiers, int64_t* total_identifiers) {
  std::vector<int64_t> offsets;
  const PuzzleDatasetMetadata& first = metas[0].m;
  int64_t id_offset = 0;
  for (size_t k = 0; k < metas.size(); ++k) {
    const auto& m = metas[k].m;
    auto disagree = [&](const char* key, const std::string& a, const std::string& b) {
      throw Error(ErrorCode::DataFormat, "dataset paths disagree on " + std::string(key) + ": '" + dataset_paths[0] + "' has " + a + ", '" +
                                             dataset_paths[k] + "' has " + b + "; every path must share it (docs/algorithm.md §5.8)");
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
    if (!offset_puzzle_identifiers) {
      same("num_puzzle_identifiers", first.num_puzzle_identifiers, m.num_puzzle_identifiers);
    }
    offsets.push_back(offset_puzzle_identifiers ? id_offset : 0);
    id_offset += m.num_puzzle_identifiers;
  }
  if (id_offset > std::numeric_limits<int32_t>::max()) {
    throw Error(ErrorCode::DataFormat,
                "the dataset paths together have " + std::to_string(id_offset) + " puzzle identifiers, more than int32 holds");
  }
  *total_identifiers = id_offset;
  return offsets;
}

PuzzleDatasetMetadata merge_metadata(const std::vector<FileMetadata>& metas, const std::vector<int64_t>& path_puzzles,
                                     int64_t total_identifiers) {
  // Merge (§5.8): ids and groups summed, mean weighted by total_puzzles.
  PuzzleDatasetMetadata out = metas[0].m;
  out.num_puzzle_identifiers = total_identifiers;
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
  return out;
}

}  // namespace trm::data::detail
