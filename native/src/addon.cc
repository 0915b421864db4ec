#include "common.h"
#include <omp.h>

namespace synthset {

dnnl::engine& eng() { static dnnl::engine e(dnnl::engine::kind::cpu, 0); return e; }
dnnl::stream& strm() { static dnnl::stream s(eng()); return s; }
Stats& stats() { static Stats s; return s; }
bool& bf16_mode() { static bool b = false; return b; }

void add_act_postop(dnnl::post_ops& po, int act, float alpha) {
  using A = dnnl::algorithm;
  switch (act) {
    case kRelu: po.append_eltwise(1.f, A::eltwise_relu, 0.f, 0.f); break;
    case kRelu6: po.append_eltwise(1.f, A::eltwise_clip, 0.f, 6.f); break;
    case kElu: po.append_eltwise(1.f, A::eltwise_elu, 1.f, 0.f); break;
    case kLeaky: po.append_eltwise(1.f, A::eltwise_relu, alpha, 0.f); break;
    case kSigmoid: po.append_eltwise(1.f, A::eltwise_logistic, 0.f, 0.f); break;
    case kTanh: po.append_eltwise(1.f, A::eltwise_tanh, 0.f, 0.f); break;
    default: break;
  }
}

static Napi::Value Info(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto o = Napi::Object::New(env);
  auto v = dnnl::version();
  o.Set("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  o.Set("threads", omp_get_max_threads());
  const char* isa = "unknown";
  const auto eff = dnnl::get_effective_cpu_isa();
  switch (eff) {
    case dnnl::cpu_isa::avx512_core_amx: isa = "avx512_core_amx"; break;
    case dnnl::cpu_isa::avx512_core_bf16: isa = "avx512_core_bf16"; break;
    case dnnl::cpu_isa::avx512_core_vnni: isa = "avx512_core_vnni"; break;
    case dnnl::cpu_isa::avx512_core: isa = "avx512_core"; break;
    case dnnl::cpu_isa::avx2: isa = "avx2"; break;
    case dnnl::cpu_isa::sse41: isa = "sse41"; break;
    default: break;
  }
  o.Set("isa", isa);
  // cpu_isa values are bit sets that grow with the ISA, so "at least AVX512-BF16" (AMX included) is
  // a mask test. The effective ISA honours ONEDNN_MAX_CPU_ISA, so AVX2 there reports no bf16.
  const unsigned need = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  o.Set("bf16Supported", (static_cast<unsigned>(eff) & need) == need);
  o.Set("bf16Enabled", bf16_mode());
  return o;
}

static Napi::Value SetBf16(const Napi::CallbackInfo& info) {
  bf16_mode() = info[0].As<Napi::Boolean>().Value();
  return info.Env().Undefined();
}

static Napi::Value GetStats(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
  o.Set("convMs", stats().conv_ms);
  o.Set("convCalls", static_cast<double>(stats().conv_calls));
  o.Set("convFlops", stats().conv_flops);
  o.Set("matmulMs", stats().mm_ms);
  o.Set("matmulCalls", static_cast<double>(stats().mm_calls));
  o.Set("convTimed", static_cast<double>(stats().conv_timed));
  if (info.Length() > 0 && info[0].ToBoolean()) stats() = Stats();
  return o;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  expose(exports, "info", Info);
  expose(exports, "setBf16", SetBf16);
  expose(exports, "stats", GetStats);
  init_conv(env, exports);
  init_matmul(env, exports);
  init_eltwise(env, exports);
  init_reduce(env, exports);
  init_bnorm(env, exports);
  init_adam(env, exports);
  init_pool(env, exports);
  init_softmax(env, exports);
  return exports;
}

}  // namespace synthset

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return synthset::Init(env, exports); }

NODE_API_MODULE(synthset_onednn, InitAddon)
