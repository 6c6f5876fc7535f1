# Included before find_package(Torch). When the LibTorch at Torch_DIR is a CUDA build, its CMake
# files expect the caller to have a CUDA toolkit configured; this finds what they need, for a
# PyTorch wheel (CUDA library headers, NCCL and cuDNN live in site-packages/nvidia/*) or a plain
# LibTorch zip (everything in the toolkit), and prints every choice. Each can be overridden:
#   CUDA_HOME / -DCUDA_TOOLKIT_ROOT_DIR   the toolkit (bin/nvcc + include/cuda_runtime.h)
#   TORCH_CUDA_ARCH_LIST (env or -D)      GPU architectures (default 9.0;8.0;8.6;8.9)
#   -DCUDA_nvrtc_LIBRARY                  libnvrtc (TorchConfig requires one to exist)
# Sets TRM_CUDA (ON/OFF), TRM_CUDA_INCLUDE_DIRS, TRM_CUDA_LIBRARY_DIRS and TRM_NCCL_INCLUDE.

set(TRM_CUDA OFF)
set(TRM_CUDA_INCLUDE_DIRS "")
set(TRM_CUDA_LIBRARY_DIRS "")
if(NOT Torch_DIR)
  return()
endif()
get_filename_component(_trm_torch_root "${Torch_DIR}/../../.." ABSOLUTE)
if(NOT EXISTS "${_trm_torch_root}/lib/libtorch_cuda.so")
  return()
endif()
set(TRM_CUDA ON)

# The wheel's CUDA libraries: site-packages/nvidia/<name>/{include,lib} beside site-packages/torch
# (cu13 wheels: nvidia/cu13, nvidia/nccl, nvidia/cudnn; cu12 wheels: nvidia/cuda_runtime, ...).
get_filename_component(_trm_site "${_trm_torch_root}/.." ABSOLUTE)
file(GLOB _trm_wheel_includes LIST_DIRECTORIES true "${_trm_site}/nvidia/*/include")
file(GLOB _trm_wheel_libs LIST_DIRECTORIES true "${_trm_site}/nvidia/*/lib")

# 1. The toolkit: the first candidate with bin/nvcc and include/cuda_runtime.h. FindCUDA derives it
#    from the nvcc on PATH, which fails when that is a wrapper script (/usr/local/bin/nvcc).
if(NOT CUDA_TOOLKIT_ROOT_DIR)
  set(_trm_candidates "$ENV{CUDA_HOME}" "$ENV{CUDA_PATH}" "$ENV{CUDA_ROOT}")
  find_program(_trm_nvcc_on_path nvcc)
  if(_trm_nvcc_on_path)
    get_filename_component(_trm_real "${_trm_nvcc_on_path}" REALPATH)
    get_filename_component(_trm_dir "${_trm_real}/../.." ABSOLUTE)
    list(APPEND _trm_candidates "${_trm_dir}")
  endif()
  file(GLOB _trm_versioned LIST_DIRECTORIES true "/usr/local/cuda-*")
  list(SORT _trm_versioned COMPARE NATURAL ORDER DESCENDING)
  list(APPEND _trm_candidates /usr/local/cuda ${_trm_versioned} /opt/cuda)
  foreach(_c IN LISTS _trm_candidates)
    if(_c AND EXISTS "${_c}/bin/nvcc" AND EXISTS "${_c}/include/cuda_runtime.h")
      set(CUDA_TOOLKIT_ROOT_DIR "${_c}" CACHE PATH "CUDA toolkit root (found by trm-native)")
      break()
    endif()
  endforeach()
  if(NOT CUDA_TOOLKIT_ROOT_DIR)
    string(REPLACE ";" ", " _trm_tried "${_trm_candidates}")
    message(FATAL_ERROR "trm-native: the LibTorch at ${_trm_torch_root} is a CUDA build, but no CUDA toolkit "
                        "(bin/nvcc and include/cuda_runtime.h) was found; tried: ${_trm_tried}. Install the CUDA "
                        "toolkit matching that LibTorch or set CUDA_HOME to it; or build against a CPU LibTorch.")
  endif()
endif()
if(NOT CMAKE_CUDA_COMPILER)
  set(CMAKE_CUDA_COMPILER "${CUDA_TOOLKIT_ROOT_DIR}/bin/nvcc" CACHE FILEPATH "nvcc (found by trm-native)")
endif()
# Torch's cuda.cmake copies CMAKE_CXX_STANDARD (20) to CUDA, a dialect CMake < 3.26 does not know for
# nvcc; our .cu kernels are C++17 and include no torch headers.
set(CMAKE_CUDA_STANDARD 17)
# One CUDA runtime in the process: the shared one LibTorch also loads, not a static copy.
set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)

# 2. Architectures. With no GPU to detect, torch's arch detection has nothing to go on.
if(NOT DEFINED TORCH_CUDA_ARCH_LIST)
  if(DEFINED ENV{TORCH_CUDA_ARCH_LIST})
    set(TORCH_CUDA_ARCH_LIST "$ENV{TORCH_CUDA_ARCH_LIST}")
    set(_trm_arch_from "from $TORCH_CUDA_ARCH_LIST")
  else()
    set(TORCH_CUDA_ARCH_LIST "9.0;8.0;8.6;8.9")  # H100/H200, A100, RTX 30xx/A40, RTX 40xx/L40S
    set(_trm_arch_from "default; set TORCH_CUDA_ARCH_LIST to change it")
  endif()
else()
  set(_trm_arch_from "from -DTORCH_CUDA_ARCH_LIST")
endif()

# 3. nvrtc: TorchConfig fails with CUDA_nvrtc_LIBRARY NOTFOUND. The wheel ships libnvrtc.so.N with no
#    unversioned link, a LibTorch zip a hashed copy in its lib/; the addon itself never calls nvrtc.
if(NOT CUDA_nvrtc_LIBRARY)
  set(_trm_nvrtc "")
  foreach(_d IN LISTS _trm_wheel_libs ITEMS "${_trm_torch_root}/lib" "${CUDA_TOOLKIT_ROOT_DIR}/lib64" "${CUDA_TOOLKIT_ROOT_DIR}/lib")
    file(GLOB _trm_found "${_d}/libnvrtc.so*" "${_d}/libnvrtc-*.so*")
    list(FILTER _trm_found EXCLUDE REGEX "builtins|\\.alt\\.")
    if(_trm_found)
      list(GET _trm_found 0 _trm_nvrtc)
      break()
    endif()
  endforeach()
  if(_trm_nvrtc)
    set(CUDA_nvrtc_LIBRARY "${_trm_nvrtc}" CACHE FILEPATH "libnvrtc (found by trm-native)")
  endif()
endif()

# 4. NCCL's header (for ProcessGroupNCCL), in LibTorch, the wheel or the toolkit.
find_path(TRM_NCCL_INCLUDE nccl.h PATHS "${_trm_torch_root}/include" ${_trm_wheel_includes} "${CUDA_TOOLKIT_ROOT_DIR}/include"
          /usr/include /usr/local/include NO_DEFAULT_PATH)

set(TRM_CUDA_INCLUDE_DIRS "${CUDA_TOOLKIT_ROOT_DIR}/include" ${_trm_wheel_includes})
set(TRM_CUDA_LIBRARY_DIRS ${_trm_wheel_libs} "${CUDA_TOOLKIT_ROOT_DIR}/lib64")
message(STATUS "trm-native: CUDA toolkit ${CUDA_TOOLKIT_ROOT_DIR}, nvcc ${CMAKE_CUDA_COMPILER}")
message(STATUS "trm-native: CUDA architectures ${TORCH_CUDA_ARCH_LIST} (${_trm_arch_from})")
message(STATUS "trm-native: nvrtc ${CUDA_nvrtc_LIBRARY}; NCCL header in ${TRM_NCCL_INCLUDE}")
if(_trm_wheel_includes)
  message(STATUS "trm-native: CUDA library headers from the wheel: ${_trm_wheel_includes}")
endif()
