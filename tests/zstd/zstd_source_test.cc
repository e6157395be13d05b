// gguf/zstd_source: a forward-only ByteSource decompressing a zstd stream.
#include "ggufkit/gguf/zstd_source.h"

#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/zstd/zstd_test_util.h"

namespace ggufkit {
namespace {

using ::ggufkit::testing::CompressibleBytes;
using ::ggufkit::testing::ReadFileBytes;
using ::ggufkit::testing::RunCommand;
using ::ggufkit::testing::TempDir;
using ::ggufkit::testing::WriteFileBytes;
using ::ggufkit::testing::ZstdCompress;
using ::ggufkit::testing::ZstdCompressOptions;
using ::testing::HasSubstr;

// Writes `compressed` to a file and opens it as a zstd source.
absl::StatusOr<std::unique_ptr<ByteSource>> OpenBytes(const TempDir& dir, const std::string& name,
                                                      const std::vector<uint8_t>& compressed,
                                                      const ZstdSourceOptions& options = {}) {
  const std::string path = dir.File(name);
  EXPECT_TRUE(WriteFileBytes(path, compressed.data(), compressed.size()));
  return OpenZstdSource(path, options);
}

// Reads the whole decompressed stream in pieces of `piece` bytes (the last
// one shorter, found through size() or by trial with OutOfRange).
std::vector<uint8_t> ReadAll(ByteSource& src, size_t total, size_t piece) {
  std::vector<uint8_t> out(total);
  for (size_t at = 0; at < total; at += piece) {
    const size_t n = std::min(piece, total - at);
    absl::Status s = src.ReadAt(at, out.data() + at, n);
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) break;
  }
  return out;
}

TEST(ZstdMagic, DetectsFramesAndSkippableFramesAndSuffix) {
  const uint8_t frame[] = {0x28, 0xB5, 0x2F, 0xFD, 0x00};
  const uint8_t skippable[] = {0x5A, 0x2A, 0x4D, 0x18};
  const uint8_t gguf[] = {'G', 'G', 'U', 'F'};
  EXPECT_TRUE(HasZstdMagic(frame));
  EXPECT_TRUE(HasZstdMagic(skippable));
  EXPECT_FALSE(HasZstdMagic(gguf));
  EXPECT_FALSE(HasZstdMagic(absl::MakeConstSpan(frame, 3)));
  EXPECT_TRUE(HasZstdSuffix("a/model.gguf.zst"));
  EXPECT_FALSE(HasZstdSuffix("a/model.gguf"));
  EXPECT_FALSE(HasZstdSuffix("zst"));

  TempDir dir;
  const std::vector<uint8_t> z = ZstdCompress(CompressibleBytes(1000, 1));
  ASSERT_TRUE(WriteFileBytes(dir.File("no_suffix"), z.data(), z.size()));
  ASSERT_TRUE(WriteFileBytes(dir.File("plain.zst"), gguf, sizeof(gguf)));
  ASSERT_TRUE(WriteFileBytes(dir.File("short.zst"), gguf, 2));
  EXPECT_TRUE(*IsZstdFile(dir.File("no_suffix")));
  EXPECT_FALSE(*IsZstdFile(dir.File("plain.zst")));  // the magic decides
  EXPECT_TRUE(*IsZstdFile(dir.File("short.zst")));   // too short: the suffix decides
  EXPECT_EQ(IsZstdFile(dir.File("missing")).status().code(), absl::StatusCode::kNotFound);
}

TEST(ZstdSource, RoundTripsInAnyReadSize) {
  const std::vector<uint8_t> data = CompressibleBytes(3 * 1024 * 1024 + 17, 2);
  const std::vector<uint8_t> z = ZstdCompress(data);
  TempDir dir;
  for (size_t piece : {size_t{1} << 20, size_t{4096}, size_t{300001}, size_t{7}}) {
    auto src = OpenBytes(dir, "a.zst", z);
    ASSERT_TRUE(src.ok()) << src.status();
    EXPECT_TRUE((*src)->forward_only());
    ASSERT_TRUE((*src)->size().has_value());
    EXPECT_EQ(*(*src)->size(), data.size());
    EXPECT_EQ((*src)->name(), dir.File("a.zst"));
    const size_t total = piece == 7 ? 200000 : data.size();  // 1-byte-ish reads: a prefix
    std::vector<uint8_t> got = ReadAll(**src, total, piece);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin())) << "piece " << piece;
  }
}

TEST(ZstdSource, UnknownContentSizeWorksAndEndIsOutOfRange) {
  const std::vector<uint8_t> data = CompressibleBytes(1000000, 3);
  ZstdCompressOptions options;
  options.content_size = false;
  const std::vector<uint8_t> z = ZstdCompress(data, options);
  ASSERT_EQ(ZSTD_getFrameContentSize(z.data(), z.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  TempDir dir;
  auto src = OpenBytes(dir, "u.zst", z);
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_FALSE((*src)->size().has_value());
  EXPECT_EQ(ReadAll(**src, data.size(), 65536), data);
  uint8_t byte = 0;
  absl::Status past = (*src)->ReadAt(data.size(), &byte, 1);
  EXPECT_EQ(past.code(), absl::StatusCode::kOutOfRange) << past;
  EXPECT_THAT(past.message(), HasSubstr(dir.File("u.zst")));
  EXPECT_THAT(past.message(), HasSubstr(absl::StrCat("(", data.size(), " bytes)")));
}

TEST(ZstdSource, ReadCrossingTheEndIsOutOfRange) {
  const std::vector<uint8_t> data = CompressibleBytes(5000, 4);
  TempDir dir;
  auto src = OpenBytes(dir, "e.zst", ZstdCompress(data));
  ASSERT_TRUE(src.ok()) << src.status();
  std::vector<uint8_t> buf(200);
  absl::Status s = (*src)->ReadAt(4900, buf.data(), buf.size());
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange) << s;
}

TEST(ZstdSource, ConcatenatedAndSkippableFrames) {
  const std::vector<uint8_t> a = CompressibleBytes(700000, 5);
  const std::vector<uint8_t> b = CompressibleBytes(300000, 6);
  std::vector<uint8_t> z = ZstdCompress(a);
  // A skippable frame (magic 0x184D2A53, 5-byte payload) between the two.
  const uint8_t skip[] = {0x53, 0x2A, 0x4D, 0x18, 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'};
  z.insert(z.end(), skip, skip + sizeof(skip));
  const std::vector<uint8_t> zb = ZstdCompress(b);
  z.insert(z.end(), zb.begin(), zb.end());
  std::vector<uint8_t> both = a;
  both.insert(both.end(), b.begin(), b.end());

  TempDir dir;
  auto src = OpenBytes(dir, "cat.zst", z);
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_EQ((*src)->size(), std::optional<uint64_t>(both.size()));
  auto* zs = static_cast<ZstdSource*>(src->get());
  EXPECT_EQ(zs->frame_count(), 3u);
  EXPECT_EQ(ReadAll(**src, both.size(), 1 << 20), both);
  EXPECT_EQ(zs->compressed_position(), z.size());

  // One frame of known size plus one of unknown size: total unknown.
  ZstdCompressOptions unknown;
  unknown.content_size = false;
  std::vector<uint8_t> z2 = ZstdCompress(a);
  const std::vector<uint8_t> zu = ZstdCompress(b, unknown);
  z2.insert(z2.end(), zu.begin(), zu.end());
  auto src2 = OpenBytes(dir, "cat2.zst", z2);
  ASSERT_TRUE(src2.ok()) << src2.status();
  EXPECT_FALSE((*src2)->size().has_value());
  EXPECT_EQ(ReadAll(**src2, both.size(), 99999), both);
}

TEST(ZstdSource, SkipsForwardAndRefusesToGoBack) {
  const std::vector<uint8_t> data = CompressibleBytes(2000000, 7);
  ZstdSourceOptions options;
  options.consumer_name = "gguf-frob";
  TempDir dir;
  auto src = OpenBytes(dir, "m.gguf.zst", ZstdCompress(data), options);
  ASSERT_TRUE(src.ok()) << src.status();
  // Sparse, increasing reads: small and big gaps, small and big reads.
  const std::vector<std::pair<size_t, size_t>> reads = {
      {0, 24}, {24, 8}, {100, 1}, {5000, 300000}, {305000, 1}, {1500000, 200000}, {1999999, 1}};
  for (const auto& [at, n] : reads) {
    std::vector<uint8_t> got(n);
    ASSERT_TRUE((*src)->ReadAt(at, got.data(), n).ok()) << at;
    EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin() + at)) << at;
  }
  uint8_t byte = 0;
  absl::Status back = (*src)->ReadAt(10, &byte, 1);
  EXPECT_EQ(back.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(back.message(),
              HasSubstr(absl::StrCat(dir.File("m.gguf.zst"),
                                     " is a zstd stream: gguf-frob needs random access")));
  // Going back is not sticky: reading on from the current position works.
  EXPECT_TRUE((*src)->ReadAt(2000000, &byte, 0).ok());
}

TEST(ZstdSource, RandomAccessErrorNamesTheProgramByDefault) {
  TempDir dir;
  auto src = OpenBytes(dir, "p.zst", ZstdCompress(CompressibleBytes(100, 8)));
  ASSERT_TRUE(src.ok()) << src.status();
  uint8_t buf[10];
  ASSERT_TRUE((*src)->ReadAt(50, buf, 10).ok());
  absl::Status back = (*src)->ReadAt(0, buf, 10);
  EXPECT_THAT(back.message(), HasSubstr(absl::StrCat(program_invocation_short_name,
                                                     " needs random access")));
}

TEST(ZstdSource, TruncatedStreamIsACleanErrorAtOpen) {
  const std::vector<uint8_t> data = CompressibleBytes(1000000, 9);
  const std::vector<uint8_t> z = ZstdCompress(data);
  TempDir dir;
  for (size_t keep : {size_t{2}, size_t{5}, size_t{12}, z.size() / 2, z.size() - 1}) {
    std::vector<uint8_t> cut(z.begin(), z.begin() + keep);
    const std::string name = absl::StrCat("cut", keep, ".gguf.zst");
    auto src = OpenBytes(dir, name, cut);
    ASSERT_FALSE(src.ok()) << keep;
    EXPECT_THAT(src.status().message(), HasSubstr(dir.File(name))) << keep;
    if (keep >= 5) {
      EXPECT_EQ(src.status().code(), absl::StatusCode::kDataLoss) << src.status();
      EXPECT_THAT(src.status().message(), HasSubstr("truncated zstd stream")) << keep;
      EXPECT_THAT(src.status().message(), HasSubstr(absl::StrCat("file ends at ", keep)));
    }
  }
  auto empty = OpenBytes(dir, "empty.zst", {});
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kDataLoss) << empty.status();
}

TEST(ZstdSource, StreamCutAtABlockBoundaryIsTruncated) {
  // A hand-made stream cut exactly at a block boundary: frame header
  // (magic, FHD 0x00 = no content size, window byte 0x58 = 2^21) and one raw
  // block NOT marked last (header 0x20 0x00 0x00: last=0, type=raw, size=4),
  // then EOF. The walk wants the next block header at offsets 13..16.
  const uint8_t stream[] = {0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x58,  // FHD=0, window 2^(10+11)
                            0x20, 0x00, 0x00, 'a',  'b',  'c',  'd'};
  TempDir dir;
  auto src = OpenBytes(dir, "raw.zst", std::vector<uint8_t>(stream, stream + sizeof(stream)));
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), absl::StatusCode::kDataLoss) << src.status();
  EXPECT_THAT(src.status().message(), HasSubstr("needs bytes up to offset 16"));
  // With a last raw block the same stream decodes to "abcd".
  std::vector<uint8_t> ok(stream, stream + sizeof(stream));
  ok[6] = 0x21;
  auto good = OpenBytes(dir, "raw_ok.zst", ok);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_FALSE((*good)->size().has_value());
  uint8_t got[4];
  ASSERT_TRUE((*good)->ReadAt(0, got, 4).ok());
  EXPECT_EQ(std::string(got, got + 4), "abcd");
}

TEST(ZstdSource, EveryCorruptionIsDetectedWithOffsets) {
  // With the content checksum on, no single flipped byte may go unnoticed:
  // either Open rejects the headers or reading reports DataLoss naming the
  // file and both offsets. Never a wrong answer, never a crash (ASan build).
  const std::vector<uint8_t> data = CompressibleBytes(400000, 10);
  const std::vector<uint8_t> z = ZstdCompress(data);
  TempDir dir;
  int detected_while_reading = 0;
  for (size_t at = 4; at < z.size(); at += std::max<size_t>(1, z.size() / 61)) {
    std::vector<uint8_t> bad = z;
    bad[at] ^= 0x5A;
    auto src = OpenBytes(dir, "bad.zst", bad);
    if (!src.ok()) {
      EXPECT_THAT(src.status().message(), HasSubstr(dir.File("bad.zst"))) << at;
      continue;
    }
    std::vector<uint8_t> got(data.size());
    absl::Status s = (*src)->ReadAt(0, got.data(), got.size());
    if (s.ok()) {
      // A flip in a frame header's content size can make the stream longer
      // or shorter; then the data cannot match in full and zstd notices.
      ADD_FAILURE() << "corruption at " << at << " went unnoticed";
      continue;
    }
    ++detected_while_reading;
    EXPECT_THAT(s.message(), HasSubstr(dir.File("bad.zst"))) << at;
    if (s.code() == absl::StatusCode::kDataLoss) {
      EXPECT_THAT(s.message(), HasSubstr("compressed offset")) << s;
      EXPECT_THAT(s.message(), HasSubstr("decompressed offset")) << s;
    }
    // The error is sticky.
    uint8_t byte;
    EXPECT_EQ((*src)->ReadAt(data.size() - 1, &byte, 1).code(), s.code());
  }
  EXPECT_GT(detected_while_reading, 10);
}

TEST(ZstdSource, NotZstdAndTrailingGarbage) {
  TempDir dir;
  const std::vector<uint8_t> gguf = ReadFileBytes(
      ::ggufkit::testing::TestDataDir() + "/sample/tiny-q4_K.gguf");
  auto plain = OpenBytes(dir, "plain.gguf.zst", gguf);
  EXPECT_EQ(plain.status().code(), absl::StatusCode::kInvalidArgument) << plain.status();
  EXPECT_THAT(plain.status().message(), HasSubstr("not a zstd stream"));

  std::vector<uint8_t> z = ZstdCompress(CompressibleBytes(1000, 11));
  const size_t end = z.size();
  z.insert(z.end(), {'j', 'u', 'n', 'k', 'j', 'u', 'n', 'k'});
  auto trailing = OpenBytes(dir, "trailing.zst", z);
  EXPECT_EQ(trailing.status().code(), absl::StatusCode::kDataLoss) << trailing.status();
  EXPECT_THAT(trailing.status().message(), HasSubstr(absl::StrCat("compressed offset ", end)));
}

TEST(ZstdSource, WindowAboveTheLimitIsRefusedBeforeAllocating) {
  ZstdCompressOptions big_window;
  big_window.content_size = false;  // else zstd shrinks the window to the content
  big_window.window_log = 28;       // 256 MiB > the default 128 MiB cap
  const std::vector<uint8_t> z = ZstdCompress(CompressibleBytes(4096, 12), big_window);
  TempDir dir;
  auto src = OpenBytes(dir, "w.zst", z);
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), absl::StatusCode::kResourceExhausted) << src.status();
  EXPECT_THAT(src.status().message(), HasSubstr("268435456-byte window"));
  // Raising the cap accepts it.
  ZstdSourceOptions options;
  options.window_log_max = 28;
  auto raised = OpenBytes(dir, "w.zst", z, options);
  ASSERT_TRUE(raised.ok()) << raised.status();
  std::vector<uint8_t> got(4096);
  EXPECT_TRUE((*raised)->ReadAt(0, got.data(), got.size()).ok());
  // And a low cap rejects a level-19 stream's 8 MiB window... only if the
  // data is big enough for zstd to use it; with unknown size it always does.
  ZstdCompressOptions l19;
  l19.level = 19;
  l19.content_size = false;
  options.window_log_max = 20;
  auto low = OpenBytes(dir, "l19.zst", ZstdCompress(CompressibleBytes(1000, 13), l19), options);
  EXPECT_EQ(low.status().code(), absl::StatusCode::kResourceExhausted) << low.status();
}

TEST(ZstdSource, MemoryStaysBoundedOnALargeStream) {
  // 96 MiB decompressed, streamed through: the source's own memory is the
  // two buffers plus the decoder's window, whatever the stream's length.
  TempDir dir;
  const std::string path = dir.File("big.zst");
  {
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::vector<uint8_t> out(ZSTD_CStreamOutSize());
    for (int chunk = 0; chunk < 96; ++chunk) {
      const std::vector<uint8_t> piece = CompressibleBytes(1 << 20, 100 + chunk);
      ZSTD_inBuffer in = {piece.data(), piece.size(), 0};
      const bool last = chunk == 95;
      size_t remaining = 0;
      do {
        ZSTD_outBuffer o = {out.data(), out.size(), 0};
        remaining = ZSTD_compressStream2(cctx, &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
        ASSERT_FALSE(ZSTD_isError(remaining));
        ASSERT_EQ(std::fwrite(out.data(), 1, o.pos, f), o.pos);
      } while (in.pos < in.size || (last && remaining != 0));
    }
    std::fclose(f);
    ZSTD_freeCCtx(cctx);
  }
  auto src = OpenZstdSource(path);
  ASSERT_TRUE(src.ok()) << src.status();
  auto* zs = static_cast<ZstdSource*>(src->get());
  std::vector<uint8_t> buf(1 << 20);
  size_t peak = zs->memory_bytes();
  for (int chunk = 0; chunk < 96; ++chunk) {
    ASSERT_TRUE(zs->ReadAt(static_cast<uint64_t>(chunk) << 20, buf.data(), buf.size()).ok());
    if (chunk % 17 == 0) {
      EXPECT_EQ(buf, CompressibleBytes(1 << 20, 100 + chunk)) << chunk;
    }
    peak = std::max(peak, zs->memory_bytes());
  }
  // Level 1 on unknown-size input uses a 512 KiB window; allow for the two
  // 128 KiB buffers and the context's tables.
  EXPECT_LE(zs->max_window_bytes(), 1u << 20);
  EXPECT_LT(peak, size_t{4} << 20) << "peak " << peak;
  uint8_t byte;
  EXPECT_EQ(zs->ReadAt(uint64_t{96} << 20, &byte, 1).code(), absl::StatusCode::kOutOfRange);
}

TEST(ZstdSource, ReadsWhatTheZstdCliWrites) {
  TempDir dir;
  const std::vector<uint8_t> data = CompressibleBytes(2500000, 14);
  ASSERT_TRUE(WriteFileBytes(dir.File("x.bin"), data.data(), data.size()));
  for (const char* flags : {"-1", "-19", "--long=24 -T2", "--no-check -3"}) {
    std::string output;
    ASSERT_EQ(RunCommand(absl::StrCat("zstd -q -f ", flags, " ", dir.File("x.bin"), " -o ",
                                      dir.File("x.bin.zst")),
                         &output),
              0)
        << output;
    auto src = OpenZstdSource(dir.File("x.bin.zst"));
    ASSERT_TRUE(src.ok()) << src.status();
    EXPECT_EQ((*src)->size(), std::optional<uint64_t>(data.size())) << flags;
    EXPECT_EQ(ReadAll(**src, data.size(), 1 << 16), data) << flags;
  }
}

TEST(ZstdSource, MakeZstdSourceNeedsARandomAccessInputOfKnownSize) {
  std::vector<uint8_t> z = ZstdCompress(CompressibleBytes(100, 15));
  auto fwd = MakeZstdSource(MakeForwardOnlySource(MakeMemorySource("mem", z), true));
  EXPECT_EQ(fwd.status().code(), absl::StatusCode::kInvalidArgument);
  auto mem = MakeZstdSource(MakeMemorySource("mem.zst", z));
  ASSERT_TRUE(mem.ok()) << mem.status();
  EXPECT_EQ((*mem)->name(), "mem.zst");
  ZstdSourceOptions bad;
  bad.window_log_max = 40;
  EXPECT_EQ(MakeZstdSource(MakeMemorySource("m", z), bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ZstdTestData, CompressedTestDataDecompresses) {
  // tests/data/golden.tar.zst is kept compressed; the helper reads it and it
  // agrees with our source (a tar archive starts with its first member name
  // and has "ustar" at offset 257).
  const std::string path = ::ggufkit::testing::TestDataDir() + "/golden.tar.zst";
  const std::vector<uint8_t> tar = ::ggufkit::testing::ReadZstdFile(path);
  ASSERT_GT(tar.size(), 512u);
  EXPECT_EQ(std::string(tar.begin() + 257, tar.begin() + 262), "ustar");
  auto src = OpenZstdSource(path);
  ASSERT_TRUE(src.ok()) << src.status();
  if ((*src)->size()) {
    EXPECT_EQ(*(*src)->size(), tar.size());
  }
  EXPECT_EQ(ReadAll(**src, tar.size(), 1 << 20), tar);
}

}  // namespace
}  // namespace ggufkit
