// Internal: how codec family files register their reference codecs into the
// table that GetReferenceCodec() serves. Not installed.
#ifndef GGUFKIT_QUANTS_CODEC_REGISTRY_H_
#define GGUFKIT_QUANTS_CODEC_REGISTRY_H_

#include <array>

#include "ggufkit/quants/type_traits.h"

namespace ggufkit::internal {

using CodecTable = std::array<ReferenceCodec, kGgmlTypeIdLimit>;

inline void Register(CodecTable& table, GgmlType type, DequantizeRowFn dequantize,
                     QuantizeRowFn quantize = nullptr, bool uses_imatrix = false) {
  table[static_cast<uint32_t>(type)] = ReferenceCodec{dequantize, quantize, uses_imatrix};
}

// Floats, integers, legacy (Q4_0..Q8_1) and K-quants: quants/codecs_basic.cc.
void RegisterBasicCodecs(CodecTable& table);
// IQ*, TQ*, MXFP4, NVFP4, Q1_0, Q2_0: quants/codecs_extra.cc.
void RegisterExtraCodecs(CodecTable& table);

}  // namespace ggufkit::internal

#endif  // GGUFKIT_QUANTS_CODEC_REGISTRY_H_
