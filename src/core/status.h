// Status and Result<T>: how every fallible operation reports failure. A Status is OK (which
// allocates nothing) or a code plus a message written for the user: it names the thing that
// is wrong and how to fix it. Result<T> holds either a value or a non-OK Status.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mle {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // a flag, request field or config value is wrong
  kNotFound,         // a file, model or route does not exist
  kAlreadyExists,
  kIoError,             // the OS refused a read or write
  kCorruption,          // a file's content is malformed (bad magic, checksum, truncation)
  kFailedPrecondition,  // the state does not allow the operation (e.g. resume without ckpt)
  kOutOfRange,
  kResourceExhausted,  // memory, queue or rate limit
  kPermissionDenied,
  kUnauthenticated,
  kUnavailable,
  kCancelled,
  kDeadlineExceeded,
  kUnimplemented,
  kInternal,
};

// Name of a code, e.g. "invalid_argument".
std::string_view StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // The user-facing message ("" when OK).
  const std::string& message() const;
  // "invalid_argument: message", or "ok".
  std::string ToString() const;

  // Returns a copy whose message is "prefix: message" (no-op when OK).
  Status WithContext(std::string_view prefix) const;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

Status InvalidArgument(std::string msg);
Status NotFound(std::string msg);
Status AlreadyExists(std::string msg);
Status IoError(std::string msg);
Status Corruption(std::string msg);
Status FailedPrecondition(std::string msg);
Status OutOfRange(std::string msg);
Status ResourceExhausted(std::string msg);
Status PermissionDenied(std::string msg);
Status Unauthenticated(std::string msg);
Status Unavailable(std::string msg);
Status Cancelled(std::string msg);
Status DeadlineExceeded(std::string msg);
Status Unimplemented(std::string msg);
Status Internal(std::string msg);

// Either a T or a non-OK Status. Accessing value() of an error aborts (an invariant bug).
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Internal("Result constructed from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    CheckOk();
    return *value_;
  }
  const T& value() const& {
    CheckOk();
    return *value_;
  }
  T&& value() && {
    CheckOk();
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void CheckOk() const {
    if (!value_) {
      std::fprintf(stderr, "fatal: Result::value() on error: %s\n", status_.ToString().c_str());
      std::abort();
    }
  }
  std::optional<T> value_;
  Status status_;
};

[[noreturn]] void CheckFailed(const char* file, int line, const char* expr, const char* msg);

}  // namespace mle

#define MLE_CONCAT_INNER(a, b) a##b
#define MLE_CONCAT(a, b) MLE_CONCAT_INNER(a, b)

#define MLE_RETURN_IF_ERROR(expr)                \
  do {                                           \
    ::mle::Status mle_status__ = (expr);         \
    if (!mle_status__.ok()) return mle_status__; \
  } while (0)

#define MLE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

// Expands to several statements: wrap it in braces when it is the body of an if or loop.
#define MLE_ASSIGN_OR_RETURN(lhs, expr) \
  MLE_ASSIGN_OR_RETURN_IMPL(MLE_CONCAT(mle_result__, __LINE__), lhs, expr)

// Invariant check: aborts with file:line. Never use for user input.
#define MLE_CHECK(cond)                                             \
  do {                                                              \
    if (!(cond)) ::mle::CheckFailed(__FILE__, __LINE__, #cond, ""); \
  } while (0)
#define MLE_CHECK_MSG(cond, msg)                                       \
  do {                                                                 \
    if (!(cond)) ::mle::CheckFailed(__FILE__, __LINE__, #cond, (msg)); \
  } while (0)
