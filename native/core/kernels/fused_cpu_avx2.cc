// The fused CPU kernels for AVX2 + FMA. The build compiles this file alone with -mavx2 -mfma -mf16c
// (and defines TRM_X86_KERNELS on x86-64); fused_cpu.cc calls it only on CPUs that have AVX2.
#if defined(TRM_X86_KERNELS)
#if !defined(__AVX2__) || !defined(__FMA__)
#error "fused_cpu_avx2.cc needs -mavx2 -mfma -mf16c"
#endif
#define CPU_CAPABILITY AVX2
#define CPU_CAPABILITY_AVX2
#define TRM_ISA avx2
#define TRM_ISA_NAME "avx2"
#include "fused_cpu_impl.h"
#endif
