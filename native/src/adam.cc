// One fused Adam update per variable, the same arithmetic as tfjs's AdamOptimizer (bias
// correction through 1 - beta^t passed in), writing new value/moment buffers rather than updating
// in place: tfjs variables can share storage with the tensors they were created from.
#include "common.h"
#include <cmath>

namespace synthset {
namespace {

// (x, m, v, g, xOut, mOut, vOut, lr, beta1, beta2, eps, oneMinusAccBeta1, oneMinusAccBeta2)
Napi::Value Adam(const Napi::CallbackInfo& info) {
  const float *x = f32(info[0]), *m = f32(info[1]), *v = f32(info[2]), *g = f32(info[3]);
  float *xo = f32(info[4]), *mo = f32(info[5]), *vo = f32(info[6]);
  float lr = static_cast<float>(num(info[7])), b1 = static_cast<float>(num(info[8]));
  float b2 = static_cast<float>(num(info[9])), eps = static_cast<float>(num(info[10]));
  float c1 = static_cast<float>(num(info[11])), c2 = static_cast<float>(num(info[12]));
  int64_t n = static_cast<int64_t>(len(info[0]));
#pragma omp parallel for simd if (n > kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    float mi = m[i] * b1 + g[i] * (1.f - b1);
    float vi = v[i] * b2 + g[i] * g[i] * (1.f - b2);
    mo[i] = mi;
    vo[i] = vi;
    xo[i] = x[i] - lr * ((mi / c1) / (std::sqrt(vi / c2) + eps));
  }
  return info.Env().Undefined();
}

}  // namespace

void init_adam(Napi::Env env, Napi::Object exports) {
  expose(exports, "adam", Adam);
}

}  // namespace synthset
