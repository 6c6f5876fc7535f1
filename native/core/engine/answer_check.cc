#include "answer_check.h"

#include <ATen/ATen.h>

#include <cmath>
#include <deque>
#include <vector>

#include "../errors.h"

namespace trm {

namespace {

constexpr int64_t kSudokuCells = 81;
constexpr int32_t kWall = 1, kOpen = 2, kStart = 3, kGoal = 4, kPath = 5;

bool sudoku_solved(const int32_t* in, const int32_t* out) {
  uint16_t rows[9] = {}, cols[9] = {}, boxes[9] = {};
  for (int i = 0; i < kSudokuCells; ++i) {
    const int32_t t = out[i];
    if (t < 2 || t > 10) return false;           // a blank or PAD: not a complete grid
    if (in[i] >= 2 && in[i] != t) return false;  // a given changed
    const uint16_t bit = static_cast<uint16_t>(1u << (t - 2));
    const int r = i / 9, c = i % 9, b = (r / 3) * 3 + c / 3;
    if ((rows[r] | cols[c] | boxes[b]) & bit) return false;
    rows[r] |= bit;
    cols[c] |= bit;
    boxes[b] |= bit;
  }
  return true;
}

/** Breadth-first distances from `from` over cells where `open` is true (-1: unreachable). */
std::vector<int> distances(const std::vector<char>& open, int side, int from) {
  std::vector<int> dist(open.size(), -1);
  std::deque<int> queue{from};
  dist[from] = 0;
  while (!queue.empty()) {
    const int k = queue.front();
    queue.pop_front();
    const int r = k / side, c = k % side;
    const int next[4] = {r > 0 ? k - side : -1, r < side - 1 ? k + side : -1, c > 0 ? k - 1 : -1, c < side - 1 ? k + 1 : -1};
    for (int n : next) {
      if (n >= 0 && open[n] && dist[n] < 0) {
        dist[n] = dist[k] + 1;
        queue.push_back(n);
      }
    }
  }
  return dist;
}

bool maze_solved(const int32_t* in, const int32_t* out, int side) {
  const int cells = side * side;
  int start = -1, goal = -1, path = 0;
  std::vector<char> on_path(cells, 0), free(cells, 0);
  for (int k = 0; k < cells; ++k) {
    const int32_t q = in[k], a = out[k];
    const bool kept = q == kOpen ? (a == kOpen || a == kPath) : a == q;
    if (!kept || q == kPath) return false;
    if (q == kStart) start = k;
    if (q == kGoal) goal = k;
    if (a == kPath) ++path;
    on_path[k] = a == kPath || a == kStart || a == kGoal;
    free[k] = q != kWall;
  }
  if (start < 0 || goal < 0) return false;
  const int shortest = distances(free, side, start)[goal];
  return shortest > 0 && path == shortest - 1 && distances(on_path, side, start)[goal] == shortest;
}

}  // namespace

AnswerCheck answer_check_from(const std::string& name) {
  if (name.empty()) return AnswerCheck::None;
  if (name == "sudoku") return AnswerCheck::Sudoku;
  if (name == "maze") return AnswerCheck::Maze;
  throw Error(ErrorCode::InvalidArgument, "haltCheck must be 'sudoku' or 'maze', got '" + name + "'");
}

at::Tensor answers_solved(AnswerCheck check, const at::Tensor& inputs, const at::Tensor& preds) {
  const int64_t B = inputs.size(0), S = inputs.size(1);
  auto solved = at::zeros({B}, at::kBool);
  if (check == AnswerCheck::None || B == 0) return solved.to(inputs.device());
  const int side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(S))));
  if (check == AnswerCheck::Sudoku && S != kSudokuCells) {
    throw Error(ErrorCode::InvalidArgument, "haltCheck 'sudoku' needs 81 tokens per row, got " + std::to_string(S));
  }
  if (check == AnswerCheck::Maze && static_cast<int64_t>(side) * side != S) {
    throw Error(ErrorCode::InvalidArgument, "haltCheck 'maze' needs a square number of tokens per row, got " + std::to_string(S));
  }
  const auto in = inputs.to(at::kCPU, at::kInt).contiguous(), out = preds.to(at::kCPU, at::kInt).contiguous();
  const int32_t* pin = in.data_ptr<int32_t>();
  const int32_t* pout = out.data_ptr<int32_t>();
  bool* ps = solved.data_ptr<bool>();
  for (int64_t b = 0; b < B; ++b) {
    ps[b] = check == AnswerCheck::Sudoku ? sudoku_solved(pin + b * S, pout + b * S) : maze_solved(pin + b * S, pout + b * S, side);
  }
  return solved.to(inputs.device());
}

}  // namespace trm
