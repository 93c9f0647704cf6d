// Credentials in endpoint URLs (docs/llm.md): a URL is recorded in the trace (command line and
// config) and shown in messages, so a user name, password or key in it would be written to every
// file rctune produces. Such URLs are refused; the key belongs in the variable api_key_env names.
#pragma once

#include <string>

namespace rctune::config {

// "" when `url` carries no credential, else what is wrong, in words that never repeat the
// credential: a user:password@ part, or a query (or fragment) parameter named like a credential
// (key, api_key, apikey, token, access_token, password, secret, sig, ...).
std::string url_credential_problem(const std::string& url);

// The URL as it may be shown: without a user:password@ part, and "?..." for a query or fragment.
std::string url_for_display(const std::string& url);

// The advice that ends every refusal.
inline constexpr const char* kUrlCredentialAdvice =
    "a credential does not belong in the URL (the URL is recorded in the trace): put the key in an "
    "environment variable and name it with api_key_env";

}  // namespace rctune::config
