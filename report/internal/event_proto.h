// event_proto.h (report-internal): the few TensorBoard protobuf messages we
// write, encoded and decoded by hand, and TFRecord framing around them.
//
// Why by hand and not protoc: we need four messages and eight fields
// (tensorflow/core/util/event.proto: Event.wall_time=1 double, Event.step=2
// int64, Event.file_version=3 string, Event.summary=5; summary.proto:
// Event.session_log=7 (6 is the deprecated log_message); Summary.value=1 repeated, Value.tag=1 string,
// Value.simple_value=2 float; SessionLog.status=1 enum).
// Their wire format is fixed by protobuf's compatibility rules, so ~80 lines
// are exact and spare the build a vendored .proto, a codegen step and a
// libprotobuf link. The test reads our files with TensorBoard's own reader.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace grpo::report::internal {

// An Event carrying only file_version "brain.Event:2": the first record of
// every event file, which TensorBoard uses to recognise the format.
std::string encode_file_version_event(double wall_time);

// An Event at `step` whose Summary holds one simple_value per entry of
// `scalars` (tag -> value; stored as float32, as TensorBoard does).
std::string encode_scalars_event(double wall_time, int64_t step, const std::map<std::string, double>& scalars);

// An Event carrying SessionLog{status: START} at `step`: tells TensorBoard the
// writer restarted there, so it drops the points it holds at steps >= `step`
// (event_accumulator's purge on restart; Event.session_log=7, SessionLog.status=1).
std::string encode_restart_event(double wall_time, int64_t step);

// The fields of an Event we read back; nullopt when `bytes` is not a
// well-formed protobuf message.
struct DecodedEvent {
  double wall_time = 0.0;
  int64_t step = 0;
  bool has_summary = false;
  std::map<std::string, float> scalars;  // Summary values that have simple_value
};
std::optional<DecodedEvent> decode_event(std::string_view bytes);

// TFRecord framing of one record: uint64 length, masked CRC32C of the
// length, the data, masked CRC32C of the data (all little-endian).
std::string frame_record(std::string_view data);

// Calls `on_record` for each complete record with valid CRCs from `offset`
// on and returns the offset just past the last one: a torn or corrupt tail
// (a writer killed mid-record) ends the scan there.
size_t scan_records(std::string_view file, size_t offset, const std::function<void(std::string_view)>& on_record);

}  // namespace grpo::report::internal
