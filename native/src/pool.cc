// Max and average pooling (inference) over oneDNN, and concatenation along any axis. tfjs's `cpu`
// versions of both are scalar JS loops and were 65 % of an InceptionV3 forward pass (the feature
// network of the fd/kid/prdc metrics). Average pooling excludes padding, as tfjs's does.
#include "common.h"
#include <omp.h>
#include <cstring>

namespace synthset {
namespace {
using dt = dnnl::memory::data_type;
using md = dnnl::memory::desc;
using tag = dnnl::memory::format_tag;

struct Entry { dnnl::pooling_forward prim; md src, dst; };

std::unordered_map<std::string, std::shared_ptr<Entry>>& cache() {
  static std::unordered_map<std::string, std::shared_ptr<Entry>> c;
  return c;
}

// (shape = [n, h, w, c, oh, ow, kh, kw, sh, sw, padTop, padLeft, padBottom, padRight], avg, x, y)
Napi::Value Pool(const Napi::CallbackInfo& info) {
  auto s = ints(info[0]);
  if (s.size() != 14) throw Napi::RangeError::New(info.Env(), "pool2d: shape needs 14 numbers");
  bool avg = info[1].ToBoolean();
  auto& slot = cache()[key_of(avg ? "avg" : "max", s)];
  if (!slot) {
    auto e = std::make_shared<Entry>();
    e->src = md({s[0], s[3], s[1], s[2]}, dt::f32, tag::nhwc);
    e->dst = md({s[0], s[3], s[4], s[5]}, dt::f32, tag::nhwc);
    auto d = dnnl::pooling_forward::desc(dnnl::prop_kind::forward_inference,
                                         avg ? dnnl::algorithm::pooling_avg_exclude_padding : dnnl::algorithm::pooling_max,
                                         e->src, e->dst, {s[8], s[9]}, {s[6], s[7]}, {s[10], s[11]}, {s[12], s[13]});
    e->prim = dnnl::pooling_forward(dnnl::pooling_forward::primitive_desc(d, eng()));
    slot = e;
  }
  slot->prim.execute(strm(), {{DNNL_ARG_SRC, dnnl::memory(slot->src, eng(), f32(info[2]))},
                              {DNNL_ARG_DST, dnnl::memory(slot->dst, eng(), f32(info[3]))}});
  strm().wait();
  return info.Env().Undefined();
}

// (xs, inner sizes, outer, out): out is `outer` rows, each the concatenation of every x's row of
// inner[i] floats (the axis and everything after it flattened).
Napi::Value Concat(const Napi::CallbackInfo& info) {
  auto arr = info[0].As<Napi::Array>();
  auto inner = ints(info[1]);
  int64_t outer = i64(info[2]);
  float* out = f32(info[3]);
  size_t k = arr.Length();
  if (inner.size() != k) throw Napi::RangeError::New(info.Env(), "concat: one inner size per input");
  std::vector<const float*> xs(k);
  std::vector<int64_t> at(k);
  int64_t row = 0;
  for (size_t j = 0; j < k; j++) {
    xs[j] = f32(arr.Get(static_cast<uint32_t>(j)));
    if (static_cast<int64_t>(len(arr.Get(static_cast<uint32_t>(j)))) != outer * inner[j]) throw Napi::RangeError::New(info.Env(), "concat: input size is not outer x inner");
    at[j] = row;
    row += inner[j];
  }
  if (static_cast<int64_t>(len(info[3])) != outer * row) throw Napi::RangeError::New(info.Env(), "concat: output size mismatch");
#pragma omp parallel for if (outer * row > kParallelMin) schedule(static)
  for (int64_t o = 0; o < outer; o++) {
    for (size_t j = 0; j < k; j++) std::memcpy(out + o * row + at[j], xs[j] + o * inner[j], sizeof(float) * inner[j]);
  }
  return info.Env().Undefined();
}

}  // namespace

void init_pool(Napi::Env env, Napi::Object exports) {
  expose(exports, "pool2d", Pool);
  expose(exports, "concat", Concat);
}

}  // namespace synthset
