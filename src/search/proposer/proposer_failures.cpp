// What a proposer dropped, by cause: rctune/search/proposer_failures.h.
#include "rctune/search/proposer_failures.h"

namespace rctune::search {

ProposerFailures& ProposerFailures::operator+=(const ProposerFailures& o) {
  illegal += o.illegal;
  unparsable += o.unparsable;
  internal += o.internal;
  if (first_internal.empty()) first_internal = o.first_internal;
  return *this;
}

std::string failures_text(const ProposerFailures& f) {
  auto count = [](int64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  std::string out = count(f.illegal, "illegal action", "illegal actions") + ", " +
                    count(f.unparsable, "unparsable", "unparsable") + ", " +
                    count(f.internal, "internal error", "internal errors");
  if (f.internal > 0) out += " (a bug in rctune; first: " + f.first_internal + ")";
  return out;
}

void count_internal_error(ProposerFailures& f, const std::string& where, const std::exception& e) {
  if (f.internal++ == 0) f.first_internal = where + ": " + e.what();
}

}  // namespace rctune::search
