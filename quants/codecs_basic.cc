// Registration of the basic reference codecs: floats, integers, the legacy
// 32-weight formats and the K-quants.
#include "ggufkit/quants/block_k.h"
#include "ggufkit/quants/block_legacy.h"
#include "ggufkit/quants/codec_registry.h"
#include "ggufkit/quants/float_formats.h"

namespace ggufkit::internal {

void RegisterBasicCodecs(CodecTable& table) {
  Register(table, GgmlType::kF32, &DequantizeRowF32, &QuantizeRowF32);
  Register(table, GgmlType::kF16, &DequantizeRowF16, &QuantizeRowF16);
  Register(table, GgmlType::kBF16, &DequantizeRowBF16, &QuantizeRowBF16);
  Register(table, GgmlType::kF64, &DequantizeRowF64, &QuantizeRowF64);
  Register(table, GgmlType::kI8, &DequantizeRowI8);
  Register(table, GgmlType::kI16, &DequantizeRowI16);
  Register(table, GgmlType::kI32, &DequantizeRowI32);
  Register(table, GgmlType::kI64, &DequantizeRowI64);

  Register(table, GgmlType::kQ4_0, &DequantizeRowQ4_0, &QuantizeRowQ4_0, /*uses_imatrix=*/true);
  Register(table, GgmlType::kQ4_1, &DequantizeRowQ4_1, &QuantizeRowQ4_1, /*uses_imatrix=*/true);
  Register(table, GgmlType::kQ5_0, &DequantizeRowQ5_0, &QuantizeRowQ5_0, /*uses_imatrix=*/true);
  Register(table, GgmlType::kQ5_1, &DequantizeRowQ5_1, &QuantizeRowQ5_1, /*uses_imatrix=*/true);
  Register(table, GgmlType::kQ8_0, &DequantizeRowQ8_0, &QuantizeRowQ8_0);
  Register(table, GgmlType::kQ8_1, &DequantizeRowQ8_1, &QuantizeRowQ8_1);

  Register(table, GgmlType::kQ2_K, &DequantizeRowQ2_K, &QuantizeRowQ2_K, /*uses_imatrix=*/true);
  Register(table, GgmlType::kQ3_K, &DequantizeRowQ3_K, &QuantizeRowQ3_K, /*uses_imatrix=*/true);
  Register(table, GgmlType::kQ4_K, &DequantizeRowQ4_K, &QuantizeRowQ4_K, /*uses_imatrix=*/true);
  Register(table, GgmlType::kQ5_K, &DequantizeRowQ5_K, &QuantizeRowQ5_K, /*uses_imatrix=*/true);
  Register(table, GgmlType::kQ6_K, &DequantizeRowQ6_K, &QuantizeRowQ6_K, /*uses_imatrix=*/true);
  Register(table, GgmlType::kQ8_K, &DequantizeRowQ8_K, &QuantizeRowQ8_K);
}

}  // namespace ggufkit::internal
