// Elementwise kernels: unary maps, broadcasting binary ops, select, add-n and batch-norm apply.
// These are plain loops (compiled -O3 -ffast-math so exp/tanh vectorize) rather than oneDNN
// primitives: the tfjs shapes vary call to call and a primitive per shape would cost more to
// create than the loop costs to run. Branch-free forms keep the loops vectorized.
#include "common.h"
#include <cmath>

namespace synthset {
namespace {

enum Unary { uRelu, uRelu6, uElu, uLeaky, uSigmoid, uTanh, uExp, uLog, uNeg, uAbs, uSqrt, uRsqrt, uSquare,
             uStep, uReciprocal, uSoftplus, uLog1p, uSign, uClip };

template <int OP>
inline float un(float x, float a, float b) {
  if constexpr (OP == uRelu) return x > 0.f ? x : 0.f;
  if constexpr (OP == uRelu6) return std::fmin(std::fmax(x, 0.f), 6.f);
  if constexpr (OP == uElu) return x >= 0.f ? x : std::exp(x) - 1.f;
  if constexpr (OP == uLeaky) return x * (x > 0.f ? 1.f : a);
  if constexpr (OP == uSigmoid) return 1.f / (1.f + std::exp(-x));
  if constexpr (OP == uTanh) return std::tanh(x);
  if constexpr (OP == uExp) return std::exp(x);
  if constexpr (OP == uLog) return std::log(x);
  if constexpr (OP == uNeg) return -x;
  if constexpr (OP == uAbs) return std::fabs(x);
  if constexpr (OP == uSqrt) return std::sqrt(x);
  if constexpr (OP == uRsqrt) return 1.f / std::sqrt(x);
  if constexpr (OP == uSquare) return x * x;
  if constexpr (OP == uStep) return x > 0.f ? 1.f : a;
  if constexpr (OP == uReciprocal) return 1.f / x;
  if constexpr (OP == uSoftplus) return x > 15.f ? x : std::log1p(std::exp(x));
  if constexpr (OP == uLog1p) return std::log1p(x);
  if constexpr (OP == uSign) return static_cast<float>((x > 0.f) - (x < 0.f));
  if constexpr (OP == uClip) return std::fmin(std::fmax(x, a), b);
  return x;
}

template <int OP>
void unary_loop(const float* x, float* y, int64_t n, float a, float b) {
#pragma omp parallel for simd if (n > kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; i++) y[i] = un<OP>(x[i], a, b);
}

using UnaryFn = void (*)(const float*, float*, int64_t, float, float);
const UnaryFn kUnary[] = {unary_loop<0>,  unary_loop<1>,  unary_loop<2>,  unary_loop<3>,  unary_loop<4>,
                          unary_loop<5>,  unary_loop<6>,  unary_loop<7>,  unary_loop<8>,  unary_loop<9>,
                          unary_loop<10>, unary_loop<11>, unary_loop<12>, unary_loop<13>, unary_loop<14>,
                          unary_loop<15>, unary_loop<16>, unary_loop<17>, unary_loop<18>};

// (op, x, y, a, b)
Napi::Value UnaryOp(const Napi::CallbackInfo& info) {
  auto op = i64(info[0]);
  if (op < 0 || op >= static_cast<int64_t>(sizeof(kUnary) / sizeof(kUnary[0])))
    throw Napi::RangeError::New(info.Env(), "unary: unknown op");
  kUnary[op](f32(info[1]), f32(info[2]), static_cast<int64_t>(len(info[1])), static_cast<float>(num(info[3])),
             static_cast<float>(num(info[4])));
  return info.Env().Undefined();
}

enum Binary { bAdd, bSub, bMul, bDiv, bMax, bMin, bSqDiff, bPow, bEluGrad, bLeft,
              bGreater = 10, bGreaterEq, bLess, bLessEq, bEqual, bNotEqual };

template <int OP>
inline auto bin(float a, float b) {
  if constexpr (OP == bAdd) return a + b;
  if constexpr (OP == bSub) return a - b;
  if constexpr (OP == bMul) return a * b;
  if constexpr (OP == bDiv) return a / b;
  if constexpr (OP == bMax) return a > b ? a : b;
  if constexpr (OP == bMin) return a < b ? a : b;
  if constexpr (OP == bSqDiff) return (a - b) * (a - b);
  if constexpr (OP == bPow) return std::pow(a, b);
  if constexpr (OP == bEluGrad) return b >= 0.f ? a : a * (b + 1.f);
  if constexpr (OP == bLeft) return a;
  if constexpr (OP == bGreater) return static_cast<uint8_t>(a > b);
  if constexpr (OP == bGreaterEq) return static_cast<uint8_t>(a >= b);
  if constexpr (OP == bLess) return static_cast<uint8_t>(a < b);
  if constexpr (OP == bLessEq) return static_cast<uint8_t>(a <= b);
  if constexpr (OP == bEqual) return static_cast<uint8_t>(a == b);
  if constexpr (OP == bNotEqual) return static_cast<uint8_t>(a != b);
}

// Broadcasting is reduced to at most a few collapsed dims; the innermost run has unit or zero
// stride on each side, which the three specialised inner loops cover.
struct Plan {
  std::vector<int64_t> dims, sa, sb;
  int64_t total = 1;
};

Plan plan(const std::vector<int64_t>& as, const std::vector<int64_t>& bs, const std::vector<int64_t>& os) {
  size_t r = os.size();
  std::vector<int64_t> dims, ka, kb;  // ka/kb: 1 when the side varies along the dim
  for (size_t i = 0; i < r; i++) {
    int64_t o = os[i];
    if (o == 1) continue;
    int64_t ad = i + as.size() >= r ? as[i + as.size() - r] : 1;
    int64_t bd = i + bs.size() >= r ? bs[i + bs.size() - r] : 1;
    int64_t va = ad == 1 ? 0 : 1, vb = bd == 1 ? 0 : 1;
    if (!dims.empty() && ka.back() == va && kb.back() == vb) {
      dims.back() *= o;
    } else {
      dims.push_back(o); ka.push_back(va); kb.push_back(vb);
    }
  }
  Plan p;
  if (dims.empty()) { dims.push_back(1); ka.push_back(1); kb.push_back(1); }
  p.dims = dims;
  p.sa.assign(dims.size(), 0);
  p.sb.assign(dims.size(), 0);
  int64_t ra = 1, rb = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    p.sa[i] = ka[i] ? ra : 0; if (ka[i]) ra *= dims[i];
    p.sb[i] = kb[i] ? rb : 0; if (kb[i]) rb *= dims[i];
    p.total *= dims[i];
  }
  return p;
}

template <int OP, typename O>
void binary_loop(const float* a, const float* b, O* out, const Plan& p) {
  size_t nd = p.dims.size();
  int64_t inner = p.dims[nd - 1];
  int64_t ia = p.sa[nd - 1], ib = p.sb[nd - 1];
  int64_t rows = p.total / inner;
#pragma omp parallel for if (p.total > kParallelMin) schedule(static)
  for (int64_t row = 0; row < rows; row++) {
    int64_t oa = 0, ob = 0, rem = row;
    for (size_t d = nd - 1; d-- > 0;) {
      int64_t idx = rem % p.dims[d];
      rem /= p.dims[d];
      oa += idx * p.sa[d];
      ob += idx * p.sb[d];
    }
    const float* pa = a + oa;
    const float* pb = b + ob;
    O* po = out + row * inner;
    if (ia && ib) {
#pragma omp simd
      for (int64_t i = 0; i < inner; i++) po[i] = bin<OP>(pa[i], pb[i]);
    } else if (ia) {
      float vb = pb[0];
#pragma omp simd
      for (int64_t i = 0; i < inner; i++) po[i] = bin<OP>(pa[i], vb);
    } else if (ib) {
      float va = pa[0];
#pragma omp simd
      for (int64_t i = 0; i < inner; i++) po[i] = bin<OP>(va, pb[i]);
    } else {
      auto v = bin<OP>(pa[0], pb[0]);
      for (int64_t i = 0; i < inner; i++) po[i] = v;
    }
  }
}

template <int OP>
void binary_dispatch(const Napi::Value& out, const float* a, const float* b, const Plan& p) {
  if constexpr (OP >= bGreater) binary_loop<OP, uint8_t>(a, b, u8(out), p);
  else binary_loop<OP, float>(a, b, f32(out), p);
}

using BinaryFn = void (*)(const Napi::Value&, const float*, const float*, const Plan&);
const BinaryFn kBinary[] = {binary_dispatch<0>,  binary_dispatch<1>,  binary_dispatch<2>,  binary_dispatch<3>,
                            binary_dispatch<4>,  binary_dispatch<5>,  binary_dispatch<6>,  binary_dispatch<7>,
                            binary_dispatch<8>,  binary_dispatch<9>,  binary_dispatch<10>, binary_dispatch<11>,
                            binary_dispatch<12>, binary_dispatch<13>, binary_dispatch<14>, binary_dispatch<15>};

// (op, a, aShape, b, bShape, out, outShape)
Napi::Value BinaryOp(const Napi::CallbackInfo& info) {
  auto op = i64(info[0]);
  if (op < 0 || op >= static_cast<int64_t>(sizeof(kBinary) / sizeof(kBinary[0])))
    throw Napi::RangeError::New(info.Env(), "binary: unknown op");
  Plan p = plan(ints(info[2]), ints(info[4]), ints(info[6]));
  kBinary[op](info[5], f32(info[1]), f32(info[3]), p);
  return info.Env().Undefined();
}

// (cond:Uint8Array, t, e, out), all of one size.
Napi::Value Select(const Napi::CallbackInfo& info) {
  const uint8_t* c = u8(info[0]);
  const float* t = f32(info[1]);
  const float* e = f32(info[2]);
  float* o = f32(info[3]);
  int64_t n = static_cast<int64_t>(len(info[3]));
#pragma omp parallel for simd if (n > kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; i++) o[i] = c[i] ? t[i] : e[i];
  return info.Env().Undefined();
}

// (dy, x, out, alpha): the LeakyReLU gradient in one pass instead of Greater + Multiply + Select.
Napi::Value LeakyReluGrad(const Napi::CallbackInfo& info) {
  const float* dy = f32(info[0]);
  const float* x = f32(info[1]);
  float* o = f32(info[2]);
  float alpha = static_cast<float>(num(info[3]));
  int64_t n = static_cast<int64_t>(len(info[2]));
#pragma omp parallel for simd if (n > kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; i++) o[i] = dy[i] * (x[i] > 0.f ? 1.f : alpha);
  return info.Env().Undefined();
}

// (bytes:Uint8Array, out, scale, offset): decoded images to floats, out = bytes * scale + offset.
Napi::Value BytesToFloat(const Napi::CallbackInfo& info) {
  const uint8_t* x = u8(info[0]);
  float* o = f32(info[1]);
  float scale = static_cast<float>(num(info[2])), offset = static_cast<float>(num(info[3]));
  int64_t n = static_cast<int64_t>(len(info[1]));
#pragma omp parallel for simd if (n > kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; i++) o[i] = static_cast<float>(x[i]) * scale + offset;
  return info.Env().Undefined();
}

// (inputs:Float32Array[], out)
Napi::Value AddN(const Napi::CallbackInfo& info) {
  auto arr = info[0].As<Napi::Array>();
  std::vector<const float*> xs(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) xs[i] = f32(arr.Get(i));
  float* o = f32(info[1]);
  int64_t n = static_cast<int64_t>(len(info[1]));
  size_t k = xs.size();
#pragma omp parallel for if (n > kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    float s = 0.f;
    for (size_t j = 0; j < k; j++) s += xs[j][i];
    o[i] = s;
  }
  return info.Env().Undefined();
}

// (x, mean, variance, offset|null, scale|null, eps, out): parameters have length C (the last dim) or 1.
Napi::Value BatchNormApply(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0]);
  float* o = f32(info[6]);
  int64_t n = static_cast<int64_t>(len(info[0]));
  auto param = [&](int i, int64_t& l) -> const float* {
    if (info[i].IsNull() || info[i].IsUndefined()) { l = 0; return nullptr; }
    l = static_cast<int64_t>(len(info[i]));
    return f32(info[i]);
  };
  int64_t lm, lv, lo, ls;
  const float* mean = param(1, lm);
  const float* var = param(2, lv);
  const float* off = param(3, lo);
  const float* sc = param(4, ls);
  int64_t c = std::max({lm, lv, lo, ls, int64_t(1)});
  float eps = static_cast<float>(num(info[5]));
  std::vector<float> mul(c), add(c);
  for (int64_t j = 0; j < c; j++) {
    float m = mean[lm == 1 ? 0 : j], v = var[lv == 1 ? 0 : j];
    float s = sc ? sc[ls == 1 ? 0 : j] : 1.f, b = off ? off[lo == 1 ? 0 : j] : 0.f;
    mul[j] = s / std::sqrt(v + eps);
    add[j] = b - m * mul[j];
  }
  int64_t rows = n / c;
  const float* pm = mul.data();
  const float* pa = add.data();
#pragma omp parallel for if (n > kParallelMin) schedule(static)
  for (int64_t r = 0; r < rows; r++) {
#pragma omp simd
    for (int64_t j = 0; j < c; j++) o[r * c + j] = x[r * c + j] * pm[j] + pa[j];
  }
  return info.Env().Undefined();
}

}  // namespace

void init_eltwise(Napi::Env env, Napi::Object exports) {
  expose(exports, "unary", UnaryOp);
  expose(exports, "binary", BinaryOp);
  expose(exports, "select", Select);
  expose(exports, "leakyReluGrad", LeakyReluGrad);
  expose(exports, "bytesToFloat", BytesToFloat);
  expose(exports, "addN", AddN);
  expose(exports, "batchNormApply", BatchNormApply);
}

}  // namespace synthset
