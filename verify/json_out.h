// A minimal streaming JSON writer for the reports of verify/ (internal; the
// project-wide writer replaces it once it exists). Commas are inserted
// automatically; doubles that are not finite are written as null.
#ifndef GGUFKIT_VERIFY_JSON_OUT_H_
#define GGUFKIT_VERIFY_JSON_OUT_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "tools/stream/safetensors_header.h"

namespace ggufkit::verify {

class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  JsonWriter& Key(absl::string_view k) {
    Separate();
    out_ += stream::JsonQuote(k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(absl::string_view s) { return Raw(stream::JsonQuote(s)); }
  JsonWriter& Bool(bool b) { return Raw(b ? "true" : "false"); }
  JsonWriter& Int(int64_t v) { return Raw(absl::StrCat(v)); }
  JsonWriter& Uint(uint64_t v) { return Raw(absl::StrCat(v)); }
  // Shortest form that reads back to the same double ("%.17g").
  JsonWriter& Double(double v) {
    if (!std::isfinite(v)) return Raw("null");
    return Raw(absl::StrFormat("%.17g", v));
  }
  std::string Take() { return std::move(out_); }

 private:
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
    }
  }
  JsonWriter& Raw(absl::string_view v) {
    Separate();
    out_.append(v.data(), v.size());
    return *this;
  }
  JsonWriter& Open(char c) {
    Separate();
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  JsonWriter& Close(char c) {
    out_ += c;
    first_.pop_back();
    return *this;
  }
  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace ggufkit::verify

#endif  // GGUFKIT_VERIFY_JSON_OUT_H_
