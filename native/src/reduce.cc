// Reductions over one contiguous block of axes, seen as (outer, r, inner): tfjs's cpu backend
// transposes the whole tensor first, which dominated a training step (Sum over N,H,W of NHWC).
// Sums accumulate in double per thread so results do not depend on the thread count much.
#include "common.h"
#include <omp.h>
#include <cmath>
#include <limits>

namespace synthset {
namespace {

enum Op { kSum = 0, kMean = 1, kMax = 2, kMin = 3 };

template <int OP>
inline double init() {
  if constexpr (OP == kMax) return -std::numeric_limits<double>::infinity();
  if constexpr (OP == kMin) return std::numeric_limits<double>::infinity();
  return 0.0;
}
template <int OP>
inline double comb(double acc, double v) {
  if constexpr (OP == kMax) return v > acc ? v : acc;
  if constexpr (OP == kMin) return v < acc ? v : acc;
  return acc + v;
}

template <int OP>
void reduce(const float* x, float* out, int64_t outer, int64_t r, int64_t inner) {
  double scale = OP == kMean ? 1.0 / static_cast<double>(r) : 1.0;
  int64_t total = outer * r * inner;
  int threads = total > kParallelMin ? omp_get_max_threads() : 1;
  if (outer * inner >= 4 * threads || threads == 1) {
    // Enough independent outputs: each thread owns whole output rows.
#pragma omp parallel for if (threads > 1) schedule(static)
    for (int64_t o = 0; o < outer; o++) {
      std::vector<double> acc(inner, init<OP>());
      const float* base = x + o * r * inner;
      for (int64_t k = 0; k < r; k++) {
        const float* row = base + k * inner;
        for (int64_t i = 0; i < inner; i++) acc[i] = comb<OP>(acc[i], row[i]);
      }
      for (int64_t i = 0; i < inner; i++) out[o * inner + i] = static_cast<float>(acc[i] * scale);
    }
    return;
  }
  // Few outputs, long reductions: split r across threads, then combine the partials.
  std::vector<double> part(static_cast<size_t>(threads) * outer * inner, init<OP>());
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    double* acc = part.data() + static_cast<size_t>(t) * outer * inner;
    int64_t lo = r * t / nt, hi = r * (t + 1) / nt;
    for (int64_t o = 0; o < outer; o++) {
      double* a = acc + o * inner;
      const float* base = x + o * r * inner;
      if (inner == 1) {
        double s = init<OP>();
        for (int64_t k = lo; k < hi; k++) s = comb<OP>(s, base[k]);
        a[0] = s;
      } else {
        for (int64_t k = lo; k < hi; k++) {
          const float* row = base + k * inner;
#pragma omp simd
          for (int64_t i = 0; i < inner; i++) a[i] = comb<OP>(a[i], row[i]);
        }
      }
    }
  }
  for (int64_t j = 0; j < outer * inner; j++) {
    double s = init<OP>();
    for (int t = 0; t < threads; t++) s = comb<OP>(s, part[static_cast<size_t>(t) * outer * inner + j]);
    out[j] = static_cast<float>(s * scale);
  }
}

// (op, x, outer, r, inner, out)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  auto op = i64(info[0]);
  const float* x = f32(info[1]);
  int64_t outer = i64(info[2]), r = i64(info[3]), inner = i64(info[4]);
  float* out = f32(info[5]);
  switch (op) {
    case kSum: reduce<kSum>(x, out, outer, r, inner); break;
    case kMean: reduce<kMean>(x, out, outer, r, inner); break;
    case kMax: reduce<kMax>(x, out, outer, r, inner); break;
    case kMin: reduce<kMin>(x, out, outer, r, inner); break;
    default: throw Napi::RangeError::New(info.Env(), "reduce: unknown op");
  }
  return info.Env().Undefined();
}

}  // namespace

void init_reduce(Napi::Env env, Napi::Object exports) {
  expose(exports, "reduce", Reduce);
}

}  // namespace synthset
