// One test per class of the bad-input checklist (docs/security.md),
// each on a file built byte by byte in memory, plus truncation of a valid
// file at every byte offset. Every case must be a clean Status naming the
// file and the byte offset, never a crash or a huge allocation.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "ggufkit/gguf/byte_source.h"
#include "ggufkit/gguf/reader.h"
#include "gguf_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"

namespace ggufkit {
namespace {

using ::ggufkit::testing::RawGguf;
using ::testing::HasSubstr;

constexpr uint32_t kF32 = 0;
constexpr uint32_t kQ4_0 = 2;
constexpr uint64_t kHuge = std::numeric_limits<uint64_t>::max();

absl::StatusOr<std::unique_ptr<GgufReader>> Parse(const RawGguf& raw) {
  return GgufReader::Open(MakeMemorySource("bad.gguf", raw.bytes()));
}

// Expects a parse error whose message names the file, an offset and
// contains `what`; returns the message.
std::string ExpectRejected(const RawGguf& raw, const std::string& what,
                           const std::string& offset = "") {
  auto r = Parse(raw);
  EXPECT_FALSE(r.ok()) << "accepted a file that should fail with: " << what;
  if (r.ok()) return "";
  const std::string message(r.status().message());
  EXPECT_THAT(message, HasSubstr("bad.gguf")) << message;
  EXPECT_THAT(message, HasSubstr("offset " + offset)) << message;
  EXPECT_THAT(message, HasSubstr(what)) << message;
  return message;
}

// A valid small file: one kv, one f32 tensor [8] at offset 0 (32 bytes).
RawGguf ValidFile() {
  RawGguf g;
  g.Header(1, 1).KvStr("general.architecture", "test").Tensor("t", {8}, kF32, 0).PadTo(32);
  g.Zeros(32);
  return g;
}

TEST(BadInputTest, ValidBaselineParses) {
  auto r = Parse(ValidFile());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->tensors().size(), 1u);
  EXPECT_EQ((*r)->tensors()[0].size_bytes, 32u);
}

TEST(BadInputTest, WrongMagic) {
  RawGguf g;
  g.Bytes("GGML", 4).U32(3).U64(0).U64(0);
  ExpectRejected(g, "not a GGUF file", "0");
  RawGguf empty;
  auto r = Parse(empty);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("file ends while reading the magic"));
}

TEST(BadInputTest, UnsupportedVersions) {
  for (uint32_t v : {0u, 1u, 4u, 0xFFFFFFFFu, 0x01000000u, 0x04000000u}) {
    RawGguf g;
    g.Header(0, 0, v);
    ExpectRejected(g, "version", "4");
  }
}

TEST(BadInputTest, EndiannessComesFromTheVersionField) {
  // A big-endian file parses with byte-swapped fields.
  RawGguf be(/*big_endian=*/true);
  be.Header(1, 2).KvU32("general.alignment", 64).Str("k").U32(9).U32(5).U64(2).I32(-7).I32(9);
  be.Tensor("t", {32, 2}, kQ4_0, 0).PadTo(64).Zeros(36);
  auto r = Parse(be);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->endianness(), Endianness::kBig);
  EXPECT_EQ((*r)->version(), 3u);
  EXPECT_EQ((*r)->alignment(), 64u);
  EXPECT_THAT(*(*r)->metadata().GetArrayI32("k"), ::testing::ElementsAre(-7, 9));
  EXPECT_EQ(ShapeString((*r)->tensors()[0]), "[32, 2]");
  EXPECT_EQ((*r)->tensors()[0].size_bytes, 36u);
}

TEST(BadInputTest, HugeTensorCount) {
  RawGguf g;
  g.Header(kHuge / 2, 0);
  ExpectRejected(g, "tensor count", "8");
}

TEST(BadInputTest, HugeMetadataCount) {
  RawGguf g;
  g.Header(0, 1ull << 60);
  ExpectRejected(g, "metadata count", "16");
}

TEST(BadInputTest, HugeStringLength) {
  RawGguf g;
  g.Header(0, 1).U64(kHuge).Zeros(16);
  ExpectRejected(g, "length 18446744073709551615 exceeds", "24");
}

TEST(BadInputTest, StringPastEndOfFile) {
  RawGguf g;
  g.Header(0, 1).Str("key").U32(8).U64(100).Bytes("short", 5);
  ExpectRejected(g, "string value length 100 exceeds the 5 bytes remaining");
}

TEST(BadInputTest, HugeArrayCount) {
  RawGguf g;
  g.Header(0, 1).Str("arr").U32(9).U32(4).U64(1ull << 40).Zeros(64);
  ExpectRejected(g, "does not fit");
}

TEST(BadInputTest, ArrayByteSizeOverflow) {
  // count * 8 wraps to 0 in 64 bits: the check must not multiply first.
  RawGguf g;
  g.Header(0, 1).Str("arr").U32(9).U32(10).U64(1ull << 61).Zeros(64);
  ExpectRejected(g, "does not fit");
  RawGguf s;
  s.Header(0, 1).Str("arr").U32(9).U32(8).U64(kHuge).Zeros(64);
  ExpectRejected(s, "strings cannot fit");
}

TEST(BadInputTest, NestedArrays) {
  RawGguf g;
  g.Header(0, 1).Str("nested").U32(9).U32(9).U64(1).U32(4).U64(1).U32(7);
  ExpectRejected(g, "arrays of arrays are not supported");
}

TEST(BadInputTest, EmptyKey) {
  RawGguf g;
  g.Header(0, 1).Str("").U32(4).U32(1);
  ExpectRejected(g, "empty key", "24");
}

TEST(BadInputTest, DuplicateKey) {
  RawGguf g;
  g.Header(0, 2).KvU32("a.b", 1).KvU32("a.b", 2);
  ExpectRejected(g, "duplicate metadata key 'a.b'");
}

TEST(BadInputTest, UnknownValueType) {
  RawGguf g;
  g.Header(0, 1).Str("k").U32(13).U32(0);
  ExpectRejected(g, "unknown value type 13", "33");
  RawGguf a;
  a.Header(0, 1).Str("k").U32(9).U32(77).U64(0);
  ExpectRejected(a, "unknown array element type 77");
}

TEST(BadInputTest, BoolByteNotZeroOrOne) {
  RawGguf g;
  g.Header(0, 1).Str("flag").U32(7).U8(2);
  ExpectRejected(g, "bool byte is 2", "40");
  RawGguf a;
  a.Header(0, 1).Str("flags").U32(9).U32(7).U64(3).U8(1).U8(0).U8(7);
  ExpectRejected(a, "bool element 2 is 7");
}

TEST(BadInputTest, AlignmentWrongType) {
  RawGguf g;
  g.Header(0, 1).Str("general.alignment").U32(5).I32(32);
  ExpectRejected(g, "general.alignment must be u32, found i32");
  RawGguf s;
  s.Header(0, 1).Str("general.alignment").U32(8).Str("32");
  ExpectRejected(s, "general.alignment must be u32, found str");
}

TEST(BadInputTest, AlignmentZeroNotPowerOfTwoOrAbsurd) {
  for (uint32_t a : {0u, 3u, 48u, 0x80000000u}) {
    RawGguf g;
    g.Header(0, 1).KvU32("general.alignment", a);
    ExpectRejected(g, "general.alignment " + std::to_string(a));
  }
}

TEST(BadInputTest, TensorNameEmptyTooLongDuplicate) {
  RawGguf empty;
  empty.Header(1, 0).Tensor("", {8}, kF32, 0).PadTo(32).Zeros(32);
  ExpectRejected(empty, "empty name", "24");
  RawGguf long_name;
  long_name.Header(1, 0).Tensor(std::string(2000, 'x'), {8}, kF32, 0).PadTo(32).Zeros(32);
  ExpectRejected(long_name, "tensor name length 2000 exceeds the limit");
  RawGguf dup;
  dup.Header(2, 0).Tensor("w", {8}, kF32, 0).Tensor("w", {8}, kF32, 32).PadTo(32).Zeros(64);
  ExpectRejected(dup, "duplicate tensor name 'w'");
}

TEST(BadInputTest, TensorDimensionCount) {
  for (uint32_t n_dims : {0u, 5u, 1000u}) {
    RawGguf g;
    g.Header(1, 0).Str("t").U32(n_dims).U64(8).U32(kF32).U64(0).PadTo(32).Zeros(64);
    ExpectRejected(g, "n_dims " + std::to_string(n_dims) + " is outside 1..4", "33");
  }
}

TEST(BadInputTest, TensorZeroOrNegativeDimension) {
  RawGguf zero;
  zero.Header(1, 0).Tensor("t", {8, 0}, kF32, 0).PadTo(32).Zeros(32);
  ExpectRejected(zero, "dimension 1 is 0", "45");
  RawGguf negative;
  negative.Header(1, 0).Tensor("t", {static_cast<uint64_t>(-8), 1}, kF32, 0).PadTo(32).Zeros(32);
  ExpectRejected(negative, "dimension 0 is -8");
}

TEST(BadInputTest, TensorElementCountOverflow) {
  RawGguf g;
  g.Header(1, 0).Tensor("t", {1ull << 32, 1ull << 32}, kF32, 0).PadTo(32).Zeros(32);
  ExpectRejected(g, "element count overflows 64 bits");
}

TEST(BadInputTest, TensorByteSizeOverflow) {
  // 2^61 f32 elements fit in int64, their 2^63 bytes do not.
  RawGguf g;
  g.Header(1, 0).Tensor("t", {1ull << 61}, kF32, 0).PadTo(32).Zeros(32);
  ExpectRejected(g, "byte size overflows 64 bits");
}

TEST(BadInputTest, TensorUnknownOrRemovedType) {
  for (uint32_t type : {4u, 5u, 31u, 36u, 43u, 1000u}) {
    RawGguf g;
    g.Header(1, 0).Tensor("t", {32}, type, 0).PadTo(32).Zeros(64);
    ExpectRejected(g, "unknown or removed ggml type id " + std::to_string(type));
  }
}

TEST(BadInputTest, TensorRowNotWholeBlocks) {
  RawGguf g;
  g.Header(1, 0).Tensor("t", {40, 2}, kQ4_0, 0).PadTo(32).Zeros(64);
  ExpectRejected(g, "ne[0] = 40 is not a multiple of the q4_0 block size 32");
}

TEST(BadInputTest, TensorOffsetMisaligned) {
  RawGguf g;
  g.Header(1, 0).Tensor("t", {8}, kF32, 4).PadTo(32).Zeros(64);
  ExpectRejected(g, "data offset 4 is not a multiple of the alignment 32");
}

TEST(BadInputTest, TensorPastEndOfFile) {
  RawGguf g;
  g.Header(1, 0).Tensor("t", {8}, kF32, 32).PadTo(32).Zeros(32);
  ExpectRejected(g, "extends past the end of the file", "24");
  RawGguf wrap;
  wrap.Header(1, 0).Tensor("t", {8}, kF32, kHuge - 31).PadTo(32).Zeros(32);
  ExpectRejected(wrap, "overflows 64 bits");
}

TEST(BadInputTest, OverlappingTensors) {
  RawGguf g;
  g.Header(2, 0).Tensor("a", {16}, kF32, 0).Tensor("b", {8}, kF32, 32).PadTo(32).Zeros(96);
  ExpectRejected(g, "overlaps tensor 'a'");
  RawGguf same;
  same.Header(2, 0).Tensor("a", {8}, kF32, 0).Tensor("b", {8}, kF32, 0).PadTo(32).Zeros(32);
  ExpectRejected(same, "overlaps");
  ReaderOptions lenient;
  lenient.reject_overlaps = false;
  EXPECT_TRUE(GgufReader::Open(MakeMemorySource("x", same.bytes()), lenient).ok());
}

TEST(BadInputTest, ReadErrorsOnOtherFilesTensors) {
  auto a = Parse(ValidFile());
  ASSERT_TRUE(a.ok());
  TensorInfo foreign = (*a)->tensors()[0];
  foreign.name = "not-here";
  uint8_t b[4];
  EXPECT_EQ((*a)->ReadTensorBytes(foreign, 0, b, 4).code(), absl::StatusCode::kInvalidArgument);
}

// Without a known size the counts cannot be checked against the bytes that
// remain: memory must then grow only as bytes really arrive (a huge claim
// would abort under ASan if it were allocated up front).
TEST(BadInputTest, HugeClaimsOnUnknownSizeSourceFailCleanly) {
  std::vector<RawGguf> files(7);
  files[0].Header(kHuge / 2, 0);
  files[1].Header(0, kHuge / 2);
  files[2].Header(0, 1).U64(kHuge - 1).Zeros(16);
  files[3].Header(0, 1).Str("arr").U32(9).U32(4).U64(1ull << 40).Zeros(64);
  files[4].Header(0, 1).Str("arr").U32(9).U32(8).U64(1ull << 60).Zeros(64);
  files[5].Header(0, 1).Str("arr").U32(9).U32(10).U64(1ull << 59).Zeros(64);
  files[6].Header(1ull << 40, 0).Tensor("t", {8}, kF32, 0);
  for (size_t i = 0; i < files.size(); ++i) {
    auto r = GgufReader::Open(MakeForwardOnlySource(MakeMemorySource("bad.gguf", files[i].bytes()),
                                                    /*hide_size=*/true));
    ASSERT_FALSE(r.ok()) << i;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("bad.gguf")) << i;
  }
}

// A valid golden file cut at every length must fail cleanly, with the file
// named. With a hidden-size forward-only source, a cut inside the data
// parses but then fails when the data is read.
TEST(BadInputTest, TruncationAtEveryByte) {
  const std::vector<uint8_t> file = testing::ReadFileBytes(testing::GoldenPath("ggml/q1_0.gguf"));
  ASSERT_GT(file.size(), 1000u);
  ASSERT_TRUE(GgufReader::Open(MakeMemoryViewSource("whole.gguf", file)).ok());
  std::vector<uint8_t> buffer;
  for (size_t len = 0; len < file.size(); ++len) {
    absl::Span<const uint8_t> cut(file.data(), len);
    auto r = GgufReader::Open(MakeMemoryViewSource("cut.gguf", cut));
    ASSERT_FALSE(r.ok()) << "accepted a file cut at " << len;
    ASSERT_THAT(std::string(r.status().message()), HasSubstr("cut.gguf")) << len;

    auto fwd = GgufReader::Open(
        MakeForwardOnlySource(MakeMemoryViewSource("cut.gguf", cut), /*hide_size=*/true));
    if (!fwd.ok()) {
      ASSERT_THAT(std::string(fwd.status().message()), HasSubstr("cut.gguf")) << len;
      continue;
    }
    absl::Status read = absl::OkStatus();
    for (size_t index : (*fwd)->TensorsInFileOrder()) {
      const TensorInfo& t = (*fwd)->tensors()[index];
      buffer.resize(t.size_bytes);
      read = (*fwd)->ReadTensorBytes(t, 0, buffer.data(), buffer.size());
      if (!read.ok()) break;
    }
    ASSERT_EQ(read.code(), absl::StatusCode::kOutOfRange) << "cut at " << len << ": " << read;
    ASSERT_THAT(std::string(read.message()), HasSubstr("cut.gguf"));
  }
}

}  // namespace
}  // namespace ggufkit
