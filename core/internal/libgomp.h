// libgomp.h: the libgomp entry points the project calls itself (the
// libgomp.so.1 LibTorch links; core/CMakeLists.txt links the same file).
#pragma once

#include <ATen/Config.h>

#if AT_PARALLEL_OPENMP
extern "C" {
void GOMP_parallel(void (*fn)(void*), void* data, unsigned num_threads, unsigned flags);
void GOMP_barrier(void);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_in_parallel(void);
}
#endif
