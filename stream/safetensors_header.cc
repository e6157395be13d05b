#include "ggufkit/stream/safetensors_header.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ggufkit/base/json.h"

namespace ggufkit::stream {
absl::StatusOr<std::string> SafetensorsDtype(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
      return std::string("F32");
    case GgmlType::kF16:
      return std::string("F16");
    case GgmlType::kBF16:
      return std::string("BF16");
    case GgmlType::kF64:
      return std::string("F64");
    case GgmlType::kI8:
      return std::string("I8");
    case GgmlType::kI16:
      return std::string("I16");
    case GgmlType::kI32:
      return std::string("I32");
    case GgmlType::kI64:
      return std::string("I64");
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("type ", GgmlTypeName(type), " has no safetensors dtype"));
  }
}


absl::StatusOr<std::string> BuildSafetensorsHeader(
    const std::vector<std::pair<std::string, std::string>>& metadata,
    const std::vector<SafetensorsTensor>& tensors) {
  std::string json = "{";
  bool first = true;
  if (!metadata.empty()) {
    json += "\"__metadata__\":{";
    std::set<absl::string_view> keys;
    bool first_key = true;
    for (const auto& [key, value] : metadata) {
      if (!keys.insert(key).second) continue;  // JSON objects need unique keys
      if (!first_key) json += ",";
      first_key = false;
      json += JsonString(key);
      json += ":";
      json += JsonString(value);
    }
    json += "}";
    first = false;
  }
  std::set<absl::string_view> names;
  uint64_t offset = 0;
  for (const SafetensorsTensor& t : tensors) {
    if (t.name == "__metadata__") {
      return absl::InvalidArgumentError("a tensor named '__metadata__' cannot go to safetensors");
    }
    if (!names.insert(t.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate tensor name '", t.name, "'"));
    }
    if (!first) json += ",";
    first = false;
    json += JsonString(t.name);
    json += ":{\"dtype\":\"";
    json += t.dtype;
    json += "\",\"shape\":[";
    for (size_t d = 0; d < t.shape.size(); ++d) {
      if (d > 0) json += ",";
      absl::StrAppend(&json, t.shape[d]);
    }
    absl::StrAppend(&json, "],\"data_offsets\":[", offset, ",", offset + t.byte_size, "]}");
    offset += t.byte_size;
  }
  json += "}";
  while ((json.size() + 8) % 8 != 0) json.push_back(' ');
  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int b = 0; b < 8; ++b) out[b] = static_cast<char>((n >> (8 * b)) & 0xFF);
  out += json;
  return out;
}

}  // namespace ggufkit::stream
