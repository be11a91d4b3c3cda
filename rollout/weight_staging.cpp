// weight_staging.cpp: see weight_staging.h.
#include "rollout/weight_staging.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "core/error.h"
#include "core/tensor_codec.h"
#include "rollout/cuda_ipc.h"
#include "rollout/messages.h"

namespace grpo::rollout {

namespace internal {

// A POSIX shared-memory segment mapped into this process; the creator unlinks it.
class SharedSegment {
 public:
  static std::unique_ptr<SharedSegment> create(const std::string& name, int64_t bytes) {
    int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0) throw Error("weight staging: cannot create shared memory " + name + ": " + std::strerror(errno));
    // Reserve the pages now: a full /dev/shm must fail here, not as SIGBUS on first write.
    int rc = posix_fallocate(fd, 0, bytes);
    if (rc != 0) {
      close(fd);
      shm_unlink(name.c_str());
      throw Error("weight staging: cannot reserve " + std::to_string(bytes) + " bytes of shared memory (" + std::strerror(rc) +
                  "); enlarge /dev/shm or set rollout.weight_sync to zmq");
    }
    return map(fd, name, bytes, /*owner=*/true);
  }

  static std::unique_ptr<SharedSegment> open(const std::string& name) {
    int fd = shm_open(name.c_str(), O_RDONLY, 0);
    if (fd < 0) throw Error("weight staging: cannot open shared memory " + name + ": " + std::strerror(errno));
    struct stat st {};
    if (fstat(fd, &st) != 0) {
      close(fd);
      throw Error("weight staging: cannot stat shared memory " + name);
    }
    return map(fd, name, st.st_size, /*owner=*/false);
  }

  ~SharedSegment() {
    munmap(data_, static_cast<size_t>(size_));
    if (owner_) shm_unlink(name_.c_str());
  }

  const std::string& name() const { return name_; }
  char* data() const { return static_cast<char*>(data_); }
  int64_t size() const { return size_; }
  StagingHeader& header() const { return *reinterpret_cast<StagingHeader*>(data_); }

 private:
  SharedSegment(std::string name, void* data, int64_t size, bool owner) : name_(std::move(name)), data_(data), size_(size), owner_(owner) {}

  static std::unique_ptr<SharedSegment> map(int fd, const std::string& name, int64_t bytes, bool owner) {
    void* data = mmap(nullptr, static_cast<size_t>(bytes), owner ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (data == MAP_FAILED) {
      if (owner) shm_unlink(name.c_str());
      throw Error("weight staging: cannot map shared memory " + name + ": " + std::strerror(errno));
    }
    return std::unique_ptr<SharedSegment>(new SharedSegment(name, data, bytes, owner));
  }

  std::string name_;
  void* data_;
  int64_t size_;
  bool owner_;
};

}  // namespace internal

namespace {

constexpr int64_t kStagingHeaderBytes = 64;  // the header's room at the start of the segment
constexpr int64_t kStagingAlign = 256;       // tensor offsets: any dtype's view, and coalesced device copies

static_assert(sizeof(StagingHeader) <= kStagingHeaderBytes, "the header must fit its room");
static_assert(std::atomic<int64_t>::is_always_lock_free, "the seqlock needs address-free atomics in shared memory");

// The bytes of one tensor inside `region`, viewed as that tensor.
torch::Tensor staging_slot(const torch::Tensor& region, int64_t offset, int64_t bytes, torch::ScalarType dtype,
                           const std::vector<int64_t>& shape) {
  return region.narrow(0, offset, bytes).view(dtype).view(shape);
}

void staging_wait_for_copies(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.is_cuda()) torch::cuda::synchronize(a.device().index());
  if (b.is_cuda()) torch::cuda::synchronize(b.device().index());
}

}  // namespace

struct StagingWriter::Layout {
  std::vector<std::string> names;
  std::vector<torch::ScalarType> dtypes;
  std::vector<std::vector<int64_t>> shapes;
  std::vector<int64_t> offsets, sizes;
  nlohmann::json metas = nlohmann::json::array();
  int64_t bytes = 0;
  torch::Device device = torch::kCPU;
  IpcBuffer ipc;  // CUDA buffers only
};

StagingWriter::StagingWriter(const NamedTensors& tensors) : layout_(std::make_unique<Layout>()) {
  Layout& l = *layout_;
  if (!tensors.empty()) l.device = tensors.front().second.device();
  for (const auto& [name, t] : tensors) {
    if (t.device() != l.device)
      throw Error("weight staging: tensor " + name + " is on " + t.device().str() + ", the others on " + l.device.str());
    int64_t size = t.numel() * static_cast<int64_t>(t.element_size());
    l.names.push_back(name);
    l.dtypes.push_back(t.scalar_type());
    l.shapes.push_back(t.sizes().vec());
    l.offsets.push_back(l.bytes);
    l.sizes.push_back(size);
    nlohmann::json meta = tensor_meta(name, t);
    meta["offset"] = l.bytes;
    l.metas.push_back(std::move(meta));
    l.bytes += (size + kStagingAlign - 1) / kStagingAlign * kStagingAlign;
  }
  static std::atomic<int> segments{0};
  std::string name = "/grpo-weights-" + std::to_string(getpid()) + "-" + std::to_string(segments++);
  bool host = !l.device.is_cuda();
  segment_ = internal::SharedSegment::create(name, kStagingHeaderBytes + (host ? l.bytes : 0));
  new (segment_->data()) StagingHeader();
  if (host) {
    region_ = torch::from_blob(segment_->data() + kStagingHeaderBytes, {l.bytes}, torch::kUInt8);
  } else {
    region_ = torch::empty({l.bytes}, torch::TensorOptions().dtype(torch::kUInt8).device(l.device));
    l.ipc = export_device_buffer(region_);
  }
}

StagingWriter::~StagingWriter() {
  // Readers still mapping the segment must not accept the freed buffer.
  segment_->header().begin.store(-2, std::memory_order_seq_cst);
}

int64_t StagingWriter::bytes() const { return layout_->bytes; }

void StagingWriter::write(int64_t version, const NamedTensors& tensors) {
  std::lock_guard<std::mutex> lock(mu_);
  const Layout& l = *layout_;
  if (tensors.size() != l.names.size()) throw Error("weight staging: version " + std::to_string(version) + " has " + std::to_string(tensors.size()) + " tensors, the buffer was laid out for " + std::to_string(l.names.size()));
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = tensors[i];
    if (name != l.names[i] || t.scalar_type() != l.dtypes[i] || t.sizes().vec() != l.shapes[i])
      throw Error("weight staging: tensor " + name + " (" + c10::toString(t.scalar_type()) + " " + c10::str(t.sizes()) +
                  ") does not match the buffer's layout (" + l.names[i] + ")");
  }
  torch::NoGradGuard no_grad;
  StagingHeader& h = segment_->header();
  h.begin.store(version, std::memory_order_seq_cst);  // readers of the previous version now drop their copies
  for (size_t i = 0; i < tensors.size(); ++i)
    staging_slot(region_, l.offsets[i], l.sizes[i], l.dtypes[i], l.shapes[i]).copy_(tensors[i].second);
  staging_wait_for_copies(region_, tensors.empty() ? region_ : tensors.front().second);
  h.end.store(version, std::memory_order_release);
  written_ = version;
}

WireMessage StagingWriter::announcement(int64_t version) const {
  const Layout& l = *layout_;
  WireMessage m{msg::kWeightsStaged,
                {{"version", version}, {"segment", segment_->name()}, {"bytes", l.bytes}, {"tensors", l.metas},
                 {"cuda", l.device.is_cuda()}, {"ipc_offset", l.ipc.offset}, {"device_index", l.ipc.device_index}},
                {}};
  if (l.device.is_cuda()) m.frames.push_back(l.ipc.handle);
  return m;
}

WeightSet StagingWriter::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  const Layout& l = *layout_;
  WeightSet set;
  set.version = written_;
  for (size_t i = 0; i < l.names.size(); ++i)
    set.tensors.emplace_back(l.names[i], staging_slot(region_, l.offsets[i], l.sizes[i], l.dtypes[i], l.shapes[i])
                                             .to(torch::kCPU, /*non_blocking=*/false, /*copy=*/true));
  return set;
}

StagingReader::StagingReader() = default;
StagingReader::~StagingReader() = default;

std::optional<WeightSet> StagingReader::read(const WireMessage& m, torch::Device device) {
  int64_t version = msg::get<int64_t>(m.fields, "version", peer_, m.type);
  std::string segment = msg::get<std::string>(m.fields, "segment", peer_, m.type);
  int64_t bytes = msg::get<int64_t>(m.fields, "bytes", peer_, m.type);
  auto metas = msg::get<nlohmann::json>(m.fields, "tensors", peer_, m.type);
  bool cuda = msg::get<bool>(m.fields, "cuda", peer_, m.type);
  if (bytes < 0 || !metas.is_array()) throw ProtocolError(peer_, m.type, "bad byte count or tensor list");
  if (cuda && m.frames.size() != 1) throw ProtocolError(peer_, m.type, "a CUDA buffer needs its IPC handle as the one frame");
  // Validate the layout before copying anything.
  std::vector<int64_t> offsets, sizes;
  for (const auto& meta : metas) {
    int64_t size = meta_byte_size(meta, peer_);
    int64_t offset = meta.contains("offset") && meta["offset"].is_number_integer() ? meta["offset"].get<int64_t>() : -1;
    if (offset < 0 || offset > bytes - size) throw ProtocolError(peer_, m.type, "tensor " + meta.value("name", std::string("?")) + " lies outside the buffer");
    offsets.push_back(offset);
    sizes.push_back(size);
  }
  if (segment != name_) {
    auto opened = internal::SharedSegment::open(segment);
    if (opened->size() < kStagingHeaderBytes + (cuda ? 0 : bytes))
      throw ProtocolError(peer_, m.type, "shared memory " + segment + " is smaller than the announced buffer");
    torch::Tensor region;
    if (cuda) {
      IpcBuffer ipc{m.frames[0], msg::get<int64_t>(m.fields, "ipc_offset", peer_, m.type),
                    msg::get<int64_t>(m.fields, "device_index", peer_, m.type)};
      region = import_device_buffer(ipc, bytes);
    } else {
      region = torch::from_blob(opened->data() + kStagingHeaderBytes, {bytes}, torch::kUInt8);
    }
    region_ = region;
    segment_ = std::move(opened);
    name_ = segment;
  }
  if (region_.numel() != bytes) throw ProtocolError(peer_, m.type, "the buffer's size changed");
  const StagingHeader& h = segment_->header();
  if (h.end.load(std::memory_order_acquire) != version) return std::nullopt;
  torch::Tensor copy = torch::empty({bytes}, torch::TensorOptions().dtype(torch::kUInt8).device(device));
  copy.copy_(region_);
  staging_wait_for_copies(copy, region_);
  std::atomic_thread_fence(std::memory_order_acquire);
  if (h.begin.load(std::memory_order_acquire) != version) return std::nullopt;  // overwritten while we copied
  WeightSet set;
  set.version = version;
  for (size_t i = 0; i < metas.size(); ++i) {
    std::vector<int64_t> shape = metas[i]["shape"].get<std::vector<int64_t>>();
    set.tensors.emplace_back(metas[i]["name"].get<std::string>(),
                             staging_slot(copy, offsets[i], sizes[i], *parse_dtype(metas[i]["dtype"].get<std::string>()), shape));
  }
  return set;
}

}  // namespace grpo::rollout
