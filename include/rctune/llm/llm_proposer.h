// The LLM proposer (search::Proposer): asks a language model for the next transformations of a
// tree node, as the Reasoning Compiler paper does.
//
//  - Each proposal is validated by applying it (apply_action + lower); illegal ones are dropped
//    and come back in the next prompt for that subtree (the search records them as failures).
//  - Unreachable endpoint, timeout, unparseable answer or no legal proposal: the heuristic
//    proposer answers for that node, and the fallback is counted per model.
//  - Several models (as COLT does): the first (cheapest) answers by default; after
//    `escalate_after` consecutive proposals of the model in use that did not improve on their
//    parent (seen when the node a proposal produced comes back as a proposer input, with its
//    measurement and its parent's), the next model takes over, and the first again once a
//    proposal improves.
//  - Every call is recorded (model, tokens, latency, cost, status, fallback) for the trace and the
//    report; answers whose token usage was malformed are counted per model (ModelStats).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rctune/llm/client.h"
#include "rctune/llm/prompt.h"
#include "rctune/runlog/runlog.h"
#include "rctune/search/proposer.h"

namespace rctune::llm {

struct LlmOptions {
  std::vector<Endpoint> models;  // cheapest first; at least one
  ClientOptions client;
  PromptTemplates prompts = PromptTemplates::defaults();
  int escalate_after = 2;  // consecutive non-improving proposals before the next model is asked
};

// One request to a model, as the trace records it. The proposer leaves index, wall time and rank
// to whoever writes the trace.
using CallRecord = runlog::LlmCallRecord;

// The call numbered and timed for the trace.
runlog::LlmCallRecord to_trace_record(CallRecord c, int64_t index, double wall_time, int32_t rank);

struct ModelStats {
  std::string model;
  int64_t calls = 0, failures = 0, fallbacks = 0, cache_hits = 0;
  int64_t usage_unknown = 0;  // answers whose token usage was malformed (their tokens counted as 0)
  int64_t prompt_tokens = 0, completion_tokens = 0;
  double latency_s = 0, cost_usd = 0;
};

// How the proposer reaches its models: answers `requests` to options.models[model], in order, and
// never throws for a failed request (ok == false with the reason). The two-argument constructor
// uses one ChatClient per model (with options.client); tests inject scripted answers.
using Transport =
    std::function<std::vector<ChatResponse>(size_t model, const std::vector<ChatRequest>& requests)>;

class LlmProposer : public search::Proposer {
 public:
  // `fallback` answers when the model cannot (normally the heuristic proposer; not owned; may be
  // null: then no proposals). Throws std::invalid_argument when options.models is empty.
  LlmProposer(LlmOptions options, search::Proposer* fallback);
  LlmProposer(LlmOptions options, search::Proposer* fallback, Transport transport);
  ~LlmProposer() override;
  std::string name() const override { return "llm"; }
  std::vector<search::Proposal> propose(const search::ProposerInput& in, search::Rng& rng) override;

  // Calls since the last take_calls().
  std::vector<CallRecord> take_calls();
  std::vector<ModelStats> stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rctune::llm
