#include "report/tensorboard_export.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "core/run_store.h"

namespace grpo::report {
namespace {

// Holds an exclusive flock for its lifetime.
class FileLock {
 public:
  explicit FileLock(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw IoError(path, std::string("cannot open lock file: ") + std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        ::close(fd_);
        throw IoError(path, std::string("cannot lock: ") + std::strerror(errno));
      }
    }
  }
  ~FileLock() { ::close(fd_); }  // closing releases the lock
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

uint64_t file_size(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

}  // namespace

std::string tensorboard_dir(const std::string& run_dir) { return run_dir + "/tb"; }

TensorBoardSync::TensorBoardSync(std::string tb_dir) : dir_(std::move(tb_dir)) {}
TensorBoardSync::~TensorBoardSync() = default;

int64_t TensorBoardSync::sync(const RunStore& store) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw IoError(dir_, "cannot create TensorBoard directory: " + ec.message());
  FileLock lock(dir_ + "/.grpo-lock");
  // Another process may have appended (or someone deleted the file) since our
  // last sync: then reopen, which rereads where the file ends.
  if (!writer_ || file_size(event_file()) != writer_->size())
    writer_ = std::make_unique<TensorBoardWriter>(event_file());

  std::optional<EventPosition> last = writer_->last_event();
  int64_t written = 0;
  std::vector<MetricPoint> pending;  // (step, commit time)
  for (const MetricPoint& st : store.step_times())
    if (!last || std::tie(st.value, st.step) > std::tie(last->wall_time, last->step)) pending.push_back(st);
  std::sort(pending.begin(), pending.end(), [](const MetricPoint& a, const MetricPoint& b) {
    return std::tie(a.value, a.step) < std::tie(b.value, b.step);
  });
  for (const MetricPoint& st : pending) {
    // A step at or before the last one written was redone by a resumed run.
    if (last && st.step <= last->step) writer_->add_restart(st.step, st.value);
    writer_->add_scalars(st.step, store.step_metrics(st.step), st.value);
    last = writer_->last_event();
    ++written;
  }
  writer_->flush();
  return written;
}

int64_t export_tensorboard(const RunStore& store, const std::string& tb_dir) {
  return TensorBoardSync(tb_dir).sync(store);
}

}  // namespace grpo::report
