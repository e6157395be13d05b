// Registers the reference codecs of the i-quants, ternary, FP4 and Q1_0/Q2_0
// families (quants/block_iq.h, block_ternary.h, block_fp4.h, block_q1_q2.h).
#include "ggufkit/quants/block_fp4.h"
#include "ggufkit/quants/block_iq.h"
#include "ggufkit/quants/block_q1_q2.h"
#include "ggufkit/quants/block_ternary.h"
#include "ggufkit/quants/codec_registry.h"

namespace ggufkit::internal {

void RegisterExtraCodecs(CodecTable& table) {
  // Quantizers reproduce ggml_quantize_chunk(type, ..., imatrix) byte for
  // byte. Only IQ4_NL / IQ4_XS read an importance matrix; ggml accepts one
  // for the others and ignores it, and so do we.
  Register(table, GgmlType::kQ1_0, &DequantizeRowQ1_0, &QuantizeRowQ1_0);
  Register(table, GgmlType::kQ2_0, &DequantizeRowQ2_0, &QuantizeRowQ2_0);
  Register(table, GgmlType::kIQ4_NL, &DequantizeRowIq4Nl, &QuantizeRowIq4Nl,
           /*uses_imatrix=*/true);
  Register(table, GgmlType::kIQ4_XS, &DequantizeRowIq4Xs, &QuantizeRowIq4Xs,
           /*uses_imatrix=*/true);
  Register(table, GgmlType::kMXFP4, &DequantizeRowMxfp4, &QuantizeRowMxfp4);
  Register(table, GgmlType::kNVFP4, &DequantizeRowNvfp4, &QuantizeRowNvfp4);
  Register(table, GgmlType::kTQ1_0, &DequantizeRowTq1_0, &QuantizeRowTq1_0);
  Register(table, GgmlType::kTQ2_0, &DequantizeRowTq2_0, &QuantizeRowTq2_0);
  // Codebook types: dequantize only (ggml's quantizers need an importance
  // matrix and a grid neighbour search).
  Register(table, GgmlType::kIQ2_XXS, &DequantizeRowIq2Xxs);
  Register(table, GgmlType::kIQ2_XS, &DequantizeRowIq2Xs);
  Register(table, GgmlType::kIQ2_S, &DequantizeRowIq2S);
  Register(table, GgmlType::kIQ3_XXS, &DequantizeRowIq3Xxs);
  Register(table, GgmlType::kIQ3_S, &DequantizeRowIq3S);
  Register(table, GgmlType::kIQ1_S, &DequantizeRowIq1S);
  Register(table, GgmlType::kIQ1_M, &DequantizeRowIq1M);
}

}  // namespace ggufkit::internal
