// `rctune llm-check CONFIG.yaml`: sends one real prompt for the config's first task to its first
// model and prints the answer, the parsed proposals with their validity, and the latency, so that a
// user can see whether an endpoint and a model work before spending a tuning run on them.
#include <cstdio>
#include <iostream>

#include "rctune/apps/commands.h"
#include "rctune/apps/terminal_text.h"
#include "rctune/config/tune_config.h"
#include "rctune/llm/config.h"
#include "rctune/llm/prompt.h"
#include "rctune/schedule/lower.h"
#include "rctune/search/action.h"
#include "rctune/search/design_space.h"

namespace rctune::apps {

int run_llm_check(const LlmCheckArgs& a) {
  config::TuneConfig cfg = config::load_tune_config(a.config);
  llm::override_endpoint(cfg.llm, a.llm_url, a.llm_model);
  llm::LlmOptions opts = llm::llm_options(cfg.llm);
  const llm::Endpoint& endpoint = opts.models.front();

  // The node: a design-space sample of the first task, as the tree's first level holds.
  auto workload = std::make_shared<const ir::Workload>(cfg.tasks.front().workload);
  search::DesignSpace space(workload);
  search::Rng rng(search::derive_seed(cfg.seed, "llm-check"));
  const search::Candidate node = space.sample(rng);
  search::ProposerInput in;
  in.state = node.state;
  in.node = 1;
  in.depth = 1;
  in.count = cfg.mcts.branching;
  in.hardware = search::host_hardware_description();
  search::ProgramView view;
  view.program = ir::to_string(*node.lowered);
  view.trace = search::number_steps(node.state.trace());
  in.history.push_back(view);

  llm::ChatRequest request;
  request.messages = llm::build_prompt(in, opts.prompts);
  llm::ClientOptions client_opts = opts.client;
  client_opts.cache_dir.clear();  // a real exchange, not a cached one
  client_opts.offline = false;
  llm::ChatClient client(endpoint, client_opts);
  std::printf("model %s (%s) at %s\ntask %s\nprompt: %zu messages, %zu characters\n\n",
              terminal_safe(endpoint.name).c_str(), terminal_safe(endpoint.model).c_str(),
              terminal_safe(endpoint.base_url).c_str(), workload->name.c_str(), request.messages.size(),
              request.messages.back().content.size() + request.messages.front().content.size());
  const llm::ChatResponse response = client.complete(request);
  if (!response.ok) {
    std::printf("request failed after %d attempt(s), %.2f s: %s\n", response.attempts, response.latency_s,
                terminal_safe(response.error).c_str());
    return 1;
  }
  const std::string& answer = response.choices.front();
  std::printf("---- answer (%s) ----\n%s\n---- end of answer ----\n\n",
              response.finish_reasons.empty() ? "?" : terminal_safe(response.finish_reasons.front()).c_str(),
              terminal_safe(answer).c_str());
  const llm::ParsedAnswer parsed = llm::parse_answer(answer);
  std::printf("parsed: %zu proposal(s)%s%s\n", parsed.proposals.size(),
              parsed.found_block ? "" : " (no proposals block found)",
              parsed.truncated ? " (answer truncated: complete proposals kept)" : "");
  for (const std::string& w : parsed.warnings) std::printf("  note: %s\n", terminal_safe(w).c_str());
  int legal = 0;
  for (size_t i = 0; i < parsed.proposals.size(); ++i) {
    const search::Proposal& p = parsed.proposals[i];
    std::string verdict = "legal";
    try {
      schedule::lower(search::apply_action(node.state, p.action));
      ++legal;
    } catch (const std::exception& e) {
      verdict = std::string("illegal: ") + e.what();
    }
    std::printf("\n[%zu] %s\n    %s\n", i + 1, terminal_safe(p.rationale).c_str(),
                terminal_safe(verdict).c_str());
    std::string action = p.action;
    for (size_t k = 0; (k = action.find('\n', k)) != std::string::npos && k + 1 < action.size(); k += 5)
      action.replace(k, 1, "\n    ");
    std::printf("    %s\n", terminal_safe(action).c_str());
  }
  std::printf(
      "\n%d of %zu legal; latency %.2f s, %d attempt(s), %lld prompt + %lld completion tokens, $%.5f\n",
      legal, parsed.proposals.size(), response.latency_s, response.attempts,
      static_cast<long long>(response.prompt_tokens), static_cast<long long>(response.completion_tokens),
      response.cost_usd);
  return 0;
}

}  // namespace rctune::apps
