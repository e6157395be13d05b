#include "ggufkit/quants/block_fields.h"

#include <array>
#include <vector>

#include "ggufkit/quants/half_fields.h"

namespace ggufkit {
namespace {

template <int kWidth>
void SwapRun(uint8_t* p, size_t count) {
  for (size_t i = 0; i < count; ++i, p += kWidth) {
    for (int b = 0; b < kWidth / 2; ++b) {
      const uint8_t t = p[b];
      p[b] = p[kWidth - 1 - b];
      p[kWidth - 1 - b] = t;
    }
  }
}

void SwapElements(uint8_t* p, size_t count, int width) {
  switch (width) {
    case 2:
      SwapRun<2>(p, count);
      break;
    case 4:
      SwapRun<4>(p, count);
      break;
    case 8:
      SwapRun<8>(p, count);
      break;
    default:
      break;
  }
}

}  // namespace

bool HasMultiByteFields(GgmlType type) {
  for (const BlockField& f : BlockFields(type)) {
    if (FieldKindBytes(f.kind) > 1) return true;
  }
  return false;
}

void ByteSwapBlocks(GgmlType type, uint8_t* blocks, size_t n_blocks) {
  const absl::Span<const BlockField> fields = BlockFields(type);
  if (fields.size() == 1) {
    // An element type (or a block of one kind): one run over the whole buffer.
    SwapElements(blocks, n_blocks * fields[0].count, FieldKindBytes(fields[0].kind));
    return;
  }
  const size_t block_bytes = static_cast<size_t>(GetTypeTraits(type).type_size);
  for (const BlockField& f : fields) {
    const int width = FieldKindBytes(f.kind);
    if (width == 1) continue;
    uint8_t* p = blocks + f.offset;
    for (size_t b = 0; b < n_blocks; ++b, p += block_bytes) SwapElements(p, f.count, width);
  }
}

absl::Span<const uint16_t> HalfFieldOffsets(GgmlType type) {
  // Derived once from BlockFields: the fp16 fields of the block formats.
  static const auto* offsets = [] {
    auto* table = new std::array<std::vector<uint16_t>, kGgmlTypeIdLimit>();
    for (const TypeTraits& t : AllTypeTraits()) {
      if (t.kind != TypeKind::kQuantized) continue;
      std::vector<uint16_t>& out = (*table)[static_cast<uint32_t>(t.type)];
      for (const BlockField& f : BlockFields(t.type)) {
        if (f.kind != FieldKind::kFp16) continue;
        for (uint16_t i = 0; i < f.count; ++i)
          out.push_back(static_cast<uint16_t>(f.offset + 2 * i));
      }
    }
    return table;
  }();
  return (*offsets)[static_cast<uint32_t>(type)];
}

}  // namespace ggufkit
