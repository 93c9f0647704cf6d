// Answers a batch of pending LLM requests (rctune/llm/request_batcher.h): merges identical
// requests, sends the distinct ones per model together, and shares the answers out.
#include "rctune/llm/request_batcher.h"
#include "rctune/ir/check.h"

#include <algorithm>
#include <climits>
#include <exception>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

namespace rctune::llm {

BatchStats& BatchStats::operator+=(const BatchStats& other) {
  requests += other.requests;
  http_requests += other.http_requests;
  merged += other.merged;
  return *this;
}

namespace {

// Requests sent once for all their members.
struct Group {
  size_t model = 0;
  ChatRequest request;          // n: the sum of the members' n
  std::vector<size_t> members;  // indices into the pending requests, in order
  size_t position = 0;          // index of `request` among those sent to its model
};

// The messages as one unambiguous string (every part prefixed with its length).
std::string messages_key(const std::vector<Message>& messages) {
  std::string key;
  for (const Message& m : messages) {
    key += std::to_string(m.role.size()) + ':' + m.role;
    key += std::to_string(m.content.size()) + ':' + m.content;
  }
  return key;
}

std::vector<Group> group_requests(const std::vector<PendingRequest>& pending) {
  std::vector<Group> groups;
  std::map<std::pair<size_t, std::string>, size_t> open;  // (model, messages) -> the group taking more
  for (size_t i = 0; i < pending.size(); ++i) {
    const PendingRequest& p = pending[i];
    const int n = p.request.n;
    if (n >= 1) {
      auto key = std::make_pair(p.model, messages_key(p.request.messages));
      auto it = open.find(key);
      if (it != open.end() && groups[it->second].request.n <= INT_MAX - n) {
        Group& g = groups[it->second];
        g.request.n += n;
        g.request.sample_index = std::min(g.request.sample_index, p.request.sample_index);
        g.members.push_back(i);
        continue;
      }
      open[std::move(key)] = groups.size();
    }
    // A new group; a request with n < 1 stays alone and the client reports it.
    groups.push_back(Group{p.model, p.request, {i}, 0});
  }
  return groups;
}

// Sends each model's requests in one complete() call, the models at the same time.
std::vector<std::vector<ChatResponse>> send(std::vector<ChatClient>& clients,
                                            const std::vector<std::vector<ChatRequest>>& requests) {
  std::vector<std::vector<ChatResponse>> answers(clients.size());
  std::vector<std::exception_ptr> errors(clients.size());
  auto ask = [&](size_t model) {
    try {
      answers[model] = clients[model].complete(requests[model]);
    } catch (...) {
      errors[model] = std::current_exception();
    }
  };
  std::vector<size_t> busy;
  for (size_t m = 0; m < clients.size(); ++m)
    if (!requests[m].empty()) busy.push_back(m);
  std::vector<std::thread> threads;
  for (size_t k = 1; k < busy.size(); ++k) threads.emplace_back(ask, busy[k]);
  if (!busy.empty()) ask(busy[0]);
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  return answers;
}

// The share of `total` for a member asking for `n` of `sum` (rounded down; the first member's share
// is computed by the caller as the remainder).
int64_t proportional(int64_t total, int n, int sum) {
  const int64_t q = total / sum, r = total % sum;
  return q * n + r * n / sum;
}

// The answer of each member of a group, from the group's answer.
void share_out(const Group& g, const ChatResponse& answer, const std::vector<PendingRequest>& pending,
               std::vector<ChatResponse>& out) {
  if (g.members.size() == 1) {
    out[g.members[0]] = answer;
    return;
  }
  const int sum = g.request.n;
  const size_t received = answer.choices.size();
  int64_t prompt_rest = answer.prompt_tokens, completion_rest = answer.completion_tokens;
  double cost_rest = answer.cost_usd;
  size_t offset = 0;
  for (size_t k = 0; k < g.members.size(); ++k) {
    const int n = pending[g.members[k]].request.n;
    ChatResponse r;
    r.ok = answer.ok;
    r.error = answer.error;
    r.http_status = answer.http_status;
    r.latency_s = answer.latency_s;
    r.attempts = answer.attempts;
    r.from_cache = answer.from_cache;
    if (k > 0) {  // the first member's share is what the others leave
      r.prompt_tokens = proportional(answer.prompt_tokens, n, sum);
      r.completion_tokens = proportional(answer.completion_tokens, n, sum);
      r.cost_usd = answer.cost_usd * n / sum;
      prompt_rest -= r.prompt_tokens;
      completion_rest -= r.completion_tokens;
      cost_rest -= r.cost_usd;
    }
    const size_t begin = std::min(offset, received),
                 end = std::min(offset + static_cast<size_t>(n), received);
    r.choices.assign(answer.choices.begin() + begin, answer.choices.begin() + end);
    const size_t reasons = answer.finish_reasons.size();
    r.finish_reasons.assign(answer.finish_reasons.begin() + std::min(begin, reasons),
                            answer.finish_reasons.begin() + std::min(end, reasons));
    if (r.ok && r.choices.empty()) {
      r.ok = false;
      r.error =
          "the endpoint returned " + std::to_string(received) + " of " + std::to_string(sum) + " completions";
    }
    offset += n;
    out[g.members[k]] = std::move(r);
  }
  ChatResponse& first = out[g.members[0]];
  first.prompt_tokens = prompt_rest;
  first.completion_tokens = completion_rest;
  first.cost_usd = cost_rest;
}

}  // namespace

std::vector<ChatResponse> answer_batched(std::vector<ChatClient>& clients,
                                         const std::vector<PendingRequest>& pending, BatchStats* stats) {
  for (size_t i = 0; i < pending.size(); ++i)
    if (pending[i].model >= clients.size())
      throw std::out_of_range("answer_batched: request " + std::to_string(i) + " (from requester " +
                              std::to_string(pending[i].requester) + ") asks for model " +
                              std::to_string(pending[i].model) + ", but there are " +
                              std::to_string(clients.size()) + " model clients");

  std::vector<Group> groups = group_requests(pending);
  std::vector<std::vector<ChatRequest>> requests(clients.size());
  for (Group& g : groups) {
    g.position = requests[g.model].size();
    requests[g.model].push_back(g.request);
  }
  const std::vector<std::vector<ChatResponse>> answers = send(clients, requests);

  std::vector<ChatResponse> out(pending.size());
  for (const Group& g : groups) {
    RCTUNE_CHECK(g.position < answers[g.model].size());
    share_out(g, answers[g.model][g.position], pending, out);
  }
  if (stats) {
    stats->requests = static_cast<int64_t>(pending.size());
    stats->http_requests = static_cast<int64_t>(groups.size());
    stats->merged = stats->requests - stats->http_requests;
  }
  return out;
}

}  // namespace rctune::llm
