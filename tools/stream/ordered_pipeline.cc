#include "tools/stream/ordered_pipeline.h"

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"
#include "quants/block_fields.h"
#include "quants/status_macros.h"

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

absl::Status PlanItems(const std::vector<PipelineTensor>& tensors, size_t chunk_bytes,
                       std::vector<WorkItem>* items) {
  for (size_t t = 0; t < tensors.size(); ++t) {
    const PipelineTensor& pt = tensors[t];
    const TypeTraits& traits = GetTypeTraits(pt.layout.type);
    if (pt.copy_raw) {
      const int64_t total = static_cast<int64_t>(pt.output_bytes);
      const int64_t step = static_cast<int64_t>(chunk_bytes);
      for (int64_t b = 0; b < total; b += step) {
        const int64_t n = std::min(step, total - b);
        items->push_back({t, b, n, static_cast<size_t>(n)});
      }
      continue;
    }
    const int64_t out_elem = static_cast<int64_t>(DenseElementBytes(pt.to));
    const int64_t per_item = std::max<int64_t>(
        1, static_cast<int64_t>(chunk_bytes) / out_elem / traits.block_size) * traits.block_size;
    if (per_item * out_elem > static_cast<int64_t>(chunk_bytes)) {
      return absl::InvalidArgumentError(
          absl::StrCat("chunk of ", chunk_bytes, " bytes is smaller than one ", traits.name,
                       " block as ", DenseTypeName(pt.to)));
    }
    const int64_t total = pt.layout.element_count();
    for (int64_t e = 0; e < total; e += per_item) {
      const int64_t n = std::min(per_item, total - e);
      items->push_back({t, e, n, static_cast<size_t>(n * out_elem)});
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint64_t> PipelineOutputBytes(const TensorLayout& layout, bool copy_raw,
                                             DenseType to) {
  GGUFKIT_RETURN_IF_ERROR(ValidateLayout(layout));
  if (copy_raw) {
    GGUFKIT_ASSIGN_OR_RETURN(int64_t bytes, RowSizeBytes(layout.type, layout.element_count()));
    return static_cast<uint64_t>(bytes);
  }
  return static_cast<uint64_t>(layout.element_count()) * DenseElementBytes(to);
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

  std::vector<WorkItem> items;
  GGUFKIT_RETURN_IF_ERROR(PlanItems(tensors, chunk_bytes, &items));
  if (items.empty()) return absl::OkStatus();

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
  size_t next_item = 0;               // next item a worker takes
  size_t consumed = 0;                // items the consumer has finished
  bool stop = false;
  std::vector<int64_t> slot_item(slots, -1);  // item whose result the slot holds
  std::vector<absl::Status> slot_status(slots);

  auto worker = [&]() {
    const size_t scratch_bytes = std::max<size_t>(options.worker_scratch_bytes, 4096);
    AlignedBuffer scratch = AllocateAligned(scratch_bytes);
    for (;;) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mu);
        if (stop || next_item >= items.size()) return;
        i = next_item++;
        // The slot is free once the item S places earlier has been consumed.
        cv.wait(lock, [&] { return stop || i < consumed + slots; });
        if (stop) return;
      }
      const WorkItem& item = items[i];
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
  for (size_t j = 0; j < items.size(); ++j) {
    const size_t s = j % slots;
    absl::Status status;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return slot_item[s] == static_cast<int64_t>(j); });
      status = slot_status[s];
    }
    if (status.ok()) {
      status = consume(items[j].tensor_index, buffers[s].get(), items[j].output_bytes);
    }
    if (!status.ok()) {
      result = status;
      break;
    }
    bytes_done += items[j].output_bytes;
    if (progress) progress({items[j].tensor_index, bytes_done, bytes_total});
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
