#include "rollout/curve_keys.h"

#include <zmq.h>

#include <fstream>
#include <sstream>

#include "core/error.h"

namespace grpo::rollout {

CurveKeyPair generate_curve_keypair() {
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0)
    throw Error("zmq_curve_keypair failed: this libzmq was built without CURVE (libsodium); install libzmq5 from Debian");
  return CurveKeyPair{pub, sec};
}

CurveKeyPair read_key_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError(path, "cannot read CURVE key file");
  CurveKeyPair keys;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("public=", 0) == 0) keys.public_key = line.substr(7);
    else if (line.rfind("secret=", 0) == 0) keys.secret_key = line.substr(7);
  }
  if (keys.public_key.size() != 40 || (!keys.secret_key.empty() && keys.secret_key.size() != 40))
    throw IoError(path, "expected lines public=<40-char Z85 key> and secret=<40-char Z85 key>; make one with `grpo rollout-worker --keygen FILE`");
  return keys;
}

void write_key_file(const std::string& path, const CurveKeyPair& keys) {
  std::ofstream out(path);
  if (!out) throw IoError(path, "cannot write CURVE key file");
  out << "# ZeroMQ CURVE keys (Z85). Keep the secret line private.\npublic=" << keys.public_key << "\n";
  if (!keys.secret_key.empty()) out << "secret=" << keys.secret_key << "\n";
}

std::string public_key_from(const std::string& key_or_file) {
  // Z85 keys may contain '/', so a 40-char argument that is no readable file is the key itself.
  std::ifstream probe(key_or_file);
  if (!probe && key_or_file.size() == 40) return key_or_file;
  return read_key_file(key_or_file).public_key;
}

bool is_loopback_endpoint(const std::string& endpoint) {
  if (endpoint.rfind("ipc://", 0) == 0 || endpoint.rfind("inproc://", 0) == 0) return true;
  if (endpoint.rfind("tcp://", 0) != 0) return false;
  std::string host = endpoint.substr(6);
  return host.rfind("127.", 0) == 0 || host.rfind("localhost:", 0) == 0 || host.rfind("[::1]:", 0) == 0;
}

}  // namespace grpo::rollout
