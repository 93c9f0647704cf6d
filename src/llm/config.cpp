// The LLM proposer's options from a run config (include/rctune/llm/config.h).
#include "rctune/llm/config.h"

#include "rctune/config/url_credentials.h"
#include "rctune/llm/client.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace rctune::llm {
namespace {

// Refuses, before a run starts, what would put a credential into a recorded file or inject a
// header: a URL with a credential (a config written by hand or by a tool; the CLI's --llm-url is
// checked in override_endpoint), an API key variable holding a control character, a header
// holding one. Nothing of the key is repeated.
void check_endpoint_secrets(const Endpoint& e) {
  if (const std::string problem = config::url_credential_problem(e.base_url); !problem.empty())
    throw std::runtime_error("llm endpoint '" + e.name + "': " + problem);
  if (!e.api_key_env.empty())
    if (const char* key = std::getenv(e.api_key_env.c_str()); key && control_character(key))
      throw std::runtime_error("the API key variable " + e.api_key_env + " (api_key_env of llm endpoint '" +
                               e.name +
                               "') holds a control character (CR, LF, ...): refused, it would end the "
                               "Authorization header and start another");
  for (const auto& [name, value] : e.headers)
    if (control_character(name) || control_character(value) || name.find(':') != std::string::npos)
      throw std::runtime_error("llm endpoint '" + e.name +
                               "': a header name or value holds a control character "
                               "or the name holds ':': refused, it would inject a header");
}

}  // namespace

void override_endpoint(config::LlmConfig& c, const std::string& url, const std::string& model) {
  if (!url.empty()) {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
      throw std::runtime_error("--llm-url: expected an http:// or https:// URL, got '" +
                               config::url_for_display(url) + "'");
    if (const std::string problem = config::url_credential_problem(url); !problem.empty())
      throw std::runtime_error("--llm-url: " + problem);
  }
  if (url.empty() && model.empty()) return;
  if (c.models.empty()) {
    if (url.empty() || model.empty())
      throw std::runtime_error("the config has no llm.models: give both --llm-url and --llm-model");
    c.models.emplace_back();
  }
  config::LlmModelConfig& m = c.models.front();
  if (!url.empty()) m.url = url;
  if (!model.empty()) {
    if (m.name.empty() || m.name == m.model) m.name = model;
    m.model = model;
  }
}

std::string default_llm_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/rctune/llm";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/rctune/llm";
  return ".rctune-llm-cache";
}

LlmOptions llm_options(const config::LlmConfig& c) {
  if (c.models.empty())
    throw std::runtime_error(
        "proposer llm needs a model: add llm.models to the config or give --llm-url URL --llm-model NAME");
  LlmOptions o;
  for (const config::LlmModelConfig& m : c.models) {
    Endpoint e;
    e.name = m.name.empty() ? m.model : m.name;
    e.base_url = m.url;
    e.model = m.model;
    e.temperature = m.temperature;
    e.max_tokens = m.max_tokens;
    e.timeout_s = m.timeout;
    for (const auto& [k, v] : m.headers) e.headers[k] = v;
    e.api_key_env = m.api_key_env;
    e.price_prompt = m.price_prompt;
    e.price_completion = m.price_completion;
    e.max_retries = m.max_retries;
    check_endpoint_secrets(e);
    o.models.push_back(std::move(e));
  }
  o.client.concurrency = c.concurrency;
  o.client.cache_dir = c.cache_dir.empty() ? default_llm_cache_dir() : c.cache_dir;
  o.client.offline = c.offline;
  o.client.max_response_bytes = static_cast<size_t>(c.max_response_bytes);
  o.escalate_after = c.escalate_after;
  o.prompts = PromptTemplates::load(c.system_prompt, c.user_prompt);
  return o;
}

}  // namespace rctune::llm
