// Status and Result<T>: how every module boundary reports failure.
//
// A Status is either OK or carries a code and a one-line message meant for a
// human ("patient.json:3:14: expected a JSON object"). Result<T> is
// tl::expected<T, Status>: a value or the Status explaining why there is none.
// Nothing in regenpath throws across a module boundary.
#ifndef REGENPATH_COMMON_STATUS_H_
#define REGENPATH_COMMON_STATUS_H_

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace regenpath {

enum class StatusCode : unsigned char {
  kOk = 0,
  kInvalidArgument,   // The caller's input is wrong (bad option, bad expression).
  kInvalidInput,      // A file or payload is unreadable or not what it claims.
  kNotFound,          // A named thing does not exist.
  kEvaluationError,   // An expression failed while running (e.g. singleton expected).
  kResourceExhausted, // A size, depth or time limit was hit.
  kUnavailable,       // A remote dependency could not be reached.
  kInternal,          // A bug: an invariant of regenpath itself broke.
};

// Returns the stable lower-case name of `code` ("invalid-input", ...).
std::string_view StatusCodeName(StatusCode code);

class Status {
 public:
  // An OK status.
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  // Lets RP_RETURN_IF_ERROR return Fail(...) from functions returning Status.
  Status(tl::unexpected<Status> failure) : Status(std::move(failure.value())) {}  // NOLINT

  static Status Ok() { return Status(); }

  // Returns true iff the status indicates success.
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "<prefix>: <message>" (context added by a caller).
  Status WithPrefix(std::string_view prefix) const;

  // "invalid-input: <message>", or "ok".
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}
inline Status InvalidInput(std::string message) {
  return Status(StatusCode::kInvalidInput, std::move(message));
}
inline Status NotFound(std::string message) { return Status(StatusCode::kNotFound, std::move(message)); }
inline Status EvaluationError(std::string message) {
  return Status(StatusCode::kEvaluationError, std::move(message));
}
inline Status ResourceExhausted(std::string message) {
  return Status(StatusCode::kResourceExhausted, std::move(message));
}
inline Status Unavailable(std::string message) {
  return Status(StatusCode::kUnavailable, std::move(message));
}
inline Status Internal(std::string message) { return Status(StatusCode::kInternal, std::move(message)); }

// A value of type T, or the Status that explains its absence.
template <typename T>
using Result = tl::expected<T, Status>;

// Wraps a failed Status for returning from a function that returns Result<T>.
inline tl::unexpected<Status> Fail(Status status) { return tl::unexpected<Status>(std::move(status)); }

namespace internal {
inline const Status& GetStatus(const Status& status) { return status; }
template <typename T>
Status GetStatus(const Result<T>& result) {
  return result.has_value() ? Status() : result.error();
}
}  // namespace internal

}  // namespace regenpath

#define RP_CONCAT_INNER_(a, b) a##b
#define RP_CONCAT_(a, b) RP_CONCAT_INNER_(a, b)

// Evaluates `expr` (a Status or Result); returns its failure from the current
// function, which must return Status or Result<U>.
#define RP_RETURN_IF_ERROR(expr)                                         \
  do {                                                                   \
    ::regenpath::Status rp_status_ = ::regenpath::internal::GetStatus(expr); \
    if (!rp_status_.ok()) return ::regenpath::Fail(std::move(rp_status_)); \
  } while (false)

// RP_ASSIGN_OR_RETURN(auto x, MakeX()); declares/assigns x from a Result or
// returns its failure.
#define RP_ASSIGN_OR_RETURN(lhs, expr) RP_ASSIGN_OR_RETURN_IMPL_(RP_CONCAT_(rp_result_, __LINE__), lhs, expr)
#define RP_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)                  \
  auto tmp = (expr);                                              \
  if (!tmp.has_value()) return ::regenpath::Fail(std::move(tmp).error()); \
  lhs = std::move(*tmp)

#endif  // REGENPATH_COMMON_STATUS_H_
