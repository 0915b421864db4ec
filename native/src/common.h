// Shared helpers for the synthset oneDNN addon. JS owns every buffer: the addon only reads and writes
// the Float32Arrays it is handed (zero-copy), so nothing here allocates tensors.
#pragma once
#include <napi.h>
#include <dnnl.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace synthset {

dnnl::engine& eng();
dnnl::stream& strm();

inline float* f32(const Napi::Value& v) {
  auto a = v.As<Napi::TypedArray>();
  if (a.TypedArrayType() != napi_float32_array) throw Napi::TypeError::New(v.Env(), "expected a Float32Array");
  return reinterpret_cast<float*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
}
inline uint8_t* u8(const Napi::Value& v) {
  auto a = v.As<Napi::TypedArray>();
  return static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
}
inline size_t len(const Napi::Value& v) { return v.As<Napi::TypedArray>().ElementLength(); }
inline int64_t i64(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }
inline double num(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }
inline std::vector<int64_t> ints(const Napi::Value& v) {
  auto a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}
inline std::string key_of(const char* tag, std::initializer_list<int64_t> xs) {
  std::string k(tag);
  for (auto x : xs) { k += ':'; k += std::to_string(x); }
  return k;
}
inline std::string key_of(std::string k, const std::vector<int64_t>& xs) {
  for (auto x : xs) { k += ','; k += std::to_string(x); }
  return k;
}

// Elementwise loops fork only above this size: an OpenMP region costs a few microseconds.
constexpr int64_t kParallelMin = 1 << 15;

// Activation codes shared with src/engine/native.ts.
enum Act { kLinear = 0, kRelu = 1, kRelu6 = 2, kElu = 3, kLeaky = 4, kSigmoid = 5, kTanh = 6 };
void add_act_postop(dnnl::post_ops& po, int act, float alpha);

inline double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Process-wide counters the benchmark reads to report where time goes.
// conv_timed: shapes whose implementation was chosen by timing the candidates (not from a preset).
struct Stats { double conv_ms = 0; int64_t conv_calls = 0; double conv_flops = 0; double mm_ms = 0; int64_t mm_calls = 0; int64_t conv_timed = 0; };
Stats& stats();
bool& bf16_mode();

// Exposes a function to JS with oneDNN / C++ errors turned into JS exceptions (the JS side falls
// back to `cpu` on them) instead of terminating the process.
template <typename F>
void expose(Napi::Object exports, const char* name, F f) {
  exports.Set(name, Napi::Function::New(exports.Env(), [f, name](const Napi::CallbackInfo& info) -> Napi::Value {
    try {
      return f(info);
    } catch (const Napi::Error&) {
      throw;
    } catch (const dnnl::error& e) {
      throw Napi::Error::New(info.Env(), std::string(name) + ": oneDNN error " + std::to_string(e.status) + ": " + e.what());
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), std::string(name) + ": " + e.what());
    }
  }));
}

void init_conv(Napi::Env env, Napi::Object exports);
void init_matmul(Napi::Env env, Napi::Object exports);
void init_eltwise(Napi::Env env, Napi::Object exports);
void init_reduce(Napi::Env env, Napi::Object exports);
void init_bnorm(Napi::Env env, Napi::Object exports);
void init_adam(Napi::Env env, Napi::Object exports);
void init_pool(Napi::Env env, Napi::Object exports);
void init_softmax(Napi::Env env, Napi::Object exports);

}  // namespace synthset
