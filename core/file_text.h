// file_text.h: reading a whole file that is expected to be there (written by
// this run or checked before), where a missing file needs no error of its own.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace grpo {

// The bytes of the file at `path`; "" when it cannot be opened.
inline std::string read_file_or_empty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace grpo
