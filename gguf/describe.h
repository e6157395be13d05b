// What gguf-inspect prints, as a library: a GGUF file's (or split model's)
// version, endianness, alignment, all metadata (arrays longer than 8 elements
// summarized unless `full`), the tensor table (name, type, shape, offset,
// bytes) and totals by type, as text or JSON (strings escaped by base/json:
// always valid JSON), with a warning for what ggml and llama.cpp would refuse
// (a missing final alignment padding: a "warning:" line, and the JSON fields
// "missing_final_padding" (bytes) and "warnings"). Reads only what
// GgufModel::Open read: no tensor data.
#ifndef GGUFKIT_GGUF_DESCRIBE_H_
#define GGUFKIT_GGUF_DESCRIBE_H_

#include <string>
#include <vector>

#include "ggufkit/gguf/split.h"

namespace ggufkit {

std::string DescribeModelText(const GgufModel& model, bool full);
// One line per problem ggml / llama.cpp would refuse the file for; empty for
// a clean file.
std::vector<std::string> DescribeWarnings(const GgufModel& model);
std::string DescribeModelJson(const GgufModel& model, bool full);

}  // namespace ggufkit

#endif  // GGUFKIT_GGUF_DESCRIBE_H_
