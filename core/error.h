// error.h: the exceptions of grpo-cpp. One flat hierarchy; every message says
// what went wrong, where (file, key path, peer) and, when it can, the fix.
// Expected outcomes (a wrong program, a failed reward) are values, not these.
#pragma once

#include <stdexcept>
#include <string>

namespace grpo {

// Base of every error the toolkit throws on purpose.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A recipe or config problem: names the file and the key path.
// what() reads "recipes/r1.json: learner.epsilon: must be in (0, 1), got 1.5".
class ConfigError : public Error {
 public:
  ConfigError(std::string file, std::string key_path, const std::string& message)
      : Error(format(file, key_path, message)), file_(std::move(file)), key_path_(std::move(key_path)) {}
  const std::string& file() const { return file_; }
  const std::string& key_path() const { return key_path_; }

 private:
  static std::string format(const std::string& file, const std::string& key, const std::string& msg) {
    // A key spelt as a flag ("--device") came from the command line, not a recipe file.
    const bool flag = key.rfind("--", 0) == 0;
    std::string out = !file.empty() ? file : flag ? std::string("command line") : std::string("<recipe>");
    if (!key.empty()) out += ": " + key;
    return out + ": " + msg;
  }
  std::string file_;
  std::string key_path_;
};

// A file-system or storage problem: names the path.
class IoError : public Error {
 public:
  IoError(std::string path, const std::string& message)
      : Error(path + ": " + message), path_(std::move(path)) {}
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A malformed or unexpected message from a peer: names the peer and message type.
class ProtocolError : public Error {
 public:
  ProtocolError(const std::string& peer, const std::string& message_type, const std::string& message)
      : Error(peer + ": " + (message_type.empty() ? "" : message_type + ": ") + message) {}
};

}  // namespace grpo
