// Helpers for the gguf/ tests: a raw GGUF byte builder for malformed files
// and small readers for the golden manifests.
#ifndef GGUFKIT_TESTS_GGUF_GGUF_TEST_UTIL_H_
#define GGUFKIT_TESTS_GGUF_GGUF_TEST_UTIL_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace ggufkit::testing {

// Appends GGUF fields little-endian (or big-endian) so tests can build any
// file, valid or not, byte by byte.
class RawGguf {
 public:
  explicit RawGguf(bool big_endian = false) : big_endian_(big_endian) {}
  RawGguf& Bytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
    return *this;
  }
  RawGguf& Num(const void* p, size_t n) {
    size_t at = bytes_.size();
    Bytes(p, n);
    if (big_endian_) std::reverse(bytes_.begin() + static_cast<std::ptrdiff_t>(at), bytes_.end());
    return *this;
  }
  RawGguf& Magic() { return Bytes("GGUF", 4); }
  RawGguf& U8(uint8_t v) { return Num(&v, 1); }
  RawGguf& U16(uint16_t v) { return Num(&v, 2); }
  RawGguf& U32(uint32_t v) { return Num(&v, 4); }
  RawGguf& I32(int32_t v) { return Num(&v, 4); }
  RawGguf& U64(uint64_t v) { return Num(&v, 8); }
  RawGguf& I64(int64_t v) { return Num(&v, 8); }
  RawGguf& F32(float v) { return Num(&v, 4); }
  RawGguf& Str(const std::string& s) {
    U64(s.size());
    return Bytes(s.data(), s.size());
  }
  // "GGUF", version, n_tensors, n_kv.
  RawGguf& Header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return Magic().U32(version).U64(n_tensors).U64(n_kv);
  }
  RawGguf& KvU32(const std::string& key, uint32_t v) { return Str(key).U32(4).U32(v); }
  RawGguf& KvStr(const std::string& key, const std::string& v) { return Str(key).U32(8).Str(v); }
  // Tensor info with dims `ne`, type id and offset.
  RawGguf& Tensor(const std::string& name, std::vector<uint64_t> ne, uint32_t type,
                  uint64_t offset) {
    Str(name).U32(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) U64(d);
    return U32(type).U64(offset);
  }
  RawGguf& PadTo(size_t alignment) {
    while (bytes_.size() % alignment) bytes_.push_back(0);
    return *this;
  }
  RawGguf& Zeros(size_t n) {
    bytes_.insert(bytes_.end(), n, 0);
    return *this;
  }
  size_t size() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  bool big_endian_;
  std::vector<uint8_t> bytes_;
};

// The string value of "key": "value" in one JSON line (no escapes inside).
inline std::string JsonField(const std::string& json, const std::string& key) {
  const std::string pattern = "\"" + key + "\": ";
  size_t at = json.find(pattern);
  if (at == std::string::npos) return "";
  at += pattern.size();
  if (json[at] == '"') {
    size_t end = json.find('"', at + 1);
    return json.substr(at + 1, end - at - 1);
  }
  size_t end = json.find_first_of(",}", at);
  return json.substr(at, end - at);
}

// The flat {"k": "v", ...} object after "key": in one JSON line.
inline std::vector<std::pair<std::string, std::string>> JsonFlatObject(const std::string& json,
                                                                       const std::string& key) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t at = json.find("\"" + key + "\": {");
  if (at == std::string::npos) return out;
  at = json.find('{', at) + 1;
  while (true) {
    size_t k0 = json.find('"', at);
    size_t close = json.find('}', at);
    if (k0 == std::string::npos || close < k0) break;
    size_t k1 = json.find('"', k0 + 1);
    size_t v0 = json.find('"', k1 + 1);
    size_t v1 = json.find('"', v0 + 1);
    out.emplace_back(json.substr(k0 + 1, k1 - k0 - 1), json.substr(v0 + 1, v1 - v0 - 1));
    at = v1 + 1;
  }
  return out;
}

}  // namespace ggufkit::testing

#endif  // GGUFKIT_TESTS_GGUF_GGUF_TEST_UTIL_H_
