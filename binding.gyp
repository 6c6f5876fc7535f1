# node-gyp build of the same sources and flags as CMakeLists.txt (the default build is cmake-js).
# LibTorch's flags come from scripts/libtorch.js; scripts/build-gyp.js drives this build.
{
  "targets": [
    {
      "target_name": "trm_native",
      "sources": ["<!@(node scripts/gyp-sources.js)"],
      "include_dirs": [
        "native",
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node scripts/libtorch.js --include-dirs)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "<!@(node scripts/libtorch.js --defines)"
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
