#include "ggufkit/stream/ordered_pipeline.h"

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ggufkit/base/status_macros.h"
#include "ggufkit/quants/block_fields.h"

namespace ggufkit::stream {
namespace {

// One work item: a piece of one tensor, in output order.
struct WorkItem {
  size_t tensor_index;
  int64_t first;  // first element (convert) or first byte (copy_raw)
  int64_t count;  // elements (convert) or bytes (copy_raw)
  size_t output_bytes;
};

struct AlignedFree {
  void operator()(uint8_t* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<uint8_t, AlignedFree>;

AlignedBuffer AllocateAligned(size_t bytes) {
  void* p = nullptr;
  // 4096: lets a direct-I/O sink use the buffer as it is.
  if (posix_memalign(&p, 4096, std::max<size_t>(bytes, 1)) != 0) return AlignedBuffer();
  return AlignedBuffer(static_cast<uint8_t*>(p));
}

// Produces the work items one by one, in output order: nothing is planned up
// front, so the memory of a run does not grow with the number of chunks (a
// 140 GB output at 4 KiB chunks is 34 million items).
class ItemPlanner {
 public:
  ItemPlanner(const std::vector<PipelineTensor>& tensors, size_t chunk_bytes)
      : tensors_(tensors), chunk_bytes_(chunk_bytes) {}

  // Checks every tensor (a chunk must hold one block) and counts the items.
  absl::Status Check(uint64_t* item_count) const {
    uint64_t count = 0;
    for (const PipelineTensor& pt : tensors_) {
      GGUFKIT_ASSIGN_OR_RETURN(const Step step, StepOf(pt));
      count += static_cast<uint64_t>((step.total + step.per_item - 1) / step.per_item);
    }
    *item_count = count;
    return absl::OkStatus();
  }

  // The next item; false after the last one. Check() must have succeeded.
  bool Next(WorkItem* item) {
    while (tensor_ < tensors_.size()) {
      const Step step = *StepOf(tensors_[tensor_]);
      if (position_ < step.total) {
        const int64_t n = std::min(step.per_item, step.total - position_);
        *item = {tensor_, position_, n, static_cast<size_t>(n * step.out_unit)};
        position_ += n;
        return true;
      }
      ++tensor_;
      position_ = 0;
    }
    return false;
  }

 private:
  // A tensor's items: `total` units (bytes for raw copies, elements
  // otherwise) taken `per_item` at a time, each unit `out_unit` output bytes.
  struct Step {
    int64_t total;
    int64_t per_item;
    int64_t out_unit;
  };

  absl::StatusOr<Step> StepOf(const PipelineTensor& pt) const {
    if (pt.copy_raw) {
      return Step{static_cast<int64_t>(pt.output_bytes), static_cast<int64_t>(chunk_bytes_), 1};
    }
    const TypeTraits& traits = GetTypeTraits(pt.layout.type);
    const int64_t out_elem = static_cast<int64_t>(OutputElementBytes(pt.to));
    const int64_t per_item = std::max<int64_t>(
        1, static_cast<int64_t>(chunk_bytes_) / out_elem / traits.block_size) * traits.block_size;
    if (per_item * out_elem > static_cast<int64_t>(chunk_bytes_)) {
      return absl::InvalidArgumentError(
          absl::StrCat("chunk of ", chunk_bytes_, " bytes is smaller than one ", traits.name,
                       " block as ", OutputTypeName(pt.to)));
    }
    return Step{pt.layout.element_count(), per_item, out_elem};
  }

  const std::vector<PipelineTensor>& tensors_;
  const size_t chunk_bytes_;
  size_t tensor_ = 0;
  int64_t position_ = 0;
};

}  // namespace

absl::StatusOr<uint64_t> PipelineOutputBytes(const TensorLayout& layout, bool copy_raw,
                                             OutputType to) {
  GGUFKIT_RETURN_IF_ERROR(ValidateLayout(layout));
  if (copy_raw) {
    GGUFKIT_ASSIGN_OR_RETURN(int64_t bytes, RowSizeBytes(layout.type, layout.element_count()));
    return static_cast<uint64_t>(bytes);
  }
  return static_cast<uint64_t>(layout.element_count()) * OutputElementBytes(to);
}

absl::Status RunOrderedPipeline(
    const std::vector<PipelineTensor>& tensors, const PipelineOptions& options,
    const std::function<absl::Status(size_t, const uint8_t*, size_t)>& consume,
    const std::function<void(const PipelineProgress&)>& progress) {
  const int threads = std::max(1, options.threads);
  const size_t slots = static_cast<size_t>(threads) + 2;
  size_t chunk_bytes = std::max<size_t>(options.chunk_bytes, 4096);
  chunk_bytes = std::min(chunk_bytes, std::max<size_t>(kMaxRingBytes / slots, 4096));
  chunk_bytes = chunk_bytes / 256 * 256;  // whole blocks of every block size

  uint64_t bytes_total = 0;
  for (const PipelineTensor& t : tensors) bytes_total += t.output_bytes;

  ItemPlanner planner(tensors, chunk_bytes);
  uint64_t item_count = 0;
  GGUFKIT_RETURN_IF_ERROR(planner.Check(&item_count));
  if (item_count == 0) return absl::OkStatus();

  std::vector<AlignedBuffer> buffers;
  for (size_t s = 0; s < slots; ++s) {
    buffers.push_back(AllocateAligned(chunk_bytes));
    if (!buffers.back()) {
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot allocate ", slots, " output buffers of ", chunk_bytes, " bytes"));
    }
  }

  std::mutex mu;
  std::condition_variable cv;
  uint64_t next_item = 0;             // next item a worker takes (planner's position)
  uint64_t consumed = 0;              // items the consumer has finished
  bool stop = false;
  // Per slot: the item whose result it holds, that item, its status. At most
  // `slots` items live here and one per worker in flight: never one per chunk.
  std::vector<int64_t> slot_item(slots, -1);
  std::vector<WorkItem> slot_work(slots);
  std::vector<absl::Status> slot_status(slots);

  auto worker = [&]() {
    const size_t scratch_bytes = std::max<size_t>(options.worker_scratch_bytes, 4096);
    AlignedBuffer scratch = AllocateAligned(scratch_bytes);
    for (;;) {
      uint64_t i;
      WorkItem item;
      {
        std::unique_lock<std::mutex> lock(mu);
        if (stop || next_item >= item_count) return;
        i = next_item++;
        planner.Next(&item);  // item i: taken under the lock, in order
        // The slot is free once the item S places earlier has been consumed.
        cv.wait(lock, [&] { return stop || i < consumed + slots; });
        if (stop) return;
      }
      const PipelineTensor& pt = tensors[item.tensor_index];
      uint8_t* out = buffers[i % slots].get();
      absl::Status status;
      if (!scratch) {
        status = absl::ResourceExhaustedError("cannot allocate worker scratch");
      } else if (pt.copy_raw) {
        status = pt.source->ReadTensorBytes(static_cast<uint64_t>(item.first), out,
                                            static_cast<size_t>(item.count));
        if (status.ok() && pt.layout.big_endian) {
          // Raw copies go out little-endian too (whole elements: chunks are
          // multiples of 256 bytes).
          ByteSwapBlocks(pt.layout.type, out,
                         static_cast<size_t>(item.count) /
                             static_cast<size_t>(GetTypeTraits(pt.layout.type).type_size));
        }
        if (!status.ok()) {
          status = absl::Status(status.code(), absl::StrCat("tensor '", pt.layout.name, "' in '",
                                                            pt.layout.file,
                                                            "': ", status.message()));
        }
      } else {
        status = internal::StreamElements(pt.layout, *pt.source, item.first, item.count, pt.to,
                                          out, scratch.get(), scratch_bytes, &options.convert);
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        slot_status[i % slots] = std::move(status);
        slot_work[i % slots] = item;
        slot_item[i % slots] = static_cast<int64_t>(i);
      }
      cv.notify_all();
    }
  };

  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));
  absl::Status result;
  try {
    for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  } catch (const std::system_error& e) {
    // Thread limits reached: report it instead of terminating. The threads
    // that did start still serve every item.
    if (pool.empty()) {
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot start dequantization threads: ", e.what()));
    }
  }

  uint64_t bytes_done = 0;
  for (uint64_t j = 0; j < item_count; ++j) {
    const size_t s = static_cast<size_t>(j % slots);
    absl::Status status;
    WorkItem item;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return slot_item[s] == static_cast<int64_t>(j); });
      status = slot_status[s];
      item = slot_work[s];
    }
    if (status.ok()) status = consume(item.tensor_index, buffers[s].get(), item.output_bytes);
    if (!status.ok()) {
      result = status;
      break;
    }
    bytes_done += item.output_bytes;
    if (progress) progress({item.tensor_index, bytes_done, bytes_total});
    {
      std::lock_guard<std::mutex> lock(mu);
      consumed = j + 1;
    }
    cv.notify_all();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  cv.notify_all();
  for (std::thread& t : pool) t.join();
  return result;
}

}  // namespace ggufkit::stream
