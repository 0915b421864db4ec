// Training-mode batch normalisation over oneDNN: forward returns the batch mean and (biased)
// variance, backward returns the data, scale and shift gradients in one pass. Data is viewed as
// (rows, channels) so NHWC tensors of any rank pass straight through.
#include "common.h"

namespace synthset {
namespace {
using dt = dnnl::memory::data_type;
using md = dnnl::memory::desc;
using nf = dnnl::normalization_flags;

struct Entry {
  dnnl::batch_normalization_forward fwd;
  dnnl::batch_normalization_backward bwd;
  dnnl::batch_normalization_forward::primitive_desc fpd;
  md data, stat;
  bool has_bwd = false;
  std::vector<float> zero_shift;  // oneDNN 2.6's backward asks for the shift, which cannot matter
};

std::unordered_map<std::string, std::shared_ptr<Entry>>& cache() {
  static std::unordered_map<std::string, std::shared_ptr<Entry>> c;
  return c;
}

Entry& entry(int64_t rows, int64_t ch, float eps) {
  auto& slot = cache()[key_of("bn", {rows, ch, static_cast<int64_t>(eps * 1e9)})];
  if (!slot) {
    auto e = std::make_shared<Entry>();
    e->data = md({rows, ch, 1, 1}, dt::f32, dnnl::memory::format_tag::nhwc);
    e->stat = md({ch}, dt::f32, dnnl::memory::format_tag::x);
    auto d = dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_training, e->data, eps,
                                                     nf::use_scale | nf::use_shift);
    e->fpd = dnnl::batch_normalization_forward::primitive_desc(d, eng());
    e->fwd = dnnl::batch_normalization_forward(e->fpd);
    slot = e;
  }
  return *slot;
}

dnnl::memory mem(const md& d, const Napi::Value& v) { return dnnl::memory(d, eng(), f32(v)); }

// (x, scale, shift, rows, ch, eps, y, mean, variance)
Napi::Value Forward(const Napi::CallbackInfo& info) {
  auto& e = entry(i64(info[3]), i64(info[4]), static_cast<float>(num(info[5])));
  e.fwd.execute(strm(), {{DNNL_ARG_SRC, mem(e.data, info[0])},
                         {DNNL_ARG_SCALE, mem(e.stat, info[1])},
                         {DNNL_ARG_SHIFT, mem(e.stat, info[2])},
                         {DNNL_ARG_DST, mem(e.data, info[6])},
                         {DNNL_ARG_MEAN, mem(e.stat, info[7])},
                         {DNNL_ARG_VARIANCE, mem(e.stat, info[8])}});
  strm().wait();
  return info.Env().Undefined();
}

// (x, dy, mean, variance, scale, rows, ch, eps, dx, dscale, dshift)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  float eps = static_cast<float>(num(info[7]));
  auto& e = entry(i64(info[5]), i64(info[6]), eps);
  if (!e.has_bwd) {
    auto d = dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward, e.data, e.data, eps,
                                                      nf::use_scale | nf::use_shift);
    e.bwd = dnnl::batch_normalization_backward(
        dnnl::batch_normalization_backward::primitive_desc(d, eng(), e.fpd));
    e.has_bwd = true;
    e.zero_shift.assign(static_cast<size_t>(i64(info[6])), 0.f);
  }
  e.bwd.execute(strm(), {{DNNL_ARG_SRC, mem(e.data, info[0])},
                         {DNNL_ARG_DIFF_DST, mem(e.data, info[1])},
                         {DNNL_ARG_MEAN, mem(e.stat, info[2])},
                         {DNNL_ARG_VARIANCE, mem(e.stat, info[3])},
                         {DNNL_ARG_SCALE, mem(e.stat, info[4])},
                         {DNNL_ARG_SHIFT, dnnl::memory(e.stat, eng(), e.zero_shift.data())},
                         {DNNL_ARG_DIFF_SRC, mem(e.data, info[8])},
                         {DNNL_ARG_DIFF_SCALE, mem(e.stat, info[9])},
                         {DNNL_ARG_DIFF_SHIFT, mem(e.stat, info[10])}});
  strm().wait();
  return info.Env().Undefined();
}

}  // namespace

void init_bnorm(Napi::Env env, Napi::Object exports) {
  expose(exports, "batchNormForward", Forward);
  expose(exports, "batchNormBackward", Backward);
}

}  // namespace synthset
