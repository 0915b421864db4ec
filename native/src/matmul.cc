// Batched matrix multiply over oneDNN's matmul primitive. Transposes are expressed as strides, so
// operands are never copied; a batch of 1 on either side broadcasts. Optional bias + activation
// are fused as oneDNN post-ops (tfjs _FusedMatMul).
#include "common.h"

namespace synthset {
namespace {
using dt = dnnl::memory::data_type;
using md = dnnl::memory::desc;

struct Entry { dnnl::matmul prim; md a, b, c, bias; };

std::unordered_map<std::string, std::shared_ptr<Entry>>& cache() {
  static std::unordered_map<std::string, std::shared_ptr<Entry>> c;
  return c;
}

md operand(int64_t batch, int64_t rows, int64_t cols, bool transposed) {
  // Logical dims are (batch, rows, cols); a transposed operand is stored as (batch, cols, rows).
  if (transposed) return md({batch, rows, cols}, dt::f32, {rows * cols, 1, rows});
  return md({batch, rows, cols}, dt::f32, {rows * cols, cols, 1});
}

// (a, b, c, dims:[batchA, batchB, M, K, N, transA, transB], bias|null, act, alpha)
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  auto d = ints(info[3]);
  int64_t ba = d[0], bb = d[1], m = d[2], k = d[3], n = d[4];
  bool ta = d[5] != 0, tb = d[6] != 0;
  bool has_bias = !(info[4].IsNull() || info[4].IsUndefined());
  int act = static_cast<int>(i64(info[5]));
  float alpha = static_cast<float>(num(info[6]));
  int64_t bc = std::max(ba, bb);
  std::string key = key_of("mm", {ba, bb, m, k, n, ta, tb, has_bias, act, static_cast<int64_t>(alpha * 1e6)});
  double t0 = now_ms();
  auto& slot = cache()[key];
  if (!slot) {
    auto e = std::make_shared<Entry>();
    e->a = operand(ba, m, k, ta);
    e->b = operand(bb, k, n, tb);
    e->c = md({bc, m, n}, dt::f32, {m * n, n, 1});
    if (has_bias) e->bias = md({1, 1, n}, dt::f32, {n, n, 1});
    dnnl::primitive_attr attr;
    dnnl::post_ops po;
    add_act_postop(po, act, alpha);
    attr.set_post_ops(po);
    auto pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(e->a, e->b, e->bias, e->c), attr, eng());
    e->prim = dnnl::matmul(pd);
    slot = e;
  }
  auto& e = *slot;
  std::unordered_map<int, dnnl::memory> args = {
      {DNNL_ARG_SRC, dnnl::memory(e.a, eng(), f32(info[0]))},
      {DNNL_ARG_WEIGHTS, dnnl::memory(e.b, eng(), f32(info[1]))},
      {DNNL_ARG_DST, dnnl::memory(e.c, eng(), f32(info[2]))}};
  if (has_bias) args[DNNL_ARG_BIAS] = dnnl::memory(e.bias, eng(), f32(info[4]));
  e.prim.execute(strm(), args);
  strm().wait();
  stats().mm_ms += now_ms() - t0;
  stats().mm_calls++;
  return info.Env().Undefined();
}

}  // namespace

void init_matmul(Napi::Env env, Napi::Object exports) {
  expose(exports, "matmul", MatMul);
}

}  // namespace synthset
