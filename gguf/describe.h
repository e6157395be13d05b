// What gguf-inspect prints, as a library: a GGUF file's (or split model's)
// version, endianness, alignment, all metadata (arrays longer than 8 elements
// summarized unless `full`), the tensor table (name, type, shape, offset,
// bytes) and totals by type, as text or JSON (strings escaped by base/json:
// always valid JSON). Reads only what GgufModel::Open read: no tensor data.
#ifndef GGUFKIT_GGUF_DESCRIBE_H_
#define GGUFKIT_GGUF_DESCRIBE_H_

#include <string>

#include "ggufkit/gguf/split.h"

namespace ggufkit {

std::string DescribeModelText(const GgufModel& model, bool full);
std::string DescribeModelJson(const GgufModel& model, bool full);

}  // namespace ggufkit

#endif  // GGUFKIT_GGUF_DESCRIBE_H_
