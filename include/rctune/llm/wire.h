// The text form of LLM requests and answers sent between MPI ranks (JSON): a rank sends its
// requests to rank 0, which sends back the answers. Every field of ChatRequest and ChatResponse
// round-trips exactly: doubles (NaN and infinities too), 64-bit integers, and strings holding any
// bytes (a string that is not valid UTF-8, such as a malformed answer, travels hex-encoded).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "rctune/llm/client.h"

namespace rctune::llm {

// Requests to one model (an index into the models of LlmOptions).
std::string to_wire(size_t model, const std::vector<ChatRequest>& requests);
// Throws std::runtime_error naming what is wrong (not JSON, a missing or mistyped field and where).
std::pair<size_t, std::vector<ChatRequest>> requests_from_wire(const std::string& text);

std::string to_wire(const std::vector<ChatResponse>& responses);
// Throws std::runtime_error naming what is wrong.
std::vector<ChatResponse> responses_from_wire(const std::string& text);

}  // namespace rctune::llm
