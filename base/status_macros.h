// Error-propagation macros. Abseil 20220623 ships no RETURN_IF_ERROR /
// ASSIGN_OR_RETURN, so the project defines its own once, here, in the bottom
// layer that every other layer may include.
#ifndef GGUFKIT_BASE_STATUS_MACROS_H_
#define GGUFKIT_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#define GGUFKIT_CONCAT_INNER_(a, b) a##b
#define GGUFKIT_CONCAT_(a, b) GGUFKIT_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define GGUFKIT_RETURN_IF_ERROR(expr)                     \
  do {                                                    \
    ::absl::Status ggufkit_status_ = (expr);              \
    if (!ggufkit_status_.ok()) return ggufkit_status_;    \
  } while (0)

// `lhs = value of expr` (an absl::StatusOr<T>), or returns its error status.
// lhs may be a declaration: GGUFKIT_ASSIGN_OR_RETURN(auto x, MakeX());
#define GGUFKIT_ASSIGN_OR_RETURN(lhs, expr) \
  GGUFKIT_ASSIGN_OR_RETURN_IMPL_(GGUFKIT_CONCAT_(ggufkit_statusor_, __LINE__), lhs, expr)
#define GGUFKIT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return std::move(tmp).status();       \
  lhs = std::move(tmp).value()

// Returns absl::InvalidArgumentError(msg) when `cond` holds.
#define GGUFKIT_RETURN_ERROR_IF(cond, ...)                                 \
  do {                                                                     \
    if (cond) return ::absl::InvalidArgumentError(::absl::StrCat(__VA_ARGS__)); \
  } while (0)

#endif  // GGUFKIT_BASE_STATUS_MACROS_H_
