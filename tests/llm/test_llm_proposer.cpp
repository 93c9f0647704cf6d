// Tests of the LLM proposer (rctune/llm/llm_proposer.h) with a scripted transport: validation of
// the model's proposals, fallback to another proposer, escalation between models, call records.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <deque>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "llm/fake_openai_server.h"
#include "rctune/ir/operators.h"
#include "rctune/llm/llm_proposer.h"
#include "rctune/schedule/lower.h"
#include "rctune/schedule/trace.h"
#include "rctune/search/action.h"
#include "rctune/search/evaluator.h"
#include "rctune/search/mcts.h"
#include "search/strategy_test_util.h"

namespace rctune::llm {
namespace {

// Answers from a script, per model; records what was asked.
struct Script {
  struct Asked {
    size_t model;
    ChatRequest request;
  };
  std::vector<std::deque<ChatResponse>> answers{2};
  std::vector<Asked> asked;

  Transport transport() {
    return [this](size_t model, const std::vector<ChatRequest>& requests) {
      std::vector<ChatResponse> out;
      for (const ChatRequest& r : requests) {
        asked.push_back({model, r});
        if (answers.at(model).empty()) {
          ChatResponse failed;
          failed.error = "script exhausted";
          out.push_back(failed);
        } else {
          out.push_back(answers[model].front());
          answers[model].pop_front();
        }
      }
      return out;
    };
  }
  void push(size_t model, const std::string& content, int64_t prompt_tokens = 100,
            int64_t completion_tokens = 50) {
    ChatResponse r;
    r.ok = true;
    r.http_status = 200;
    r.choices = {content};
    r.finish_reasons = {"stop"};
    r.prompt_tokens = prompt_tokens;
    r.completion_tokens = completion_tokens;
    r.latency_s = 1.5;
    r.cost_usd = 0.002;
    r.attempts = 1;
    answers.at(model).push_back(r);
  }
  void push_error(size_t model, const std::string& error) {
    ChatResponse r;
    r.error = error;
    answers.at(model).push_back(r);
  }
};

// The fallback: always the same proposal; counts its calls.
class StubProposer : public search::Proposer {
 public:
  std::string name() const override { return "stub"; }
  std::vector<search::Proposal> propose(const search::ProposerInput&, search::Rng&) override {
    ++calls;
    return {{"parallel(C, i)", "stub idea"}};
  }
  int calls = 0;
};

std::string block(const std::vector<std::string>& actions) {
  std::string s = "Reasoning first.\n```json\n{\"proposals\": [";
  for (size_t i = 0; i < actions.size(); ++i) {
    nlohmann::json p = {{"action", actions[i]}, {"rationale", "idea " + std::to_string(i)}};
    s += (i ? ", " : "") + p.dump();
  }
  return s + "]}\n```\n";
}

schedule::State matmul() {
  return schedule::State(std::make_shared<const ir::Workload>(ir::make_operator("matmul:M=64,N=64,K=64")));
}

search::ProgramView view(const schedule::State& s, double gflops = search::kNaN) {
  search::ProgramView v;
  v.program = ir::to_string(schedule::lower(s));
  v.trace = search::number_steps(s.trace());
  v.gflops = gflops;
  v.status = std::isnan(gflops) ? "" : "ok";
  return v;
}

// The input for a node with its ancestors (node first), with measurements.
search::ProposerInput input(int64_t node, const std::vector<std::pair<schedule::State, double>>& history,
                            int count = 2) {
  search::ProposerInput in;
  in.state = history.front().first;
  for (const auto& [s, g] : history) in.history.push_back(view(s, g));
  in.node = node;
  in.count = count;
  in.hardware.info.vector_bytes = 64;
  in.hardware.info.cores = 4;
  return in;
}

// What `p` proposes, with seed 1, for a matmul at node 0 that has no measurement yet.
std::vector<search::Proposal> propose_for_matmul(LlmProposer& p) {
  search::Rng rng(1);
  return p.propose(input(0, {{matmul(), search::kNaN}}), rng);
}

LlmOptions two_models(int escalate_after = 2) {
  LlmOptions o;
  Endpoint cheap;
  cheap.name = "cheap";
  cheap.model = "gpt-4o-mini";
  Endpoint strong;
  strong.model = "gpt-4o";  // no name: labelled by its model
  o.models = {cheap, strong};
  o.escalate_after = escalate_after;
  return o;
}

const char* kLegalA = "split(C, j, [None, 16])";
const char* kLegalB = "reorder(C, i, k, j)";
const char* kIllegal = "vectorize(C, k)";  // k is a reduction axis

// A script whose cheap model answers an illegal and a legal proposal (kIllegal, kLegalA), then
// kLegalB.
Script illegal_then_legal() {
  Script script;
  script.push(0, block({kIllegal, kLegalA}));
  script.push(0, block({kLegalB}));
  return script;
}

TEST(LlmProposer, ReturnsLegalProposalsWithTheModelName) {
  Script script;
  script.push(0, block({kLegalA, kLegalB}));
  StubProposer stub;
  LlmProposer p(two_models(), &stub, script.transport());
  const auto out = propose_for_matmul(p);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].action, kLegalA);
  EXPECT_EQ(out[1].action, kLegalB);
  EXPECT_EQ(out[0].rationale, "[cheap] idea 0");
  EXPECT_EQ(stub.calls, 0);
  ASSERT_EQ(script.asked.size(), 1u);
  EXPECT_EQ(script.asked[0].model, 0u);
  ASSERT_EQ(script.asked[0].request.messages.size(), 2u);
  EXPECT_NE(script.asked[0].request.messages[0].content.find(schedule::primitive_reference()),
            std::string::npos);
}

TEST(LlmProposer, ReturnsAtMostCount) {
  Script script;
  script.push(0, block({kLegalA, kLegalB, "parallel(C, i)"}));
  LlmProposer p(two_models(), nullptr, script.transport());
  search::Rng rng(1);
  EXPECT_EQ(p.propose(input(0, {{matmul(), search::kNaN}}, 2), rng).size(), 2u);
  const auto calls = p.take_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].proposals, 3);
  EXPECT_EQ(calls[0].legal, 3);
}

TEST(LlmProposer, DropsIllegalProposalsAndShowsThemInTheNextPrompt) {
  Script script = illegal_then_legal();
  LlmProposer p(two_models(), nullptr, script.transport());
  search::Rng rng(1);
  const auto in = input(3, {{matmul(), search::kNaN}});
  const auto out = p.propose(in, rng);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].action, kLegalA);
  const auto calls = p.take_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].proposals, 2);
  EXPECT_EQ(calls[0].legal, 1);
  EXPECT_FALSE(calls[0].fallback);
  // Asked again for the same node, the prompt lists the dropped action with its error.
  p.propose(in, rng);
  ASSERT_EQ(script.asked.size(), 2u);
  const std::string& user = script.asked[1].request.messages[1].content;
  const size_t failed = user.find("# Recent proposals that failed");
  ASSERT_NE(failed, std::string::npos);
  EXPECT_NE(user.find(kIllegal, failed), std::string::npos);
  EXPECT_NE(user.find("reduction", failed), std::string::npos);
}

TEST(LlmProposer, ShowsDroppedProposalsInPromptsForDescendants) {
  Script script = illegal_then_legal();
  LlmProposer p(two_models(), nullptr, script.transport());
  search::Rng rng(1);
  const schedule::State root = matmul();
  p.propose(input(0, {{root, search::kNaN}}), rng);
  const schedule::State child = search::apply_action(root, kLegalA);
  p.propose(input(1, {{child, search::kNaN}, {root, search::kNaN}}), rng);
  ASSERT_EQ(script.asked.size(), 2u);
  const std::string& first = script.asked[0].request.messages[1].content;
  const std::string& second = script.asked[1].request.messages[1].content;
  EXPECT_EQ(first.find(kIllegal), std::string::npos);
  const size_t failed = second.find("# Recent proposals that failed");
  ASSERT_NE(failed, std::string::npos);
  EXPECT_NE(second.find(kIllegal, failed), std::string::npos);
}

TEST(LlmProposer, DropsDuplicatesAndProposalsThatChangeNothing) {
  Script script;
  // The same program twice (a reorder to the current order changes nothing).
  script.push(0, block({kLegalA, kLegalA, "reorder(C, i, j, k)", kLegalB}));
  LlmProposer p(two_models(), nullptr, script.transport());
  search::Rng rng(1);
  const auto out = p.propose(input(0, {{matmul(), search::kNaN}}, 4), rng);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].action, kLegalA);
  EXPECT_EQ(out[1].action, kLegalB);
}

TEST(LlmProposer, DoesNotRepeatAFailedProposal) {
  Script script;
  script.push(0, block({kLegalA, kLegalB}));
  LlmProposer p(two_models(), nullptr, script.transport());
  search::Rng rng(1);
  auto in = input(0, {{matmul(), search::kNaN}});
  in.failed = {{kLegalA, "compile error"}};
  const auto out = p.propose(in, rng);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].action, kLegalB);
}

// A proposer over the scripted models with the stub as its fallback, for the rounds in which the
// cheap model's answer, scripted by the test, gives nothing to use.
class LlmProposerFallback : public ::testing::Test {
 protected:
  // The record of the round's one call, after checking that the round fell back: the call is marked
  // so, the stub was asked once and its proposal is the one proposal.
  CallRecord fallback_round() {
    const auto out = propose_for_matmul(proposer);
    EXPECT_EQ(out.size(), 1u);
    if (!out.empty()) {
      EXPECT_EQ(out[0].action, "parallel(C, i)");
      EXPECT_EQ(out[0].rationale, "[stub fallback] stub idea");
    }
    EXPECT_EQ(stub.calls, 1);
    const auto calls = proposer.take_calls();
    EXPECT_EQ(calls.size(), 1u);
    if (calls.empty()) return CallRecord{};
    EXPECT_TRUE(calls[0].fallback);
    return calls[0];
  }

  Script script;
  StubProposer stub;
  LlmProposer proposer{two_models(), &stub, script.transport()};
};

TEST_F(LlmProposerFallback, FailedRequestFallsBackAndIsCounted) {
  script.push_error(0, "connection refused");
  const CallRecord call = fallback_round();
  EXPECT_FALSE(call.ok);
  EXPECT_NE(call.error.find("connection refused"), std::string::npos);
  const auto stats = proposer.stats();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].model, "cheap");
  EXPECT_EQ(stats[0].calls, 1);
  EXPECT_EQ(stats[0].failures, 1);
  EXPECT_EQ(stats[0].fallbacks, 1);
  EXPECT_EQ(stats[1].model, "gpt-4o");
  EXPECT_EQ(stats[1].calls, 0);
}

TEST(LlmProposer, ThrowingTransportFallsBack) {
  StubProposer stub;
  LlmProposer p(two_models(), &stub,
                [](size_t, const std::vector<ChatRequest>&) -> std::vector<ChatResponse> {
                  throw std::runtime_error("socket exploded");
                });
  EXPECT_EQ(propose_for_matmul(p).size(), 1u);
  EXPECT_EQ(stub.calls, 1);
  const auto calls = p.take_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_NE(calls[0].error.find("socket exploded"), std::string::npos);
}

TEST_F(LlmProposerFallback, UnparseableAnswerFallsBackAndIsCounted) {
  script.push(0, "I am sorry, I cannot optimise this kernel.");
  const CallRecord call = fallback_round();
  EXPECT_TRUE(call.ok);
  EXPECT_NE(call.error.find("not parseable"), std::string::npos);
  EXPECT_EQ(proposer.stats()[0].fallbacks, 1);
  EXPECT_EQ(proposer.stats()[0].failures, 0);
}

TEST_F(LlmProposerFallback, NoLegalProposalFallsBack) {
  script.push(0, block({kIllegal, "split(C, nope, [None, 4])"}));
  const CallRecord call = fallback_round();
  EXPECT_EQ(call.proposals, 2);
  EXPECT_EQ(call.legal, 0);
  EXPECT_NE(call.error.find("no legal proposal"), std::string::npos);
}

TEST(LlmProposer, TruncatedAnswerKeepsItsCompleteProposals) {
  Script script;
  std::string cut = block({kLegalA, kLegalB});
  cut = cut.substr(0, cut.find(kLegalB) + 5);
  script.push(0, cut);
  StubProposer stub;
  LlmProposer p(two_models(), &stub, script.transport());
  const auto out = propose_for_matmul(p);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].action, kLegalA);
  EXPECT_EQ(stub.calls, 0);
}

TEST(LlmProposer, WithoutFallbackAFailureGivesNoProposals) {
  Script script;
  script.push_error(0, "timeout after 30 s");
  LlmProposer p(two_models(), nullptr, script.transport());
  EXPECT_TRUE(propose_for_matmul(p).empty());
  EXPECT_EQ(p.stats()[0].fallbacks, 1);
}

TEST(LlmProposer, RecordsCallsWithTokensLatencyAndCost) {
  Script script;
  script.push(0, block({kLegalA}), 1200, 340);
  script.push(0, block({kLegalB}), 1000, 60);
  LlmProposer p(two_models(), nullptr, script.transport());
  search::Rng rng(1);
  p.propose(input(5, {{matmul(), search::kNaN}}), rng);
  p.propose(input(6, {{matmul(), search::kNaN}}), rng);
  const auto calls = p.take_calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].node, 5);
  EXPECT_EQ(calls[0].model, "cheap");
  EXPECT_EQ(calls[0].prompt_tokens, 1200);
  EXPECT_EQ(calls[0].completion_tokens, 340);
  EXPECT_DOUBLE_EQ(calls[0].latency_s, 1.5);
  EXPECT_DOUBLE_EQ(calls[0].cost_usd, 0.002);
  EXPECT_TRUE(calls[0].ok);
  EXPECT_TRUE(calls[0].error.empty());
  EXPECT_EQ(calls[1].node, 6);
  EXPECT_TRUE(p.take_calls().empty());
  const ModelStats s = p.stats()[0];
  EXPECT_EQ(s.calls, 2);
  EXPECT_EQ(s.prompt_tokens, 2200);
  EXPECT_EQ(s.completion_tokens, 400);
  EXPECT_DOUBLE_EQ(s.latency_s, 3.0);
  EXPECT_DOUBLE_EQ(s.cost_usd, 0.004);
}

TEST(LlmProposer, SampleIndexIsAPerNodeCounterAndDeterministic) {
  auto run = [](Script& script) {
    LlmProposer p(two_models(), nullptr, script.transport());
    search::Rng rng(1);
    for (int64_t node : {4, 4, 9}) p.propose(input(node, {{matmul(), search::kNaN}}), rng);
  };
  Script a, b;
  run(a);
  run(b);
  ASSERT_EQ(a.asked.size(), 3u);
  std::set<uint64_t> indices;
  for (size_t i = 0; i < 3; ++i) {
    indices.insert(a.asked[i].request.sample_index);
    EXPECT_EQ(a.asked[i].request.sample_index, b.asked[i].request.sample_index);
  }
  EXPECT_EQ(indices.size(), 3u);
}

TEST(LlmProposer, EscalatesAfterNonImprovingProposalsAndReturnsAfterAnImprovement) {
  Script script;
  const schedule::State root = matmul();
  const schedule::State c1 = search::apply_action(root, kLegalA);
  const schedule::State c2 = search::apply_action(root, kLegalB);
  script.push(0, block({kLegalA, kLegalB}));  // root -> c1, c2
  script.push(0, block({"parallel(C, i)"}));  // c1: its own result not seen yet at this call
  const std::string d1_action = "parallel(C, i)";
  script.push(1, block({d1_action}));  // c2, after two non-improving proposals: the strong model
  script.push(0, block({"unroll(C, k)"}));
  LlmProposer p(two_models(2), nullptr, script.transport());
  search::Rng rng(1);

  p.propose(input(0, {{root, 10.0}}), rng);
  // c1 came back slower than the root: one non-improving proposal of the cheap model.
  p.propose(input(1, {{c1, 5.0}, {root, 10.0}}), rng);
  // c2 slower too: two in a row; this call goes to the strong model.
  const auto from_strong = p.propose(input(2, {{c2, 4.0}, {root, 10.0}}), rng);
  ASSERT_EQ(from_strong.size(), 1u);
  EXPECT_EQ(from_strong[0].rationale.rfind("[gpt-4o] ", 0), 0u) << from_strong[0].rationale;
  // d1 (proposed by the strong model) is faster than c2: back to the cheap model.
  const schedule::State d1 = search::apply_action(c2, d1_action);
  p.propose(input(3, {{d1, 20.0}, {c2, 4.0}, {root, 10.0}}), rng);

  ASSERT_EQ(script.asked.size(), 4u);
  EXPECT_EQ(script.asked[0].model, 0u);
  EXPECT_EQ(script.asked[1].model, 0u);
  EXPECT_EQ(script.asked[2].model, 1u);
  EXPECT_EQ(script.asked[3].model, 0u);
  const auto calls = p.take_calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[2].model, "gpt-4o");
  EXPECT_EQ(calls[3].model, "cheap");
  EXPECT_EQ(p.stats()[1].calls, 1);
}

TEST(LlmProposer, AnImprovementResetsTheCountOfNonImprovingProposals) {
  Script script;
  const schedule::State root = matmul();
  const std::string third = "parallel(C, i)";
  script.push(0, block({kLegalA, kLegalB, third}));
  for (int i = 0; i < 3; ++i) script.push(0, block({"unroll(C, k)"}));
  LlmProposer p(two_models(2), nullptr, script.transport());
  search::Rng rng(1);
  p.propose(input(0, {{root, 10.0}}, 3), rng);
  p.propose(input(1, {{search::apply_action(root, kLegalA), 5.0}, {root, 10.0}}), rng);   // worse
  p.propose(input(2, {{search::apply_action(root, kLegalB), 15.0}, {root, 10.0}}), rng);  // better
  p.propose(input(3, {{search::apply_action(root, third), 5.0}, {root, 10.0}}), rng);     // worse
  ASSERT_EQ(script.asked.size(), 4u);
  for (const auto& a : script.asked) EXPECT_EQ(a.model, 0u);
}

TEST(LlmProposer, UnmeasuredProposalsAreJudgedOnceMeasured) {
  Script script;
  const schedule::State root = matmul();
  const schedule::State c1 = search::apply_action(root, kLegalA);
  const schedule::State c2 = search::apply_action(root, kLegalB);
  script.push(0, block({kLegalA, kLegalB}));
  script.push(0, block({"unroll(C, k)"}));
  script.push(0, block({"unroll(C, k)"}));
  script.push(1, block({"unroll(C, k)"}));
  LlmProposer p(two_models(1), nullptr, script.transport());
  search::Rng rng(1);
  p.propose(input(0, {{root, 10.0}}), rng);
  p.propose(input(1, {{c1, search::kNaN}, {root, 10.0}}), rng);  // not measured: not judged
  p.propose(input(2, {{c2, 12.0}, {root, 10.0}}), rng);          // better
  // c1 measured worse (seen as the parent of a grandchild): escalate.
  const schedule::State g = search::apply_action(c1, "unroll(C, k)");
  p.propose(input(4, {{g, search::kNaN}, {c1, 3.0}, {root, 10.0}}), rng);
  ASSERT_EQ(script.asked.size(), 4u);
  EXPECT_EQ(script.asked[1].model, 0u);
  EXPECT_EQ(script.asked[2].model, 0u);
  EXPECT_EQ(script.asked[3].model, 1u);
}

TEST(LlmProposer, NeedsAModel) {
  Script script;
  EXPECT_THROW(LlmProposer(LlmOptions{}, nullptr, script.transport()), std::invalid_argument);
}

// The real client (the two-argument constructor) against the fake OpenAI-compatible server.

LlmOptions served_by(const std::string& base_url, const std::string& cache_dir = "", bool offline = false) {
  LlmOptions o;
  Endpoint e = testing::fake_endpoint(base_url, 10, 0, 0.01);
  e.name = "served";
  e.model = "fake-model";
  o.models = {e};
  o.client.cache_dir = cache_dir;
  o.client.offline = offline;
  return o;
}

TEST(LlmProposerWithClient, ProposesFromTheServersAnswer) {
  testing::FakeOpenAiServer server;
  server.push(testing::FakeResponse::answer(block({kLegalA, kIllegal}), 700, 90));
  LlmProposer p(served_by(server.base_url()), nullptr);
  const auto out = propose_for_matmul(p);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].action, kLegalA);
  EXPECT_EQ(out[0].rationale, "[served] idea 0");
  ASSERT_EQ(server.request_count(), 1u);
  EXPECT_NE(server.requests()[0].body.find("Schedule language"), std::string::npos);
  const auto calls = p.take_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_TRUE(calls[0].ok);
  EXPECT_EQ(calls[0].prompt_tokens, 700);
  EXPECT_EQ(calls[0].completion_tokens, 90);
  EXPECT_EQ(calls[0].legal, 1);
}

TEST(LlmProposerWithClient, UnreachableServerFallsBack) {
  StubProposer stub;
  LlmProposer p(served_by(testing::FakeOpenAiServer::refused_base_url()), &stub);
  const auto out = propose_for_matmul(p);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(stub.calls, 1);
  EXPECT_EQ(p.stats()[0].failures, 1);
  EXPECT_EQ(p.stats()[0].fallbacks, 1);
}

TEST(LlmProposerWithClient, ReplaysFromTheCacheWithTheServerStopped) {
  const std::filesystem::path cache = std::filesystem::temp_directory_path() /
                                      ("rctune_test_llm_proposer_cache_" + std::to_string(::getpid()));
  std::filesystem::remove_all(cache);
  const auto ask_three = [](LlmProposer& p) {
    search::Rng rng(1);
    std::vector<std::string> actions;
    for (int64_t node : {0, 0, 1})
      for (const auto& prop : p.propose(input(node, {{matmul(), search::kNaN}}), rng))
        actions.push_back(prop.action);
    return actions;
  };
  std::vector<std::string> live;
  std::string url;
  {
    testing::FakeOpenAiServer server;
    url = server.base_url();
    server.push(testing::FakeResponse::answer(block({kLegalA})));
    server.push(testing::FakeResponse::answer(block({kLegalB})));
    server.push(testing::FakeResponse::answer(block({"parallel(C, i)"})));
    LlmProposer p(served_by(url, cache.string()), nullptr);
    live = ask_three(p);
    EXPECT_EQ(server.request_count(), 3u);
  }
  ASSERT_EQ(live, (std::vector<std::string>{kLegalA, kLegalB, "parallel(C, i)"}));
  StubProposer stub;
  LlmProposer replay(served_by(url, cache.string(), /*offline=*/true), &stub);
  EXPECT_EQ(ask_three(replay), live);
  EXPECT_EQ(stub.calls, 0);
  EXPECT_EQ(replay.stats()[0].cache_hits, 3);
  std::filesystem::remove_all(cache);
}

// In a real MCTS run (scripted models that answer with the heuristic's ideas), the proposer
// recognises its children when they come back measured: it escalates and comes back.
class Recording : public search::Proposer {
 public:
  explicit Recording(search::Proposer* inner) : inner_(inner) {}
  std::string name() const override { return inner_->name(); }
  std::vector<search::Proposal> propose(const search::ProposerInput& in, search::Rng& rng) override {
    current = &in;
    return inner_->propose(in, rng);
  }
  const search::ProposerInput* current = nullptr;

 private:
  search::Proposer* inner_;
};

TEST(LlmProposerInMcts, EscalatesAndComesBackOnMeasuredChildren) {
  rctune::testing::StrategyFixture f("matmul:M=64,N=64,K=64");
  auto heuristic = search::make_heuristic_proposer(f.space.get());
  Recording* recording = nullptr;
  std::vector<size_t> asked;
  Transport transport = [&](size_t model, const std::vector<ChatRequest>& requests) {
    std::vector<ChatResponse> out;
    for (size_t i = 0; i < requests.size(); ++i) {
      asked.push_back(model);
      search::Rng rng(requests[i].sample_index);
      std::vector<std::string> actions;
      for (const auto& p : heuristic->propose(*recording->current, rng)) actions.push_back(p.action);
      ChatResponse r;
      r.ok = true;
      r.choices = {block(actions)};
      out.push_back(r);
    }
    return out;
  };
  LlmProposer llm(two_models(1), heuristic.get(), transport);
  Recording adapter(&llm);
  recording = &adapter;
  search::SearchContext ctx = f.context(11);
  ctx.proposer = &adapter;
  auto mcts = search::make_mcts_search(ctx);
  search::SyntheticEvaluator eval(
      [](const search::Candidate& c) { return 1.0 + static_cast<double>(c.hash % 97); });
  int from_llm = 0;
  for (int round = 0; round < 8; ++round) {
    std::vector<search::Candidate> cs = mcts->next_batch(4);
    ASSERT_FALSE(cs.empty());
    for (const auto& c : cs)
      if (c.proposer == "llm") {
        ++from_llm;
        EXPECT_TRUE(c.rationale.rfind("[cheap] ", 0) == 0 || c.rationale.rfind("[gpt-4o] ", 0) == 0)
            << c.rationale;
      }
    mcts->tell(cs, eval.measure(cs));
  }
  EXPECT_GT(from_llm, 4);
  const auto stats = llm.stats();
  EXPECT_GT(stats[0].calls, 0);
  EXPECT_GT(stats[1].calls, 0);  // escalated: children were recognised with their measurements
  EXPECT_EQ(stats[0].fallbacks + stats[1].fallbacks, 0);
  // Back to the cheap model after an improvement.
  const auto strong = std::find(asked.begin(), asked.end(), 1u);
  ASSERT_NE(strong, asked.end());
  EXPECT_NE(std::find(strong, asked.end(), 0u), asked.end());
}

}  // namespace
}  // namespace rctune::llm
