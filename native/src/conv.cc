// 2-D convolution forward, backward-data and backward-weights over oneDNN. Activations stay in the
// JS buffers (NHWC, zero-copy); weights are handed over as HWIO and reordered into whatever blocked
// format oneDNN prefers. Each shape is set up once: on first use every implementation oneDNN offers
// (for blocked and for plain weights) is timed and the fastest is kept.
#include "common.h"
#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace synthset {
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using md = dnnl::memory::desc;

namespace {

struct Shape { int64_t n, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw; };

Shape parse(const Napi::Value& v) {
  auto a = v.As<Napi::TypedArray>();
  if (a.ElementLength() != 17) throw Napi::Error::New(v.Env(), "conv: expected 17 shape parameters");
  const int32_t* p = reinterpret_cast<const int32_t*>(u8(v));
  return Shape{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15], p[16]};
}

// A user buffer bound to a primitive argument, converted through a scratch buffer when the
// primitive wants another layout or data type.
struct Port {
  md user, want;
  dnnl::memory user_mem, scratch;
  dnnl::reorder conv;
  bool converts = false;
  Port() = default;
  Port(const md& u, const md& w, bool is_output) : user(u), want(w) {
    user_mem = dnnl::memory(u, eng(), DNNL_MEMORY_NONE);
    converts = !(u == w);
    if (converts) {
      scratch = dnnl::memory(w, eng());
      conv = is_output ? dnnl::reorder(dnnl::reorder::primitive_desc(eng(), w, eng(), u))
                       : dnnl::reorder(dnnl::reorder::primitive_desc(eng(), u, eng(), w));
    }
  }
  dnnl::memory in(void* p) {
    user_mem.set_data_handle(p);
    if (!converts) return user_mem;
    conv.execute(strm(), {{DNNL_ARG_FROM, user_mem}, {DNNL_ARG_TO, scratch}});
    return scratch;
  }
  dnnl::memory out(void* p) {
    user_mem.set_data_handle(p);
    return converts ? scratch : user_mem;
  }
  void flush() {
    if (converts) conv.execute(strm(), {{DNNL_ARG_FROM, scratch}, {DNNL_ARG_TO, user_mem}});
  }
};

enum Kind { kFwd = 0, kBwdData = 1, kBwdWeights = 2 };

struct Entry {
  dnnl::primitive prim;
  Port a, b, c;  // fwd: src, wei, dst; bwd-data: diff_dst, wei, diff_src; bwd-weights: src, diff_dst, diff_wei
  Port bias;
  bool has_bias = false;
  std::string impl;
  bool plain = false;  // which candidate it is: (plain, skip) rebuilds it without timing
  int skip = 0;
};

struct Descs { md src_u, wei_u, dst_u, src, wei, dst, bias; };

Descs descs(const Shape& s, bool plain, bool bf16, bool bias) {
  dt t = bf16 ? dt::bf16 : dt::f32;
  Descs d;
  d.src_u = md({s.n, s.ic, s.ih, s.iw}, dt::f32, tag::nhwc);
  d.dst_u = md({s.n, s.oc, s.oh, s.ow}, dt::f32, tag::nhwc);
  d.wei_u = md({s.oc, s.ic, s.kh, s.kw}, dt::f32, tag::hwio);
  d.src = md({s.n, s.ic, s.ih, s.iw}, t, tag::nhwc);
  d.dst = md({s.n, s.oc, s.oh, s.ow}, t, tag::nhwc);
  d.wei = md({s.oc, s.ic, s.kh, s.kw}, t, plain ? tag::hwio : tag::any);
  d.bias = bias ? md({s.oc}, dt::f32, tag::x) : md();
  return d;
}

dnnl::convolution_forward::desc fwd_desc(const Shape& s, const Descs& d, const md& dst, bool bias) {
  return dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                         d.src, d.wei, bias ? d.bias : md(), dst, {s.sh, s.sw},
                                         {s.dh - 1, s.dw - 1}, {s.pt, s.pl}, {s.pb, s.pr});
}

// Returns null when fewer than skip + 1 implementations exist for the descriptor.
std::shared_ptr<Entry> build(Kind k, const Shape& s, bool plain, bool bf16, int act, float alpha, bool bias, int skip) {
  auto advance = [skip](auto& pd) {
    for (int i = 0; i < skip; i++)
      if (!pd.next_impl()) return false;
    return true;
  };
  auto d = descs(s, plain, bf16, bias);
  auto e = std::make_shared<Entry>();
  if (k == kFwd) {
    dnnl::primitive_attr attr;
    dnnl::post_ops po;
    add_act_postop(po, act, alpha);
    attr.set_post_ops(po);
    auto f32dst = md({s.n, s.oc, s.oh, s.ow}, dt::f32, tag::nhwc);
    auto pd = dnnl::convolution_forward::primitive_desc(fwd_desc(s, d, f32dst, bias), attr, eng());
    if (!advance(pd)) return nullptr;
    e->prim = dnnl::convolution_forward(pd);
    e->a = Port(d.src_u, pd.src_desc(), false);
    e->b = Port(d.wei_u, pd.weights_desc(), false);
    e->c = Port(d.dst_u, pd.dst_desc(), true);
    if (bias) { e->bias = Port(d.bias, pd.bias_desc(), false); e->has_bias = true; }
    e->impl = pd.impl_info_str();
  } else if (k == kBwdData) {
    auto hint = dnnl::convolution_forward::primitive_desc(fwd_desc(s, d, d.dst, false), eng());
    auto f32src = md({s.n, s.ic, s.ih, s.iw}, dt::f32, tag::nhwc);
    auto desc = dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, f32src, d.wei, d.dst,
                                                      {s.sh, s.sw}, {s.dh - 1, s.dw - 1}, {s.pt, s.pl}, {s.pb, s.pr});
    auto pd = dnnl::convolution_backward_data::primitive_desc(desc, eng(), hint);
    if (!advance(pd)) return nullptr;
    e->prim = dnnl::convolution_backward_data(pd);
    e->a = Port(d.dst_u, pd.diff_dst_desc(), false);
    e->b = Port(d.wei_u, pd.weights_desc(), false);
    e->c = Port(d.src_u, pd.diff_src_desc(), true);
    e->impl = pd.impl_info_str();
  } else {
    auto hint = dnnl::convolution_forward::primitive_desc(fwd_desc(s, d, d.dst, false), eng());
    auto wei = md({s.oc, s.ic, s.kh, s.kw}, dt::f32, plain ? tag::hwio : tag::any);
    auto desc = dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, d.src, wei, d.dst,
                                                         {s.sh, s.sw}, {s.dh - 1, s.dw - 1}, {s.pt, s.pl},
                                                         {s.pb, s.pr});
    auto pd = dnnl::convolution_backward_weights::primitive_desc(desc, eng(), hint);
    if (!advance(pd)) return nullptr;
    e->prim = dnnl::convolution_backward_weights(pd);
    e->a = Port(d.src_u, pd.src_desc(), false);
    e->b = Port(d.dst_u, pd.diff_dst_desc(), false);
    e->c = Port(d.wei_u, pd.diff_weights_desc(), true);
    e->impl = pd.impl_info_str();
  }
  e->plain = plain;
  e->skip = skip;
  return e;
}

void run(Kind k, Entry& e, void* a, void* b, void* c, void* bias) {
  std::unordered_map<int, dnnl::memory> args;
  if (k == kFwd) {
    args = {{DNNL_ARG_SRC, e.a.in(a)}, {DNNL_ARG_WEIGHTS, e.b.in(b)}, {DNNL_ARG_DST, e.c.out(c)}};
    if (e.has_bias) args[DNNL_ARG_BIAS] = e.bias.in(bias);
  } else if (k == kBwdData) {
    args = {{DNNL_ARG_DIFF_DST, e.a.in(a)}, {DNNL_ARG_WEIGHTS, e.b.in(b)}, {DNNL_ARG_DIFF_SRC, e.c.out(c)}};
  } else {
    args = {{DNNL_ARG_SRC, e.a.in(a)}, {DNNL_ARG_DIFF_DST, e.b.in(b)}, {DNNL_ARG_DIFF_WEIGHTS, e.c.out(c)}};
  }
  e.prim.execute(strm(), args);
  e.c.flush();
  strm().wait();
}

std::unordered_map<std::string, std::shared_ptr<Entry>>& cache() {
  static std::unordered_map<std::string, std::shared_ptr<Entry>> c;
  return c;
}

// Choices made by an earlier process (JS keeps them on disk): key -> candidate and its impl name.
struct Preset { bool plain; int skip; std::string impl; };
std::unordered_map<std::string, Preset>& presets() {
  static std::unordered_map<std::string, Preset> p;
  return p;
}

// A preset is used only when it rebuilds to the very implementation that was timed; anything else
// (another oneDNN, ISA or thread count slipped through the file's key) is timed afresh.
std::shared_ptr<Entry> from_preset(const std::string& key, Kind k, const Shape& s, int act, float alpha, bool bias) {
  auto it = presets().find(key);
  if (it == presets().end()) return nullptr;
  std::shared_ptr<Entry> e;
  try { e = build(k, s, it->second.plain, bf16_mode(), act, alpha, bias, it->second.skip); } catch (const dnnl::error&) { e = nullptr; }
  if (e && e->impl != it->second.impl) e = nullptr;
  if (!e) presets().erase(it);
  return e;
}

// Tries every implementation oneDNN offers for blocked and for plain (HWIO) weights, runs each on the
// call's own data, and keeps the fastest: oneDNN's first choice is not always the fastest on a
// given shape (gemm wins on 3-channel layers; brgconv vs jit varies).
std::shared_ptr<Entry> choose(Kind k, const Shape& s, int act, float alpha, bool bias, void* a, void* b, void* c,
                              void* bp) {
  bool bf16 = bf16_mode();
  std::vector<std::shared_ptr<Entry>> cands;
  std::vector<std::string> seen;
  for (bool plain : {false, true}) {
    for (int skip = 0; skip < 8; skip++) {
      std::shared_ptr<Entry> e;
      try { e = build(k, s, plain, bf16, act, alpha, bias, skip); } catch (const dnnl::error&) { break; }
      if (!e) break;
      std::string id = e->impl + (e->b.converts ? "/reorder" : "/plain");
      if (std::find(seen.begin(), seen.end(), id) != seen.end() || e->impl.find("ref") != std::string::npos) continue;
      seen.push_back(id);
      cands.push_back(e);
    }
  }
  if (cands.empty()) return build(k, s, false, bf16, act, alpha, bias, 0);
  if (cands.size() == 1) return cands[0];
  stats().conv_timed++;
  size_t best = 0;
  double best_ms = 1e30;
  for (size_t i = 0; i < cands.size(); i++) {
    double t = 1e30;
    for (int rep = 0; rep < 3; rep++) {
      double t0 = now_ms();
      run(k, *cands[i], a, b, c, bp);
      t = std::min(t, now_ms() - t0);
    }
    if (t < best_ms) { best_ms = t; best = i; }
    if (std::getenv("SYNTHSET_CONV_DEBUG"))
      fprintf(stderr, "conv kind %d ic %ld oc %ld ih %ld: %s%s %.3f ms\n", static_cast<int>(k), static_cast<long>(s.ic),
              static_cast<long>(s.oc), static_cast<long>(s.ih), cands[i]->impl.c_str(),
              cands[i]->b.converts ? " (blocked)" : " (plain)", t);
  }
  return cands[best];
}

Napi::Value Conv(const Napi::CallbackInfo& info, Kind k) {
  // (shape:Int32Array(17), a, b, c, [bias|null, act, alpha])
  Shape s = parse(info[0]);
  void* a = f32(info[1]);
  void* b = f32(info[2]);
  void* c = f32(info[3]);
  void* bp = nullptr;
  int act = 0;
  float alpha = 0.f;
  if (k == kFwd) {
    if (!info[4].IsNull() && !info[4].IsUndefined()) bp = f32(info[4]);
    act = static_cast<int>(i64(info[5]));
    alpha = static_cast<float>(num(info[6]));
  }
  std::string key = key_of(std::to_string(k) + (bf16_mode() ? "b" : "f") + (bp ? "B" : "-"),
                           {s.n, s.ih, s.iw, s.ic, s.oh, s.ow, s.oc, s.kh, s.kw, s.sh, s.sw, s.pt, s.pl, s.pb, s.pr,
                            s.dh, s.dw, act, static_cast<int64_t>(alpha * 1e6)});
  double t0 = now_ms();
  auto& slot = cache()[key];
  if (!slot) slot = from_preset(key, k, s, act, alpha, bp != nullptr);
  bool timed = false;
  if (!slot) {
    int64_t before = stats().conv_timed;
    slot = choose(k, s, act, alpha, bp != nullptr, a, b, c, bp);
    timed = stats().conv_timed != before;
  }
  run(k, *slot, a, b, c, bp);
  stats().conv_ms += now_ms() - t0;
  stats().conv_calls++;
  // Forward, backward-data and backward-weights all do the same multiply-adds.
  stats().conv_flops += 2.0 * s.n * s.oh * s.ow * s.oc * s.ic * s.kh * s.kw;
  // true: a new choice by timing, which JS saves to disk for the next process.
  return Napi::Boolean::New(info.Env(), timed);
}

Napi::Value Impls(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
  for (auto& kv : cache()) o.Set(kv.first, kv.second->impl);
  return o;
}

// {key: [plain 0|1, skip, impl]} for every shape set up in this process.
Napi::Value Choices(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto o = Napi::Object::New(env);
  for (auto& kv : cache()) {
    auto a = Napi::Array::New(env, 3);
    a.Set(0u, Napi::Number::New(env, kv.second->plain ? 1 : 0));
    a.Set(1u, Napi::Number::New(env, kv.second->skip));
    a.Set(2u, Napi::String::New(env, kv.second->impl));
    o.Set(kv.first, a);
  }
  return o;
}

// Takes choices in the shape Choices returns; malformed entries are skipped. Existing entries stay.
Napi::Value SetChoices(const Napi::CallbackInfo& info) {
  auto o = info[0].As<Napi::Object>();
  auto names = o.GetPropertyNames();
  uint32_t n = 0;
  for (uint32_t i = 0; i < names.Length(); i++) {
    auto key = names.Get(i).ToString().Utf8Value();
    auto v = o.Get(key);
    if (!v.IsArray()) continue;
    auto a = v.As<Napi::Array>();
    if (a.Length() != 3 || !a.Get(0u).IsNumber() || !a.Get(1u).IsNumber() || !a.Get(2u).IsString()) continue;
    int skip = a.Get(1u).As<Napi::Number>().Int32Value();
    if (skip < 0 || skip >= 8) continue;
    presets()[key] = Preset{a.Get(0u).As<Napi::Number>().Int32Value() != 0, skip, a.Get(2u).As<Napi::String>().Utf8Value()};
    n++;
  }
  return Napi::Number::New(info.Env(), n);
}

// Forgets every set-up shape and preset (tests).
Napi::Value Reset(const Napi::CallbackInfo& info) {
  cache().clear();
  presets().clear();
  return info.Env().Undefined();
}

}  // namespace

void init_conv(Napi::Env env, Napi::Object exports) {
  expose(exports, "conv2d", [](const Napi::CallbackInfo& i) { return Conv(i, kFwd); });
  expose(exports, "conv2dBackpropInput", [](const Napi::CallbackInfo& i) { return Conv(i, kBwdData); });
  expose(exports, "conv2dBackpropFilter", [](const Napi::CallbackInfo& i) { return Conv(i, kBwdWeights); });
  expose(exports, "convImpls", Impls);
  expose(exports, "convChoices", Choices);
  expose(exports, "setConvChoices", SetChoices);
  expose(exports, "convReset", Reset);
}

}  // namespace synthset
