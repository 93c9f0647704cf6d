// Hostile class: secrets (docs/security.md). The API key reaches rctune only through the variable
// api_key_env names; it must never appear in any byte rctune writes or prints, whichever way it
// comes back: echoed by a server or proxy in an answer, a finish reason, an error body, a header or
// the usage, or put by a user where it does not belong (a URL's user info or query, a key variable
// holding a line break). Cases are generated: every way x every command (tune and the reports of its
// trace, llm-check), and every file under the run's directory is searched, the trace also through
// h5dump (its datasets may be compressed).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "apps/cli_runner.h"
#include "llm/fake_openai_server.h"
#include "llm/split_tweaker.h"
#include "support/file_text.h"

namespace rctune::testing {
namespace {

using rctune::test_support::file_text;

namespace fs = std::filesystem;
using llm::testing::FakeOpenAiServer;
using llm::testing::FakeResponse;
using llm::testing::RecordedRequest;

constexpr const char* kSecret = "sk-hostile-5ecret-7c1e9a";
constexpr const char* kKeyVar = "RCTUNE_HOSTILE_API_KEY";

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
  return s;
}

// The scripted model's answer with the Authorization header it received put into a rationale
// (a legal proposal: it reaches the trace's samples) and into an illegal action (its error reaches
// the trace's llm_calls).
std::string echoing_answer(const RecordedRequest& r) {
  const std::string auth = r.header("Authorization");
  std::string a = llm::testing::split_tweaking_answer(r.all_content());
  a = replace_all(a, "retile ", "retile " + auth + " ");
  a = replace_all(a, "vectorize(NoSuchStage, i)", "vectorize(" + auth + ", i)");
  return a;
}

struct Way {
  std::string name;
  std::function<FakeResponse(const RecordedRequest&)> answer;  // the server's handler
  std::string url_suffix = "";  // how the URL is written: "" normal; "userinfo", "query", "config-userinfo"
  std::string key = kSecret;    // the key variable's value
  bool refused = false;         // rctune must refuse to start (exit 2)
};

std::vector<Way> ways() {
  return {
      {"echoed in an answer",
       [](const RecordedRequest& r) { return FakeResponse::answer(echoing_answer(r)); }},
      {"echoed in a finish reason",
       [](const RecordedRequest& r) {
         return FakeResponse::raw(
             FakeResponse::completion_json({echoing_answer(r)}, 10, 10, r.header("Authorization")));
       }},
      {"echoed in a 500 error body",
       [](const RecordedRequest& r) {
         return FakeResponse::error(500, "bad key " + r.header("Authorization"));
       }},
      {"echoed in a 401 body, not JSON",
       [](const RecordedRequest& r) {
         return FakeResponse::raw(std::string(150, '-') + r.header("Authorization"), 401);
       }},
      {"echoed in a 200 body that is not JSON",
       [](const RecordedRequest& r) { return FakeResponse::raw("oops " + r.header("Authorization")); }},
      {"echoed in response headers",
       [](const RecordedRequest& r) {
         return FakeResponse::error(429, "slow down", r.header("Authorization"))
             .with_header("X-Echo", r.header("Authorization"));
       }},
      {"echoed in the usage",
       [](const RecordedRequest& r) {
         return FakeResponse::with_usage(echoing_answer(r), {{"prompt_tokens", r.header("Authorization")}});
       }},
      {"in the URL's user info (--llm-url)", nullptr, "userinfo", kSecret, true},
      {"in the URL's query (--llm-url)", nullptr, "query", kSecret, true},
      {"in the URL's user info (config)", nullptr, "config-userinfo", kSecret, true},
      {"in a key variable holding CR LF", nullptr, "", std::string(kSecret) + "\r\nX-Injected: 1", true},
  };
}

struct Written {
  std::string where;
  std::string bytes;
};

// Everything rctune wrote under `dir` (not the config, which the user wrote), the trace also as
// h5dump shows it, plus what it printed.
std::vector<Written> written(const fs::path& dir, const std::string& config,
                             const std::vector<Written>& printed) {
  std::vector<Written> out = printed;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path() == config) continue;
    out.push_back({e.path().string(), file_text(e.path())});
    if (e.path().extension() == ".h5")
      out.push_back({"h5dump " + e.path().string(),
                     run_command("h5dump -w 0 " + shell_quote(e.path().string())).output});
  }
  return out;
}

std::string write_config(const fs::path& dir, const std::string& url) {
  const std::string path = (dir / "llm.yaml").string();
  std::ofstream(path) << "seed: 3\nbudget: 8\nproposer: llm\nout: " << (dir / "run.h5").string()
                      << "\ntasks:\n  - workload: matmul:M=16,N=16,K=16\n"
                         "llm:\n  cache_dir: llm-cache\n  models:\n    - name: fake\n      url: "
                      << url << "\n      model: fake-model\n      api_key_env: " << kKeyVar
                      << "\n      timeout: 10\n      max_retries: 1\n";
  return path;
}

struct Command {
  std::string name;
  // Runs the command in `dir` with `config` (and --llm-url `url` when not empty); what it printed,
  // and the outputs of follow-up commands (the reports of a trace).
  std::function<std::vector<Written>(const fs::path& dir, const std::string& config, const std::string& url,
                                     const std::vector<std::pair<std::string, std::string>>& env,
                                     int& exit_code)>
      run;
};

std::vector<Command> commands() {
  auto with_url = [](std::vector<std::string> args, const std::string& url) {
    if (!url.empty()) args.insert(args.end(), {"--llm-url", url});
    return args;
  };
  return {
      {"tune and its reports",
       [with_url](const fs::path& dir, const std::string& config, const std::string& url,
                  const std::vector<std::pair<std::string, std::string>>& env, int& exit_code) {
         const CliResult r =
             run_rctune_args(with_url({"tune", config, "--simulate"}, url), dir.string(), env);
         exit_code = r.exit_code;
         std::vector<Written> out{{"tune's output", r.output}};
         if (fs::exists(dir / "run.h5"))
           for (const char* format : {"table", "json", "csv"})
             out.push_back(
                 {std::string("report --format ") + format,
                  run_rctune_args({"report", (dir / "run.h5").string(), "--format", format}).output});
         return out;
       }},
      {"llm-check",
       [with_url](const fs::path& dir, const std::string& config, const std::string& url,
                  const std::vector<std::pair<std::string, std::string>>& env, int& exit_code) {
         const CliResult r = run_rctune_args(with_url({"llm-check", config}, url), dir.string(), env);
         exit_code = r.exit_code;
         return std::vector<Written>{{"llm-check's output", r.output}};
       }},
  };
}

TEST(Secrets, TheKeyNeverAppearsInAnyFileOrOutputWhicheverWayItArrives) {
  for (const Way& way : ways()) {
    for (const Command& command : commands()) {
      const std::string label = way.name + ", " + command.name;
      const fs::path dir = fs::temp_directory_path() / ("rctune-secrets-" + std::to_string(getpid()));
      std::error_code ec;
      fs::remove_all(dir, ec);
      fs::create_directories(dir);
      FakeOpenAiServer server;
      if (way.answer)
        server.set_handler(way.answer);
      else
        llm::testing::serve_split_tweaker(server);
      const std::string host = "127.0.0.1:" + std::to_string(server.port());
      std::string config_url = server.base_url(), cli_url;
      if (way.url_suffix == "userinfo")
        cli_url = "http://rctune:" + std::string(kSecret) + "@" + host + "/v1";
      if (way.url_suffix == "query") cli_url = server.base_url() + "?api_key=" + kSecret;
      if (way.url_suffix == "config-userinfo")
        config_url = "http://rctune:" + std::string(kSecret) + "@" + host + "/v1";
      const std::string config = write_config(dir, config_url);

      int exit_code = -1;
      const std::vector<Written> printed = command.run(dir, config, cli_url, {{kKeyVar, way.key}}, exit_code);
      if (way.refused) {
        EXPECT_EQ(exit_code, 2) << label << "\n" << printed.front().bytes;
        EXPECT_EQ(server.request_count(), 0u) << label;
      } else {
        EXPECT_TRUE(exit_code == 0 || (command.name == "llm-check" && exit_code == 1))
            << label << " exit " << exit_code << "\n"
            << printed.front().bytes.substr(0, 3000);
        ASSERT_GT(server.request_count(), 0u) << label << ": the server was never asked";
        EXPECT_EQ(server.requests().front().header("Authorization"), std::string("Bearer ") + kSecret)
            << label;
      }
      for (const Written& w : written(dir, config, printed))
        EXPECT_EQ(w.bytes.find(kSecret), std::string::npos) << label << ": the key is in " << w.where;
      fs::remove_all(dir, ec);
    }
  }
}

}  // namespace
}  // namespace rctune::testing
