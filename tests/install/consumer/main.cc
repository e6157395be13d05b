// Built against an installed ggufkit via find_package: the README's library example.
#include <cstdio>
#include <string>
#include <vector>

#include "gguf/split.h"
#include "quants/half.h"
#include "quants/status_macros.h"
#include "quants/type_traits.h"
#include "tools/stream/gguf_tensors.h"

namespace {

absl::Status DumpTensor(const std::string& path, const std::string& name, float* first) {
  GGUFKIT_ASSIGN_OR_RETURN(auto model, ggufkit::GgufModel::Open(path));
  const ggufkit::TensorInfo* t = model->FindTensor(name);
  if (t == nullptr) return absl::NotFoundError("no " + name + " in " + path);
  std::vector<float> w(t->n_elements);
  GGUFKIT_RETURN_IF_ERROR(ggufkit::stream::DequantizeTensor(*model, *t, w.data(), w.size()));
  *first = w[0];
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  const ggufkit::TypeTraits* t = ggufkit::FindTypeTraits(12);
  if (t == nullptr || t->type_size != 144) return 1;
  if (ggufkit::F32ToF16(1.0f) != 0x3C00) return 1;
  if (argc > 2) {
    float first = 0;
    absl::Status s = DumpTensor(argv[1], argv[2], &first);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("%s[0] = %.9g\n", argv[2], first);
  }
  std::printf("consumer ok\n");
  return 0;
}
