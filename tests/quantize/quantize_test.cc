// The quantize/ library: type selection on the 22-layer TinyLlama shapes,
// option parsing, importance-matrix reading and its bad inputs, output bytes
// independent of threads and chunk size, per-expert imatrix use.
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "ggufkit/dequant/dequant.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/split.h"
#include "ggufkit/gguf/writer.h"
#include "ggufkit/quantize/ftype.h"
#include "ggufkit/quantize/imatrix.h"
#include "ggufkit/quantize/quantize_model.h"
#include "ggufkit/quantize/quantizing_writer.h"
#include "ggufkit/quantize/type_selection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/quantize/quantize_test_util.h"

namespace ggufkit::quantize {
namespace {

using ::ggufkit::testing::TempDir;
using testing::GoldenWorkDir;
using testing::Sha256File;

bool Exists(const std::string& p) { return access(p.c_str(), F_OK) == 0; }

TEST(FtypeTest, NamesAndIdsAsLlamaQuantize) {
  EXPECT_EQ(ParseFtype("q4_k_m")->ftype, Ftype::kQ4_K_M);
  EXPECT_EQ(ParseFtype("Q4_K")->ftype, Ftype::kQ4_K_M);
  EXPECT_EQ(ParseFtype("15")->ftype, Ftype::kQ4_K_M);
  EXPECT_EQ(ParseFtype("0")->name, "F32");
  EXPECT_TRUE(ParseFtype("COPY")->copy_only);
  EXPECT_EQ(ParseFtype("7")->ftype, Ftype::kQ8_0);
  EXPECT_FALSE(ParseFtype("Q9_K").ok());
  EXPECT_FALSE(ParseFtype("out.gguf").ok());
  EXPECT_FALSE(ParseFtype("5").ok());  // removed Q4_3
}

TEST(KvOverrideTest, LlamaQuantizeTypes) {
  auto i = ParseKvOverride("llama.context_length=int:-4096");
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->key, "llama.context_length");
  EXPECT_EQ(i->value.type(), GgufValueType::kU32);
  EXPECT_EQ(i->value.u32(), 4096u);
  auto f = ParseKvOverride("a.b=float:0.5");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->value.type(), GgufValueType::kF32);
  EXPECT_EQ(f->value.f32(), 0.5f);
  EXPECT_TRUE(ParseKvOverride("a=bool:true")->value.boolean());
  EXPECT_EQ(ParseKvOverride("a=str:hello")->value.str(), "hello");
  EXPECT_FALSE(ParseKvOverride("a=bool:yes").ok());
  EXPECT_FALSE(ParseKvOverride("a=u8:1").ok());
  EXPECT_FALSE(ParseKvOverride("noequals").ok());
  EXPECT_FALSE(ParseKvOverride("a=str:" + std::string(128, 'x')).ok());
}

TEST(OrderTest, LayerNumberThenBytes) {
  const std::vector<std::string> names = {"blk.10.a",         "token_embd.weight",  "blk.2.b",
                                          "blk.2.a",          "output_norm.weight", "output.weight",
                                          "rope_freqs.weight"};
  std::vector<std::string> got;
  for (size_t i : LlamaQuantizeOrder(names)) got.push_back(names[i]);
  EXPECT_EQ(got,
            (std::vector<std::string>{"output.weight", "output_norm.weight", "rope_freqs.weight",
                                      "token_embd.weight", "blk.2.a", "blk.2.b", "blk.10.a"}));
}

// tinyllama22.tsv: llama-quantize --dry-run's choices for the 22-layer
// TinyLlama-shaped F32 model (n_embd 2048, 32 heads / 4 KV heads).
TEST(TypeSelectionTest, TinyLlama22EqualsLlamaQuantizeForEveryFtype) {
  auto text = testing::ReadZstFile(testing::QuantizeDataDir() + "/tinyllama22.tsv.zst");
  ASSERT_TRUE(text.ok()) << text.status();
  std::vector<TensorShape> shapes;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> expected;
  std::vector<std::string> ftypes;
  for (absl::string_view line : absl::StrSplit(std::string(text->begin(), text->end()), '\n')) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f[0] == "shape" && f.size() == 3) {
      TensorShape t;
      t.name = f[1];
      std::vector<std::string> dims = absl::StrSplit(f[2], ',');
      t.n_dims = static_cast<int>(dims.size());
      for (size_t d = 0; d < dims.size(); ++d) t.ne[d] = std::stoll(dims[d]);
      shapes.push_back(t);
    } else if (f[0] == "type" && f.size() == 4) {
      if (!expected.count(f[1])) ftypes.push_back(f[1]);
      expected[f[1]].emplace_back(f[2], f[3]);
    }
  }
  ASSERT_EQ(shapes.size(), 201u);
  ASSERT_EQ(ftypes.size(), 7u);
  Metadata md;
  ASSERT_TRUE(md.Add("general.architecture", MetadataValue::String("llama")).ok());
  ASSERT_TRUE(md.Add("llama.block_count", MetadataValue::U32(22)).ok());
  ASSERT_TRUE(md.Add("llama.attention.head_count", MetadataValue::U32(32)).ok());
  ASSERT_TRUE(md.Add("llama.attention.head_count_kv", MetadataValue::U32(4)).ok());
  auto params = ModelParamsFromMetadata(md);
  ASSERT_TRUE(params.ok()) << params.status();
  std::vector<std::string> names;
  for (const TensorShape& t : shapes) names.push_back(t.name);
  const std::vector<size_t> order = LlamaQuantizeOrder(names);
  std::vector<std::string> ordered;
  for (size_t i : order) ordered.push_back(names[i]);
  for (const std::string& ft : ftypes) {
    SCOPED_TRACE(ft);
    SelectionOptions o;
    o.ftype = ParseFtype(ft)->ftype;
    auto sel = TypeSelector::Create(*params, o, ordered);
    ASSERT_TRUE(sel.ok()) << sel.status();
    std::vector<std::pair<std::string, std::string>> got;
    for (size_t i : order) {
      auto ch = sel->Choose(shapes[i]);
      ASSERT_TRUE(ch.ok()) << ch.status();
      got.emplace_back(shapes[i].name, std::string(GgmlTypeName(ch->type)));
    }
    EXPECT_EQ(got, expected[ft]);
  }
}

// Rules the golden models do not reach: 70B-class models (more bits for
// attn_v), 8-expert models (q8_0 attention) and falcon (its own ffn_down
// thresholds), as llama-quantize at the fork's 69d8e4be chooses them.
std::vector<std::string> ChooseAll(const ModelParams& p, Ftype ftype,
                                   const std::vector<TensorShape>& shapes) {
  std::vector<std::string> names;
  for (const TensorShape& t : shapes) names.push_back(t.name);
  SelectionOptions o;
  o.ftype = ftype;
  auto sel = TypeSelector::Create(p, o, names);
  std::vector<std::string> out;
  for (const TensorShape& t : shapes) {
    auto ch = sel->Choose(t);
    out.push_back(ch.ok() ? std::string(GgmlTypeName(ch->type))
                          : std::string(ch.status().message()));
  }
  return out;
}

TensorShape W(const std::string& name, int64_t ne0, int64_t ne1, int64_t ne2 = 1) {
  TensorShape t;
  t.name = name;
  t.type = GgmlType::kF16;
  t.n_dims = ne2 > 1 ? 3 : 2;
  t.ne = {ne0, ne1, ne2, 1};
  return t;
}

TEST(TypeSelectionTest, SeventyBEightExpertsAndFalcon) {
  Metadata md;
  ASSERT_TRUE(md.Add("general.architecture", MetadataValue::String("llama")).ok());
  ASSERT_TRUE(md.Add("llama.block_count", MetadataValue::U32(80)).ok());
  ASSERT_TRUE(md.Add("llama.attention.head_count", MetadataValue::U32(64)).ok());
  ASSERT_TRUE(md.Add("llama.attention.head_count_kv", MetadataValue::U32(8)).ok());
  auto p70 = ModelParamsFromMetadata(md);
  ASSERT_TRUE(p70.ok());
  EXPECT_TRUE(p70->is_70b);
  // attn_v of layer 10 of 80, not one of the layers that get q6_K: the
  // 70B-class rule still raises q4_K to q5_K.
  std::vector<TensorShape> v;
  for (int i = 0; i < 80; ++i)
    v.push_back(W("blk." + std::to_string(i) + ".attn_v.weight", 8192, 1024));
  auto got = ChooseAll(*p70, Ftype::kQ4_K_M, v);
  EXPECT_EQ(got[0], "q6_K");   // first eighth of the layers
  EXPECT_EQ(got[10], "q5_K");  // 70B-class rule
  // Mixtral-like: 8 experts.
  ModelParams moe = *p70;
  moe.is_70b = false;
  moe.n_layer = 32;
  moe.n_expert = 8;
  got = ChooseAll(
      moe, Ftype::kQ4_K_M,
      {W("blk.0.attn_k.weight", 4096, 1024), W("blk.0.attn_v.weight", 4096, 1024),
       W("blk.0.attn_output.weight", 4096, 4096), W("blk.5.ffn_down_exps.weight", 14336, 4096, 8),
       W("blk.x.ffn_down_exps.weight", 14336, 4096, 8)});
  EXPECT_EQ(got[0], "q8_0");
  EXPECT_EQ(got[1], "q8_0");
  EXPECT_EQ(got[2], "q5_K");
  // The ffn_down layer comes from the name (expert model): layer 5 of 32 gets
  // no extra bits, and 14336 columns are whole q4_K blocks (no fallback).
  EXPECT_EQ(got[3], "q4_K");
  EXPECT_THAT(got[4], ::testing::HasSubstr("tensor blk.x.ffn_down_exps.weight: no layer number"));
  // Falcon, Q4_K_M ffn_down: the first sixteenth of the layers get q6_K, the
  // others q4_K unless they are among the layers given more bits.
  ModelParams falcon;
  falcon.arch = "falcon";
  falcon.n_layer = 32;
  falcon.n_head = 71;
  falcon.n_head_kv = 1;
  std::vector<TensorShape> f;
  for (int i = 0; i < 6; ++i)
    f.push_back(W("blk." + std::to_string(i) + ".ffn_down.weight", 4608, 4096));
  f.push_back(W("output.weight", 4096, 65024));
  got = ChooseAll(falcon, Ftype::kQ4_K_M, f);
  EXPECT_EQ(got[0], "q6_K");
  EXPECT_EQ(got[1], "q6_K");
  EXPECT_EQ(got[2], "q5_K");  // layer 2 of 32: still in the first eighth, more bits
  EXPECT_EQ(got[5], "q4_K");  // layer 5: not one of every third layer after that
  EXPECT_EQ(got[6], "q8_0");  // falcon output
}

// ---------------------------------------------------------------------------
// Importance matrices.
// ---------------------------------------------------------------------------

struct DatEntry {
  std::string name;
  int32_t ncall;
  std::vector<float> values;
};

std::string WriteDat(const TempDir& dir, const std::string& file, const std::vector<DatEntry>& e,
                     size_t truncate_to = 0) {
  std::string b;
  auto i32 = [&](int32_t v) { b.append(reinterpret_cast<const char*>(&v), 4); };
  i32(static_cast<int32_t>(e.size()));
  for (const DatEntry& x : e) {
    i32(static_cast<int32_t>(x.name.size()));
    b += x.name;
    i32(x.ncall);
    i32(static_cast<int32_t>(x.values.size()));
    b.append(reinterpret_cast<const char*>(x.values.data()), x.values.size() * 4);
  }
  i32(10);
  i32(4);
  b += "data";
  if (truncate_to > 0) b.resize(truncate_to);
  const std::string path = dir.File(file);
  std::ofstream(path, std::ios::binary) << b;
  return path;
}

TEST(ImatrixTest, LegacyDatAveragesByCallsAndReadsTheDataset) {
  TempDir dir;
  const std::string p = WriteDat(dir, "a.dat", {{"x.weight", 4, {4, 8, 12, 16}}});
  auto im = LoadImatrix(p);
  ASSERT_TRUE(im.ok()) << im.status();
  EXPECT_TRUE(im->legacy_format);
  EXPECT_EQ(im->entries["x.weight"], (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(im->chunk_count, 10);
  EXPECT_EQ(im->datasets, std::vector<std::string>{"data"});
}

TEST(ImatrixTest, GoldenGgufAndDatAgree) {
  std::string skip;
  const std::string dir = GoldenWorkDir(&skip);
  if (dir.empty()) GTEST_SKIP() << skip;
  auto g = LoadImatrix(dir + "/llama-8l.imatrix.gguf");
  auto d = LoadImatrix(dir + "/llama-8l.imatrix.dat");
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(g->entries.size(), 56u);
  EXPECT_EQ(g->chunk_count, 42);
  EXPECT_EQ(g->datasets, std::vector<std::string>{"imatrix-text.txt"});
  EXPECT_EQ(d->entries.size(), 56u);
}

TEST(ImatrixTest, BadFilesAreErrorsNamingTheEntry) {
  TempDir dir;
  const std::vector<DatEntry> good = {{"blk.0.attn_q.weight", 1, std::vector<float>(256, 1.0f)}};
  // Truncated inside the values.
  auto t = LoadImatrix(WriteDat(dir, "t.dat", good, 40));
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(absl::StrContains(t.status().message(), "blk.0.attn_q.weight")) << t.status();
  // Empty, and a negative count.
  EXPECT_FALSE(LoadImatrix(WriteDat(dir, "e.dat", {})).ok());
  EXPECT_FALSE(LoadImatrix(WriteDat(dir, "n.dat", {{"x", 1, {}}})).ok());
  // NaN and negative values.
  std::vector<float> nan_values(256, 1.0f);
  nan_values[7] = std::numeric_limits<float>::quiet_NaN();
  auto n = LoadImatrix(WriteDat(dir, "nan.dat", {{"blk.0.attn_q.weight", 1, nan_values}}));
  ASSERT_TRUE(n.ok());
  absl::Status s = CheckImatrixValues(*n, "nan.dat");
  EXPECT_TRUE(absl::StrContains(s.message(), "non-finite")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "blk.0.attn_q.weight")) << s;
  std::vector<float> neg_values(256, 1.0f);
  neg_values[3] = -1.0f;
  auto g = LoadImatrix(WriteDat(dir, "neg.dat", {{"blk.0.attn_q.weight", 1, neg_values}}));
  ASSERT_TRUE(g.ok());
  s = CheckImatrixValues(*g, "neg.dat");
  EXPECT_TRUE(absl::StrContains(s.message(), "negative")) << s;
  // A GGUF imatrix with a sums tensor but no counts, and one without keys.
  GgufWriter w;
  ASSERT_TRUE(w.metadata().Add("imatrix.chunk_count", MetadataValue::U32(1)).ok());
  ASSERT_TRUE(w.metadata().Add("imatrix.chunk_size", MetadataValue::U32(1)).ok());
  ASSERT_TRUE(w.metadata().Add("imatrix.datasets", MetadataValue::ArrayString({"d"})).ok());
  const int64_t ne[2] = {32, 1};
  ASSERT_TRUE(w.AddTensor("blk.0.attn_q.weight.in_sum2", GgmlType::kF32, ne).ok());
  ASSERT_TRUE(w.Begin(dir.File("m.gguf")).ok());
  std::vector<float> z(32, 1.0f);
  ASSERT_TRUE(w.WriteTensorData(z.data(), z.size() * 4).ok());
  ASSERT_TRUE(w.Finish().ok());
  auto m = LoadImatrix(dir.File("m.gguf"));
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(absl::StrContains(m.status().message(), "blk.0.attn_q.weight")) << m.status();
  GgufWriter w2;
  const int64_t ne1[1] = {32};
  ASSERT_TRUE(w2.AddTensor("x.in_sum2", GgmlType::kF32, ne1).ok());
  ASSERT_TRUE(w2.Begin(dir.File("k.gguf")).ok());
  ASSERT_TRUE(w2.WriteTensorData(z.data(), z.size() * 4).ok());
  ASSERT_TRUE(w2.Finish().ok());
  auto k = LoadImatrix(dir.File("k.gguf"));
  ASSERT_FALSE(k.ok());
  EXPECT_TRUE(absl::StrContains(k.status().message(), "imatrix.datasets")) << k.status();
}

QuantizeOptions Q4KM() {
  QuantizeOptions o;
  o.ftype = *ParseFtype("Q4_K_M");
  o.threads = 2;
  return o;
}

TEST(ImatrixTest, ThroughTheModelAsLlamaQuantize) {
  std::string skip;
  const std::string gdir = GoldenWorkDir(&skip);
  if (gdir.empty()) GTEST_SKIP() << skip;
  const std::string in = gdir + "/llama-8l.f16.gguf";
  TempDir dir;
  const std::string out = dir.File("out.gguf");
  const std::vector<float> ok256(256, 1.0f), short100(100, 1.0f);
  QuantizeOptions o = Q4KM();
  // Wrong size for a weight: an error naming the tensor, no output.
  o.imatrix_path = WriteDat(dir, "w.dat", {{"blk.0.attn_q.weight", 1, short100}});
  auto r = QuantizeModelFile(in, out, o);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(),
                                "imatrix size 100 is different from tensor size 256 for "
                                "blk.0.attn_q.weight"))
      << r.status();
  EXPECT_FALSE(Exists(out));
  // Wrong size for token_embd: ignored with a warning (llama-quantize too);
  // entries for tensors the model lacks are ignored.
  o.imatrix_path = WriteDat(dir, "t.dat",
                            {{"token_embd.weight", 1, short100},
                             {"blk.0.attn_q.weight", 1, ok256},
                             {"blk.99.nope.weight", 1, ok256}});
  r = QuantizeModelFile(in, out, o);
  ASSERT_TRUE(r.ok()) << r.status();
  bool warned = false;
  for (const std::string& w : r->warnings)
    warned = warned || absl::StrContains(w, "token_embd.weight");
  EXPECT_TRUE(warned);
  unlink(out.c_str());
  // A NaN: refused before anything is written.
  std::vector<float> nan_values = ok256;
  nan_values[0] = std::nanf("");
  o.imatrix_path = WriteDat(dir, "n.dat", {{"blk.0.attn_q.weight", 1, nan_values}});
  r = QuantizeModelFile(in, out, o);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "non-finite")) << r.status();
  EXPECT_FALSE(Exists(out));
  // ... unless --exclude-weights drops that entry (llama-quantize checks
  // after filtering).
  o.exclude_weights = {"attn_q"};
  r = QuantizeModelFile(in, out, o);
  EXPECT_TRUE(r.ok()) << r.status();  // nothing left: no imatrix, Q4_K_M needs none
}

TEST(QuantizeModelTest, BytesIndependentOfThreadsAndChunkSize) {
  std::string skip;
  const std::string gdir = GoldenWorkDir(&skip);
  if (gdir.empty()) GTEST_SKIP() << skip;
  TempDir dir;
  std::string first;
  struct Config {
    int threads;
    size_t chunk;
  };
  for (const Config& c :
       {Config{1, size_t{64} << 10}, Config{3, size_t{4} << 20}, Config{2, size_t{200} << 10}}) {
    for (const char* ft : {"Q4_K_M", "IQ4_XS"}) {
      QuantizeOptions o;
      o.ftype = *ParseFtype(ft);
      o.threads = c.threads;
      o.chunk_bytes = c.chunk;
      o.imatrix_path = gdir + "/llama-8l.imatrix.gguf";
      const std::string out = dir.File(std::string(ft) + std::to_string(c.threads) + ".gguf");
      auto r = QuantizeModelFile(gdir + "/qwen35moe.f16.gguf", out, o);
      if (!r.ok()) {
        // The llama-8l imatrix has no entries for qwen35moe: fine, but the
        // run must still work; use llama-8l instead when it refuses.
        r = QuantizeModelFile(gdir + "/llama-8l.f16.gguf", out, o);
      }
      ASSERT_TRUE(r.ok()) << r.status();
    }
    const std::string a = Sha256File(dir.File("Q4_K_M" + std::to_string(c.threads) + ".gguf"));
    const std::string b = Sha256File(dir.File("IQ4_XS" + std::to_string(c.threads) + ".gguf"));
    if (first.empty()) {
      first = a + b;
    } else {
      EXPECT_EQ(a + b, first) << "threads " << c.threads << " chunk " << c.chunk;
    }
  }
}

TEST(QuantizeModelTest, RefusesToOverwriteTheInput) {
  std::string skip;
  const std::string gdir = GoldenWorkDir(&skip);
  if (gdir.empty()) GTEST_SKIP() << skip;
  const std::string in = gdir + "/deepseek2.f16.gguf";
  const std::string before = Sha256File(in);
  auto r = QuantizeModelFile(in, in, Q4KM());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "same")) << r.status();
  EXPECT_EQ(Sha256File(in), before);
}

// 3-D expert tensors get their expert's slice of the importance matrix.
TEST(QuantizeModelTest, PerExpertImatrixSlices) {
  std::string skip;
  const std::string gdir = GoldenWorkDir(&skip);
  if (gdir.empty()) GTEST_SKIP() << skip;
  const std::string in = gdir + "/qwen35moe.f16.gguf";
  auto model = GgufModel::Open(in);
  ASSERT_TRUE(model.ok()) << model.status();
  const TensorInfo* t = nullptr;
  for (const TensorInfo& x : (*model)->tensors()) {
    if (x.ne[2] > 1 && absl::StrContains(x.name, "_exps")) t = &x;
  }
  ASSERT_NE(t, nullptr);
  const int64_t ne0 = t->ne[0], ne1 = t->ne[1], ne2 = t->ne[2];
  std::vector<float> weights(static_cast<size_t>(ne0 * ne2));
  for (size_t i = 0; i < weights.size(); ++i)
    weights[i] = 0.5f + static_cast<float>((i * 7919) % 101) / 10.0f;
  TempDir dir;
  QuantizeOptions o;
  o.ftype = *ParseFtype("Q4_K_S");
  o.threads = 2;
  o.imatrix_path = WriteDat(dir, "e.dat", {{t->name, 1, weights}});
  const std::string out = dir.File("out.gguf");
  auto r = QuantizeModelFile(in, out, o);
  ASSERT_TRUE(r.ok()) << r.status();
  auto q = GgufReader::Open(out);
  ASSERT_TRUE(q.ok());
  const TensorInfo* qt = (*q)->FindTensor(t->name);
  ASSERT_NE(qt, nullptr);
  ASSERT_TRUE(GetReferenceCodec(qt->type).uses_imatrix) << GgmlTypeName(qt->type);
  std::vector<uint8_t> got(qt->size_bytes);
  ASSERT_TRUE((*q)->ReadTensorBytes(*qt, 0, got.data(), got.size()).ok());
  std::vector<uint8_t> raw(t->size_bytes);
  ASSERT_TRUE((*model)->ReadTensorBytes(*t, 0, raw.data(), raw.size()).ok());
  std::vector<float> f(static_cast<size_t>(t->n_elements));
  ASSERT_TRUE(Dequantize(t->type, raw, absl::MakeSpan(f)).ok());
  const size_t per_expert = got.size() / static_cast<size_t>(ne2);
  for (int64_t e = 0; e < ne2; ++e) {
    std::vector<uint8_t> want(per_expert);
    ASSERT_TRUE(
        Quantize(qt->type,
                 absl::MakeConstSpan(f.data() + e * ne0 * ne1, static_cast<size_t>(ne0 * ne1)),
                 absl::MakeSpan(want),
                 absl::MakeConstSpan(weights.data() + e * ne0, static_cast<size_t>(ne0)))
            .ok());
    EXPECT_TRUE(std::memcmp(want.data(), got.data() + e * per_expert, per_expert) == 0)
        << "expert " << e;
  }
}

// An exporter's path: the quantizing writer, fed floats in odd chunks,
// re-creates llama-quantize's Q4_K_M files of the golden inputs.
TEST(QuantizingWriterTest, RecreatesGoldenFilesFromFloats) {
  std::string skip;
  const std::string gdir = GoldenWorkDir(&skip);
  if (gdir.empty()) GTEST_SKIP() << skip;
  std::map<std::string, std::string> want;
  for (const testing::ReferenceRun& r : testing::LoadReferenceRuns()) want[r.label] = r.file_sha256;
  TempDir dir;
  for (const char* model_name : {"llama-8l", "qwen35moe", "deepseek2"}) {
    for (const char* ft : {"Q4_K_M", "Q8_0"}) {
      SCOPED_TRACE(std::string(model_name) + " " + ft);
      auto model = GgufModel::Open(gdir + "/" + model_name + ".f16.gguf");
      ASSERT_TRUE(model.ok()) << model.status();
      QuantizingWriterOptions o;
      o.ftype = *ParseFtype(ft);
      QuantizingWriter w(o);
      w.metadata() = (*model)->metadata();
      std::vector<std::string> names;
      for (const TensorInfo& t : (*model)->tensors()) names.push_back(t.name);
      const std::vector<size_t> order = LlamaQuantizeOrder(names);
      for (size_t i : order) {
        const TensorInfo& t = (*model)->tensors()[i];
        ASSERT_TRUE(
            w.AddTensorAuto(t.name, absl::MakeConstSpan(t.ne.data(), t.n_dims), t.type).ok());
      }
      const std::string out = dir.File(std::string(model_name) + ft + ".gguf");
      ASSERT_TRUE(w.Begin(out).ok());
      for (size_t i : order) {
        const TensorInfo& t = (*model)->tensors()[i];
        std::vector<uint8_t> raw(t.size_bytes);
        ASSERT_TRUE((*model)->ReadTensorBytes(t, 0, raw.data(), raw.size()).ok());
        std::vector<float> f(static_cast<size_t>(t.n_elements));
        ASSERT_TRUE(Dequantize(t.type, raw, absl::MakeSpan(f)).ok());
        for (size_t k = 0; k < f.size(); k += 777) {
          const size_t n = std::min<size_t>(777, f.size() - k);
          absl::Status s = w.WriteValues(absl::MakeConstSpan(f.data() + k, n));
          ASSERT_TRUE(s.ok()) << s;
        }
      }
      absl::Status s = w.Finish();
      ASSERT_TRUE(s.ok()) << s;
      EXPECT_EQ(Sha256File(out), want[std::string(model_name) + "." + ft]);
    }
  }
}

TEST(QuantizingWriterTest, RefusesBadUse) {
  QuantizingWriter w;
  const int64_t ne[2] = {100, 2};
  ASSERT_TRUE(w.AddTensor("a.weight", ne, GgmlType::kQ4_K).ok());
  TempDir dir;
  absl::Status s = w.Begin(dir.File("x.gguf"));
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "not a whole number")) << s;
  QuantizingWriter w2;
  const int64_t ne2[2] = {32, 2};
  ASSERT_TRUE(w2.AddTensor("a.weight", ne2, GgmlType::kQ8_0).ok());
  ASSERT_TRUE(w2.Begin(dir.File("y.gguf")).ok());
  std::vector<float> v(65, 0.5f);
  EXPECT_FALSE(w2.WriteValues(v).ok());  // crosses the end
  std::vector<float> half(40, 0.5f);
  ASSERT_TRUE(w2.WriteValues(half).ok());
  EXPECT_FALSE(w2.Finish().ok());  // incomplete
  w2.Abort();
  EXPECT_FALSE(Exists(dir.File("y.gguf")));
}

// --keep-split: one output shard per input shard, each a valid shard of a
// split model; the tensors equal those of the unsplit run (llama-8l's
// counters advance in the same layer order either way).
TEST(QuantizeModelTest, KeepSplitWritesOneShardPerInputShard) {
  std::string skip;
  const std::string gdir = GoldenWorkDir(&skip);
  if (gdir.empty()) GTEST_SKIP() << skip;
  TempDir dir;
  auto src = GgufModel::Open(gdir + "/llama-8l.f16.gguf");
  ASSERT_TRUE(src.ok());
  SplitOptions so;
  so.max_tensors_per_shard = 100;
  GgufSplitWriter split(so);
  for (const MetadataEntry& e : (*src)->metadata().entries()) {
    ASSERT_TRUE(split.metadata().Set(e.key, e.value).ok());
  }
  for (const TensorInfo& t : (*src)->tensors()) {
    ASSERT_TRUE(split.AddTensor(t.name, t.type, absl::MakeConstSpan(t.ne.data(), t.n_dims)).ok());
  }
  ASSERT_TRUE(split.Begin(dir.File("in")).ok());
  std::vector<uint8_t> buf;
  for (const TensorInfo& t : (*src)->tensors()) {
    buf.resize(t.size_bytes);
    ASSERT_TRUE((*src)->ReadTensorBytes(t, 0, buf.data(), buf.size()).ok());
    ASSERT_TRUE(split.WriteTensorData(buf.data(), buf.size()).ok());
  }
  ASSERT_TRUE(split.Finish().ok());
  QuantizeOptions o = Q4KM();
  o.keep_split = true;
  auto r = QuantizeModelFile(dir.File("in-00002-of-00003.gguf"), dir.File("out.gguf"), o);
  ASSERT_TRUE(r.ok()) << r.status();
  for (const char* f :
       {"out-00001-of-00003.gguf", "out-00002-of-00003.gguf", "out-00003-of-00003.gguf"}) {
    EXPECT_TRUE(Exists(dir.File(f))) << f;
  }
  auto q = GgufModel::Open(dir.File("out-00001-of-00003.gguf"));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ((*q)->shard_count(), 3u);
  o.keep_split = false;
  auto r1 = QuantizeModelFile(gdir + "/llama-8l.f16.gguf", dir.File("one.gguf"), o);
  ASSERT_TRUE(r1.ok()) << r1.status();
  auto one = GgufModel::Open(dir.File("one.gguf"));
  ASSERT_TRUE(one.ok());
  ASSERT_EQ((*q)->tensors().size(), (*one)->tensors().size());
  for (const TensorInfo& t : (*one)->tensors()) {
    const TensorInfo* u = (*q)->FindTensor(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    EXPECT_EQ(u->type, t.type) << t.name;
    std::vector<uint8_t> a(t.size_bytes), b(u->size_bytes);
    ASSERT_TRUE((*one)->ReadTensorBytes(t, 0, a.data(), a.size()).ok());
    ASSERT_TRUE((*q)->ReadTensorBytes(*u, 0, b.data(), b.size()).ok());
    EXPECT_TRUE(a == b) << t.name;
  }
}

// A .gguf.zst input (forward-only) gives the same bytes as the plain file.
TEST(QuantizeModelTest, ZstdInputGivesTheSameBytes) {
  std::string skip;
  const std::string gdir = GoldenWorkDir(&skip);
  if (gdir.empty()) GTEST_SKIP() << skip;
  TempDir dir;
  const std::string zst = dir.File("deepseek2.f16.gguf.zst");
  ASSERT_EQ(::ggufkit::testing::RunCommand("zstd -q -3 -c < '" + gdir + "/deepseek2.f16.gguf' > '" +
                                           zst + "'"),
            0);
  auto a = QuantizeModelFile(zst, dir.File("a.gguf"), Q4KM());
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = QuantizeModelFile(gdir + "/deepseek2.f16.gguf", dir.File("b.gguf"), Q4KM());
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(Sha256File(dir.File("a.gguf")), Sha256File(dir.File("b.gguf")));
  std::string listing;
  ::ggufkit::testing::RunCommand("ls -a '" + dir.path() + "'", &listing);
  EXPECT_FALSE(absl::StrContains(listing, "gguf-quantize-input")) << listing;
}

// A NaN or Inf in a tensor that is converted is refused (llama-quantize's
// row validation fails on what it produces); the same value in a copied
// tensor is copied.
TEST(QuantizeModelTest, NonFiniteInputOfAConvertedTensorIsAnError) {
  TempDir dir;
  for (const float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    GgufWriter w;
    ASSERT_TRUE(w.metadata().Add("general.architecture", MetadataValue::String("llama")).ok());
    ASSERT_TRUE(w.metadata().Add("llama.block_count", MetadataValue::U32(1)).ok());
    const int64_t ne[2] = {256, 4};
    const int64_t ne1[1] = {256};
    ASSERT_TRUE(w.AddTensor("blk.0.attn_norm.weight", GgmlType::kF32, ne1).ok());
    ASSERT_TRUE(w.AddTensor("blk.0.attn_q.weight", GgmlType::kF32, ne).ok());
    const std::string in = dir.File("nan.gguf");
    ASSERT_TRUE(w.Begin(in).ok());
    std::vector<float> norm(256, 1.0f), q(1024, 0.01f);
    norm[5] = bad;
    q[700] = bad;
    ASSERT_TRUE(w.WriteTensorData(norm.data(), norm.size() * 4).ok());
    ASSERT_TRUE(w.WriteTensorData(q.data(), q.size() * 4).ok());
    ASSERT_TRUE(w.Finish().ok());
    auto r = QuantizeModelFile(in, dir.File("out.gguf"), Q4KM());
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(absl::StrContains(r.status().message(), "blk.0.attn_q.weight")) << r.status();
    EXPECT_TRUE(absl::StrContains(r.status().message(), "element 700")) << r.status();
    EXPECT_FALSE(Exists(dir.File("out.gguf")));
  }
}

}  // namespace
}  // namespace ggufkit::quantize
