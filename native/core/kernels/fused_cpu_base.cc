// The fused CPU kernels for the baseline instruction set (any CPU; ATen's generic Vectorized<>).
#define CPU_CAPABILITY DEFAULT
#define TRM_ISA base
#define TRM_ISA_NAME "base"
#include "fused_cpu_impl.h"
