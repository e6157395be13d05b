#include "quants/codec_registry.h"

namespace ggufkit::internal {

// Placeholder: filled in as the reference codecs land.
void RegisterBasicCodecs(CodecTable& /*table*/) {}

}  // namespace ggufkit::internal
