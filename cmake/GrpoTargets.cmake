# Helpers that give every target of the project the same shape.
#
#   grpo_library(grpo_core SOURCES a.cpp b.cpp DEPS nlohmann_json::nlohmann_json [TORCH])
#   grpo_test(core_tests SOURCES x_test.cpp DEPS grpo_core [TORCH])
#
# TORCH marks a target whose sources include LibTorch headers: it reuses one
# precompiled header of <torch/torch.h>, which turns a 20 s compile per file
# into a few seconds. scripts/configure.sh picks clang++ when it is installed:
# its PCH keeps the template instantiations of <torch/torch.h>
# (-fpch-instantiate-templates, added by CMake), while GCC redoes them in every
# file (5.5 s of an empty file's 7.4 s), so clang compiles most LibTorch files
# 2-3 times faster (README "Building by hand"). Both compilers are supported.

# -pthread everywhere: some pkg-config flags (RE2, ZeroMQ) add it, it defines
# _REENTRANT, and a PCH built without it is silently ignored by every target
# that has it (-Winvalid-pch says so).
add_compile_options(-pthread)

set(GRPO_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)

# The one precompiled LibTorch header, built once and reused by every TORCH target.
add_library(grpo_torch_pch STATIC ${PROJECT_SOURCE_DIR}/cmake/torch_pch.cpp)
target_link_libraries(grpo_torch_pch PUBLIC ${TORCH_LIBRARIES})
target_compile_options(grpo_torch_pch PRIVATE ${GRPO_WARNINGS})
target_precompile_headers(grpo_torch_pch PRIVATE <torch/torch.h>)
# ccache caches PCH users only when the preprocessed output names the PCH
# (GCC), or when the PCH holds no timestamps (clang).
set(GRPO_PCH_CCACHE_FLAGS $<$<CXX_COMPILER_ID:GNU>:-fpch-preprocess>)
target_compile_options(grpo_torch_pch PRIVATE ${GRPO_PCH_CCACHE_FLAGS}
  $<$<CXX_COMPILER_ID:Clang>:SHELL:-Xclang -fno-pch-timestamp>)

function(_grpo_target_common target)
  cmake_parse_arguments(A "TORCH" "" "DEPS" ${ARGN})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${target} PRIVATE ${GRPO_WARNINGS})
  target_link_libraries(${target} PUBLIC ${A_DEPS})
  if(A_TORCH)
    target_link_libraries(${target} PUBLIC ${TORCH_LIBRARIES})
    target_precompile_headers(${target} REUSE_FROM grpo_torch_pch)
    target_compile_options(${target} PRIVATE ${GRPO_PCH_CCACHE_FLAGS})
  endif()
  if(GRPO_WITH_CUDA)
    target_compile_definitions(${target} PUBLIC GRPO_WITH_CUDA=1)
  endif()
  if(GRPO_UNITY)
    # The batches include the PCH like single files do. Helpers of a target's
    # files must have distinct names (scripts/unity-check.sh finds clashes).
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${GRPO_UNITY_BATCH_SIZE})
    # GCC takes a .cpp included by a batch for a header, and then warns that a
    # class of that .cpp holds a member of an anonymous-namespace type, which
    # is harmless there (rollout/worker.cpp's WorkerState).
    target_compile_options(${target} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-subobject-linkage>)
    # nvcc files stay apart (CMake 3.25 batches only C and C++; later ones may
    # batch CUDA too, whose files need their own compile flags).
    get_target_property(target_sources ${target} SOURCES)
    list(FILTER target_sources INCLUDE REGEX "\\.cu$")
    if(target_sources)
      set_source_files_properties(${target_sources} PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
    endif()
  endif()
endfunction()

function(grpo_library name)
  cmake_parse_arguments(A "TORCH" "" "SOURCES;DEPS" ${ARGN})
  if(NOT A_SOURCES)
    # A folder with headers only so far.
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} INTERFACE ${A_DEPS})
    return()
  endif()
  add_library(${name} STATIC ${A_SOURCES})
  if(A_TORCH)
    _grpo_target_common(${name} DEPS ${A_DEPS} TORCH)
  else()
    _grpo_target_common(${name} DEPS ${A_DEPS})
  endif()
endfunction()

# A GoogleTest executable; each TEST becomes one ctest test, discovered when
# ctest runs (not at build time, so building never runs LibTorch code).
function(grpo_test name)
  cmake_parse_arguments(A "TORCH" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  if(A_TORCH)
    _grpo_target_common(${name} DEPS ${A_DEPS} grpo_test_support GTest::gtest_main GTest::gmock TORCH)
  else()
    _grpo_target_common(${name} DEPS ${A_DEPS} grpo_test_support GTest::gtest_main GTest::gmock)
  endif()
  # Paths reach tests compiled into grpo_test_support (test_env.h): CMake 3.25
  # drops all but the first variable of an ENVIRONMENT list here. The one
  # variable is OpenMP's wait policy, which must be set before the process starts.
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE"
    TEST_PREFIX "${name}.")
endfunction()

# A benchmark program (Google Benchmark).
function(grpo_bench name)
  cmake_parse_arguments(A "TORCH" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  if(A_TORCH)
    _grpo_target_common(${name} DEPS ${A_DEPS} benchmark::benchmark TORCH)
  else()
    _grpo_target_common(${name} DEPS ${A_DEPS} benchmark::benchmark)
  endif()
endfunction()

# The library of one code folder: every .cpp in the folder and its internal/
# subfolder (so adding a file needs no CMake edit).
#   grpo_module(grpo_rewards DEPS grpo_core grpo_sandbox PkgConfig::RE2 [TORCH])
function(grpo_module name)
  cmake_parse_arguments(A "TORCH" "" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp ${CMAKE_CURRENT_SOURCE_DIR}/internal/*.cpp)
  if(A_TORCH)
    grpo_library(${name} SOURCES ${sources} DEPS ${A_DEPS} TORCH)
  else()
    grpo_library(${name} SOURCES ${sources} DEPS ${A_DEPS})
  endif()
endfunction()
