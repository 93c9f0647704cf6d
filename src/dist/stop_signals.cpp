// The stop signals of a tuning run (include/rctune/dist/stop_signals.h).
#include "rctune/dist/stop_signals.h"

#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <iterator>

#include "rctune/search/stop_request.h"

namespace rctune::dist {
namespace {

constexpr int kGraceful[] = {SIGTERM, SIGUSR1};
std::string g_notice[std::size(kGraceful)];  // composed before, per signal
StopAtOnce g_at_once = nullptr;
StopAtOnce g_also = nullptr;

extern "C" void on_stop_signal(int sig) {
  for (size_t i = 0; i < std::size(kGraceful); ++i) {
    if (kGraceful[i] != sig || search::stop_requested()) continue;
    search::request_stop(sig);
    (void)!::write(STDERR_FILENO, g_notice[i].data(), g_notice[i].size());
    if (g_also) g_also(sig);
    return;
  }
  g_at_once(sig);
  std::_Exit(stopped_exit_code(sig));  // at_once should not return
}

std::string with_signal(std::string text, int sig) {
  const std::string key = "{signal}";
  for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at))
    text.replace(at, key.size(), std::to_string(sig));
  return text;
}

std::string shell_quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

void install_stop_signals(StopAtOnce at_once, const std::string& notice, StopAtOnce also) {
  g_at_once = at_once;
  g_also = also;
  for (size_t i = 0; i < std::size(kGraceful); ++i) g_notice[i] = with_signal(notice, kGraceful[i]);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigset_t stop;
  sigemptyset(&stop);
  for (int sig : {SIGTERM, SIGUSR1, SIGINT}) {
    sigaction(sig, &sa, nullptr);
    sigaddset(&stop, sig);
  }
  pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
}

std::string resume_hint(int signal, const std::string& path) {
  return "rctune: stopped by signal " + std::to_string(signal) + ": the trace " + path +
         " keeps every sample measured before; continue it with: rctune tune --resume " + shell_quoted(path);
}

}  // namespace rctune::dist
