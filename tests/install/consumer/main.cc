// Built against an installed ggufkit via find_package, with the README's library
// example (README_EXAMPLE, extracted verbatim) linked in: the front door
// Dequantize, the streaming API and the KV planner library, ggufkit/ headers only.
#include <cstdio>
#include <string>
#include <vector>

#include "ggufkit/ggufkit.h"

// Defined by the README's example.
absl::Status ReadTensor(const std::string& path, const std::string& name, std::vector<float>* w);
absl::Status Q4KToBf16(absl::Span<const uint8_t> blocks, absl::Span<uint16_t> out);

namespace {

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "consumer: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const ggufkit::TypeTraits* t = ggufkit::FindTypeTraits(12);
  if (t == nullptr || t->type_size != 144) return 1;

  // Front door: one all-zero q4_K block -> 256 zeros, sizes checked.
  std::vector<uint8_t> block(144, 0);
  std::vector<uint16_t> bf16(256, 1);
  if (absl::Status s = Q4KToBf16(block, absl::MakeSpan(bf16)); !s.ok()) return Fail(s);
  for (uint16_t v : bf16) {
    if (v != 0) return 1;
  }
  if (Q4KToBf16(block, absl::MakeSpan(bf16).subspan(1)).ok()) return 1;  // wrong size refused

  // KV planner library.
  auto shape = ggufkit::kvplan::UniformShape(32, 8, 128, 128, 0);
  if (!shape.ok()) return Fail(shape.status());
  auto cost = ggufkit::kvplan::ComputeKvCost(*shape, 4096, ggufkit::KvType::kF16,
                                             ggufkit::KvType::kF16, ggufkit::TurboVariant::kCurrent);
  if (!cost.ok()) return Fail(cost.status());
  if (cost->kv_bytes() != int64_t{512} << 20) return 1;  // 32 x 2 x 4096 x 8 x 128 x 2 bytes

  // Streaming API, through the README example.
  if (argc > 2) {
    std::vector<float> w;
    if (absl::Status s = ReadTensor(argv[1], argv[2], &w); !s.ok()) return Fail(s);
    std::printf("%s[0] = %.9g (%zu values)\n", argv[2], w[0], w.size());
  }
  std::printf("consumer ok\n");
  return 0;
}
