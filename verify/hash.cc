#include "ggufkit/verify/hash.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ggufkit::verify {
namespace {

inline uint32_t Rotr32(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
inline uint32_t Rotl32(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }
inline uint64_t Rotl64(uint64_t x, int n) { return (x << n) | (x >> (64 - n)); }

inline uint32_t LoadBe32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
inline void StoreBe32(uint32_t v, uint8_t* p) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
inline uint64_t LoadLe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline uint32_t LoadLe32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

// Shared Merkle-Damgard framing of SHA-1 and SHA-256: 64-byte blocks, a 0x80
// byte, zeros, and the bit length as a big-endian u64 in the last 8 bytes.
template <typename Compressor>
void Md64Update(const uint8_t* in, size_t n, std::array<uint8_t, 64>& buffer, size_t& buffered,
                uint64_t& length, Compressor compress) {
  length += n;
  if (buffered > 0) {
    const size_t take = std::min(n, 64 - buffered);
    std::memcpy(buffer.data() + buffered, in, take);
    buffered += take;
    in += take;
    n -= take;
    if (buffered < 64) return;
    compress(buffer.data());
    buffered = 0;
  }
  while (n >= 64) {
    compress(in);
    in += 64;
    n -= 64;
  }
  if (n > 0) {
    std::memcpy(buffer.data(), in, n);
    buffered = n;
  }
}

template <typename Compressor>
void Md64Finish(std::array<uint8_t, 64>& buffer, size_t& buffered, uint64_t length,
                Compressor compress) {
  const uint64_t bits = length * 8;
  buffer[buffered++] = 0x80;
  if (buffered > 56) {
    std::memset(buffer.data() + buffered, 0, 64 - buffered);
    compress(buffer.data());
    buffered = 0;
  }
  std::memset(buffer.data() + buffered, 0, 56 - buffered);
  for (int i = 0; i < 8; ++i) buffer[56 + i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
  compress(buffer.data());
  buffered = 0;
}

constexpr uint32_t kSha256K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// One SHA-1 round of group G (0: Ch, 1 and 3: Parity, 2: Maj): e gets the
// new value and b is rotated; the caller renames the variables after it.
template <int G>
inline void Sha1Round(uint32_t a, uint32_t& b, uint32_t c, uint32_t d, uint32_t& e, uint32_t w) {
  uint32_t f, k;
  if constexpr (G == 0) {
    f = (b & c) | (~b & d);
    k = 0x5A827999;
  } else if constexpr (G == 1) {
    f = b ^ c ^ d;
    k = 0x6ED9EBA1;
  } else if constexpr (G == 2) {
    f = (b & c) | (b & d) | (c & d);
    k = 0x8F1BBCDC;
  } else {
    f = b ^ c ^ d;
    k = 0xCA62C1D6;
  }
  e += Rotl32(a, 5) + f + k + w;
  b = Rotl32(b, 30);
}

constexpr uint64_t kP1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kP2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kP3 = 0x165667B19E3779F9ULL;
constexpr uint64_t kP4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t kP5 = 0x27D4EB2F165667C5ULL;

inline uint64_t XxRound(uint64_t acc, uint64_t input) {
  acc += input * kP2;
  acc = Rotl64(acc, 31);
  return acc * kP1;
}
inline uint64_t XxMerge(uint64_t acc, uint64_t v) {
  acc ^= XxRound(0, v);
  return acc * kP1 + kP4;
}

}  // namespace

// --- SHA-256 ---------------------------------------------------------------

Sha256::Sha256()
    : h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {}

void Sha256::Compress(const uint8_t* block) {
  uint32_t w[64];
  for (int i = 0; i < 16; ++i) w[i] = LoadBe32(block + 4 * i);
  for (int i = 16; i < 64; ++i) {
    const uint32_t s0 = Rotr32(w[i - 15], 7) ^ Rotr32(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const uint32_t s1 = Rotr32(w[i - 2], 17) ^ Rotr32(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
  for (int i = 0; i < 64; ++i) {
    const uint32_t s1 = Rotr32(e, 6) ^ Rotr32(e, 11) ^ Rotr32(e, 25);
    const uint32_t ch = (e & f) ^ (~e & g);
    const uint32_t t1 = h + s1 + ch + kSha256K[i] + w[i];
    const uint32_t s0 = Rotr32(a, 2) ^ Rotr32(a, 13) ^ Rotr32(a, 22);
    const uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    const uint32_t t2 = s0 + maj;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h_[0] += a;
  h_[1] += b;
  h_[2] += c;
  h_[3] += d;
  h_[4] += e;
  h_[5] += f;
  h_[6] += g;
  h_[7] += h;
}

void Sha256::Update(const void* data, size_t n) {
  Md64Update(static_cast<const uint8_t*>(data), n, buffer_, buffered_, length_,
             [this](const uint8_t* b) { Compress(b); });
}

std::array<uint8_t, 32> Sha256::Final() {
  Md64Finish(buffer_, buffered_, length_, [this](const uint8_t* b) { Compress(b); });
  std::array<uint8_t, 32> out;
  for (int i = 0; i < 8; ++i) StoreBe32(h_[i], out.data() + 4 * i);
  return out;
}

// --- SHA-1 -----------------------------------------------------------------

Sha1::Sha1() : h_{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0} {}

// Not auto-vectorized: GCC vectorizes the message schedule (a recurrence of
// distance 3) into stores that the next loads cannot forward from, which
// halved the speed.
__attribute__((optimize("no-tree-vectorize"))) void Sha1::Compress(const uint8_t* block) {
  uint32_t w[80];
  for (int i = 0; i < 16; ++i) w[i] = LoadBe32(block + 4 * i);
  for (int i = 16; i < 80; ++i) w[i] = Rotl32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
  // Rounds in groups of five with the roles of a..e rotated in the argument
  // list instead of moving five values each round (FIPS 180-4 6.1.2 step 3).
  for (int i = 0; i < 20; i += 5) {
    Sha1Round<0>(a, b, c, d, e, w[i]);
    Sha1Round<0>(e, a, b, c, d, w[i + 1]);
    Sha1Round<0>(d, e, a, b, c, w[i + 2]);
    Sha1Round<0>(c, d, e, a, b, w[i + 3]);
    Sha1Round<0>(b, c, d, e, a, w[i + 4]);
  }
  for (int i = 20; i < 40; i += 5) {
    Sha1Round<1>(a, b, c, d, e, w[i]);
    Sha1Round<1>(e, a, b, c, d, w[i + 1]);
    Sha1Round<1>(d, e, a, b, c, w[i + 2]);
    Sha1Round<1>(c, d, e, a, b, w[i + 3]);
    Sha1Round<1>(b, c, d, e, a, w[i + 4]);
  }
  for (int i = 40; i < 60; i += 5) {
    Sha1Round<2>(a, b, c, d, e, w[i]);
    Sha1Round<2>(e, a, b, c, d, w[i + 1]);
    Sha1Round<2>(d, e, a, b, c, w[i + 2]);
    Sha1Round<2>(c, d, e, a, b, w[i + 3]);
    Sha1Round<2>(b, c, d, e, a, w[i + 4]);
  }
  for (int i = 60; i < 80; i += 5) {
    Sha1Round<3>(a, b, c, d, e, w[i]);
    Sha1Round<3>(e, a, b, c, d, w[i + 1]);
    Sha1Round<3>(d, e, a, b, c, w[i + 2]);
    Sha1Round<3>(c, d, e, a, b, w[i + 3]);
    Sha1Round<3>(b, c, d, e, a, w[i + 4]);
  }
  h_[0] += a;
  h_[1] += b;
  h_[2] += c;
  h_[3] += d;
  h_[4] += e;
}

void Sha1::Update(const void* data, size_t n) {
  Md64Update(static_cast<const uint8_t*>(data), n, buffer_, buffered_, length_,
             [this](const uint8_t* b) { Compress(b); });
}

std::array<uint8_t, 20> Sha1::Final() {
  Md64Finish(buffer_, buffered_, length_, [this](const uint8_t* b) { Compress(b); });
  std::array<uint8_t, 20> out;
  for (int i = 0; i < 5; ++i) StoreBe32(h_[i], out.data() + 4 * i);
  return out;
}

// --- XXH64 -----------------------------------------------------------------

Xxh64::Xxh64(uint64_t seed) : seed_(seed), v_{seed + kP1 + kP2, seed + kP2, seed, seed - kP1} {}

void Xxh64::Update(const void* data, size_t n) {
  const auto* in = static_cast<const uint8_t*>(data);
  length_ += n;
  if (buffered_ > 0) {
    const size_t take = std::min(n, 32 - buffered_);
    std::memcpy(buffer_.data() + buffered_, in, take);
    buffered_ += take;
    in += take;
    n -= take;
    if (buffered_ < 32) return;
    for (int i = 0; i < 4; ++i) v_[i] = XxRound(v_[i], LoadLe64(buffer_.data() + 8 * i));
    buffered_ = 0;
  }
  while (n >= 32) {
    for (int i = 0; i < 4; ++i) v_[i] = XxRound(v_[i], LoadLe64(in + 8 * i));
    in += 32;
    n -= 32;
  }
  if (n > 0) {
    std::memcpy(buffer_.data(), in, n);
    buffered_ = n;
  }
}

uint64_t Xxh64::Final() const {
  uint64_t h;
  if (length_ >= 32) {
    h = Rotl64(v_[0], 1) + Rotl64(v_[1], 7) + Rotl64(v_[2], 12) + Rotl64(v_[3], 18);
    for (int i = 0; i < 4; ++i) h = XxMerge(h, v_[i]);
  } else {
    h = seed_ + kP5;
  }
  h += length_;
  const uint8_t* p = buffer_.data();
  size_t n = buffered_;
  while (n >= 8) {
    h ^= XxRound(0, LoadLe64(p));
    h = Rotl64(h, 27) * kP1 + kP4;
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    h ^= uint64_t{LoadLe32(p)} * kP1;
    h = Rotl64(h, 23) * kP2 + kP3;
    p += 4;
    n -= 4;
  }
  while (n > 0) {
    h ^= *p * kP5;
    h = Rotl64(h, 11) * kP1;
    ++p;
    --n;
  }
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

// --- helpers ---------------------------------------------------------------

std::array<uint8_t, 32> Sha256Of(absl::string_view bytes) {
  Sha256 s;
  s.Update(bytes.data(), bytes.size());
  return s.Final();
}
std::array<uint8_t, 20> Sha1Of(absl::string_view bytes) {
  Sha1 s;
  s.Update(bytes.data(), bytes.size());
  return s.Final();
}
uint64_t Xxh64Of(absl::string_view bytes, uint64_t seed) {
  Xxh64 s(seed);
  s.Update(bytes.data(), bytes.size());
  return s.Final();
}

std::string HexBytes(const uint8_t* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

std::string HexU64(uint64_t v) { return absl::StrFormat("%016x", v); }

std::string UuidV5String(const std::array<uint8_t, 20>& sha1_digest) {
  uint8_t u[16];
  std::memcpy(u, sha1_digest.data(), 16);
  u[6] = static_cast<uint8_t>((u[6] & 0x0F) | 0x50);
  u[8] = static_cast<uint8_t>((u[8] & 0x3F) | 0x80);
  const std::string hex = HexBytes(u, 16);
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                      hex.substr(16, 4), "-", hex.substr(20, 12));
}

}  // namespace ggufkit::verify
