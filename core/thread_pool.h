// thread_pool.h: a fixed pool of worker threads running submitted tasks in
// FIFO order. Used for rewards and other CPU work beside LibTorch's own pool.
//
//   ThreadPool pool(4);
//   auto f = pool.submit([] { return 42; });
//   int v = f.get();   // exceptions thrown by the task come out of get()
//
// Thread-safe. The destructor finishes the queued tasks, then joins.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace grpo {

class ThreadPool {
 public:
  // threads == 0 means one per available core.
  explicit ThreadPool(size_t threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size(); }

  template <class F> auto submit(F&& f) -> std::future<std::invoke_result_t<F>> {
    using R = std::invoke_result_t<F>;
    auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(f));
    std::future<R> result = task->get_future();
    enqueue([task] { (*task)(); });
    return result;
  }

 private:
  void enqueue(std::function<void()> job);
  void run();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mutex_)
  bool stopping_ = false;                    // GUARDED_BY(mutex_)
  std::vector<std::thread> workers_;
};

// Cores this process may run on (sched_getaffinity), at least 1.
int available_cores();

}  // namespace grpo
