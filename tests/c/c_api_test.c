/* The C API from C11: opens the bundled sample, reads tensor info, dequantizes
 * whole tensors and row ranges (f32 / f16 / bf16), quantizes and round-trips
 * rows, runs the KV row codecs, and checks that every bad argument (NULL, wrong
 * size, bad enum, bad index, missing or malformed file) returns an error code
 * with a message, per thread.
 *
 *   c_api_test SAMPLE.gguf MALFORMED.gguf */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "ggufkit/c/ggufkit.h"

static int g_failures = 0;

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,   \
              #cond);                                                    \
      ++g_failures;                                                      \
    }                                                                    \
  } while (0)

/* The call must fail with `code` and leave a non-empty message. */
#define CHECK_ERR(call, code)                                                     \
  do {                                                                            \
    ggufkit_status st_ = (call);                                                  \
    if (st_ != (code) || ggufkit_last_error()[0] == '\0') {                       \
      fprintf(stderr, "%s:%d: %s returned %s (\"%s\"), expected %s\n", __FILE__, \
              __LINE__, #call, ggufkit_status_name(st_), ggufkit_last_error(),    \
              #code);                                                             \
      ++g_failures;                                                               \
    }                                                                             \
  } while (0)

#define CHECK_OK(call)                                                        \
  do {                                                                        \
    ggufkit_status st_ = (call);                                              \
    if (st_ != GGUFKIT_OK) {                                                  \
      fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__,     \
              #call, ggufkit_status_name(st_), ggufkit_last_error());         \
      ++g_failures;                                                           \
    }                                                                         \
  } while (0)

static uint32_t g_rng = 12345u;
static float RandomFloat(void) {
  g_rng = g_rng * 1664525u + 1013904223u;
  return (float)((int32_t)(g_rng >> 8) - (1 << 23)) / (float)(1 << 23);
}

static void TestVersionAndTypes(void) {
  CHECK(ggufkit_version() != NULL && ggufkit_version()[0] != '\0');
  CHECK(ggufkit_c_api_version() == GGUFKIT_C_API_VERSION);
  CHECK(strcmp(ggufkit_status_name(GGUFKIT_ERR_NOT_FOUND), "GGUFKIT_ERR_NOT_FOUND") == 0);
  CHECK(strcmp(ggufkit_status_name(99), "?") == 0);
  CHECK(strcmp(ggufkit_type_name(12), "q4_K") == 0);
  CHECK(ggufkit_type_name(4) == NULL); /* removed from ggml */
  CHECK(ggufkit_type_name(1000) == NULL);
  uint32_t t = 0;
  CHECK_OK(ggufkit_type_from_name("Q8_0", &t));
  CHECK(t == 8);
  CHECK_ERR(ggufkit_type_from_name("q9_9", &t), GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_type_from_name(NULL, &t), GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_type_from_name("f32", NULL), GGUFKIT_ERR_INVALID_ARGUMENT);
  int64_t bs = 0, bb = 0;
  CHECK_OK(ggufkit_type_block(12, &bs, &bb));
  CHECK(bs == 256 && bb == 144);
  CHECK_ERR(ggufkit_type_block(5, &bs, &bb), GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_type_block(12, NULL, &bb), GGUFKIT_ERR_INVALID_ARGUMENT);
  uint64_t bytes = 0;
  CHECK_OK(ggufkit_row_size(8, 4096, &bytes));
  CHECK(bytes == 4096 / 32 * 34);
  CHECK_ERR(ggufkit_row_size(8, 33, &bytes), GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_row_size(8, 32, NULL), GGUFKIT_ERR_INVALID_ARGUMENT);
}

static void TestModel(const char* sample, const char* malformed) {
  ggufkit_model* m = NULL;
  CHECK_ERR(ggufkit_model_open(NULL, &m), GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_model_open(sample, NULL), GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_model_open("/nonexistent/dir/model.gguf", &m), GGUFKIT_ERR_NOT_FOUND);
  CHECK(strstr(ggufkit_last_error(), "/nonexistent/dir/model.gguf") != NULL);
  CHECK(m == NULL);
  ggufkit_status st = ggufkit_model_open(malformed, &m);
  CHECK(st != GGUFKIT_OK && m == NULL);
  CHECK(strstr(ggufkit_last_error(), "alignment_zero.gguf") != NULL);
  ggufkit_model_close(NULL); /* a no-op */

  CHECK_OK(ggufkit_model_open(sample, &m));
  if (m == NULL) return;
  size_t count = 0;
  CHECK_OK(ggufkit_model_tensor_count(m, &count));
  CHECK(count > 0);
  CHECK_ERR(ggufkit_model_tensor_count(NULL, &count), GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_model_tensor_count(m, NULL), GGUFKIT_ERR_INVALID_ARGUMENT);

  ggufkit_tensor_info info;
  CHECK_ERR(ggufkit_model_tensor_info(m, count, &info), GGUFKIT_ERR_OUT_OF_RANGE);
  CHECK_ERR(ggufkit_model_tensor_info(m, 0, NULL), GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_model_tensor_info(NULL, 0, &info), GGUFKIT_ERR_INVALID_ARGUMENT);

  size_t index = 0;
  CHECK_ERR(ggufkit_model_find_tensor(m, "no.such.tensor", &index), GGUFKIT_ERR_NOT_FOUND);
  CHECK(strstr(ggufkit_last_error(), "no.such.tensor") != NULL);
  CHECK_ERR(ggufkit_model_find_tensor(m, NULL, &index), GGUFKIT_ERR_INVALID_ARGUMENT);

  for (size_t i = 0; i < count; ++i) {
    CHECK_OK(ggufkit_model_tensor_info(m, i, &info));
    size_t found = count;
    CHECK_OK(ggufkit_model_find_tensor(m, info.name, &found));
    CHECK(found == i);
    CHECK(info.n_elements == info.ne[0] * info.ne[1] * info.ne[2] * info.ne[3]);
    CHECK(info.n_rows * info.ne[0] == info.n_elements);
    uint64_t nbytes = 0;
    CHECK_OK(ggufkit_row_size(info.type, info.n_elements, &nbytes));
    CHECK(nbytes == info.nbytes);

    const size_t n = (size_t)info.n_elements;
    float* f32 = malloc(n * sizeof(float));
    uint16_t* f16 = malloc(n * sizeof(uint16_t));
    uint16_t* bf16 = malloc(n * sizeof(uint16_t));
    CHECK(f32 != NULL && f16 != NULL && bf16 != NULL);
    if (f32 == NULL || f16 == NULL || bf16 == NULL) abort();
    CHECK_OK(ggufkit_model_dequantize(m, i, GGUFKIT_OUT_F32, f32, n * sizeof(float)));
    CHECK_OK(ggufkit_model_dequantize(m, i, GGUFKIT_OUT_F16, f16, n * 2));
    CHECK_OK(ggufkit_model_dequantize(m, i, GGUFKIT_OUT_BF16, bf16, n * 2));
    for (size_t k = 0; k < n; ++k) {
      CHECK(isfinite(f32[k]));
      /* bf16 is the f32 value rounded to nearest even. */
      uint32_t bits;
      memcpy(&bits, &f32[k], 4);
      const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
      if ((uint16_t)rounded != bf16[k]) {
        ++g_failures;
        fprintf(stderr, "bf16 mismatch in %s at %zu\n", info.name, k);
        break;
      }
    }
    /* A row range equals the same rows of the whole tensor. */
    if (info.n_rows >= 2) {
      const int64_t r0 = 1, r1 = info.n_rows;
      const size_t nr = (size_t)((r1 - r0) * info.ne[0]);
      float* part = malloc(nr * sizeof(float));
      if (part == NULL) abort();
      CHECK_OK(ggufkit_model_dequantize_rows(m, i, r0, r1, GGUFKIT_OUT_F32, part,
                                             nr * sizeof(float)));
      CHECK(memcmp(part, f32 + info.ne[0], nr * sizeof(float)) == 0);
      CHECK_ERR(ggufkit_model_dequantize_rows(m, i, r0, r1, GGUFKIT_OUT_F32, part,
                                              nr * sizeof(float) - 4),
                GGUFKIT_ERR_INVALID_ARGUMENT);
      free(part);
    }
    CHECK_ERR(ggufkit_model_dequantize_rows(m, i, 0, info.n_rows + 1, GGUFKIT_OUT_F32, f32,
                                            n * sizeof(float)),
              GGUFKIT_ERR_OUT_OF_RANGE);
    CHECK_ERR(ggufkit_model_dequantize_rows(m, i, 2, 1, GGUFKIT_OUT_F32, f32, 0),
              GGUFKIT_ERR_OUT_OF_RANGE);
    CHECK_ERR(ggufkit_model_dequantize(m, i, GGUFKIT_OUT_F32, f32, n * sizeof(float) + 4),
              GGUFKIT_ERR_INVALID_ARGUMENT);
    CHECK_ERR(ggufkit_model_dequantize(m, i, GGUFKIT_OUT_F32, NULL, n * sizeof(float)),
              GGUFKIT_ERR_INVALID_ARGUMENT);
    CHECK_ERR(ggufkit_model_dequantize(m, i, (ggufkit_output_type)7, f32, n * sizeof(float)),
              GGUFKIT_ERR_INVALID_ARGUMENT);
    CHECK_ERR(ggufkit_model_dequantize(NULL, i, GGUFKIT_OUT_F32, f32, n * sizeof(float)),
              GGUFKIT_ERR_INVALID_ARGUMENT);
    free(f32);
    free(f16);
    free(bf16);
  }

  /* Metadata as text, with the size protocol. */
  size_t needed = 0;
  CHECK_OK(ggufkit_model_metadata_string(m, "general.architecture", NULL, 0, &needed) ==
                   GGUFKIT_ERR_OUT_OF_RANGE
               ? GGUFKIT_OK
               : GGUFKIT_ERR_INTERNAL);
  CHECK(needed > 1);
  char* text = malloc(needed);
  if (text == NULL) abort();
  CHECK_OK(ggufkit_model_metadata_string(m, "general.architecture", text, needed, NULL));
  CHECK(strlen(text) + 1 == needed);
  free(text);
  char small[4];
  CHECK_ERR(ggufkit_model_metadata_string(m, "no.such.key", small, sizeof(small), NULL),
            GGUFKIT_ERR_NOT_FOUND);
  CHECK_ERR(ggufkit_model_metadata_string(m, NULL, small, sizeof(small), NULL),
            GGUFKIT_ERR_INVALID_ARGUMENT);
  ggufkit_model_close(m);
}

static void TestCodecs(void) {
  enum { kRows = 3, kPerRow = 256 };
  float x[kRows * kPerRow];
  for (int i = 0; i < kRows * kPerRow; ++i) x[i] = RandomFloat();
  const uint32_t types[] = {2, 3, 6, 7, 8, 10, 11, 12, 13, 14};
  for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); ++t) {
    uint64_t row = 0;
    CHECK_OK(ggufkit_row_size(types[t], kPerRow, &row));
    const size_t bytes = (size_t)row * kRows;
    uint8_t* q = malloc(bytes);
    if (q == NULL) abort();
    CHECK_OK(ggufkit_quantize(types[t], x, kRows, kPerRow, NULL, q, bytes));
    float y[kRows * kPerRow];
    CHECK_OK(ggufkit_dequantize(types[t], q, bytes, GGUFKIT_OUT_F32, y, sizeof(y)));
    double err = 0, norm = 0;
    for (int i = 0; i < kRows * kPerRow; ++i) {
      err += (x[i] - y[i]) * (double)(x[i] - y[i]);
      norm += x[i] * (double)x[i];
    }
    CHECK(err < 0.25 * norm); /* q2_K on uniform noise loses ~10% */
    /* The same bytes with an importance matrix (types that ignore it too). */
    float imatrix[kPerRow];
    for (int i = 0; i < kPerRow; ++i) imatrix[i] = 1.0f + (float)(i % 7);
    CHECK_OK(ggufkit_quantize(types[t], x, kRows, kPerRow, imatrix, q, bytes));
    CHECK_ERR(ggufkit_quantize(types[t], x, kRows, kPerRow, NULL, q, bytes - 1),
              GGUFKIT_ERR_INVALID_ARGUMENT);
    CHECK_ERR(ggufkit_dequantize(types[t], q, bytes - 1, GGUFKIT_OUT_F32, y, sizeof(y)),
              GGUFKIT_ERR_INVALID_ARGUMENT);
    free(q);
  }
  uint8_t q[34];
  float y[32];
  CHECK_ERR(ggufkit_quantize(8, x, 1, 31, NULL, q, sizeof(q)), GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_quantize(8, NULL, 1, 32, NULL, q, sizeof(q)), GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_quantize(8, x, -1, 32, NULL, q, sizeof(q)), GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_quantize(4, x, 1, 32, NULL, q, sizeof(q)), GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_quantize(8, x, INT64_MAX, INT64_MAX, NULL, q, sizeof(q)),
            GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_dequantize(8, NULL, sizeof(q), GGUFKIT_OUT_F32, y, sizeof(y)),
            GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_dequantize(8, q, sizeof(q), GGUFKIT_OUT_F32, NULL, sizeof(y)),
            GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_dequantize(8, q, sizeof(q), (ggufkit_output_type)-1, y, sizeof(y)),
            GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_dequantize(99, q, sizeof(q), GGUFKIT_OUT_F32, y, sizeof(y)),
            GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_dequantize(26, q, 32, GGUFKIT_OUT_F32, y, sizeof(y)),
            GGUFKIT_ERR_INVALID_ARGUMENT); /* I32 is never dequantized */
  CHECK_OK(ggufkit_dequantize(8, NULL, 0, GGUFKIT_OUT_F32, NULL, 0));
}

static void TestKvRows(void) {
  int64_t bytes = 0, floats = 0;
  CHECK_OK(ggufkit_kv_row_bytes(GGUFKIT_KV_Q8_0, GGUFKIT_TURBO_CURRENT, 8, 128, &bytes));
  CHECK(bytes == 1088);
  CHECK_OK(ggufkit_kv_row_bytes(GGUFKIT_KV_TURBO4, GGUFKIT_TURBO_V1, 8, 128, &bytes));
  CHECK(bytes == 8 * 68);
  CHECK_OK(ggufkit_kv_row_floats(GGUFKIT_KV_TURBO3, 2, 64, &floats));
  CHECK(floats == 2 * 128);
  CHECK_ERR(ggufkit_kv_row_bytes(GGUFKIT_KV_Q4_0, GGUFKIT_TURBO_CURRENT, 8, 33, &bytes),
            GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_kv_row_bytes((ggufkit_kv_type)42, GGUFKIT_TURBO_CURRENT, 8, 128, &bytes),
            GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_kv_row_bytes(GGUFKIT_KV_F16, (ggufkit_turbo_variant)9, 8, 128, &bytes),
            GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_kv_row_bytes(GGUFKIT_KV_F16, GGUFKIT_TURBO_CURRENT, 8, 128, NULL),
            GGUFKIT_ERR_INVALID_ARGUMENT);

  enum { kRows = 2, kHeads = 2, kDim = 64 };
  float x[kRows * kHeads * kDim];
  for (int i = 0; i < kRows * kHeads * kDim; ++i) x[i] = RandomFloat();
  const ggufkit_kv_type types[] = {GGUFKIT_KV_F16,    GGUFKIT_KV_BF16,   GGUFKIT_KV_Q8_0,
                                   GGUFKIT_KV_Q4_0,   GGUFKIT_KV_TURBO2, GGUFKIT_KV_TURBO3,
                                   GGUFKIT_KV_TURBO4};
  for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); ++t) {
    CHECK_OK(ggufkit_kv_row_bytes(types[t], GGUFKIT_TURBO_CURRENT, kHeads, kDim, &bytes));
    CHECK_OK(ggufkit_kv_row_floats(types[t], kHeads, kDim, &floats));
    uint8_t* q = malloc((size_t)(bytes * kRows));
    float* y = malloc((size_t)(floats * kRows) * sizeof(float));
    if (q == NULL || y == NULL) abort();
    CHECK_OK(ggufkit_kv_quantize_rows(types[t], GGUFKIT_TURBO_CURRENT, kRows, kHeads, kDim, x,
                                      kRows * kHeads * kDim, q, (size_t)(bytes * kRows)));
    CHECK_OK(ggufkit_kv_dequantize_rows(types[t], GGUFKIT_TURBO_CURRENT, kRows, kHeads, kDim, q,
                                        (size_t)(bytes * kRows), y, (size_t)(floats * kRows)));
    if (floats == kHeads * kDim) {
      double err = 0, norm = 0;
      for (int i = 0; i < kRows * kHeads * kDim; ++i) {
        err += (x[i] - y[i]) * (double)(x[i] - y[i]);
        norm += x[i] * (double)x[i];
      }
      CHECK(err < 0.05 * norm);
    } else {
      /* Turbo: rotated, padded; un-rotate back to the original domain. */
      float back[kRows * kHeads * kDim];
      CHECK_OK(ggufkit_kv_unrotate_rows(kRows, kHeads, kDim, y, (size_t)(floats * kRows), back,
                                        kRows * kHeads * kDim));
      double err = 0, norm = 0;
      for (int i = 0; i < kRows * kHeads * kDim; ++i) {
        err += (x[i] - back[i]) * (double)(x[i] - back[i]);
        norm += x[i] * (double)x[i];
      }
      CHECK(err < 0.5 * norm); /* 2-bit turbo included */
    }
    CHECK_ERR(ggufkit_kv_quantize_rows(types[t], GGUFKIT_TURBO_CURRENT, kRows, kHeads, kDim, x,
                                       kRows * kHeads * kDim - 1, q, (size_t)(bytes * kRows)),
              GGUFKIT_ERR_INVALID_ARGUMENT);
    CHECK_ERR(ggufkit_kv_dequantize_rows(types[t], GGUFKIT_TURBO_CURRENT, kRows, kHeads, kDim, q,
                                         (size_t)(bytes * kRows), y,
                                         (size_t)(floats * kRows) + 1),
              GGUFKIT_ERR_INVALID_ARGUMENT);
    CHECK_ERR(ggufkit_kv_dequantize_rows(types[t], GGUFKIT_TURBO_CURRENT, kRows, kHeads, kDim,
                                         NULL, (size_t)(bytes * kRows), y,
                                         (size_t)(floats * kRows)),
              GGUFKIT_ERR_INVALID_ARGUMENT);
    free(q);
    free(y);
  }
  /* Rotation round trip. */
  float rotated[kRows * kHeads * 128], back[kRows * kHeads * kDim];
  CHECK_OK(ggufkit_kv_rotate_rows(kRows, kHeads, kDim, x, kRows * kHeads * kDim, rotated,
                                  kRows * kHeads * 128));
  CHECK_OK(ggufkit_kv_unrotate_rows(kRows, kHeads, kDim, rotated, kRows * kHeads * 128, back,
                                    kRows * kHeads * kDim));
  for (int i = 0; i < kRows * kHeads * kDim; ++i) CHECK(fabsf(back[i] - x[i]) < 1e-4f);
  CHECK_ERR(ggufkit_kv_rotate_rows(kRows, kHeads, kDim, x, kRows * kHeads * kDim, rotated,
                                   kRows * kHeads * kDim),
            GGUFKIT_ERR_INVALID_ARGUMENT);
  CHECK_ERR(ggufkit_kv_rotate_rows(-1, kHeads, kDim, x, 0, rotated, 0),
            GGUFKIT_ERR_INVALID_ARGUMENT);
}

/* The last error is per thread: a failure on another thread leaves ours. */
static int FailOnThread(void* arg) {
  (void)arg;
  uint32_t t;
  ggufkit_type_from_name("other-thread-type", &t);
  return strstr(ggufkit_last_error(), "other-thread-type") != NULL ? 0 : 1;
}

static void TestThreadLocalError(void) {
  uint32_t t;
  CHECK_ERR(ggufkit_type_from_name("main-thread-type", &t), GGUFKIT_ERR_INVALID_ARGUMENT);
  thrd_t thread;
  int result = -1;
  CHECK(thrd_create(&thread, FailOnThread, NULL) == thrd_success);
  CHECK(thrd_join(thread, &result) == thrd_success);
  CHECK(result == 0);
  CHECK(strstr(ggufkit_last_error(), "main-thread-type") != NULL);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: c_api_test SAMPLE.gguf MALFORMED.gguf\n");
    return 2;
  }
  TestVersionAndTypes();
  TestModel(argv[1], argv[2]);
  TestCodecs();
  TestKvRows();
  TestThreadLocalError();
  if (g_failures != 0) {
    fprintf(stderr, "c_api_test: %d failures\n", g_failures);
    return 1;
  }
  printf("c_api_test: ok (ggufkit %s)\n", ggufkit_version());
  return 0;
}
