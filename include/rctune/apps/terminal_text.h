// Text for the user's terminal from untrusted sources (file names, traces from others, LLM answers).
#pragma once

#include <string>
#include <string_view>

namespace rctune::apps {

// `text` with every control byte but line feed and tab shown as \xHH (ESC, BEL, CR, DEL, ...), so
// that no name, trace or answer can move the cursor, rewrite a line, recolour or retitle the
// terminal it is printed on. Other bytes (UTF-8 included) are kept.
std::string terminal_safe(std::string_view text);

}  // namespace rctune::apps
