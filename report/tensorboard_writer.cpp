#include "report/tensorboard_writer.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/log.h"
#include "core/wall_clock.h"
#include "report/internal/event_proto.h"

namespace grpo::report {
namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

TensorBoardWriter::TensorBoardWriter(const std::string& path) : path_(path) {
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) throw IoError(parent.string(), "cannot create TensorBoard directory: " + ec.message());
  recover_existing();
  file_ = std::fopen(path.c_str(), "ab");
  if (!file_) throw IoError(path, "cannot open TensorBoard event file for appending: " + errno_text());
  if (size_ == 0) {
    write_record(internal::encode_file_version_event(unix_seconds()));
    flush();
  }
}

TensorBoardWriter::~TensorBoardWriter() {
  if (file_) std::fclose(file_);
}

// Reads an existing file to learn its last scalar event and cuts off a torn
// tail, so that appended records stay readable (TensorBoard stops at the
// first bad record).
void TensorBoardWriter::recover_existing() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string bytes = buffer.str();
  size_t good = internal::scan_records(bytes, 0, [&](std::string_view record) {
    auto event = internal::decode_event(record);
    if (event && event->has_summary) last_ = EventPosition{event->step, event->wall_time};
  });
  if (good != bytes.size()) {
    GRPO_LOG_WARN("tensorboard", path_ << ": cutting " << bytes.size() - good
                                       << " bytes of a torn or corrupt record at the end");
    if (::truncate(path_.c_str(), static_cast<off_t>(good)) != 0)
      throw IoError(path_, "cannot cut the torn end of the event file: " + errno_text());
  }
  size_ = good;
}

void TensorBoardWriter::write_record(const std::string& event) {
  std::string framed = internal::frame_record(event);
  if (std::fwrite(framed.data(), 1, framed.size(), file_) != framed.size())
    throw IoError(path_, "cannot write TensorBoard event: " + errno_text());
  size_ += framed.size();
}

void TensorBoardWriter::add_scalars(int64_t step, const std::map<std::string, double>& scalars, double wall_time) {
  if (wall_time <= 0) wall_time = unix_seconds();
  write_record(internal::encode_scalars_event(wall_time, step, scalars));
  last_ = EventPosition{step, wall_time};
}

void TensorBoardWriter::add_scalar(const std::string& tag, int64_t step, double value, double wall_time) {
  add_scalars(step, {{tag, value}}, wall_time);
}

void TensorBoardWriter::add_restart(int64_t step, double wall_time) {
  write_record(internal::encode_restart_event(wall_time <= 0 ? unix_seconds() : wall_time, step));
}

void TensorBoardWriter::flush() {
  if (std::fflush(file_) != 0) throw IoError(path_, "cannot flush TensorBoard event file: " + errno_text());
}

}  // namespace grpo::report
