# node-gyp build of the same sources and flags as CMakeLists.txt (the default build is cmake-js).
# LibTorch's flags come from scripts/libtorch.js; scripts/build-gyp.js drives this build.
{
  "variables": {
    # Shared by the addon and the per-instruction-set kernel libraries below.
    "trm_includes": [
      "native",
      "<!(node -p \"require('node-addon-api').include_dir\")",
      "<!@(node scripts/libtorch.js --include-dirs)"
    ],
    "trm_defines": ["<!@(node scripts/libtorch.js --defines)"],
    "trm_isa_cflags": ["-std=c++20", "-frtti", "-fexceptions", "-O2", "-fPIC", "-ffp-contract=off",
                       "-Wno-unknown-pragmas", "-Wno-maybe-uninitialized", "-Wno-uninitialized"]
  },
  # The AVX2 and AVX-512 copies of the fused CPU kernels (native/core/kernels/fused_cpu_impl.h), each
  # compiled alone with its -m flags, as CMakeLists.txt does per source file; x86-64 only.
  "conditions": [["target_arch=='x64'", {
    "targets": [
      {
        "target_name": "trm_fused_avx2",
        "type": "static_library",
        "sources": ["native/core/kernels/fused_cpu_avx2.cc"],
        "include_dirs": ["<@(trm_includes)"],
        "defines": ["<@(trm_defines)", "TRM_X86_KERNELS=1"],
        "cflags_cc!": ["-fno-rtti", "-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
        "cflags_cc": ["<@(trm_isa_cflags)", "-mavx2", "-mfma", "-mf16c"]
      },
      {
        "target_name": "trm_fused_avx512",
        "type": "static_library",
        "sources": ["native/core/kernels/fused_cpu_avx512.cc"],
        "include_dirs": ["<@(trm_includes)"],
        "defines": ["<@(trm_defines)", "TRM_X86_KERNELS=1"],
        "cflags_cc!": ["-fno-rtti", "-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
        "cflags_cc": ["<@(trm_isa_cflags)", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mfma"]
      }
    ]
  }]],
  "targets": [
    {
      # The baseline copy of the fused CPU kernels, alone for its flags (ATen's vector headers warn).
      "target_name": "trm_fused_base",
      "type": "static_library",
      "sources": ["native/core/kernels/fused_cpu_base.cc"],
      "include_dirs": ["<@(trm_includes)"],
      "defines": ["<@(trm_defines)"],
      "cflags_cc!": ["-fno-rtti", "-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["<@(trm_isa_cflags)"]
    },
    {
      "target_name": "trm_native",
      "dependencies": ["trm_fused_base"],
      "conditions": [["target_arch=='x64'", {
        "dependencies": ["trm_fused_avx2", "trm_fused_avx512"],
        "defines": ["TRM_X86_KERNELS=1"]
      }]],
      "sources": ["<!@(node scripts/gyp-sources.js)"],
      "include_dirs": ["<@(trm_includes)"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "<@(trm_defines)"
      ],
      # LibTorch needs RTTI and exceptions, and its 2.13 headers C++20.
      "cflags_cc!": ["-fno-rtti", "-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      # -fopenmp: at::parallel_for in our kernels is an inline OpenMP pragma (see CMakeLists.txt).
      "cflags_cc": ["-std=c++20", "-frtti", "-fexceptions", "-O2", "-Wno-unused-parameter", "-fopenmp"],
      "ldflags": ["-fopenmp"],
      "libraries": [
        "-L<!(node scripts/libtorch.js --lib-dir)",
        "<!@(node scripts/libtorch.js --libs)",
        "-Wl,-rpath,<!(node scripts/libtorch.js --lib-dir)"
      ]
    }
  ]
}
