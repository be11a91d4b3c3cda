// onednn_linear.cpp: onednn_linear over the wheel's mkldnn::_linear_pointwise,
// called through the dispatcher (it has no ATen C++ function).
#include "policies/onednn_linear.h"

#include <ATen/core/dispatch/Dispatcher.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/torch_compat.h"
#include "policies/few_rows_linear.h"

namespace grpo::policies::detail {

#if GRPO_HAS_ONEDNN_LINEAR
namespace {

using LinearFn = at::Tensor(const at::Tensor&, const at::Tensor&, const std::optional<at::Tensor>&, std::string_view,
                            c10::List<std::optional<at::Scalar>>, std::optional<std::string_view>);

std::optional<c10::OperatorHandle> linear_handle() {
  return at::hasMKLDNN() ? c10::Dispatcher::singleton().findSchema({"mkldnn::_linear_pointwise", ""}) : std::nullopt;
}

}  // namespace

bool onednn_linear_available() {
  static const bool yes = linear_handle().has_value();
  return yes;
}

torch::Tensor onednn_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  static const std::optional<c10::OperatorHandle> handle = linear_handle();
  if (!handle) throw Error("onednn_linear: this LibTorch has no oneDNN linear op (mkldnn::_linear_pointwise)");
  static const auto op = handle->typed<LinearFn>();
  std::optional<at::Tensor> b;
  if (bias.defined()) b = bias.detach();
  // detach: the op has no autograd formula; the engine runs without grad anyway.
  return op.call(x.detach(), weight.detach(), b, "none", c10::List<std::optional<at::Scalar>>(), std::nullopt);
}
#else
bool onednn_linear_available() { return false; }

torch::Tensor onednn_linear(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&) {
  throw Error(std::string("onednn_linear: needs LibTorch 2.x (mkldnn::_linear_pointwise); this build uses LibTorch ") +
              compat::torch_version());
}
#endif

torch::Tensor inference_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  if (torch::Tensor y = few_rows_linear(x, weight, bias); y.defined()) return y;  // reads raw data: no autograd
  return onednn_linear(x, weight, bias);
}

torch::Tensor linear(torch::nn::Linear& layer, const torch::Tensor& x, OnednnLinear fast) {
  if (!fast.covers(layer->weight)) return layer->forward(x);
  return inference_linear(x, layer->weight, layer->bias);
}

}  // namespace grpo::policies::detail
