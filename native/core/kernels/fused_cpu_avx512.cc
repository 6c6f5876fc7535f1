// The fused CPU kernels for AVX-512 (F, BW, VL, DQ). The build compiles this file alone with those
// -m flags (and defines TRM_X86_KERNELS on x86-64); fused_cpu.cc calls it only on CPUs that have them.
#if defined(TRM_X86_KERNELS)
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__) || !defined(__AVX512DQ__)
#error "fused_cpu_avx512.cc needs -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma"
#endif
#define CPU_CAPABILITY AVX512
#define CPU_CAPABILITY_AVX512
#define TRM_ISA avx512
#define TRM_ISA_NAME "avx512"
#include "fused_cpu_impl.h"
#endif
