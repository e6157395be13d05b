#include <cstdio>

#include "quants/half.h"
#include "quants/type_traits.h"

int main() {
  const ggufkit::TypeTraits* t = ggufkit::FindTypeTraits(12);
  if (t == nullptr || t->type_size != 144) return 1;
  if (ggufkit::F32ToF16(1.0f) != 0x3C00) return 1;
  std::printf("consumer ok: %.*s\n", static_cast<int>(t->name.size()), t->name.data());
  return 0;
}
