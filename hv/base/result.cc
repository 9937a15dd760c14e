#include <hv/base/result.h>

namespace hv {

const char* ErrorName(Error error) {
  switch (error) {
    case Error::kInvalidArgs:
      return "kInvalidArgs";
    case Error::kPageFault:
      return "kPageFault";
    case Error::kAccessDenied:
      return "kAccessDenied";
    case Error::kNoMemory:
      return "kNoMemory";
    case Error::kOutOfRange:
      return "kOutOfRange";
    case Error::kNotFound:
      return "kNotFound";
    case Error::kAlreadyExists:
      return "kAlreadyExists";
    case Error::kBusy:
      return "kBusy";
    case Error::kUnsupported:
      return "kUnsupported";
    case Error::kBadState:
      return "kBadState";
    case Error::kIoError:
      return "kIoError";
    case Error::kTimedOut:
      return "kTimedOut";
  }
  return "(unknown error)";
}

}  // namespace hv
