// Rule checks of predicted answers, so inference can stop a row once its answer is solved
// (infer.h, early halting) without leaving the native loop. They decide only whether a row is
// done; the verdict a user reads (valid, the reason) is lib/solver's, and a test holds the two to
// the same answers.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace trm {

enum class AnswerCheck {
  None,
  /** Tokens 0 PAD, 1 blank, 2–10 digits, 81 cells: every cell a digit, 1–9 once per row, column and box, every given kept. */
  Sudoku,
  /** Tokens '#' 1, ' ' 2, 'S' 3, 'G' 4, 'o' 5 on a square canvas: the maze kept, and the 'o' cells exactly a shortest S→G path. */
  Maze,
};

/** "sudoku", "maze" or "" (none); throws trm::Error(InvalidArgument) for anything else. */
AnswerCheck answer_check_from(const std::string& name);

/**
 * Per row, whether `preds` solves the puzzle `inputs` (both [B, S] integer tokens) by the rules of
 * `check`: bool [B] on the inputs' device. All false for AnswerCheck::None.
 */
at::Tensor answers_solved(AnswerCheck check, const at::Tensor& inputs, const at::Tensor& preds);

}  // namespace trm
