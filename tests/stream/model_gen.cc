#include "tests/stream/model_gen.h"

#include <sys/statvfs.h>

#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/writer.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/base/status_macros.h"

namespace ggufkit::stream::testing {
namespace {

void PutHalf(uint8_t* p, float v) {
  const uint16_t h = F32ToF16(v);
  std::memcpy(p, &h, 2);
}

}  // namespace

void FillRandomBlocks(GgmlType type, uint64_t seed, int64_t first_block, int64_t n_blocks,
                      uint8_t* out) {
  const TypeTraits& traits = GetTypeTraits(type);
  const size_t block_bytes = static_cast<size_t>(traits.type_size);
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(first_block));
  std::uniform_real_distribution<float> scale(1e-3f, 2e-2f);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int64_t b = 0; b < n_blocks; ++b) {
    uint8_t* p = out + static_cast<size_t>(b) * block_bytes;
    switch (type) {
      case GgmlType::kF32: {
        const float v = normal(rng);
        std::memcpy(p, &v, 4);
        continue;
      }
      case GgmlType::kF16:
        PutHalf(p, normal(rng));
        continue;
      case GgmlType::kBF16: {
        const uint16_t h = F32ToBF16(normal(rng));
        std::memcpy(p, &h, 2);
        continue;
      }
      default:
        break;
    }
    for (size_t i = 0; i < block_bytes; i += 8) {
      const uint64_t r = rng();
      std::memcpy(p + i, &r, std::min<size_t>(8, block_bytes - i));
    }
    switch (type) {
      case GgmlType::kQ4_K:  // d, dmin first
        PutHalf(p, scale(rng));
        PutHalf(p + 2, scale(rng));
        break;
      case GgmlType::kQ6_K:  // d last
        PutHalf(p + 208, scale(rng) * 0.1f);
        break;
      case GgmlType::kQ8_0:
      case GgmlType::kQ4_0:  // d first
        PutHalf(p, scale(rng));
        break;
      default:
        break;
    }
  }
}

absl::Status WriteRandomModel(const std::string& path, const std::vector<GenTensor>& tensors,
                              uint64_t seed) {
  GgufWriter writer;
  GGUFKIT_RETURN_IF_ERROR(
      writer.metadata().Set("general.architecture", MetadataValue::String("llama")));
  GGUFKIT_RETURN_IF_ERROR(
      writer.metadata().Set("general.name", MetadataValue::String("stream test \"model\"")));
  GGUFKIT_RETURN_IF_ERROR(writer.metadata().Set("general.file_type", MetadataValue::U32(15)));
  GGUFKIT_RETURN_IF_ERROR(writer.metadata().Set("llama.rope.freq_base", MetadataValue::F32(1e4f)));
  std::vector<std::string> tokens = {"<s>", "</s>", "h\xC3\xA9llo", "tab\there"};
  GGUFKIT_RETURN_IF_ERROR(
      writer.metadata().Set("tokenizer.ggml.tokens", MetadataValue::ArrayString(tokens)));
  for (const GenTensor& t : tensors) {
    GGUFKIT_RETURN_IF_ERROR(writer.AddTensor(t.name, t.type, t.ne));
  }
  GGUFKIT_RETURN_IF_ERROR(writer.Begin(path));
  std::vector<uint8_t> chunk(size_t{1} << 20);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& info = writer.planned_tensors()[i];
    const TypeTraits& traits = GetTypeTraits(info.type);
    const int64_t n_blocks = info.n_elements / traits.block_size;
    const int64_t per_chunk = static_cast<int64_t>(chunk.size()) / traits.type_size;
    for (int64_t b = 0; b < n_blocks; b += per_chunk) {
      const int64_t n = std::min(per_chunk, n_blocks - b);
      FillRandomBlocks(info.type, seed + i, b, n, chunk.data());
      GGUFKIT_RETURN_IF_ERROR(
          writer.WriteTensorData(chunk.data(), static_cast<size_t>(n * traits.type_size)));
    }
  }
  return writer.Finish();
}

std::vector<GenTensor> SmallMixedModel() {
  return {
      {"token_embd.weight", GgmlType::kQ4_K, {512, 300}},
      {"blk.0.attn_norm.weight", GgmlType::kF32, {512}},
      {"blk.0.attn_q.weight", GgmlType::kQ8_0, {512, 512}},
      {"blk.0.attn_v.weight", GgmlType::kQ6_K, {512, 128}},
      {"blk.0.ffn_up.weight", GgmlType::kQ4_K, {512, 1000, 3}},
      {"blk.0.ffn_gate.weight", GgmlType::kF16, {512, 77}},
      {"blk.0.positions", GgmlType::kI32, {1000}},
      {"output.weight", GgmlType::kQ6_K, {512, 300}},
  };
}

std::vector<GenTensor> LargeMixedModel() {
  std::vector<GenTensor> t;
  t.push_back({"token_embd.weight", GgmlType::kQ4_K, {2048, 32000}});
  for (int l = 0; l < 12; ++l) {
    const std::string p = absl::StrCat("blk.", l, ".");
    t.push_back({p + "attn_norm.weight", GgmlType::kF32, {2048}});
    t.push_back({p + "attn_q.weight", GgmlType::kQ8_0, {2048, 2048}});
    t.push_back({p + "attn_k.weight", GgmlType::kQ8_0, {2048, 256}});
    t.push_back({p + "ffn_norm.weight", GgmlType::kF32, {2048}});
    t.push_back({p + "ffn_gate.weight", GgmlType::kQ4_K, {2048, 5632}});
    t.push_back({p + "ffn_up.weight", GgmlType::kQ4_K, {2048, 5632}});
    t.push_back({p + "ffn_down.weight", GgmlType::kQ6_K, {5632, 2048}});
  }
  t.push_back({"output_norm.weight", GgmlType::kF32, {2048}});
  t.push_back({"output.weight", GgmlType::kQ6_K, {2048, 32000}});
  return t;
}

bool HaveCodecsFor(const std::vector<GenTensor>& tensors, std::string* missing) {
  for (const GenTensor& t : tensors) {
    const TypeTraits& traits = GetTypeTraits(t.type);
    if (traits.kind != TypeKind::kQuantized) continue;
    if (GetReferenceCodec(t.type).dequantize == nullptr) {
      *missing = std::string(traits.name);
      return false;
    }
  }
  return true;
}

absl::Status WriteLargeModelForRssTest(const std::string& path, uint64_t free_bytes_needed,
                                       std::string* skip) {
  skip->clear();
  const std::vector<GenTensor> spec = LargeMixedModel();
  std::string missing;
  if (!HaveCodecsFor(spec, &missing)) {
    *skip = absl::StrCat("no reference dequantizer registered for ", missing);
    return absl::OkStatus();
  }
  const std::string dir = path.substr(0, path.find_last_of('/') + 1);
  struct statvfs vfs;
  if (statvfs(dir.empty() ? "." : dir.c_str(), &vfs) == 0 &&
      static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize < free_bytes_needed) {
    *skip = absl::StrCat("needs about ", free_bytes_needed >> 30, " GiB free in ", dir);
    return absl::OkStatus();
  }
  GGUFKIT_RETURN_IF_ERROR(WriteRandomModel(path, spec, 7));
  GGUFKIT_ASSIGN_OR_RETURN(auto reader, GgufReader::Open(path));
  uint64_t quantized = 0;
  for (const TensorInfo& t : reader->tensors()) quantized += t.size_bytes;
  if (quantized < uint64_t{400} * 1000 * 1000) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": only ", quantized, " bytes of weights, the promise is about 400 MB"));
  }
  return absl::OkStatus();
}

}  // namespace ggufkit::stream::testing
