/* ggufkit's C API: GGUF models and ggml codecs for callers that are not C++
 * (Rust, Go, the JVM through Panama FFM, Python ctypes, plain C).
 *
 * C99; no C++ type, exception or allocation crosses this header. Objects are
 * opaque handles; every function checks its arguments (null pointers, sizes,
 * enum values, indices) and returns a ggufkit_status. On any status other than
 * GGUFKIT_OK, ggufkit_last_error() gives the message, the same text the
 * command-line tools print (file, tensor, offset, problem). Outputs are only
 * written on success.
 *
 * Threads: the last error is per thread. A model handle may be used from
 * several threads at once for tensor reads (pread) of a plain or split model;
 * a compressed (.gguf.zst) model is read front to back and must not be shared.
 * Closing a model while another thread uses it is the caller's bug.
 *
 *   ggufkit_model* m;
 *   if (ggufkit_model_open("model-Q4_K_M.gguf", &m) != GGUFKIT_OK) {
 *     fprintf(stderr, "%s\n", ggufkit_last_error());
 *   }
 *   size_t i; ggufkit_tensor_info info;
 *   ggufkit_model_find_tensor(m, "blk.0.ffn_down.weight", &i);
 *   ggufkit_model_tensor_info(m, i, &info);
 *   float* w = malloc(info.n_elements * sizeof(float));
 *   ggufkit_model_dequantize(m, i, GGUFKIT_OUT_F32, w, info.n_elements * sizeof(float));
 *   ggufkit_model_close(m);
 *
 * Link: find_package(ggufkit) then target_link_libraries(... ggufkit::c).
 */
#ifndef GGUFKIT_C_GGUFKIT_H_
#define GGUFKIT_C_GGUFKIT_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define GGUFKIT_C_EXPORT __attribute__((visibility("default")))
#else
#define GGUFKIT_C_EXPORT
#endif

/* Bumped when a function or struct of this header changes incompatibly. */
#define GGUFKIT_C_API_VERSION 1

/* The enumerations below are int32_t typedefs with named constants rather than C
 * enum types, so any integer a caller (or a foreign-language binding) passes is a
 * valid value to check and reject, never undefined behaviour. */

/* Every function's result. */
typedef int32_t ggufkit_status;
enum {
  GGUFKIT_OK = 0,
  GGUFKIT_ERR_INVALID_ARGUMENT = 1,  /* bad argument, or a malformed file */
  GGUFKIT_ERR_NOT_FOUND = 2,         /* missing file or tensor */
  GGUFKIT_ERR_OUT_OF_RANGE = 3,      /* truncated file, index / row past the end */
  GGUFKIT_ERR_UNIMPLEMENTED = 4,     /* a type without that codec */
  GGUFKIT_ERR_FAILED_PRECONDITION = 5,
  GGUFKIT_ERR_RESOURCE_EXHAUSTED = 6,
  GGUFKIT_ERR_IO = 7,                /* permission denied, I/O error */
  GGUFKIT_ERR_INTERNAL = 8
};

/* Element type of dequantized output. */
typedef int32_t ggufkit_output_type;
enum {
  GGUFKIT_OUT_F32 = 0,  /* float */
  GGUFKIT_OUT_F16 = 1,  /* IEEE binary16 bits in uint16_t, round to nearest even */
  GGUFKIT_OUT_BF16 = 2  /* bfloat16 bits in uint16_t, round to nearest even */
};

/* KV-cache row types (quants/kv_cache.h). */
typedef int32_t ggufkit_kv_type;
enum {
  GGUFKIT_KV_F16 = 0,
  GGUFKIT_KV_BF16 = 1,
  GGUFKIT_KV_Q8_0 = 2,
  GGUFKIT_KV_Q4_0 = 3,
  GGUFKIT_KV_TURBO2 = 4,
  GGUFKIT_KV_TURBO3 = 5,
  GGUFKIT_KV_TURBO4 = 6
};

/* TurboQuant block layout: current (66-byte turbo4) or the May 2026 v1 (68). */
typedef int32_t ggufkit_turbo_variant;
enum {
  GGUFKIT_TURBO_CURRENT = 0,
  GGUFKIT_TURBO_V1 = 1
};

/* ---------------------------------------------------------------------------
 * Version and errors
 * ------------------------------------------------------------------------- */

/* "0.1.0": the library version. Static storage. */
GGUFKIT_C_EXPORT const char* ggufkit_version(void);
/* GGUFKIT_C_API_VERSION of the library actually linked. */
GGUFKIT_C_EXPORT int ggufkit_c_api_version(void);
/* The message of the last failed call on this thread ("" if none). Valid
 * until the next failing call on this thread. */
GGUFKIT_C_EXPORT const char* ggufkit_last_error(void);
/* "GGUFKIT_OK", "GGUFKIT_ERR_INVALID_ARGUMENT", ...; "?" for unknown codes. */
GGUFKIT_C_EXPORT const char* ggufkit_status_name(ggufkit_status status);

/* ---------------------------------------------------------------------------
 * ggml types (ids as in ggml.h: 0 f32, 1 f16, 2 q4_0, ..., 12 q4_K, 30 bf16)
 * ------------------------------------------------------------------------- */

/* ggml's name ("q4_K", "bf16"), or NULL for an unknown id. Static storage. */
GGUFKIT_C_EXPORT const char* ggufkit_type_name(uint32_t type);
/* Case-insensitive name -> id ("Q4_K", "f32", "fp16"). */
GGUFKIT_C_EXPORT ggufkit_status ggufkit_type_from_name(const char* name, uint32_t* type);
/* Elements per block and bytes per block of a type. */
GGUFKIT_C_EXPORT ggufkit_status ggufkit_type_block(uint32_t type, int64_t* block_size, int64_t* block_bytes);
/* Bytes of n_elements (a whole number of blocks) of `type`. */
GGUFKIT_C_EXPORT ggufkit_status ggufkit_row_size(uint32_t type, int64_t n_elements, uint64_t* bytes);

/* ---------------------------------------------------------------------------
 * Models: a GGUF file, any shard of a split model (the others are found
 * beside it), or a .gguf.zst. Nothing is loaded but the header: tensors are
 * read on demand, chunk by chunk, into the caller's buffer.
 * ------------------------------------------------------------------------- */

typedef struct ggufkit_model ggufkit_model;

typedef struct ggufkit_tensor_info {
  const char* name;     /* NUL-terminated; valid while the model is open */
  uint32_t type;        /* ggml type id */
  uint32_t n_dims;
  int64_t ne[4];        /* ne[0] innermost (row length); unused dims are 1 */
  int64_t n_elements;
  int64_t n_rows;       /* n_elements / ne[0] */
  uint64_t nbytes;      /* stored bytes */
  uint64_t row_bytes;   /* stored bytes of one row */
  uint64_t offset;      /* from the start of its shard's data section */
  uint64_t file_offset; /* absolute, in its shard's (uncompressed) file */
  uint32_t shard;       /* 0 for a single file */
} ggufkit_tensor_info;

/* Opens and validates a model; *model is set on success only. */
GGUFKIT_C_EXPORT ggufkit_status ggufkit_model_open(const char* path, ggufkit_model** model);
/* Closes a model; NULL is a no-op. */
GGUFKIT_C_EXPORT void ggufkit_model_close(ggufkit_model* model);
/* Tensors of all shards, in shard order. */
GGUFKIT_C_EXPORT ggufkit_status ggufkit_model_tensor_count(const ggufkit_model* model, size_t* count);
GGUFKIT_C_EXPORT ggufkit_status ggufkit_model_tensor_info(const ggufkit_model* model, size_t index,
                                         ggufkit_tensor_info* info);
/* Index of the tensor called `name` (NOT_FOUND when absent). */
GGUFKIT_C_EXPORT ggufkit_status ggufkit_model_find_tensor(const ggufkit_model* model, const char* name,
                                         size_t* index);
/* Metadata value of `key` as a string (strings as they are, numbers in
 * shortest round-trip form, arrays as JSON) copied NUL-terminated into
 * buf[0..buf_size); *needed (may be NULL) gets the length + 1. A buffer too
 * small fails with OUT_OF_RANGE and sets *needed. */
GGUFKIT_C_EXPORT ggufkit_status ggufkit_model_metadata_string(const ggufkit_model* model, const char* key,
                                             char* buf, size_t buf_size, size_t* needed);

/* Dequantizes a whole tensor into out (out_bytes must equal n_elements times
 * 4 (f32) or 2 (f16, bf16)). Bit-exact with ggml. */
GGUFKIT_C_EXPORT ggufkit_status ggufkit_model_dequantize(ggufkit_model* model, size_t index,
                                        ggufkit_output_type out_type, void* out, size_t out_bytes);
/* Rows [row_begin, row_end) of a tensor (a row = ne[0] elements); out_bytes
 * must equal (row_end - row_begin) * ne[0] * element bytes. */
GGUFKIT_C_EXPORT ggufkit_status ggufkit_model_dequantize_rows(ggufkit_model* model, size_t index,
                                             int64_t row_begin, int64_t row_end,
                                             ggufkit_output_type out_type, void* out,
                                             size_t out_bytes);

/* ---------------------------------------------------------------------------
 * Codecs on memory
 * ------------------------------------------------------------------------- */

/* in: in_bytes of blocks of `type` (whole blocks); out: the same number of
 * elements as out_type. */
GGUFKIT_C_EXPORT ggufkit_status ggufkit_dequantize(uint32_t type, const void* in, size_t in_bytes,
                                  ggufkit_output_type out_type, void* out, size_t out_bytes);
/* Quantizes n_rows rows of n_per_row floats (n_per_row a whole number of
 * blocks) into out (out_bytes = n_rows * row size). imatrix: NULL or
 * n_per_row importance weights (used by the types that take one). Bytes
 * identical to ggml's quantize_<type>. */
GGUFKIT_C_EXPORT ggufkit_status ggufkit_quantize(uint32_t type, const float* x, int64_t n_rows, int64_t n_per_row,
                                const float* imatrix, void* out, size_t out_bytes);

/* ---------------------------------------------------------------------------
 * KV-cache rows (one row = n_kv_heads * head_dim floats of one token)
 * ------------------------------------------------------------------------- */

/* Bytes of one quantized row, and floats of one dequantized row (turbo:
 * heads padded to a multiple of 128, rotated domain). */
GGUFKIT_C_EXPORT ggufkit_status ggufkit_kv_row_bytes(ggufkit_kv_type type, ggufkit_turbo_variant variant,
                                    int64_t n_kv_heads, int64_t head_dim, int64_t* bytes);
GGUFKIT_C_EXPORT ggufkit_status ggufkit_kv_row_floats(ggufkit_kv_type type, int64_t n_kv_heads, int64_t head_dim,
                                     int64_t* floats);
/* x: n_rows * n_kv_heads * head_dim floats (x_count of them); out: n_rows *
 * row bytes. */
GGUFKIT_C_EXPORT ggufkit_status ggufkit_kv_quantize_rows(ggufkit_kv_type type, ggufkit_turbo_variant variant,
                                        int64_t n_rows, int64_t n_kv_heads, int64_t head_dim,
                                        const float* x, size_t x_count, void* out,
                                        size_t out_bytes);
/* in: n_rows * row bytes; out: n_rows * row floats (out_count of them). */
GGUFKIT_C_EXPORT ggufkit_status ggufkit_kv_dequantize_rows(ggufkit_kv_type type, ggufkit_turbo_variant variant,
                                          int64_t n_rows, int64_t n_kv_heads, int64_t head_dim,
                                          const void* in, size_t in_bytes, float* out,
                                          size_t out_count);
/* Turbo rotation: rotate reads n_rows * n_kv_heads * head_dim floats and
 * writes n_rows * n_kv_heads * padded floats; unrotate is its inverse. */
GGUFKIT_C_EXPORT ggufkit_status ggufkit_kv_rotate_rows(int64_t n_rows, int64_t n_kv_heads, int64_t head_dim,
                                      const float* in, size_t in_count, float* out,
                                      size_t out_count);
GGUFKIT_C_EXPORT ggufkit_status ggufkit_kv_unrotate_rows(int64_t n_rows, int64_t n_kv_heads, int64_t head_dim,
                                        const float* in, size_t in_count, float* out,
                                        size_t out_count);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif  /* GGUFKIT_C_GGUFKIT_H_ */
