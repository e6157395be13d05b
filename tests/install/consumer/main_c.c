/* The C API from an installed package, in C: libggufkit_c.so (ggufkit::c_shared),
 * the library a Rust / JVM / Python ctypes binding loads. */
#include <stdio.h>
#include <stdlib.h>

#include "ggufkit/c/ggufkit.h"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  ggufkit_model* m = NULL;
  if (ggufkit_model_open("/nonexistent.gguf", &m) != GGUFKIT_ERR_NOT_FOUND) return 1;
  if (ggufkit_model_open(argv[1], &m) != GGUFKIT_OK) {
    fprintf(stderr, "consumer_c: %s\n", ggufkit_last_error());
    return 1;
  }
  ggufkit_tensor_info info;
  if (ggufkit_model_tensor_info(m, 0, &info) != GGUFKIT_OK) return 1;
  float* w = malloc((size_t)info.n_elements * sizeof(float));
  if (w == NULL) return 1;
  if (ggufkit_model_dequantize(m, 0, GGUFKIT_OUT_F32, w, (size_t)info.n_elements * sizeof(float)) !=
      GGUFKIT_OK) {
    fprintf(stderr, "consumer_c: %s\n", ggufkit_last_error());
    return 1;
  }
  printf("consumer_c ok: ggufkit %s, %s[0] = %.9g\n", ggufkit_version(), info.name, w[0]);
  free(w);
  ggufkit_model_close(m);
  return 0;
}
