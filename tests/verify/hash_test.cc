// verify/hash.h against published vectors: FIPS 180-4 examples for SHA-1 and
// SHA-256, and XXH64 values computed with the xxhash package 4.1.0 (the
// reference implementation's Python binding) over bytes i % 251.
#include "ggufkit/verify/hash.h"

#include <cstdint>
#include <string>

#include "gtest/gtest.h"

namespace ggufkit::verify {
namespace {

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

TEST(Sha256Test, FipsVectors) {
  EXPECT_EQ(HexBytes(Sha256Of("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexBytes(Sha256Of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexBytes(Sha256Of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(HexBytes(Sha256Of(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha1Test, FipsVectors) {
  EXPECT_EQ(HexBytes(Sha1Of("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(HexBytes(Sha1Of("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(HexBytes(Sha1Of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(HexBytes(Sha1Of(std::string(1000000, 'a'))),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

struct XxVector {
  size_t n;
  uint64_t seed0;
  uint64_t seed_p1;  // seed 0x9E3779B185EBCA87
};

TEST(Xxh64Test, ReferenceVectors) {
  const XxVector vectors[] = {
      {0, 0xef46db3751d8e999, 0x6ec6d05f61c7e7a7},
      {1, 0xe934a84adb052768, 0x60508b0ced72c717},
      {3, 0xe5c7bb4533bc65dd, 0xa1552d556a299b24},
      {4, 0xffced8604453cc1e, 0xd485946465317d49},
      {7, 0x14cc643f630c72d2, 0x0ff0ba621eec7a4e},
      {8, 0x884a173614b81b8d, 0x5eb050a7cb134cae},
      {9, 0x67d85784a7c78c5b, 0xf1932bbf13770b3e},
      {31, 0xc346d2b59b4d8ee1, 0xa3c5ec38a60b7ea1},
      {32, 0xcbf59c5116ff32b4, 0xbfb3e4ef6096c49c},
      {33, 0x0c535d1acafb8ead, 0x702e2aa8b96740bd},
      {63, 0xe26aa9e2a95f8e4f, 0xb83be1f91b39104d},
      {64, 0xf7c67301db6713f0, 0x2006c268b7d34f54},
      {65, 0xc31eb63b2ae4465b, 0x3e419324923d2d31},
      {100, 0x6ac1e58032166597, 0x00278bda0ee3f586},
      {1000, 0xf306f04aa88b54d3, 0xe5e65cf7cbe10ca8},
      {4099, 0xd1ebc6e909729b6d, 0x2e077cbda3495228},
  };
  for (const XxVector& v : vectors) {
    const std::string data = Pattern(v.n);
    EXPECT_EQ(Xxh64Of(data), v.seed0) << v.n;
    EXPECT_EQ(Xxh64Of(data, 0x9E3779B185EBCA87ULL), v.seed_p1) << v.n;
  }
  EXPECT_EQ(HexU64(0x0c535d1acafb8eadULL), "0c535d1acafb8ead");
}

// Every split of the input into pieces gives the one-shot digest.
TEST(HashTest, IncrementalEqualsOneShot) {
  const std::string data = Pattern(1000);
  for (size_t piece : {1, 3, 31, 32, 55, 63, 64, 65, 128, 999}) {
    Sha256 s256;
    Sha1 s1;
    Xxh64 x;
    for (size_t i = 0; i < data.size(); i += piece) {
      const size_t n = std::min(piece, data.size() - i);
      s256.Update(data.data() + i, n);
      s1.Update(data.data() + i, n);
      x.Update(data.data() + i, n);
    }
    EXPECT_EQ(s256.Final(), Sha256Of(data)) << piece;
    EXPECT_EQ(s1.Final(), Sha1Of(data)) << piece;
    EXPECT_EQ(x.Final(), Xxh64Of(data)) << piece;
  }
}

// llama.cpp's namespace is uuid5(NAMESPACE_URL, "en.wikipedia.org/wiki/Llama.cpp"):
// a UUIDv5 of that name in the URL namespace must reproduce it.
TEST(UuidTest, LlamaCppNamespaceIsItsOwnUuid5) {
  const uint8_t url_ns[16] = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                              0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
  Sha1 s;
  s.Update(url_ns, 16);
  const std::string name = "en.wikipedia.org/wiki/Llama.cpp";
  s.Update(name.data(), name.size());
  EXPECT_EQ(UuidV5String(s.Final()), "ef001206-dadc-5f6d-a15f-3359e577d4e5");
  EXPECT_EQ(HexBytes(kLlamaCppUuidNamespace), "ef001206dadc5f6da15f3359e577d4e5");
}

}  // namespace
}  // namespace ggufkit::verify
