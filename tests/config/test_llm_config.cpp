// The llm section of run configs: models, client settings, prompt files; mistakes name file, line and key.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "rctune/build_config.h"
#include "rctune/config/tune_config.h"

using rctune::config::ConfigError;
using rctune::config::parse_tune_config;

namespace {

const std::string kTask = "tasks: ['matmul:M=8,N=8,K=8']\n";

std::string error_of(const std::string& yaml) {
  try {
    parse_tune_config(kTask + yaml, "/cfg/run.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(LlmConfig, ReadsModelsClientSettingsAndPromptFiles) {
  auto c =
      parse_tune_config(kTask +
                            "proposer: llm\n"
                            "llm:\n"
                            "  concurrency: 8\n"
                            "  cache_dir: llm-cache\n"
                            "  offline: true\n"
                            "  escalate_after: 3\n"
                            "  prompts: {system: p/system.txt, user: user.txt}\n"
                            "  models:\n"
                            "    - {url: 'http://localhost:8000/v1', model: small, temperature: 0.2,"
                            " max_tokens: 512, timeout: 30, api_key_env: MY_API_KEY, price_prompt: 0.15,"
                            " price_completion: 0.6, max_retries: 2, headers: {X-Team: compilers}}\n"
                            "    - {name: strong, url: 'https://api.example.com/v1', model: big-model}\n",
                        "/cfg/run.yaml");
  ASSERT_EQ(c.llm.models.size(), 2u);
  const auto& m = c.llm.models[0];
  EXPECT_EQ(m.name, "small");  // defaults to the model
  EXPECT_EQ(m.url, "http://localhost:8000/v1");
  EXPECT_DOUBLE_EQ(m.temperature, 0.2);
  EXPECT_EQ(m.max_tokens, 512);
  EXPECT_DOUBLE_EQ(m.timeout, 30);
  EXPECT_EQ(m.api_key_env, "MY_API_KEY");
  EXPECT_DOUBLE_EQ(m.price_completion, 0.6);
  EXPECT_EQ(m.max_retries, 2);
  ASSERT_EQ(m.headers.size(), 1u);
  EXPECT_EQ(m.headers[0].first, "X-Team");
  EXPECT_EQ(c.llm.models[1].name, "strong");
  EXPECT_EQ(c.llm.concurrency, 8);
  EXPECT_EQ(c.llm.cache_dir, "/cfg/llm-cache") << "relative to the config file";
  EXPECT_TRUE(c.llm.offline);
  EXPECT_EQ(c.llm.escalate_after, 3);
  EXPECT_EQ(c.llm.system_prompt, "/cfg/p/system.txt");
  EXPECT_EQ(c.llm.user_prompt, "/cfg/user.txt");
}

TEST(LlmConfig, DefaultsWhenAbsent) {
  auto c = parse_tune_config(kTask);
  EXPECT_TRUE(c.llm.models.empty());
  EXPECT_EQ(c.llm.concurrency, 4);
  EXPECT_FALSE(c.llm.offline);
  EXPECT_TRUE(c.llm.cache_dir.empty());
}

TEST(LlmConfig, AModelWithoutUrlOrModelIsAnError) {
  EXPECT_NE(error_of("llm:\n  models:\n    - {model: x}\n").find("llm.models[0].url: missing"),
            std::string::npos)
      << error_of("llm:\n  models:\n    - {model: x}\n");
  EXPECT_NE(error_of("llm:\n  models:\n    - {url: 'http://h/v1'}\n").find("llm.models[0].model: missing"),
            std::string::npos);
  EXPECT_NE(error_of("llm:\n  models:\n    - {url: 'ftp://h', model: x}\n").find("http:// or https://"),
            std::string::npos);
}

TEST(LlmConfig, UnknownKeysAndBadValuesNameTheKey) {
  const std::string unknown = error_of("llm:\n  modles: []\n");
  EXPECT_NE(unknown.find("/cfg/run.yaml:3:3: llm.modles: unknown key"), std::string::npos) << unknown;
  EXPECT_NE(error_of("llm:\n  concurrency: 0\n").find("llm.concurrency: must be between"), std::string::npos);
  EXPECT_NE(error_of("llm:\n  models:\n    - {url: 'http://h/v1', model: x, temperature: 3}\n")
                .find("llm.models[0].temperature"),
            std::string::npos);
}

TEST(LlmConfig, ACredentialInTheHeadersIsRefused) {
  const std::string e = error_of(
      "llm:\n  models:\n    - url: 'http://h/v1'\n      model: x\n      headers: {Authorization: 'Bearer "
      "sk-1'}\n");
  EXPECT_NE(e.find("llm.models[0].headers.Authorization"), std::string::npos) << e;
  EXPECT_NE(e.find("api_key_env"), std::string::npos) << e;
  EXPECT_EQ(e.find("sk-1"), std::string::npos) << "the message does not repeat the secret";
}

// The config chooses the server: it must not choose which secret of the environment goes there.
TEST(LlmConfig, AnApiKeyVariableMustBeNamedAsAnApiKey) {
  for (const char* name : {"AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "HOME", "SSH_AUTH_SOCK", "_API_KEY",
                           "openai_api_key", "MY-API_KEY", "OPENAI_API_KEY_2"}) {
    const std::string e =
        error_of(std::string("llm:\n  models:\n    - url: 'http://h/v1'\n      model: x\n") +
                 "      api_key_env: " + name + "\n");
    EXPECT_NE(e.find("llm.models[0].api_key_env"), std::string::npos) << name << ": " << e;
    EXPECT_NE(e.find("_API_KEY"), std::string::npos) << name << ": " << e;
  }
  for (const char* name : {"OPENAI_API_KEY", "RCTUNE_API_KEY", "AZURE_OPENAI_API_KEY", "X2_API_KEY"})
    EXPECT_EQ(error_of(std::string("llm:\n  models:\n    - url: 'http://h/v1'\n      model: x\n") +
                       "      api_key_env: " + name + "\n"),
              "")
        << name;
}

// A template's text is sent to the server the config names: only files beside the config.
TEST(LlmConfig, APromptTemplateOutsideTheConfigsDirectoryIsRefused) {
  for (const char* path : {"/etc/passwd", "../secret.txt", "p/../../x.txt", "/cfg/p/system.txt"}) {
    const std::string e = error_of(std::string("llm:\n  prompts: {system: '") + path + "'}\n");
    EXPECT_NE(e.find("llm.prompts.system"), std::string::npos) << path << ": " << e;
    EXPECT_NE(e.find("sent to the model's server"), std::string::npos) << path << ": " << e;
  }
}

TEST(LlmConfig, APromptTemplateThatIsALinkOutOfTheConfigsDirectoryIsRefused) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("rctune-prompt-link-" + std::to_string(::getpid()));
  fs::create_directories(dir / "prompts");
  fs::create_symlink("/etc/hostname", dir / "prompts" / "system.txt");
  std::string e;
  try {
    parse_tune_config(kTask + "llm:\n  prompts: {system: prompts/system.txt}\n", (dir / "run.yaml").string());
  } catch (const ConfigError& err) {
    e = err.what();
  }
  fs::remove_all(dir);
  EXPECT_NE(e.find("leads outside the config's directory"), std::string::npos) << e;
}

TEST(LlmConfig, EveryShippedLlmExampleParsesWithAModel) {
  const std::filesystem::path dir = std::filesystem::path(RCTUNE_SOURCE_DIR) / "configs" / "llm";
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".yaml") continue;
    ++n;
    SCOPED_TRACE(e.path().string());
    const auto c = rctune::config::load_tune_config(e.path().string());
    EXPECT_EQ(c.proposer, "llm");
    ASSERT_FALSE(c.llm.models.empty());
    EXPECT_FALSE(c.llm.models[0].url.empty());
  }
  EXPECT_GE(n, 4) << "vLLM, llama.cpp, Ollama and a hosted API";
}
