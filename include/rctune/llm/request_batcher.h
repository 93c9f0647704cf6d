// Answers the LLM requests that many requesters (the MPI ranks) sent to one place (rank 0) in one
// batch: identical requests are merged into one request asking for the sum of their completions,
// whose choices are then shared out, and distinct requests to a model are in flight together.
// MPI-free: src/dist moves the requests and the answers between ranks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rctune/llm/client.h"

namespace rctune::llm {

// One request waiting to be answered: who asked (an opaque id, e.g. the rank), which model (an
// index into the clients given to answer_batched, as LlmOptions::models orders them) and what.
struct PendingRequest {
  int requester = 0;
  size_t model = 0;
  ChatRequest request;
};

struct BatchStats {
  int64_t requests = 0;       // pending requests answered
  int64_t http_requests = 0;  // requests given to the clients after merging (a cache hit counts too)
  int64_t merged = 0;         // requests answered by another's request (requests - http_requests)

  BatchStats& operator+=(const BatchStats& other);
};

// Answers every pending request; the answers are in the order of `pending`.
//
//  - Identical requests (same model, same messages; their n and sample_index may differ) are sent
//    once, as one request for the sum of their n completions (sample_index: the smallest of
//    theirs), and the choices are shared out in order: the first requester gets choices [0, n1),
//    the second [n1, n1 + n2), ..., so each gets distinct completions.
//  - The distinct requests to one model go together through clients[model].complete(...), so they
//    are in flight at once (the client's concurrency limit applies); different models are asked at
//    the same time.
//  - Prompt and completion tokens and the cost of a merged request are split among its requesters
//    in proportion to their n (integer tokens: the remainder to the first); latency, from_cache,
//    attempts, http_status, ok and error are copied to each.
//  - The endpoint returned fewer choices than asked: the later requesters get what is left; one
//    left with none gets ok == false and the error "the endpoint returned K of N completions".
//  - A request with n < 1 is never merged: the client answers it with its error.
//
// Throws std::out_of_range, before sending anything, for a model index without a client. `stats`,
// when given, is overwritten with this batch's counts.
std::vector<ChatResponse> answer_batched(std::vector<ChatClient>& clients,
                                         const std::vector<PendingRequest>& pending,
                                         BatchStats* stats = nullptr);

}  // namespace rctune::llm
