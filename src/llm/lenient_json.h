// A forgiving JSON reader for what language models write (internal to the llm module): trailing
// commas, single-quoted strings, raw newlines inside strings, unquoted keys, Python's
// True/False/None, a missing comma between two entries, // comments. It stops cleanly at the end of
// the text: an answer cut off mid-block yields the complete entries before the cut.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace rctune::llm::detail {

struct LenientValue {
  // The value read. When `complete` is false the text ended inside it: arrays keep only their
  // complete elements, objects their complete members plus a cut member whose value is an array or
  // object (itself cut the same way); a cut string or number is dropped.
  nlohmann::json value;
  bool complete = true;
  size_t end = 0;                   // offset just past the value (the text's size when cut)
  std::set<std::string> tolerated;  // what was forgiven: "trailing comma", "single-quoted strings", ...
};

// Reads one value that starts at text[pos] (after optional blanks). std::nullopt on a syntax error
// (text that is not a value even by these lenient rules).
// `reached` (when given) is set to how far the reader got, so that a caller trying many starts can
// bound the work it spends. Arrays and objects nest at most 16 deep (deeper is a syntax error).
std::optional<LenientValue> read_lenient_json(std::string_view text, size_t pos, size_t* reached = nullptr);

}  // namespace rctune::llm::detail
