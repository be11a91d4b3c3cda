// messages.h: the rollout protocol between the orchestrator (WorkerPool) and
// rollout workers, on top of core/wire_message.h. Names of the message types
// and the JSON form of group requests and results live here, once.
//
//   worker -> pool: hello {worker, pid, credits, host}    first message
//                   heartbeat {version, queued}           every heartbeat interval
//                   weights_applied {version}             a complete version is in use
//                   weights_unstaged {version, reason}    cannot read the shared buffer: send chunks instead
//                   setup_failed {reason}                 cannot build the model (e.g. its device is missing)
//                   result {request_id, weight_version, completions}
//   pool -> worker: setup {model_config, max_slots, kv_budget_tokens, device, dtype, decode} + [tokenizer.json bytes]
//                   weights_begin {version, tensors: [meta], chunks}
//                   weights_chunk {version, index, pieces: [{tensor, offset}]} + one frame per piece
//                   weights_staged {version, segment, bytes, tensors: [meta + offset], cuda, ipc_offset,
//                                   device_index} + [CUDA IPC handle]   (rollout/weight_staging.h)
//                   generate {request_id, min_version, request}
//                   shutdown {}
//
// Conversions throw ProtocolError on malformed fields. Stateless.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "rollout/generation_types.h"

namespace grpo::rollout::msg {

inline constexpr const char* kHello = "hello";
inline constexpr const char* kHeartbeat = "heartbeat";
inline constexpr const char* kWeightsApplied = "weights_applied";
inline constexpr const char* kWeightsUnstaged = "weights_unstaged";
inline constexpr const char* kSetupFailed = "setup_failed";
inline constexpr const char* kResult = "result";
inline constexpr const char* kSetup = "setup";
inline constexpr const char* kWeightsBegin = "weights_begin";
inline constexpr const char* kWeightsChunk = "weights_chunk";
inline constexpr const char* kWeightsStaged = "weights_staged";
inline constexpr const char* kGenerate = "generate";
inline constexpr const char* kShutdown = "shutdown";

nlohmann::json params_to_json(const SamplingParams& p);
SamplingParams params_from_json(const nlohmann::json& j, const std::string& peer);

nlohmann::json request_to_json(const GroupRequest& r);
GroupRequest request_from_json(const nlohmann::json& j, const std::string& peer);

nlohmann::json result_to_json(const GroupResult& r);
GroupResult result_from_json(const nlohmann::json& j, const std::string& peer);

// Reads a required field of type T; ProtocolError naming the field otherwise.
template <class T> T get(const nlohmann::json& j, const char* key, const std::string& peer, const std::string& type) {
  if (!j.is_object()) throw ProtocolError(peer, type, "expected an object holding \"" + std::string(key) + "\"");
  auto it = j.find(key);
  if (it == j.end()) throw ProtocolError(peer, type, "missing field \"" + std::string(key) + "\"");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw ProtocolError(peer, type, "field \"" + std::string(key) + "\" has the wrong type: " + e.what());
  }
}

}  // namespace grpo::rollout::msg
