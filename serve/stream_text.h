// stream_text.h: the text of one completion sent piece by piece (server-sent
// events) so that the pieces always add up to the engine's final text.
//
//   StreamText s(decode, /*longest_stop_bytes=*/5);
//   for each new token: send(s.push(token));
//   at the end:         send(s.finish(completion.text));
//
// Two things can make an early piece wrong, and both are held back:
//  - a stop string: the engine cuts it (and a token straddling its start) from
//    the final text, so the newest `longest stop string` tokens are not sent
//    until they can no longer begin one (each token is at least one byte);
//  - a token ending mid UTF-8 character decodes to U+FFFD: trailing U+FFFD is
//    held until the next token completes the character.
// Not thread-safe; one per streamed completion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rollout/stop_criteria.h"

namespace grpo::serve {

class StreamText {
 public:
  // decode: ids -> text (the engine's decode); holdback_tokens: the byte
  // length of the longest stop string (0 without stop strings).
  StreamText(rollout::DecodeFn decode, size_t holdback_tokens);

  // Appends a token that did not end the completion; returns the text that
  // is now safe to send (possibly empty).
  std::string push(int64_t token);
  // The rest of `final_text` (the engine's cut text, which starts with all
  // that was sent).
  std::string finish(const std::string& final_text);

  const std::string& sent() const { return sent_; }

 private:
  rollout::DecodeFn decode_;
  size_t holdback_;
  std::vector<int64_t> ids_;
  std::string sent_;
};

}  // namespace grpo::serve
