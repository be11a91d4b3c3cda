// zmq_io.h (rollout-internal): sending and receiving WireMessages on cppzmq
// sockets, with or without a ROUTER routing-id frame in front.
#pragma once

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <string>
#include <vector>

#include "core/wire_message.h"

namespace grpo::rollout::internal {

inline void send_parts(zmq::socket_t& socket, const std::vector<std::string>& parts, const std::string* routing_id = nullptr) {
  std::vector<zmq::const_buffer> buffers;
  if (routing_id) buffers.push_back(zmq::buffer(*routing_id));
  for (const std::string& p : parts) buffers.push_back(zmq::buffer(p));
  zmq::send_multipart(socket, buffers);
}

inline void send_message(zmq::socket_t& socket, const WireMessage& m, const std::string* routing_id = nullptr) {
  send_parts(socket, encode_message(m), routing_id);
}

// Receives one multipart message without blocking; false when none is waiting.
inline bool try_recv_parts(zmq::socket_t& socket, std::vector<std::string>& parts) {
  std::vector<zmq::message_t> msgs;
  auto n = zmq::recv_multipart(socket, std::back_inserter(msgs), zmq::recv_flags::dontwait);
  if (!n) return false;
  parts.clear();
  for (auto& m : msgs) parts.emplace_back(static_cast<const char*>(m.data()), m.size());
  return true;
}

}  // namespace grpo::rollout::internal
