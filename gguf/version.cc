// Placeholder translation unit so the library exists before the reader lands.
namespace ggufkit {
const char* GgufkitVersion() { return "0.1.0"; }
}  // namespace ggufkit
