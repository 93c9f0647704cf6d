// Credentials in endpoint URLs (rctune/config/url_credentials.h) are refused: the URL is recorded
// in the trace; the message never repeats the credential.
#include <gtest/gtest.h>

#include <string>

#include "rctune/config/tune_config.h"
#include "rctune/config/url_credentials.h"

namespace rctune::config {
namespace {

TEST(UrlCredentials, EveryCredentialFormIsRefusedWithoutRepeatingIt) {
  const std::string secret = "S3cretValue";
  for (const std::string& url :
       {"http://user:" + secret + "@host/v1", "https://" + secret + "@host:8000/v1",
        "http://u:p/" + secret + "@host/v1", "http://host/v1?key=" + secret,
        "http://host/v1?api_key=" + secret, "http://host/v1?x=1&apiKey=" + secret,
        "http://host/v1?access_token=" + secret, "http://host/v1?password=" + secret,
        "http://host/v1?sig=" + secret, "http://host/v1?api%5Fkey=" + secret,
        "http://host/v1#token=" + secret, "http://host/v1?client_secret=" + secret}) {
    const std::string problem = url_credential_problem(url);
    EXPECT_FALSE(problem.empty()) << url;
    EXPECT_EQ(problem.find(secret), std::string::npos) << problem;
    EXPECT_NE(problem.find("api_key_env"), std::string::npos) << problem;
    EXPECT_EQ(url_for_display(url).find(secret), std::string::npos) << url_for_display(url);
  }
}

TEST(UrlCredentials, OrdinaryUrlsAreAccepted) {
  for (const std::string url : {"http://localhost:8000/v1", "https://api.example.com/v1",
                                "http://127.0.0.1:1/v1?model=x", "http://host/v1?api-version=2024-01-01"})
    EXPECT_EQ(url_credential_problem(url), "") << url;
}

TEST(UrlCredentials, AConfigUrlWithAPasswordIsRefusedNamingTheKey) {
  const std::string yaml =
      "tasks:\n  - workload: matmul:M=8,N=8,K=8\nllm:\n  models:\n    - url: http://me:hunter2@host/v1\n     "
      " model: m\n";
  try {
    parse_tune_config(yaml, "t.yaml");
    FAIL() << "accepted";
  } catch (const std::exception& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("llm.models[0].url"), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
  }
}

TEST(UrlCredentials, MaxResponseBytesIsAConfigKey) {
  const std::string yaml = "tasks:\n  - workload: matmul:M=8,N=8,K=8\nllm:\n  max_response_bytes: 65536\n";
  EXPECT_EQ(parse_tune_config(yaml, "t.yaml").llm.max_response_bytes, 65536);
  EXPECT_THROW(parse_tune_config("tasks:\n  - workload: matmul:M=8,N=8,K=8\nllm:\n  max_response_bytes: 0\n",
                                 "t.yaml"),
               std::exception);
}

}  // namespace
}  // namespace rctune::config
