// Placeholder translation unit until the Highway codecs land.
namespace ggufkit::dequant_internal {
int Placeholder() { return 0; }
}  // namespace ggufkit::dequant_internal
