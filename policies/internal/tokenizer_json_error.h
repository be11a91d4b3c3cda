// tokenizer_json_error.h: the error every tokenizer.json parser throws, so that
// a malformed file is reported the same way wherever it is read.
#pragma once

#include <string>

#include "core/error.h"

namespace grpo::policies::internal {

// Throws "tokenizer.json: <where>: <what>"; `where` is the key path (model.vocab...).
[[noreturn]] inline void tokenizer_json_fail(const std::string& where, const std::string& what) {
  throw Error("tokenizer.json: " + where + ": " + what);
}

}  // namespace grpo::policies::internal
