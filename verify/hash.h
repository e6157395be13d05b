// Streaming message digests for gguf-verify --hash: SHA-256 (FIPS 180-4),
// SHA-1 (FIPS 180-4) and XXH64 (xxHash, seed 0 by default), written here so
// the project needs no hashing dependency. All three take bytes in pieces of
// any size (Update) and give the digest once (Final); the results equal
// Python's hashlib.sha256 / hashlib.sha1 and xxhash.xxh64 over the same bytes.
//
// Hex spelling follows llama.cpp's gguf-hash: lowercase, SHA digests byte by
// byte, XXH64 as the 64-bit value most significant byte first (xxhash's
// "canonical" form, what xxh64().hexdigest() prints).
#ifndef GGUFKIT_VERIFY_HASH_H_
#define GGUFKIT_VERIFY_HASH_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace ggufkit::verify {

class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t n);
  // Ends the message; the object must not be updated afterwards.
  std::array<uint8_t, 32> Final();

 private:
  void Compress(const uint8_t* block);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buffer_;
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes so far
};

class Sha1 {
 public:
  Sha1();
  void Update(const void* data, size_t n);
  std::array<uint8_t, 20> Final();

 private:
  void Compress(const uint8_t* block);
  std::array<uint32_t, 5> h_;
  std::array<uint8_t, 64> buffer_;
  size_t buffered_ = 0;
  uint64_t length_ = 0;
};

class Xxh64 {
 public:
  explicit Xxh64(uint64_t seed = 0);
  void Update(const void* data, size_t n);
  uint64_t Final() const;

 private:
  uint64_t seed_;
  std::array<uint64_t, 4> v_;
  std::array<uint8_t, 32> buffer_;
  size_t buffered_ = 0;
  uint64_t length_ = 0;
};

// One-shot forms.
std::array<uint8_t, 32> Sha256Of(absl::string_view bytes);
std::array<uint8_t, 20> Sha1Of(absl::string_view bytes);
uint64_t Xxh64Of(absl::string_view bytes, uint64_t seed = 0);

// Lowercase hex of bytes in order.
std::string HexBytes(const uint8_t* data, size_t n);
template <size_t N>
std::string HexBytes(const std::array<uint8_t, N>& a) {
  return HexBytes(a.data(), N);
}
// 16 lowercase hex digits, most significant first.
std::string HexU64(uint64_t v);

// gguf-hash's model UUID: a version-5 UUID whose name is all tensor data, in
// the namespace uuid5(NAMESPACE_URL, "en.wikipedia.org/wiki/Llama.cpp")
// (ef001206-dadc-5f6d-a15f-3359e577d4e5). Start a Sha1, Update it with
// kLlamaCppUuidNamespace, then with every tensor's bytes, and format its
// Final() with UuidV5String.
inline constexpr std::array<uint8_t, 16> kLlamaCppUuidNamespace = {
    0xef, 0x00, 0x12, 0x06, 0xda, 0xdc, 0x5f, 0x6d, 0xa1, 0x5f, 0x33, 0x59, 0xe5, 0x77, 0xd4, 0xe5};
// "xxxxxxxx-xxxx-5xxx-Vxxx-xxxxxxxxxxxx" from the first 16 digest bytes with
// the version (5) and variant (10xx) bits set (RFC 9562 section 5.5).
std::string UuidV5String(const std::array<uint8_t, 20>& sha1_digest);

}  // namespace ggufkit::verify

#endif  // GGUFKIT_VERIFY_HASH_H_
