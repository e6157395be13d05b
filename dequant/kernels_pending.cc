// Families not yet written: no kernels (the reference codecs serve them).
#include "dequant/kernels.h"

namespace ggufkit::dequant_internal {
KernelFn FindLegacyKernel(GgmlType, OutputType) { return nullptr; }
KernelFn FindKQuantKernel(GgmlType, OutputType) { return nullptr; }
KernelFn FindCodebookKernel(GgmlType, OutputType) { return nullptr; }
}  // namespace ggufkit::dequant_internal
