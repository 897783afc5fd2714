// Status implementation.
#include "core/status.h"

namespace mle {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kAlreadyExists:
      return "already_exists";
    case StatusCode::kIoError:
      return "io_error";
    case StatusCode::kCorruption:
      return "corruption";
    case StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case StatusCode::kOutOfRange:
      return "out_of_range";
    case StatusCode::kResourceExhausted:
      return "resource_exhausted";
    case StatusCode::kPermissionDenied:
      return "permission_denied";
    case StatusCode::kUnauthenticated:
      return "unauthenticated";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kCancelled:
      return "cancelled";
    case StatusCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case StatusCode::kUnimplemented:
      return "unimplemented";
    case StatusCode::kInternal:
      return "internal";
  }
  return "unknown";
}

Status::Status(StatusCode code, std::string message) {
  if (code != StatusCode::kOk) rep_ = std::make_unique<Rep>(Rep{code, std::move(message)});
}

Status::Status(const Status& other)
    : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
  return *this;
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return rep_ ? rep_->message : kEmpty;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(StatusCodeName(rep_->code)) + ": " + rep_->message;
}

Status Status::WithContext(std::string_view prefix) const {
  if (ok()) return Status();
  return Status(rep_->code, std::string(prefix) + ": " + rep_->message);
}

#define MLE_DEFINE_STATUS_FACTORY(name, code)        \
  Status name(std::string msg) {                     \
    return Status(StatusCode::code, std::move(msg)); \
  }
MLE_DEFINE_STATUS_FACTORY(InvalidArgument, kInvalidArgument)
MLE_DEFINE_STATUS_FACTORY(NotFound, kNotFound)
MLE_DEFINE_STATUS_FACTORY(AlreadyExists, kAlreadyExists)
MLE_DEFINE_STATUS_FACTORY(IoError, kIoError)
MLE_DEFINE_STATUS_FACTORY(Corruption, kCorruption)
MLE_DEFINE_STATUS_FACTORY(FailedPrecondition, kFailedPrecondition)
MLE_DEFINE_STATUS_FACTORY(OutOfRange, kOutOfRange)
MLE_DEFINE_STATUS_FACTORY(ResourceExhausted, kResourceExhausted)
MLE_DEFINE_STATUS_FACTORY(PermissionDenied, kPermissionDenied)
MLE_DEFINE_STATUS_FACTORY(Unauthenticated, kUnauthenticated)
MLE_DEFINE_STATUS_FACTORY(Unavailable, kUnavailable)
MLE_DEFINE_STATUS_FACTORY(Cancelled, kCancelled)
MLE_DEFINE_STATUS_FACTORY(DeadlineExceeded, kDeadlineExceeded)
MLE_DEFINE_STATUS_FACTORY(Unimplemented, kUnimplemented)
MLE_DEFINE_STATUS_FACTORY(Internal, kInternal)
#undef MLE_DEFINE_STATUS_FACTORY

void CheckFailed(const char* file, int line, const char* expr, const char* msg) {
  std::fprintf(stderr, "%s:%d: check failed: %s %s\n", file, line, expr, msg);
  std::fflush(stderr);
  std::abort();
}

}  // namespace mle
