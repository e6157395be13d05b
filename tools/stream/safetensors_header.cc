#include "tools/stream/safetensors_header.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ggufkit::stream {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not valid
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = byte(i);
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMinForLength[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

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

std::string JsonQuote(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else if (c == '\t') {
      out += "\\t";
      ++i;
    } else if (c == '\r') {
      out += "\\r";
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      out += absl::StrFormat("\\u%04x", c);
      ++i;
    } else {
      const size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(s.data() + i, len);
        i += len;
      }
    }
  }
  out.push_back('"');
  return out;
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
      json += JsonQuote(key);
      json += ":";
      json += JsonQuote(value);
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
    json += JsonQuote(t.name);
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
