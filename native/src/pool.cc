// Max and average pooling (inference) over oneDNN, and concatenation along any axis. tfjs's `cpu`
// versions of both are scalar JS loops and were 65 % of an InceptionV3 forward pass (the feature
// network of the fd/kid/prdc metrics). Average pooling excludes padding, as tfjs's does. Also the
// im2col copy of per-example gradients.
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

// (shape = [n, h, w, c, oh, ow, k, stride, padTop, padLeft], x, out): the input patches of a k x k
// convolution, out[n, oh*ow, k*k*c] in the kernel's (kh, kw, c) order, zeros where a patch reaches
// into the padding. Per-example gradients (DP-SGD) need the patches themselves; as a JS loop this
// copy was half of a private step.
Napi::Value Im2col(const Napi::CallbackInfo& info) {
  auto s = ints(info[0]);
  if (s.size() != 10) throw Napi::RangeError::New(info.Env(), "im2col: shape needs 10 numbers");
  const int64_t n = s[0], h = s[1], w = s[2], c = s[3], oh = s[4], ow = s[5], k = s[6], st = s[7], top = s[8], left = s[9];
  const float* x = f32(info[1]);
  float* out = f32(info[2]);
  const int64_t row = k * k * c;
  if (static_cast<int64_t>(len(info[1])) != n * h * w * c || static_cast<int64_t>(len(info[2])) != n * oh * ow * row) {
    throw Napi::RangeError::New(info.Env(), "im2col: buffer sizes do not match the shape");
  }
#pragma omp parallel for collapse(2) if (n * oh * ow * row > kParallelMin) schedule(static)
  for (int64_t b = 0; b < n; b++) {
    for (int64_t oy = 0; oy < oh; oy++) {
      for (int64_t ox = 0; ox < ow; ox++) {
        float* dst = out + ((b * oh + oy) * ow + ox) * row;
        for (int64_t kh = 0; kh < k; kh++) {
          const int64_t iy = oy * st + kh - top;
          for (int64_t kw = 0; kw < k; kw++, dst += c) {
            const int64_t ix = ox * st + kw - left;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) std::memset(dst, 0, sizeof(float) * c);
            else std::memcpy(dst, x + ((b * h + iy) * w + ix) * c, sizeof(float) * c);
          }
        }
      }
    }
  }
  return info.Env().Undefined();
}

}  // namespace

void init_pool(Napi::Env env, Napi::Object exports) {
  expose(exports, "pool2d", Pool);
  expose(exports, "concat", Concat);
  expose(exports, "im2col", Im2col);
}

}  // namespace synthset
