# Finds every external library of the project. All come from Debian packages
# except LibTorch, which comes from the torch wheel in .venv (scripts/setup.sh).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

# LibTorch: found through CMAKE_PREFIX_PATH; scripts/configure.sh points it at
# the wheel. A CUDA wheel needs the CUDA toolkit to configure and link.
find_package(Torch REQUIRED)
# TorchConfig finds libtorch.so and libc10.so with find_library, which prefers
# system paths: with Debian's libtorch-dev installed beside the wheel it mixes
# 1.13's libc10 into a 2.x build, which aborts at load time. Refuse that mix.
foreach(lib IN ITEMS TORCH_LIBRARY c10_LIBRARY)
  get_filename_component(lib_path "${${lib}}" REALPATH)
  get_filename_component(prefix "${TORCH_INSTALL_PREFIX}" REALPATH)
  string(FIND "${lib_path}" "${prefix}/" at)
  if(NOT at EQUAL 0)
    message(FATAL_ERROR
      "${lib}=${${lib}} is not from the LibTorch at ${TORCH_INSTALL_PREFIX}: "
      "two LibTorch installs are mixed. Put ${TORCH_INSTALL_PREFIX} first in "
      "CMAKE_PREFIX_PATH (scripts/configure.sh does) or pass -D${lib}=...")
  endif()
endforeach()
set(GRPO_TORCH_HAS_CUDA OFF)
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
  set(GRPO_TORCH_HAS_CUDA ON)
endif()
if(GRPO_CUDA STREQUAL "AUTO")
  set(GRPO_WITH_CUDA ${GRPO_TORCH_HAS_CUDA})
else()
  set(GRPO_WITH_CUDA ${GRPO_CUDA})
endif()
if(GRPO_WITH_CUDA)
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
endif()
# NCCL data parallelism (learner/data_parallel.cpp): a CUDA LibTorch defines
# USE_C10D_NCCL, and its ProcessGroupNCCL.hpp includes nccl.h, which the
# wheel's nvidia-nccl package ships beside torch (the CUDA toolkit need not).
unset(GRPO_NCCL_INCLUDE_DIR)
if(GRPO_WITH_CUDA)
  find_path(GRPO_NCCL_INCLUDE_DIR nccl.h NO_CACHE
    HINTS "${TORCH_INSTALL_PREFIX}/../nvidia/nccl/include" ${CUDAToolkit_INCLUDE_DIRS})
endif()
if(GRPO_NCCL_INCLUDE_DIR)
  set(GRPO_NCCL_STATUS "NCCL data parallel ON (nccl.h in ${GRPO_NCCL_INCLUDE_DIR})")
else()
  set(GRPO_NCCL_STATUS "NCCL data parallel OFF")
endif()
message(STATUS "grpo: LibTorch ${Torch_VERSION}, CUDA paths ${GRPO_WITH_CUDA}, ${GRPO_NCCL_STATUS}")

find_package(nlohmann_json 3 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
pkg_check_modules(ZMQ REQUIRED IMPORTED_TARGET libzmq)
# libzmq.pc's Cflags hold "-isystem /usr/include/mit-krb5" (for GSSAPI, which
# zmq.h does not include): FindPkgConfig counts it as an include directory on
# the first configure and as a compile option on later ones, which changed every
# compile command (a full rebuild, and ccache misses) after any re-configure.
set(zmq_include_dirs ${ZMQ_INCLUDE_DIRS})
list(FILTER zmq_include_dirs EXCLUDE REGEX "mit-krb5")
set_target_properties(PkgConfig::ZMQ PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${zmq_include_dirs}"
  INTERFACE_COMPILE_OPTIONS "")
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(GMP REQUIRED IMPORTED_TARGET gmp)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

if(GRPO_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(GRPO_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# The Python of the project virtualenv: tests and benchmarks run the reference
# implementations (transformers, tokenizers, trl, math-verify) with it.
set(GRPO_PYTHON "${PROJECT_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH "Python with the reference packages")
# shared/ sits beside the checkout (real tokenizer files for parity tests).
get_filename_component(GRPO_SHARED_DIR "${PROJECT_SOURCE_DIR}/../shared" ABSOLUTE)
