// The LlmProposer constructor that talks to real endpoints: one ChatClient per configured model
// (llm_proposer.h's Transport over client.h). Kept apart from llm_proposer.cpp so that code using
// an injected transport (tests) does not link the HTTP client.
#include <memory>
#include <vector>

#include "rctune/llm/llm_proposer.h"

namespace rctune::llm {

LlmProposer::LlmProposer(LlmOptions options, search::Proposer* fallback)
    : LlmProposer(options, fallback, [&options]() -> Transport {
        auto clients = std::make_shared<std::vector<ChatClient>>();
        for (const Endpoint& e : options.models) clients->emplace_back(e, options.client);
        return [clients](size_t model, const std::vector<ChatRequest>& requests) {
          return clients->at(model).complete(requests);
        };
      }()) {}

}  // namespace rctune::llm
