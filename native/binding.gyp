{
  "targets": [
    {
      "target_name": "synthset_onednn",
      "sources": [
        "src/addon.cc",
        "src/conv.cc",
        "src/matmul.cc",
        "src/eltwise.cc",
        "src/reduce.cc",
        "src/bnorm.cc",
        "src/adam.cc",
        "src/pool.cc",
        "src/softmax.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "/usr/include/oneapi"],
      "libraries": ["-ldnnl", "-fopenmp"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-O2"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-O2"],
      "cflags_cc": ["-std=c++17", "-O3", "-ffast-math", "-march=native", "-fopenmp", "-fexceptions", "-Wno-unused-parameter"]
    }
  ]
}
