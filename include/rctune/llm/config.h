// The LLM proposer's options from a run config's `llm` section (docs/config.md), with the
// command line's --llm-url / --llm-model applied.
#pragma once

#include <string>

#include "rctune/config/tune_config.h"
#include "rctune/llm/llm_proposer.h"

namespace rctune::llm {

// Replaces the first model's URL and/or model name (adding a model when the config has none).
// Empty strings leave the config as it is.
void override_endpoint(config::LlmConfig& c, const std::string& url, const std::string& model);

// Options for LlmProposer: endpoints, client settings (cache directory defaulting to
// $XDG_CACHE_HOME/rctune/llm), prompt templates (loaded from the files the config names). Throws
// std::runtime_error when the config names no model or a prompt file cannot be read.
LlmOptions llm_options(const config::LlmConfig& c);

// The default response cache: $XDG_CACHE_HOME/rctune/llm, else ~/.cache/rctune/llm.
std::string default_llm_cache_dir();

}  // namespace rctune::llm
