// loopback_port.h: a TCP port on 127.0.0.1 that nobody listens on now, for a
// rendezvous store (grpo train --nproc, the data-parallel tests).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/error.h"

namespace grpo {

// The kernel's pick for a socket bound to port 0; `purpose` names the caller in the error.
inline int free_loopback_port(const std::string& purpose) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  const int err = errno;
  if (fd >= 0) ::close(fd);
  if (!ok) throw Error(purpose + ": no free loopback port: " + std::strerror(err));
  return ntohs(a.sin_port);
}

}  // namespace grpo
