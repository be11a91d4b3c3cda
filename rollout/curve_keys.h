// curve_keys.h: ZeroMQ CURVE key pairs for authenticated, encrypted sockets
// between the orchestrator and workers on other machines.
//
//   CurveKeyPair server = generate_curve_keypair();
//   write_key_file("server.key", server);             // public=... / secret=... (Z85)
//   CurveKeyPair k = read_key_file("server.key");
//
// Keys are 40-character Z85 strings. Binding beyond loopback requires a
// server key pair (is_loopback_endpoint tells which endpoints are local).
#pragma once

#include <string>

namespace grpo::rollout {

struct CurveKeyPair {
  std::string public_key;  // Z85, 40 chars
  std::string secret_key;  // Z85, 40 chars; empty for a peer's public key only
  bool empty() const { return public_key.empty(); }
};

CurveKeyPair generate_curve_keypair();
// File of lines "public=<z85>" and "secret=<z85>" (secret optional); '#' comments.
// Throws IoError / Error naming the file.
CurveKeyPair read_key_file(const std::string& path);
void write_key_file(const std::string& path, const CurveKeyPair& keys);
// A literal 40-char Z85 key, or the public key read from a key file.
std::string public_key_from(const std::string& key_or_file);

// ipc://, inproc://, tcp://127.x.x.x, tcp://localhost, tcp://[::1].
bool is_loopback_endpoint(const std::string& endpoint);

}  // namespace grpo::rollout
