#include "sign_sgd.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>
#include <string>

#include "../errors.h"

namespace trm {

void SparseSignSGD::step(at::Tensor& table, const at::Tensor& grad, const at::Tensor& ids, double lr, double weight_decay,
                         bool check_ids) const {
  if (!grad.defined())
    throw Error(ErrorCode::State,
                "SparseSignSGD.step: the puzzle-embedding gradient is undefined; run a "
                "train-mode forward and backward before the optimizer step");
  if (!table.defined() || table.dim() != 2) throw Error(ErrorCode::Shape, "SparseSignSGD.step: the table must be 2-D [N, De]");
  if (grad.dim() != 2 || grad.size(1) != table.size(1))
    throw Error(ErrorCode::Shape,
                "SparseSignSGD.step: grad must be [b, " + std::to_string(table.size(1)) + "], got " + c10::str(grad.sizes()));
  if (ids.dim() != 1 || ids.size(0) != grad.size(0))
    throw Error(ErrorCode::Shape,
                "SparseSignSGD.step: ids must be [" + std::to_string(grad.size(0)) + "] to match grad, got " + c10::str(ids.sizes()));
  if (!at::isIntegralType(ids.scalar_type(), /*includeBool=*/false))
    throw Error(ErrorCode::DType,
                std::string("SparseSignSGD.step: ids must be an integer tensor, got ") + c10::toString(ids.scalar_type()));
  if (!at::isFloatingType(table.scalar_type()) || !at::isFloatingType(grad.scalar_type()))
    throw Error(ErrorCode::DType, "SparseSignSGD.step: table and grad must be floating-point tensors");
  if (grad.device() != table.device() || ids.device() != table.device())
    throw Error(ErrorCode::Device, "SparseSignSGD.step: table, grad and ids must be on one device (table on " + table.device().str() +
                                       ", grad on " + grad.device().str() + ", ids on " + ids.device().str() + ")");
  if (!std::isfinite(lr) || !std::isfinite(weight_decay))
    throw Error(ErrorCode::InvalidArgument, "SparseSignSGD.step: lr and weight_decay must be finite");
  if (ids.numel() == 0) return;

  c10::NoGradGuard no_grad;
  const int64_t N = table.size(0), De = table.size(1);
  const at::Tensor ids64 = ids.to(at::kLong);
  if (check_ids) {
    const auto range = at::aminmax(ids64);  // a bad id must not index out of bounds
    const int64_t lo = std::get<0>(range).item<int64_t>(), hi = std::get<1>(range).item<int64_t>();
    if (lo < 0 || hi >= N)
      throw Error(ErrorCode::InvalidArgument, "SparseSignSGD.step: puzzle id " + std::to_string(lo < 0 ? lo : hi) +
                                                  " is outside the table's " + std::to_string(N) + " rows");
  }

  // 2. Duplicate ids' gradient rows are summed. A unique() would read its output size back from the
  //    device; a stable sort keeps every shape fixed: rows of one id form a run, `run` numbers the
  //    runs, and index_add_ sums each run in the original row order (as scatter_add over unique ids).
  const auto sorted = at::sort(ids64, /*stable=*/true, /*dim=*/0, /*descending=*/false);
  const at::Tensor& sorted_ids = std::get<0>(sorted);
  const at::Tensor& order = std::get<1>(sorted);
  const int64_t b = sorted_ids.size(0);
  const at::Tensor starts =
      at::cat({at::ones({1}, sorted_ids.options()), (sorted_ids.narrow(0, 1, b - 1) != sorted_ids.narrow(0, 0, b - 1)).to(at::kLong)});
  const at::Tensor run = at::cumsum(starts, 0) - 1;
  at::Tensor summed = at::zeros({b, De}, grad.options());
  summed.index_add_(0, run, grad.index_select(0, order));

  // 3. decoupled decay of the touched rows only, then the sign step: p·(1 - lr·wd) + (-lr)·sign(g).
  //    Every row of a run computes the same new value, so the duplicate writes below agree.
  at::Tensor rows = table.index_select(0, sorted_ids);
  rows.mul_(1.0 - lr * weight_decay).add_(at::sign(summed.index_select(0, run)).to(rows.scalar_type()), -lr);

  // 4. write the rows back.
  table.index_copy_(0, sorted_ids, rows);
}

}  // namespace trm
