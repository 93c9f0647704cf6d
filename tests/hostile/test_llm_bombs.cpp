// Hostile class: LLM answer bombs (docs/security.md). An endpoint, a proxy, a response cache file or
// a rank's message may be built to exhaust rctune: nested 100,000 deep, megabytes of brackets that
// every candidate start would re-read, hundreds of megabytes of body, a gzip body that inflates to
// gigabytes, an action that nests a list 100,000 deep for the schedule parser. Every payload goes
// through every parser of src/llm (and the real binary): each must return or throw an exception
// it names, in bounded time and memory, and never crash. Each case runs in a child process, so a
// crash or a hang is one failed case, not a dead suite.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "../src/llm/lenient_json.h"
#include "apps/cli_runner.h"
#include "llm/fake_openai_server.h"
#include "rctune/llm/client.h"
#include "rctune/llm/prompt.h"
#include "rctune/llm/wire.h"

namespace rctune::testing {
namespace {

namespace fs = std::filesystem;
using llm::testing::FakeOpenAiServer;
using llm::testing::FakeResponse;

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

struct Payload {
  std::string name;
  std::string text;
};

// Text bombs: each is given to every text entry point as it is, inside an answer, inside a JSON
// string and as a whole document.
std::vector<Payload> text_payloads() {
  const size_t deep = 100000;
  return {
      {"arrays nested 100,000 deep", std::string(deep, '[') + std::string(deep, ']')},
      {"arrays opened 100,000 deep, never closed", std::string(deep, '[')},
      {"objects nested 100,000 deep", repeat("{\"a\":", deep) + "1" + std::string(deep, '}')},
      {"2 MB of open brackets", repeat("[[],", 512 * 1024)},
      {"2 MB of open objects", repeat("{\"a\":[", 300 * 1024)},
      {"an action nesting a list 100,000 deep", "```json\n{\"proposals\": [{\"action\": \"split(C, i, " +
                                                    std::string(deep, '[') + "None" + std::string(deep, ']') +
                                                    ")\"}]}\n```"},
      {"an action of 1 MB of escaped line breaks",
       "```json\n{\"proposals\": [{\"action\": \"" + repeat("\\\\n", 512 * 1024) + "unroll(C, k)\"}]}\n```"},
      {"an action of 1 MB of semicolons",
       "```json\n{\"proposals\": [{\"action\": \"unroll(C, k)" + repeat(";", 1 << 20) + "x\"}]}\n```"},
      {"100,000 proposals",
       "```json\n{\"proposals\": [" + repeat("{\"action\": \"unroll(C, k)\"},", 100000) + "]}\n```"},
      {"1 MB of code fences", repeat("```\n", 256 * 1024)},
  };
}

// Runs `fn` in a child process with a time limit; "" when it returned (or threw std::exception),
// else what happened.
std::string run_isolated(const std::function<void()>& fn, unsigned seconds = 120) {
  const pid_t pid = fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    alarm(seconds);
    try {
      fn();
    } catch (const std::exception&) {
    }
    _exit(0);
  }
  int status = 0;
  rusage usage{};
  if (wait4(pid, &status, 0, &usage) != pid) return "wait failed";
  if (WIFSIGNALED(status))
    return WTERMSIG(status) == SIGALRM ? "did not finish in " + std::to_string(seconds) + " s"
                                       : "killed by signal " + std::to_string(WTERMSIG(status));
  if (WEXITSTATUS(status) != 0) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (usage.ru_maxrss > 1024 * 1024) return "peak memory " + std::to_string(usage.ru_maxrss / 1024) + " MiB";
  return "";
}

llm::Endpoint endpoint_for(const std::string& url) {
  llm::Endpoint e;
  e.base_url = url;
  e.model = "m";
  e.timeout_s = 60;
  e.max_retries = 0;
  return e;
}

llm::ChatRequest a_request() {
  llm::ChatRequest r;
  r.messages = {{"user", "tune"}};
  return r;
}

// What an offline client of `url` that caches in `cache` answers to a_request() when the cache file
// of that request holds `content`.
llm::ChatResponse answer_from_cache_file(const std::string& url, const fs::path& cache,
                                         const std::string& content) {
  llm::ClientOptions o;
  o.cache_dir = cache.string();
  o.offline = true;
  llm::ChatClient client(endpoint_for(url), o);
  std::ofstream((cache / (client.cache_key(a_request()) + ".json")).string()) << content;
  return client.complete(a_request());
}

struct EntryPoint {
  std::string name;
  std::function<void(const std::string&)> run;                                  // in the child
  std::function<void(const std::string&)> prepare = [](const std::string&) {};  // in this process
};

// Every parser of src/llm that text from outside reaches.
std::vector<EntryPoint> text_entry_points(FakeOpenAiServer& server, const fs::path& tmp) {
  const std::string url = server.base_url();
  return {
      {"parse_answer", [](const std::string& t) { llm::parse_answer(t); }},
      {"the lenient JSON reader", [](const std::string& t) { llm::detail::read_lenient_json(t, 0); }},
      {"an answer's content, through the client and parse_answer",
       [url](const std::string&) {
         llm::ChatClient client(endpoint_for(url));
         const llm::ChatResponse r = client.complete(a_request());
         if (r.ok) llm::parse_answer(r.choices.front());
       },
       [&server](const std::string& t) { server.push(FakeResponse::answer(t)); }},
      {"a response body",
       [url](const std::string&) { llm::ChatClient(endpoint_for(url)).complete(a_request()); },
       [&server](const std::string& t) { server.push(FakeResponse::raw(t)); }},
      {"an error body",
       [url](const std::string&) { llm::ChatClient(endpoint_for(url)).complete(a_request()); },
       [&server](const std::string& t) { server.push(FakeResponse::raw(t, 400)); }},
      {"a response cache file",
       [tmp, url](const std::string& t) { answer_from_cache_file(url, tmp / "cache", t); }},
      {"a response cache file's answer",
       [tmp, url](const std::string& t) {
         const llm::ChatResponse r = answer_from_cache_file(
             url, tmp / "cache2",
             nlohmann::json{{"format", "rctune-llm-response-1"}, {"choices", {{{"content", t}}}}}.dump());
         if (r.ok) llm::parse_answer(r.choices.front());
       }},
      {"a wire request document", [](const std::string& t) { llm::requests_from_wire(t); }},
      {"a wire response document", [](const std::string& t) { llm::responses_from_wire(t); }},
      {"an answer through the wire",
       [](const std::string& t) {
         llm::ChatResponse r;
         r.ok = true;
         r.choices = {t};
         for (const auto& back : llm::responses_from_wire(llm::to_wire(std::vector<llm::ChatResponse>{r})))
           llm::parse_answer(back.choices.front());
       }},
  };
}

TEST(LlmBombs, EveryTextBombThroughEveryParserReturnsInBoundedTimeAndMemory) {
  FakeOpenAiServer server;
  const fs::path tmp = fs::temp_directory_path() / ("rctune-llm-bombs-" + std::to_string(getpid()));
  fs::create_directories(tmp);
  for (const Payload& p : text_payloads())
    for (const EntryPoint& e : text_entry_points(server, tmp)) {
      e.prepare(p.text);
      const std::string what = run_isolated([&] { e.run(p.text); });
      EXPECT_EQ(what, "") << p.name << " through " << e.name;
    }
  std::error_code ec;
  fs::remove_all(tmp, ec);
}

// Bodies only a transfer can deliver: each must end in an error that says why, and the client must
// answer its next request.
TEST(LlmBombs, EveryBodyBombEndsInAClearErrorAndTheClientStaysUsable) {
  const std::vector<std::pair<std::string, std::function<FakeResponse()>>> bodies = {
      {"400 MB with its length", [] { return FakeResponse::streamed(size_t{400} << 20, "["); }},
      {"400 MB chunked", [] { return FakeResponse::streamed(size_t{400} << 20, "{\"a\":", true); }},
      {"6 MB of gzip inflating to 6 GiB", [] { return FakeResponse::gzip_bomb(6 * 1024); }},
  };
  for (const auto& [name, make] : bodies) {
    FakeOpenAiServer server;
    server.push(make());
    server.push(FakeResponse::answer("next"));
    const std::string url = server.base_url();
    const std::string what = run_isolated([&] {
      llm::ChatClient client(endpoint_for(url));
      const llm::ChatResponse bomb = client.complete(a_request());
      const llm::ChatResponse next = client.complete(a_request());
      if (bomb.ok || bomb.error.find("response too large") == std::string::npos) _exit(3);
      if (!next.ok || next.choices.front() != "next") _exit(4);
    });
    EXPECT_EQ(what, "") << name << " (exit 3: not refused as too large; 4: the next request failed)";
  }
}

// The real binary: `rctune llm-check` and `rctune tune` against an endpoint answering each bomb.
std::string write_config(const fs::path& dir, const std::string& url) {
  const std::string path = (dir / "llm.yaml").string();
  std::ofstream(path) << "seed: 2\nbudget: 8\nproposer: llm\nout: " << (dir / "run.h5").string()
                      << "\ntasks:\n  - workload: matmul:M=16,N=16,K=16\n"
                         "llm:\n  cache_dir: llm-cache\n  models:\n    - name: fake\n      url: "
                      << url << "\n      model: fake-model\n      timeout: 60\n      max_retries: 0\n";
  return path;
}

TEST(LlmBombs, EveryBombAnsweringTheRealBinaryLeavesItStanding) {
  std::vector<Payload> payloads = text_payloads();
  FakeOpenAiServer server;
  const fs::path dir = fs::temp_directory_path() / ("rctune-llm-bombs-cli-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string config = write_config(dir, server.base_url());
  for (const Payload& p : payloads) {
    server.set_handler([&p](const llm::testing::RecordedRequest&) { return FakeResponse::answer(p.text); });
    const CliResult check = run_rctune_args({"llm-check", config});
    EXPECT_TRUE(check.exit_code == 0 || check.exit_code == 1)
        << p.name << ": llm-check exit " << check.exit_code << "\n"
        << check.output.substr(0, 2000);
    std::error_code ec;
    fs::remove(dir / "run.h5", ec);
    fs::remove_all(dir / "llm-cache", ec);  // the same prompt would be answered from the cache
    const CliResult tune = run_rctune_args({"tune", config, "--simulate", "--quiet"});
    EXPECT_EQ(tune.exit_code, 0) << p.name << ": tune\n" << tune.output.substr(0, 2000);
  }
  server.set_handler([](const llm::testing::RecordedRequest&) { return FakeResponse::gzip_bomb(2048); });
  const CliResult check = run_rctune_args({"llm-check", config});
  EXPECT_EQ(check.exit_code, 1) << check.output.substr(0, 2000);
  EXPECT_NE(check.output.find("response too large"), std::string::npos) << check.output.substr(0, 2000);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace rctune::testing
