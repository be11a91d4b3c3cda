// program.cpp: language names.
#include "sandbox/program.h"

#include "core/error.h"

namespace grpo::sandbox {

Language parse_language(const std::string& name) {
  if (name == "python" || name == "python3" || name == "py") return Language::kPython;
  if (name == "cpp" || name == "c++" || name == "cxx") return Language::kCpp;
  throw Error("unknown program language '" + name + "': use python or cpp");
}

const char* language_name(Language l) { return l == Language::kPython ? "python" : "cpp"; }

}  // namespace grpo::sandbox
