// tensorboard_writer.h: TensorBoardWriter appends scalars to one TensorBoard
// event file (TFRecord framing, masked CRC32C, Event/Summary protobufs), so
// `tensorboard --logdir runs` shows the curves.
//
//   TensorBoardWriter tb("runs/demo/tb/events.out.tfevents.grpo");
//   tb.add_scalars(/*step=*/3, {{"reward/mean", 0.25}, {"kl/mean", 0.01}});
//   tb.flush();  // readers see complete records only after a flush
//
// Opening an existing file appends to it; a torn record at its end (a writer
// killed mid-write) is cut off first. Values are stored as float32, the
// precision of TensorBoard's simple_value. Not thread-safe; one per file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>

namespace grpo::report {

// Where the last scalar event of a file sits: its step and wall time.
struct EventPosition {
  int64_t step = 0;
  double wall_time = 0.0;
};

class TensorBoardWriter {
 public:
  // Opens (creating it and its directory if needed) the event file at `path`.
  // Throws IoError naming the path.
  explicit TensorBoardWriter(const std::string& path);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  // One event at `step` holding every scalar (tag -> value). wall_time is unix
  // seconds; 0 means now. TensorBoard groups tags by their first '/' segment.
  void add_scalars(int64_t step, const std::map<std::string, double>& scalars, double wall_time = 0.0);
  void add_scalar(const std::string& tag, int64_t step, double value, double wall_time = 0.0);
  // Marks a restart at `step` (a resumed run redoing steps): TensorBoard then
  // drops what it shows at steps >= `step` before reading what follows.
  void add_restart(int64_t step, double wall_time = 0.0);
  void flush();

  const std::string& path() const { return path_; }
  // The last scalar event in the file (read on open, then what we wrote);
  // nullopt while the file holds none.
  const std::optional<EventPosition>& last_event() const { return last_; }
  // Bytes in the file after our writes, once flushed.
  uint64_t size() const { return size_; }

 private:
  void recover_existing();
  void write_record(const std::string& event);
  std::string path_;
  std::FILE* file_ = nullptr;
  std::optional<EventPosition> last_;
  uint64_t size_ = 0;
};

}  // namespace grpo::report
