// Credentials in endpoint URLs (rctune/config/url_credentials.h).
#include "rctune/config/url_credentials.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace rctune::config {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// %XX decoded (a name may be written "api%5Fkey").
std::string percent_decoded(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

// A parameter name that names a credential: one of the usual names, or one containing a word
// that only credentials use.
bool credential_name(std::string name) {
  name = lower(name);
  std::string squashed;
  for (char c : name)
    if (std::isalnum(static_cast<unsigned char>(c))) squashed += c;
  static constexpr std::array<std::string_view, 14> kExact = {
      "key", "sig", "signature", "auth",       "code",        "pass",   "pwd",
      "jwt", "sas", "sastoken",  "credential", "credentials", "passwd", "bearer"};
  static constexpr std::array<std::string_view, 8> kWords = {"key",    "token", "secret",     "password",
                                                             "passwd", "auth",  "credential", "session"};
  if (std::find(kExact.begin(), kExact.end(), squashed) != kExact.end()) return true;
  return std::any_of(kWords.begin(), kWords.end(),
                     [&](std::string_view w) { return squashed.find(w) != std::string::npos; });
}

struct Parts {
  size_t host_start = 0;  // just past "scheme://" (0 without a scheme)
  size_t authority_end = 0;
};

Parts parts_of(const std::string& url) {
  Parts p;
  const auto scheme = url.find("://");
  p.host_start = scheme == std::string::npos ? 0 : scheme + 3;
  p.authority_end = url.find_first_of("/?#", p.host_start);
  if (p.authority_end == std::string::npos) p.authority_end = url.size();
  return p;
}

}  // namespace

std::string url_credential_problem(const std::string& url) {
  const Parts p = parts_of(url);
  // Any '@' before the query: a password may hold '/', which would end the authority early.
  if (url.find('@', p.host_start) < url.find_first_of("?#", p.host_start))
    return std::string("the URL holds a user name or password (user:...@host): ") + kUrlCredentialAdvice;
  const auto q = url.find_first_of("?#", p.authority_end);
  if (q == std::string::npos) return "";
  std::string_view rest = std::string_view(url).substr(q + 1);
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find_first_of("&;#?", start);
    if (end == std::string_view::npos) end = rest.size();
    const std::string_view item = rest.substr(start, end - start);
    const std::string name = percent_decoded(item.substr(0, item.find('=')));
    if (!item.empty() && credential_name(name)) {
      std::string shown;
      for (char c : name) shown += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
      return "the URL has a query parameter '" + shown.substr(0, 40) +
             "' that looks like a credential: " + kUrlCredentialAdvice;
    }
    start = end + 1;
  }
  return "";
}

std::string url_for_display(const std::string& url) {
  const Parts p = parts_of(url);
  std::string u = url;
  const auto q = u.find_first_of("?#", p.host_start);
  if (q != std::string::npos) u = u.substr(0, q) + "?...";
  const auto at = url.find_last_of('@', q == std::string::npos ? std::string::npos : (q == 0 ? 0 : q - 1));
  if (at != std::string::npos && at >= p.host_start && (q == std::string::npos || at < q))
    u = u.substr(0, p.host_start) + u.substr(at + 1);
  return u;
}

}  // namespace rctune::config
