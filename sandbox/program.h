// program.h: what to run in the sandbox: a language, the source, stdin.
// Interpreters and compilers are called by absolute system path, never
// through PATH or a user's shims (see SandboxConfig).
#pragma once

#include <string>

namespace grpo::sandbox {

enum class Language { kPython, kCpp };

// "python", "python3", "py" -> kPython; "cpp", "c++", "cxx" -> kCpp. Throws grpo::Error otherwise.
Language parse_language(const std::string& name);
const char* language_name(Language l);  // "python", "cpp"

// One program and its input. The source is written into the run's fresh /work.
struct Program {
  Language language = Language::kPython;
  std::string source;
  std::string stdin_text;
};

}  // namespace grpo::sandbox
