// Declaration only (see ../README.md): ProcessGroupGloo.hpp holds gloo::Context
// by shared_ptr and names setTimeout in an inline function grpo-cpp never calls.
#pragma once

#include <chrono>

namespace gloo {

class Context {
 public:
  void setTimeout(std::chrono::milliseconds timeout);
};

}  // namespace gloo
