#include "ggufkit/verify/safetensors_file.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/base/status_macros.h"

namespace ggufkit::verify {
namespace {

constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;
constexpr int kMaxDepth = 16;

// A small JSON reader for the header: objects, arrays, strings, numbers,
// true/false/null. Values other than strings and integers are skipped or
// reported; the header never needs them.
class JsonCursor {
 public:
  JsonCursor(const std::string& file, const std::string& text) : file_(file), s_(text) {}

  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(file_, ": safetensors header, byte ", pos_, ": ", what));
  }
  void Ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) {
      ++pos_;
    }
  }
  bool Peek(char c) {
    Ws();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  absl::Status Expect(char c) {
    Ws();
    if (pos_ >= s_.size() || s_[pos_] != c)
      return Error(absl::StrCat("expected '", std::string(1, c), "'"));
    ++pos_;
    return absl::OkStatus();
  }
  bool AtEnd() {
    Ws();
    return pos_ >= s_.size();
  }

  absl::Status String(std::string* out) {
    GGUFKIT_RETURN_IF_ERROR(Expect('"'));
    out->clear();
    while (true) {
      if (pos_ >= s_.size()) return Error("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return absl::OkStatus();
      if (static_cast<unsigned char>(c) < 0x20) return Error("control character in a string");
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) return Error("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          GGUFKIT_RETURN_IF_ERROR(Hex4(&cp));
          if (cp >= 0xD800 && cp < 0xDC00 && pos_ + 1 < s_.size() && s_[pos_] == '\\' &&
              s_[pos_ + 1] == 'u') {
            pos_ += 2;
            uint32_t lo = 0;
            GGUFKIT_RETURN_IF_ERROR(Hex4(&lo));
            if (lo < 0xDC00 || lo > 0xDFFF) return Error("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Error("bad escape");
      }
    }
  }

  absl::Status Integer(int64_t* out) {
    Ws();
    const size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    if (!absl::SimpleAtoi(absl::string_view(s_).substr(start, pos_ - start), out)) {
      return Error("expected an integer");
    }
    return absl::OkStatus();
  }

  absl::Status Skip(int depth = 0) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    Ws();
    if (pos_ >= s_.size()) return Error("unexpected end");
    const char c = s_[pos_];
    if (c == '"') {
      std::string ignored;
      return String(&ignored);
    }
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      if (Peek(close)) {
        ++pos_;
        return absl::OkStatus();
      }
      while (true) {
        if (c == '{') {
          std::string k;
          GGUFKIT_RETURN_IF_ERROR(String(&k));
          GGUFKIT_RETURN_IF_ERROR(Expect(':'));
        }
        GGUFKIT_RETURN_IF_ERROR(Skip(depth + 1));
        if (Peek(',')) {
          ++pos_;
          continue;
        }
        return Expect(close);
      }
    }
    // number / literal
    const size_t start = pos_;
    while (pos_ < s_.size() && std::strchr("+-0123456789.eEtruefalsn", s_[pos_]) != nullptr) {
      ++pos_;
    }
    if (pos_ == start) return Error("unexpected character");
    return absl::OkStatus();
  }

 private:
  absl::Status Hex4(uint32_t* out) {
    if (pos_ + 4 > s_.size()) return Error("short \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') {
        v |= static_cast<uint32_t>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        v |= static_cast<uint32_t>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        v |= static_cast<uint32_t>(h - 'A' + 10);
      } else {
        return Error("bad \\u escape");
      }
    }
    *out = v;
    return absl::OkStatus();
  }
  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  const std::string& file_;
  const std::string& s_;
  size_t pos_ = 0;
};

}  // namespace

int64_t SafetensorsEntry::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

size_t SafetensorsDtypeSize(const std::string& dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL") return 1;
  return 0;
}

bool LooksLikeSafetensors(const std::string& path) {
  absl::StatusOr<std::unique_ptr<ByteSource>> src = OpenPreadSource(path);
  if (!src.ok()) return false;
  const std::optional<uint64_t> size = (*src)->size();
  if (!size || *size < 10) return false;
  uint8_t head[9];
  if (!(*src)->ReadAt(0, head, 9).ok()) return false;
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | head[i];
  return n >= 2 && n <= *size - 8 && head[8] == '{';
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  auto f = std::unique_ptr<SafetensorsFile>(new SafetensorsFile());
  f->path_ = path;
  GGUFKIT_ASSIGN_OR_RETURN(f->source_, OpenPreadSource(path));
  const uint64_t size = f->source_->size().value_or(0);
  if (size < 8) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", size, " bytes: too short for a safetensors header"));
  }
  uint8_t len_bytes[8];
  GGUFKIT_RETURN_IF_ERROR(f->source_->ReadAt(0, len_bytes, 8));
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  if (header_len > kMaxHeaderBytes || header_len > size - 8) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": safetensors header length ", header_len,
                                                   " does not fit the file (", size,
                                                   " bytes) or exceeds 100 MiB"));
  }
  std::string header(static_cast<size_t>(header_len), '\0');
  GGUFKIT_RETURN_IF_ERROR(f->source_->ReadAt(8, header.data(), header.size()));
  f->data_start_ = 8 + header_len;
  const uint64_t data_size = size - f->data_start_;
  JsonCursor j(path, header);
  GGUFKIT_RETURN_IF_ERROR(j.Expect('{'));
  if (j.Peek('}')) {
    GGUFKIT_RETURN_IF_ERROR(j.Expect('}'));
  } else {
    while (true) {
      std::string key;
      GGUFKIT_RETURN_IF_ERROR(j.String(&key));
      GGUFKIT_RETURN_IF_ERROR(j.Expect(':'));
      if (key == "__metadata__") {
        GGUFKIT_RETURN_IF_ERROR(j.Expect('{'));
        if (!j.Peek('}')) {
          while (true) {
            std::string k, v;
            GGUFKIT_RETURN_IF_ERROR(j.String(&k));
            GGUFKIT_RETURN_IF_ERROR(j.Expect(':'));
            GGUFKIT_RETURN_IF_ERROR(j.String(&v));
            f->metadata_.emplace_back(std::move(k), std::move(v));
            if (!j.Peek(',')) break;
            GGUFKIT_RETURN_IF_ERROR(j.Expect(','));
          }
        }
        GGUFKIT_RETURN_IF_ERROR(j.Expect('}'));
      } else {
        SafetensorsEntry e;
        e.name = key;
        bool have_dtype = false, have_shape = false, have_offsets = false;
        GGUFKIT_RETURN_IF_ERROR(j.Expect('{'));
        while (!j.Peek('}')) {
          std::string field;
          GGUFKIT_RETURN_IF_ERROR(j.String(&field));
          GGUFKIT_RETURN_IF_ERROR(j.Expect(':'));
          if (field == "dtype") {
            GGUFKIT_RETURN_IF_ERROR(j.String(&e.dtype));
            have_dtype = true;
          } else if (field == "shape" || field == "data_offsets") {
            std::vector<int64_t> v;
            GGUFKIT_RETURN_IF_ERROR(j.Expect('['));
            while (!j.Peek(']')) {
              int64_t x = 0;
              GGUFKIT_RETURN_IF_ERROR(j.Integer(&x));
              if (x < 0) return j.Error(absl::StrCat("tensor '", key, "': negative ", field));
              if (v.size() > 64) return j.Error(absl::StrCat("tensor '", key, "': too many dims"));
              v.push_back(x);
              if (!j.Peek(',')) break;
              GGUFKIT_RETURN_IF_ERROR(j.Expect(','));
            }
            GGUFKIT_RETURN_IF_ERROR(j.Expect(']'));
            if (field == "shape") {
              e.shape = std::move(v);
              have_shape = true;
            } else {
              if (v.size() != 2) {
                return j.Error(absl::StrCat("tensor '", key, "': data_offsets needs 2 numbers"));
              }
              e.begin = static_cast<uint64_t>(v[0]);
              e.end = static_cast<uint64_t>(v[1]);
              have_offsets = true;
            }
          } else {
            GGUFKIT_RETURN_IF_ERROR(j.Skip());
          }
          if (!j.Peek(',')) break;
          GGUFKIT_RETURN_IF_ERROR(j.Expect(','));
        }
        GGUFKIT_RETURN_IF_ERROR(j.Expect('}'));
        if (!have_dtype || !have_shape || !have_offsets) {
          return j.Error(absl::StrCat("tensor '", key, "' lacks dtype, shape or data_offsets"));
        }
        const size_t esize = SafetensorsDtypeSize(e.dtype);
        if (esize == 0) {
          return absl::InvalidArgumentError(
              absl::StrCat(path, ": tensor '", key, "': unsupported dtype ", e.dtype));
        }
        uint64_t n = esize;
        for (int64_t d : e.shape) {
          if (d != 0 && n > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(d)) {
            return j.Error(absl::StrCat("tensor '", key, "': size overflows"));
          }
          n *= static_cast<uint64_t>(d);
        }
        if (e.begin > e.end || e.end > data_size || e.end - e.begin != n) {
          return absl::InvalidArgumentError(absl::StrCat(
              path, ": tensor '", key, "': data_offsets [", e.begin, ", ", e.end,
              ") do not hold its ", n, " bytes inside the ", data_size, "-byte data section"));
        }
        f->tensors_.push_back(std::move(e));
      }
      if (!j.Peek(',')) break;
      GGUFKIT_RETURN_IF_ERROR(j.Expect(','));
    }
    GGUFKIT_RETURN_IF_ERROR(j.Expect('}'));
  }
  if (!j.AtEnd()) return j.Error("trailing characters after the JSON object");
  return f;
}

absl::Status SafetensorsFile::ReadBytes(const SafetensorsEntry& tensor, uint64_t offset, void* dst,
                                        size_t n) {
  if (offset > tensor.end - tensor.begin || n > tensor.end - tensor.begin - offset) {
    return absl::OutOfRangeError(
        absl::StrCat(path_, ": tensor '", tensor.name, "': read past its end"));
  }
  absl::Status s = source_->ReadAt(data_start_ + tensor.begin + offset, dst, n);
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat("tensor '", tensor.name, "': ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status SafetensorsFile::ReadFloats(const SafetensorsEntry& tensor, int64_t first, int64_t n,
                                         float* out, std::vector<uint8_t>* scratch) {
  const size_t esize = SafetensorsDtypeSize(tensor.dtype);
  const size_t bytes = static_cast<size_t>(n) * esize;
  const uint64_t offset = static_cast<uint64_t>(first) * esize;
  if (tensor.dtype == "F32") return ReadBytes(tensor, offset, out, bytes);
  if (scratch->size() < bytes) scratch->resize(bytes);
  GGUFKIT_RETURN_IF_ERROR(ReadBytes(tensor, offset, scratch->data(), bytes));
  const uint8_t* p = scratch->data();
  const std::string& d = tensor.dtype;
  auto convert = [&](auto load) {
    for (int64_t i = 0; i < n; ++i, p += esize) out[i] = load(p);
  };
  auto bits = [](const uint8_t* q, auto zero) {
    decltype(zero) x;
    std::memcpy(&x, q, sizeof(x));
    return x;
  };
  if (d == "F16") {
    convert([&](const uint8_t* q) { return F16ToF32(bits(q, uint16_t{})); });
  } else if (d == "BF16") {
    convert([&](const uint8_t* q) { return BF16ToF32(bits(q, uint16_t{})); });
  } else if (d == "F64") {
    convert([&](const uint8_t* q) { return static_cast<float>(bits(q, double{})); });
  } else if (d == "I64") {
    convert([&](const uint8_t* q) { return static_cast<float>(bits(q, int64_t{})); });
  } else if (d == "U64") {
    convert([&](const uint8_t* q) { return static_cast<float>(bits(q, uint64_t{})); });
  } else if (d == "I32") {
    convert([&](const uint8_t* q) { return static_cast<float>(bits(q, int32_t{})); });
  } else if (d == "U32") {
    convert([&](const uint8_t* q) { return static_cast<float>(bits(q, uint32_t{})); });
  } else if (d == "I16") {
    convert([&](const uint8_t* q) { return static_cast<float>(bits(q, int16_t{})); });
  } else if (d == "U16") {
    convert([&](const uint8_t* q) { return static_cast<float>(bits(q, uint16_t{})); });
  } else if (d == "I8") {
    convert([&](const uint8_t* q) { return static_cast<float>(static_cast<int8_t>(*q)); });
  } else {  // U8, BOOL
    convert([&](const uint8_t* q) { return static_cast<float>(*q); });
  }
  return absl::OkStatus();
}

}  // namespace ggufkit::verify
