// LlmProposer (llm_proposer.h): prompt, ask the model in use, parse, validate each proposal by
// applying and lowering it, fall back to the heuristic when the model cannot answer, escalate to
// the next model after non-improving proposals, and record every call.
//
// Bookkeeping across calls is keyed by numbered trace text (search::number_steps), which is what
// ProgramView::trace holds: the children this proposer produced (to judge them when they come back
// as history with a measurement) and the proposals it dropped as illegal at a node (shown again,
// with their errors, in later prompts for that node's subtree).
#include "rctune/llm/llm_proposer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "rctune/schedule/lower.h"
#include "rctune/search/action.h"

namespace rctune::llm {
namespace {

// At most this many failures are shown in a prompt (newest kept), and remembered per node.
constexpr size_t kFailureMemory = 12;

std::string label(const Endpoint& e) { return e.name.empty() ? e.model : e.name; }

// The action as one canonical string, to compare proposals with failed ones.
std::string canonical_action(const std::string& action) {
  try {
    return search::to_text(search::parse_action(action));
  } catch (const std::exception&) {
    return action;
  }
}

// Did a program improve on its parent? nullopt while it cannot be told (not measured yet).
std::optional<bool> improved(const search::ProgramView& node, const search::ProgramView& parent) {
  if (!node.status.empty() && node.status != "ok") return false;  // failed to compile, wrong, ...
  if (!std::isfinite(node.gflops)) return std::nullopt;
  if (std::isfinite(parent.gflops)) return node.gflops > parent.gflops;
  if (!parent.status.empty() && parent.status != "ok") return true;  // the parent failed, this runs
  if (std::isfinite(node.speedup)) return node.speedup > 1.0;        // over the unscheduled kernel
  return std::nullopt;
}

}  // namespace

struct LlmProposer::Impl {
  LlmOptions options;
  search::Proposer* fallback = nullptr;
  Transport transport;

  size_t active = 0;                  // the model in use
  int non_improving = 0;              // consecutive non-improving proposals of the model in use
  std::map<int64_t, uint64_t> asked;  // node -> times asked
  std::unordered_map<std::string, size_t> produced;  // child's numbered trace -> model
  std::unordered_map<std::string, std::vector<search::FailedProposal>> dropped;  // node's trace -> illegal
  std::vector<CallRecord> calls;
  std::vector<ModelStats> stats;

  // Judges the proposals of this proposer that come back in the history with a measurement,
  // oldest first, each once; moves `active` accordingly.
  void observe(const search::ProposerInput& in) {
    for (size_t k = in.history.size(); k-- > 1;) {
      const search::ProgramView& node = in.history[k - 1];
      auto it = produced.find(node.trace);
      if (it == produced.end()) continue;
      const std::optional<bool> better = improved(node, in.history[k]);
      if (!better) continue;
      const size_t model = it->second;
      produced.erase(it);
      if (*better) {
        active = 0;
        non_improving = 0;
      } else if (model == active && ++non_improving >= options.escalate_after) {
        if (active + 1 < options.models.size()) ++active;
        non_improving = 0;
      }
    }
  }

  // The input's failures plus the proposals this proposer dropped in the node's subtree.
  search::ProposerInput with_dropped(const search::ProposerInput& in) const {
    search::ProposerInput out = in;
    std::set<std::string> seen;
    for (const auto& f : in.failed) seen.insert(canonical_action(f.action));
    for (size_t k = in.history.size(); k-- > 0;) {
      auto it = dropped.find(in.history[k].trace);
      if (it == dropped.end()) continue;
      for (const auto& f : it->second)
        if (seen.insert(canonical_action(f.action)).second) out.failed.push_back(f);
    }
    if (out.failed.size() > kFailureMemory)
      out.failed.erase(out.failed.begin(), out.failed.end() - static_cast<ptrdiff_t>(kFailureMemory));
    return out;
  }

  void remember_dropped(const std::string& node_trace, const search::FailedProposal& f) {
    auto& list = dropped[node_trace];
    list.push_back(f);
    if (list.size() > kFailureMemory) list.erase(list.begin());
  }

  void account(const CallRecord& r, size_t model, bool usage_known) {
    ModelStats& s = stats[model];
    s.calls += 1;
    s.failures += r.ok ? 0 : 1;
    s.fallbacks += r.fallback ? 1 : 0;
    s.cache_hits += r.from_cache ? 1 : 0;
    s.usage_unknown += usage_known ? 0 : 1;
    s.prompt_tokens += r.prompt_tokens;
    s.completion_tokens += r.completion_tokens;
    s.latency_s += r.latency_s;
    s.cost_usd += r.cost_usd;
    calls.push_back(r);
  }

  std::vector<search::Proposal> fall_back(const search::ProposerInput& in, search::Rng& rng,
                                          CallRecord& record, const std::string& reason) {
    record.fallback = true;
    record.error = reason;
    if (!fallback) return {};
    std::vector<search::Proposal> out;
    try {
      out = fallback->propose(in, rng);
    } catch (const std::exception& e) {
      record.error += "; the fallback failed too: " + std::string(e.what());
      return {};
    }
    for (auto& p : out) p.rationale = "[" + fallback->name() + " fallback] " + p.rationale;
    return out;
  }

  std::vector<search::Proposal> propose(const search::ProposerInput& original, search::Rng& rng) {
    observe(original);
    if (original.count <= 0) return {};
    const search::ProposerInput in = with_dropped(original);
    const size_t model = active;
    const std::string name = label(options.models[model]);
    CallRecord record;
    record.node = in.node;
    record.model = name;

    ChatRequest request;
    request.sample_index = search::derive_seed(static_cast<uint64_t>(in.node), asked[in.node]++);
    try {
      request.messages = build_prompt(in, options.prompts);
    } catch (const std::exception& e) {
      auto out = fall_back(in, rng, record, std::string("prompt: ") + e.what());
      record.ok = false;
      account(record, model, true);
      return out;
    }

    ChatResponse response;
    try {
      std::vector<ChatResponse> answers = transport(model, {request});
      if (answers.size() != 1)
        throw std::runtime_error("the transport gave " + std::to_string(answers.size()) +
                                 " answers to 1 request");
      response = std::move(answers.front());
    } catch (const std::exception& e) {
      response.ok = false;
      response.error = e.what();
    }
    record.ok = response.ok && !response.choices.empty();
    record.from_cache = response.from_cache;
    record.prompt_tokens = response.prompt_tokens;
    record.completion_tokens = response.completion_tokens;
    record.latency_s = response.latency_s;
    record.cost_usd = response.cost_usd;

    std::vector<search::Proposal> out;
    if (!record.ok) {
      out = fall_back(in, rng, record,
                      "request failed: " + (response.ok ? std::string("no choices") : response.error));
    } else {
      try {
        out = validate(in, parse_answer(response.choices.front()), name, model, record);
      } catch (const std::exception& e) {  // not expected: parsing and validation catch their errors
        out.clear();
        record.error = std::string("answer not usable: ") + e.what();
      }
      if (out.empty()) out = fall_back(in, rng, record, record.error);
    }
    account(record, model, response.usage_known);
    return out;
  }

  // The legal, distinct proposals of an answer (at most in.count); sets record.proposals, .legal
  // and, when none is legal, .error.
  std::vector<search::Proposal> validate(const search::ProposerInput& in, const ParsedAnswer& answer,
                                         const std::string& name, size_t model, CallRecord& record) {
    record.proposals = static_cast<int>(answer.proposals.size());
    if (!answer.found_block) {
      record.error = "answer not parseable: no proposals block";
      return {};
    }
    if (answer.proposals.empty()) {
      record.error = answer.truncated ? "answer truncated before the first complete proposal"
                                      : "answer has no proposals";
      return {};
    }
    const std::string node_trace = search::number_steps(in.state.trace());
    std::set<std::string> failed;
    for (const auto& f : in.failed) failed.insert(canonical_action(f.action));
    std::set<uint64_t> programs;
    try {
      programs.insert(schedule::structural_hash(schedule::lower(in.state)));
    } catch (const std::exception&) {
      // The node itself does not lower: every proposal is judged on its own.
    }
    std::vector<search::Proposal> out;
    std::string first_error;
    for (const search::Proposal& p : answer.proposals) {
      std::string error;
      try {
        if (failed.count(canonical_action(p.action))) {
          error = "proposed again after it failed";
        } else {
          const schedule::State child = search::apply_action(in.state, p.action);
          if (!programs.insert(schedule::structural_hash(schedule::lower(child))).second) {
            // The same program as the node or as an earlier proposal: not illegal, not new.
            continue;
          }
          ++record.legal;
          if (static_cast<int>(out.size()) >= in.count) continue;
          out.push_back(
              {p.action, "[" + name + "] " + (p.rationale.empty() ? "(no rationale)" : p.rationale)});
          produced[search::number_steps(child.trace())] = model;
          continue;
        }
      } catch (const std::exception& e) {
        error = e.what();
        remember_dropped(node_trace, {p.action, error});
      }
      if (first_error.empty()) first_error = error;
    }
    if (out.empty())
      record.error = "no legal proposal among " + std::to_string(answer.proposals.size()) +
                     (first_error.empty() ? std::string(" (all repeat the program)") : ": " + first_error);
    return out;
  }
};

LlmProposer::LlmProposer(LlmOptions options, search::Proposer* fallback, Transport transport)
    : impl_(std::make_unique<Impl>()) {
  if (options.models.empty()) throw std::invalid_argument("llm proposer: no model configured");
  if (!transport) throw std::invalid_argument("llm proposer: no transport");
  impl_->options = std::move(options);
  impl_->options.escalate_after = std::max(1, impl_->options.escalate_after);
  impl_->fallback = fallback;
  impl_->transport = std::move(transport);
  for (const Endpoint& e : impl_->options.models) {
    ModelStats s;
    s.model = label(e);
    impl_->stats.push_back(s);
  }
}

LlmProposer::~LlmProposer() = default;

std::vector<search::Proposal> LlmProposer::propose(const search::ProposerInput& in, search::Rng& rng) {
  return impl_->propose(in, rng);
}

std::vector<CallRecord> LlmProposer::take_calls() {
  std::vector<CallRecord> out;
  out.swap(impl_->calls);
  return out;
}

std::vector<ModelStats> LlmProposer::stats() const { return impl_->stats; }

runlog::LlmCallRecord to_trace_record(CallRecord c, int64_t index, double wall_time, int32_t rank) {
  c.index = index;
  c.wall_time = wall_time;
  c.rank = rank;
  return c;
}

}  // namespace rctune::llm
