#include "cpu_bf16.h"

#include <ATen/Context.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define TRM_CPUID 1
#endif

namespace trm {
namespace {

#ifdef TRM_CPUID
// XCR0: which register states the OS saves on a context switch (read with xgetbv).
unsigned long long xcr0() {
  unsigned int lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
}
#endif

}  // namespace

CpuBf16 cpu_bf16() {
  CpuBf16 r;
  r.onednn = at::hasMKLDNN();
#ifdef TRM_CPUID
  unsigned int a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return r;  // OSXSAVE: xgetbv is usable
  const unsigned long long xcr = xcr0();
  const bool avx512_state = (xcr & 0xE6) == 0xE6;               // SSE, AVX, opmask, ZMM halves
  const bool amx_state = (xcr & (3ull << 17)) == (3ull << 17);  // XTILECFG, XTILEDATA
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    if (amx_state && (d & (1u << 22)) && (d & (1u << 24))) r.features.push_back("amx_bf16");  // AMX-BF16 + AMX-TILE
    unsigned int a1 = 0, b1 = 0, c1 = 0, d1 = 0;
    if (avx512_state && (b & (1u << 16)) && __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1) && (a1 & (1u << 5)))
      r.features.insert(r.features.begin(), "avx512_bf16");  // AVX512F + AVX512_BF16
  }
#endif
  r.native = r.onednn && !r.features.empty();
  return r;
}

}  // namespace trm
