// Whether this CPU multiplies bf16 natively (AVX512-BF16 or AMX-BF16, enabled by the OS, with
// LibTorch's oneDNN to use them): the hardware half of the default forward dtype (lib/config.ts
// defaultForwardDtype), where bf16 runs ~4x the fp32 matmul rate. Elsewhere bf16 is emulated and
// slower than fp32.
#pragma once

#include <string>
#include <vector>

namespace trm {

struct CpuBf16 {
  bool native = false;
  std::vector<std::string> features;  // e.g. {"avx512_bf16", "amx_bf16"}; /proc/cpuinfo's names
  bool onednn = false;                // LibTorch was built with oneDNN (mkldnn)
};

CpuBf16 cpu_bf16();

}  // namespace trm
