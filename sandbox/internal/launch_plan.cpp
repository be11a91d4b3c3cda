// launch_plan.cpp: the plan's byte format (shared by the host and the init
// program) and the names of set-up steps.
#include "sandbox/internal/launch_plan.h"

#include <cstring>
#include <type_traits>

namespace grpo::sandbox::internal {
namespace {

// Bump kFormat whenever LaunchPlan::visit changes: an init program from another
// build then refuses the plan instead of misreading it.
constexpr char kMagic[8] = {'g', 'r', 'p', 'o', 'i', 'n', 'i', 't'};
constexpr uint64_t kFormat = 2;

template <class T> struct IsVector : std::false_type {};
template <class T> struct IsVector<std::vector<T>> : std::true_type {};

// Integers as 8 bytes, strings and vectors as a count then their items,
// structs through their visit(); sock_filter as its raw 8 bytes.
struct Writer {
  std::string out;
  void raw(const void* p, size_t n) { out.append(static_cast<const char*>(p), n); }
  template <class T> void operator()(const T& value) {
    if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
      const int64_t v = static_cast<int64_t>(value);
      raw(&v, sizeof v);
    } else if constexpr (std::is_same_v<T, sock_filter>) {
      raw(&value, sizeof value);
    } else if constexpr (std::is_same_v<T, std::string>) {
      (*this)(value.size());
      raw(value.data(), value.size());
    } else if constexpr (IsVector<T>::value) {
      (*this)(value.size());
      for (const auto& item : value) (*this)(item);
    } else {
      T::visit(value, *this);
    }
  }
};

struct Reader {
  const std::string& in;
  size_t at = 0;
  bool ok = true;
  bool raw(void* p, size_t n) {
    if (!ok || in.size() - at < n) return ok = false;
    std::memcpy(p, in.data() + at, n);
    at += n;
    return true;
  }
  // A count that the remaining bytes can hold (each item takes at least one byte).
  bool count(size_t* n) {
    int64_t v = 0;
    if (!raw(&v, sizeof v) || v < 0 || static_cast<uint64_t>(v) > in.size() - at) return ok = false;
    *n = static_cast<size_t>(v);
    return true;
  }
  template <class T> void operator()(T& value) {
    if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
      int64_t v = 0;
      if (raw(&v, sizeof v)) value = static_cast<T>(v);
    } else if constexpr (std::is_same_v<T, sock_filter>) {
      raw(&value, sizeof value);
    } else if constexpr (std::is_same_v<T, std::string>) {
      size_t n = 0;
      if (!count(&n)) return;
      value.assign(in.data() + at, n);
      at += n;
    } else if constexpr (IsVector<T>::value) {
      size_t n = 0;
      if (!count(&n)) return;
      value.assign(n, typename T::value_type{});
      for (auto& item : value) (*this)(item);
    } else {
      T::visit(value, *this);
    }
  }
};

}  // namespace

std::string encode_plan(const LaunchPlan& plan) {
  Writer w;
  w.raw(kMagic, sizeof kMagic);
  w(kFormat);
  LaunchPlan::visit(plan, w);
  return std::move(w.out);
}

bool decode_plan(const std::string& bytes, LaunchPlan* plan) {
  Reader r{bytes};
  char magic[sizeof kMagic];
  uint64_t format = 0;
  if (!r.raw(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof magic) != 0) return false;
  r(format);
  if (!r.ok || format != kFormat) return false;
  LaunchPlan::visit(*plan, r);
  return r.ok && r.at == bytes.size();
}

const char* setup_step_name(int32_t step) {
  static const char* const names[] = {"none", "waiting for the host", "setting ids", "making mounts private",
                                      "mounting the root tmpfs", "making a directory", "bind mount", "read-only remount",
                                      "symlink", "tmpfs mount", "copying program files in", "pivot_root",
                                      "read-only root", "chdir", "fork", "copying the output file out", "chown",
                                      "reading the launch plan (is grpo-sandbox-init from the same build as grpo?)"};
  return step >= 0 && step <= kStepPlan ? names[step] : "unknown step";
}

}  // namespace grpo::sandbox::internal
