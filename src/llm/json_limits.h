// Bounds for the JSON that reaches the llm module from outside (an endpoint's answer body, a
// response cache file, a rank's message): nlohmann::json parses iteratively, but copying, dumping
// and comparing a value recurse, so a value nested 100,000 deep would overflow the stack later.
// Text nested deeper than kMaxJsonDepth is refused before it is parsed.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace rctune::llm::detail {

// Far above any real chat completion (depth 4), cache file or wire message (depth 5).
constexpr int kMaxJsonDepth = 64;

// Whether no array or object of `text` nests deeper than `limit` (brackets inside strings do not
// count). One linear pass; the text need not be valid JSON.
bool json_depth_within(std::string_view text, int limit = kMaxJsonDepth);

// json::parse without exceptions that refuses too deep text: a discarded value when the text is
// not JSON or nests too deep, and then `why` (when given) says which.
nlohmann::json parse_bounded(std::string_view text, std::string* why = nullptr);

}  // namespace rctune::llm::detail
