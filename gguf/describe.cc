#include "ggufkit/gguf/describe.h"

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ggufkit/base/json.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/split.h"

namespace ggufkit {
namespace {

constexpr size_t kSummaryElements = 8;

// JSON of element i of an array, or of a scalar value (i ignored).
std::string JsonElement(const MetadataValue& v, uint64_t i) {
  const GgufValueType t = v.is_array() ? v.element_type() : v.type();
  std::string out;
  switch (t) {
    case GgufValueType::kString:
      AppendJsonString(&out, v.is_array() ? v.string_at(i) : v.str());
      return out;
    case GgufValueType::kBool:
      return (v.is_array() ? v.int_at(i) != 0 : v.boolean()) ? "true" : "false";
    case GgufValueType::kF32:
      return JsonNumber(v.is_array() ? v.float_at(i) : v.f32());
    case GgufValueType::kF64:
      return JsonNumber(v.is_array() ? v.float_at(i) : v.f64());
    case GgufValueType::kU64:
      return absl::StrCat(v.is_array() ? static_cast<uint64_t>(v.int_at(i)) : v.u64());
    default:
      if (v.is_array()) return absl::StrCat(v.int_at(i));
      return absl::StrCat(t == GgufValueType::kI8    ? int64_t{v.i8()}
                          : t == GgufValueType::kI16 ? int64_t{v.i16()}
                          : t == GgufValueType::kI32 ? int64_t{v.i32()}
                          : t == GgufValueType::kI64 ? v.i64()
                                                     : static_cast<int64_t>(v.raw_bits()));
  }
}

std::string TypeLabel(const MetadataValue& v) {
  if (!v.is_array()) return std::string(GgufValueTypeName(v.type()));
  return absl::StrCat("arr[", GgufValueTypeName(v.element_type()), "]");
}

struct TypeTotal {
  uint64_t tensors = 0;
  uint64_t elements = 0;
  uint64_t bytes = 0;
};

std::string WithCommas(uint64_t v) {
  std::string digits = absl::StrCat(v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// Bytes of final alignment padding missing, over all shards.
uint64_t MissingFinalPadding(const GgufModel& model) {
  uint64_t missing = 0;
  for (size_t i = 0; i < model.shard_count(); ++i) {
    missing += model.shard(i).missing_final_padding();
  }
  return missing;
}

}  // namespace

std::vector<std::string> DescribeWarnings(const GgufModel& model) {
  std::vector<std::string> warnings;
  for (size_t i = 0; i < model.shard_count(); ++i) {
    const GgufReader& shard = model.shard(i);
    if (const uint64_t missing = shard.missing_final_padding()) {
      warnings.push_back(absl::StrFormat(
          "%s ends %d bytes before the padded end of its data section (offset %d): the final "
          "alignment padding is missing, so ggml and llama.cpp refuse to load it",
          shard.name(), missing, shard.padded_data_end()));
    }
  }
  return warnings;
}

std::string DescribeModelText(const GgufModel& model, bool full) {
  std::string out;
  absl::StrAppendFormat(&out, "file:        %s\n", model.name());
  if (model.shard_count() > 1)
    absl::StrAppendFormat(&out, "shards:      %d\n", model.shard_count());
  absl::StrAppendFormat(&out, "version:     %d\n", model.version());
  absl::StrAppendFormat(&out, "endianness:  %s%s\n", EndiannessName(model.endianness()),
                        model.endianness() == Endianness::kBig
                            ? " (tensor data is shown as stored, not byte-swapped)"
                            : "");
  absl::StrAppendFormat(&out, "alignment:   %d\n", model.alignment());
  absl::StrAppendFormat(&out, "data offset: %d\n", model.shard(0).data_offset());
  if (auto size = model.shard(0).file_size()) {
    absl::StrAppendFormat(&out, "file size:   %s bytes\n", WithCommas(*size));
  }
  for (const std::string& w : DescribeWarnings(model)) {
    absl::StrAppend(&out, "warning:     ", w, "\n");
  }
  const Metadata& md = model.metadata();
  absl::StrAppendFormat(&out, "\nmetadata (%d keys):\n", md.size());
  size_t key_width = 0;
  for (const MetadataEntry& e : md.entries()) key_width = std::max(key_width, e.key.size());
  key_width = std::min<size_t>(key_width, 48);
  for (const MetadataEntry& e : md.entries()) {
    std::string type = TypeLabel(e.value);
    if (e.value.is_array()) absl::StrAppend(&type, " n=", e.value.size());
    absl::StrAppendFormat(&out, "  %-*s %-16s %s\n", key_width, e.key, type,
                          e.value.DebugString(full ? 0 : kSummaryElements));
  }
  const std::vector<TensorInfo>& tensors = model.tensors();
  absl::StrAppendFormat(&out, "\ntensors (%d):\n", tensors.size());
  size_t name_width = 4;
  for (const TensorInfo& t : tensors) name_width = std::max(name_width, t.name.size());
  name_width = std::min<size_t>(name_width, 64);
  const bool split = model.shard_count() > 1;
  absl::StrAppendFormat(&out, "  %5s  %-*s %-8s %-24s %14s %14s%s\n", "#", name_width, "name",
                        "type", "shape", "offset", "bytes", split ? "  shard" : "");
  std::map<std::string, TypeTotal> totals;
  TypeTotal all;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& t = tensors[i];
    absl::StrAppendFormat(&out, "  %5d  %-*s %-8s %-24s %14d %14d", i, name_width, t.name,
                          GgmlTypeName(t.type), ShapeString(t), t.absolute_offset, t.size_bytes);
    if (split) absl::StrAppendFormat(&out, "  %5d", t.shard + 1);
    out += "\n";
    TypeTotal& tt = totals[std::string(GgmlTypeName(t.type))];
    for (TypeTotal* x : {&tt, &all}) {
      x->tensors += 1;
      x->elements += static_cast<uint64_t>(t.n_elements);
      x->bytes += t.size_bytes;
    }
  }
  absl::StrAppend(&out, "\ntotals by type:\n");
  absl::StrAppendFormat(&out, "  %-8s %8s %20s %20s\n", "type", "tensors", "elements", "bytes");
  for (const auto& [name, tt] : totals) {
    absl::StrAppendFormat(&out, "  %-8s %8d %20s %20s\n", name, tt.tensors, WithCommas(tt.elements),
                          WithCommas(tt.bytes));
  }
  absl::StrAppendFormat(&out, "  %-8s %8d %20s %20s\n", "total", all.tensors,
                        WithCommas(all.elements), WithCommas(all.bytes));
  return out;
}

std::string DescribeModelJson(const GgufModel& model, bool full) {
  std::string out = "{\n  \"file\": ";
  AppendJsonString(&out, model.name());
  absl::StrAppendFormat(&out, ",\n  \"shards\": %d", model.shard_count());
  absl::StrAppendFormat(&out, ",\n  \"version\": %d", model.version());
  absl::StrAppendFormat(&out, ",\n  \"endianness\": \"%s\"", EndiannessName(model.endianness()));
  absl::StrAppendFormat(&out, ",\n  \"alignment\": %d", model.alignment());
  absl::StrAppendFormat(&out, ",\n  \"data_offset\": %d", model.shard(0).data_offset());
  if (auto size = model.shard(0).file_size()) {
    absl::StrAppendFormat(&out, ",\n  \"file_size\": %d", *size);
  }
  absl::StrAppendFormat(&out, ",\n  \"missing_final_padding\": %d", MissingFinalPadding(model));
  out += ",\n  \"warnings\": [";
  const std::vector<std::string> warnings = DescribeWarnings(model);
  for (size_t i = 0; i < warnings.size(); ++i) {
    out += i ? ", " : "";
    AppendJsonString(&out, warnings[i]);
  }
  out += "]";
  out += ",\n  \"metadata\": [";
  const Metadata& md = model.metadata();
  for (size_t k = 0; k < md.size(); ++k) {
    const MetadataEntry& e = md.entries()[k];
    out += k ? ",\n    {\"key\": " : "\n    {\"key\": ";
    AppendJsonString(&out, e.key);
    absl::StrAppendFormat(&out, ", \"type\": \"%s\"", GgufValueTypeName(e.value.type()));
    if (!e.value.is_array()) {
      absl::StrAppend(&out, ", \"value\": ", JsonElement(e.value, 0), "}");
      continue;
    }
    const uint64_t n = e.value.size();
    const uint64_t shown = full ? n : std::min<uint64_t>(n, kSummaryElements);
    absl::StrAppendFormat(&out, ", \"element_type\": \"%s\", \"count\": %d, \"value\": [",
                          GgufValueTypeName(e.value.element_type()), n);
    for (uint64_t i = 0; i < shown; ++i) {
      if (i) out += ", ";
      out += JsonElement(e.value, i);
    }
    absl::StrAppend(&out, "], \"truncated\": ", shown < n ? "true" : "false", "}");
  }
  out += md.empty() ? "]" : "\n  ]";
  out += ",\n  \"tensors\": [";
  std::map<std::string, TypeTotal> totals;
  TypeTotal all;
  const std::vector<TensorInfo>& tensors = model.tensors();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& t = tensors[i];
    out += i ? ",\n    {\"name\": " : "\n    {\"name\": ";
    AppendJsonString(&out, t.name);
    absl::StrAppendFormat(&out, ", \"type\": \"%s\", \"type_id\": %d, \"shape\": [",
                          GgmlTypeName(t.type), static_cast<uint32_t>(t.type));
    for (uint32_t d = 0; d < t.n_dims; ++d) absl::StrAppend(&out, d ? ", " : "", t.ne[d]);
    absl::StrAppendFormat(&out,
                          "], \"elements\": %d, \"offset\": %d, \"absolute_offset\": %d, "
                          "\"bytes\": %d, \"shard\": %d}",
                          t.n_elements, t.offset, t.absolute_offset, t.size_bytes, t.shard);
    TypeTotal& tt = totals[std::string(GgmlTypeName(t.type))];
    for (TypeTotal* x : {&tt, &all}) {
      x->tensors += 1;
      x->elements += static_cast<uint64_t>(t.n_elements);
      x->bytes += t.size_bytes;
    }
  }
  out += tensors.empty() ? "]" : "\n  ]";
  out += ",\n  \"totals_by_type\": {";
  bool first = true;
  for (const auto& [name, tt] : totals) {
    absl::StrAppendFormat(&out,
                          "%s\n    \"%s\": {\"tensors\": %d, \"elements\": %d, \"bytes\": %d}",
                          first ? "" : ",", name, tt.tensors, tt.elements, tt.bytes);
    first = false;
  }
  out += totals.empty() ? "}" : "\n  }";
  absl::StrAppendFormat(&out,
                        ",\n  \"total\": {\"tensors\": %d, \"elements\": %d, \"bytes\": %d}\n}\n",
                        all.tensors, all.elements, all.bytes);
  return out;
}

}  // namespace ggufkit
