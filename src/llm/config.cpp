// The LLM proposer's options from a run config (include/rctune/llm/config.h).
#include "rctune/llm/config.h"

#include <cstdlib>
#include <stdexcept>

namespace rctune::llm {

void override_endpoint(config::LlmConfig& c, const std::string& url, const std::string& model) {
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
    o.models.push_back(std::move(e));
  }
  o.client.concurrency = c.concurrency;
  o.client.cache_dir = c.cache_dir.empty() ? default_llm_cache_dir() : c.cache_dir;
  o.client.offline = c.offline;
  o.escalate_after = c.escalate_after;
  o.prompts = PromptTemplates::load(c.system_prompt, c.user_prompt);
  return o;
}

}  // namespace rctune::llm
