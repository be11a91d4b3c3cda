// Declaration only (see ../../README.md): ProcessGroupGloo.hpp holds devices and buffers by pointer.
#pragma once
namespace gloo::transport {
class Device;
class UnboundBuffer;
}  // namespace gloo::transport
