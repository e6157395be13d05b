// Builds the JSON reports of verify/ (internal): objects and arrays with the
// commas placed automatically. Strings and numbers go through base/json.h,
// the project's one escaper (non-finite doubles become "nan", "inf", "-inf").
#ifndef GGUFKIT_VERIFY_JSON_OUT_H_
#define GGUFKIT_VERIFY_JSON_OUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "ggufkit/base/json.h"

namespace ggufkit::verify {

class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  JsonWriter& Key(absl::string_view k) {
    Separate();
    AppendJsonString(&out_, k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(absl::string_view s) { return Raw(JsonString(s)); }
  JsonWriter& Bool(bool b) { return Raw(b ? "true" : "false"); }
  JsonWriter& Int(int64_t v) { return Raw(absl::StrCat(v)); }
  JsonWriter& Uint(uint64_t v) { return Raw(absl::StrCat(v)); }
  JsonWriter& Double(double v) { return Raw(JsonNumber(v)); }
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
