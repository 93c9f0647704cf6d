// Hostile input, class "user errors and unbounded reads" (docs/security.md): every value and every
// file a user names, on the command line or in a config, that rctune cannot use ends with exit
// status 2 and `rctune: error:` naming the place (option, file, line, key) and the reason, before
// anything runs; no input file is read without bound. The tests generate their cases: the options
// come from the binary's own --help, so an option added later is checked (or, unclassified, fails
// EveryOptionThatTakesAValueIsClassified until someone decides which checks it needs).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "apps/cli_runner.h"
#include "rctune/config/error.h"
#include "rctune/config/input_file.h"
#include "rctune/config/limits.h"
#include "rctune/config/tune_config.h"
#include "rctune/config/workload_file.h"
#include "rctune/model/onnx_graph.h"
#include "runlog/runlog_test_util.h"

namespace rctune {
namespace {

using runlog::testing::TempDir;
using testing::CliResult;
using testing::rctune_bin;
using testing::run_command;
using testing::shell_quote;

const char* const kSubcommands[] = {"",        "show",      "bench",    "operators", "tune", "llm-check",
                                    "report",  "extract",   "export",   "plot",      "db",   "db list",
                                    "db show", "db export", "db merge", "db prune"};

// The words of a subcommand ("db show" is two).
std::vector<std::string> command_words(const std::string& command) {
  std::vector<std::string> words;
  std::istringstream in(command);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// Runs rctune with exactly these arguments, killed after 60 s (exit 124): a read that never ends
// fails the test instead of hanging it.
CliResult run_bounded(const std::vector<std::string>& args, const std::string& cwd = "") {
  std::string cmd =
      (cwd.empty() ? "" : "cd " + shell_quote(cwd) + " && ") + "timeout 60 " + shell_quote(rctune_bin());
  for (const auto& a : args) cmd += " " + shell_quote(a);
  return run_command(cmd + " </dev/null");
}

// What a user error's output never contains: an exception's raw text, a crash, a library's message.
void expect_clean_user_error(const CliResult& r, const std::string& what) {
  EXPECT_EQ(r.exit_code, 2) << what << "\n" << r.output;
  EXPECT_NE(r.output.find("rctune: error: "), std::string::npos) << what << "\n" << r.output;
  for (const char* bad : {"terminate called", "what():", "[json.exception", "bad_alloc", "Segmentation",
                          "Aborted", "filesystem error", "Could not convert", "stoi", "stod"})
    EXPECT_EQ(r.output.find(bad), std::string::npos) << what << ": '" << bad << "' in\n" << r.output;
}

// ---- the options, from --help ----

struct Option {
  std::string command;  // "" for the options before the subcommand
  std::string name;     // "--budget", or a positional's name ("config")
  std::string type;     // TEXT, INT, UINT, FLOAT
  bool positional() const { return name.rfind("-", 0) != 0; }
};

// Every option and positional of `rctune COMMAND --help` that takes a value.
std::vector<Option> value_options(const std::string& command) {
  std::vector<std::string> args = command_words(command);
  args.push_back("--help");
  CliResult r = run_bounded(args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::vector<Option> out;
  std::istringstream in(r.output);
  std::string line;
  static const std::regex re(R"(^  (--[A-Za-z][\w-]*|[a-z][\w-]*) (TEXT|INT|UINT|FLOAT)\b.*)");
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_match(line, m, re)) out.push_back({command, m[1], m[2]});
  return out;
}

std::vector<Option> all_value_options() {
  std::vector<Option> all;
  for (const char* c : kSubcommands)
    for (auto& o : value_options(c)) all.push_back(o);
  return all;
}

// How each option that takes a value is checked. A new option fails
// EveryOptionThatTakesAValueIsClassified until it is added here.
enum class Kind {
  Integer,     // a whole number in a documented range
  Real,        // a finite number in a documented range
  PinCore,     // auto, none or a core this process may run on
  Choice,      // one of a list
  TextFile,    // a text file rctune reads (config, workload, schedule trace)
  ModelFile,   // an ONNX model rctune reads
  Directory,   // --examples
  TraceFile,   // an HDF5 trace
  Url,         // an http:// or https:// URL
  NotEmpty,    // any text but the empty one
  DimBinding,  // NAME=VALUE, a symbolic dimension of a model and its size
  Free,        // any text is a valid value (a schedule, compiler flags, an output path)
};

struct Classified {
  Kind kind;
  config::RealRange range{0, 0};  // Integer and Real
};

// The sizes a model's dimension may be bound to (--batch, --seq).
const config::RealRange kModelDim{1, static_cast<double>(model::ModelLimits{}.max_dim)};

const std::map<std::string, Classified>& classification() {
  static const std::map<std::string, Classified> m = {
      {" --log-level", {Kind::Choice}},
      {"show workload", {Kind::TextFile}},
      {"show --trace", {Kind::TextFile}},
      {"show --schedule", {Kind::Free}},
      {"bench workload", {Kind::TextFile}},
      {"bench --trace", {Kind::TextFile}},
      {"bench --schedule", {Kind::Free}},
      {"bench --examples", {Kind::Directory}},
      {"bench --cache-dir",
       {Kind::Free}},  // created if missing; its failures belong to the environment class
      {"bench --flags", {Kind::Free}},
      {"bench --min-time", {Kind::Real, {config::limits::kMinTime.lo, config::limits::kMinTime.hi}}},
      {"bench --pin-core", {Kind::PinCore}},
      {"bench --seed",
       {Kind::Integer,
        {static_cast<double>(config::limits::kSeed.lo), static_cast<double>(config::limits::kSeed.hi)}}},
      {"bench --timeout", {Kind::Real, {config::limits::kTimeout.lo, config::limits::kTimeout.hi}}},
      {"bench --format", {Kind::Choice}},
      {"tune config", {Kind::TextFile}},
      {"tune --out", {Kind::Free}},  // the overwrite class checks what it may replace
      {"tune --budget",
       {Kind::Integer,
        {static_cast<double>(config::limits::kBudget.lo), static_cast<double>(config::limits::kBudget.hi)}}},
      {"tune --strategy", {Kind::Choice}},
      {"tune --proposer", {Kind::Choice}},
      {"tune --seed",
       {Kind::Integer,
        {static_cast<double>(config::limits::kSeed.lo), static_cast<double>(config::limits::kSeed.hi)}}},
      {"tune --resume", {Kind::TraceFile}},
      {"tune --cache-dir", {Kind::NotEmpty}},
      {"tune --database", {Kind::NotEmpty}},  // its failures come after the run, the trace kept  // its
                                              // failures belong to the environment class
      {"tune --llm-url", {Kind::Url}},
      {"tune --llm-model", {Kind::NotEmpty}},
      {"llm-check config", {Kind::TextFile}},
      {"llm-check --llm-url", {Kind::Url}},
      {"llm-check --llm-model", {Kind::NotEmpty}},
      {"report files", {Kind::TraceFile}},
      {"export sources", {Kind::Free}},  // traces or a database directory: export's tests name each error
      {"export --out", {Kind::NotEmpty}},
      {"export --name", {Kind::Free}},  // checked against C++ and CMake names by the export itself
      {"export --tasks", {Kind::Free}},
      {"export --target", {Kind::Choice}},
      {"export --hardware", {Kind::NotEmpty}},
      {"plot files", {Kind::TraceFile}},
      {"plot --out", {Kind::NotEmpty}},
      {"plot --tasks", {Kind::Free}},  // a task it does not hold is named by the plot
      {"plot --format", {Kind::Choice}},
      {"plot --max-tree-nodes", {Kind::Integer, {2, 10000}}},
      {"report --format", {Kind::Choice}},
      {"extract model", {Kind::ModelFile}},
      {"extract --out", {Kind::NotEmpty}},  // the run config to write
      {"extract --batch", {Kind::Integer, kModelDim}},
      {"extract --seq", {Kind::Integer, kModelDim}},
      {"extract --dim", {Kind::DimBinding}},
      {"db --database",
       {Kind::NotEmpty}},                  // created if missing; its failures belong to the environment class
      {"db show workload", {Kind::Free}},  // a lookup: what matches nothing is named in the error
      {"db show --hardware", {Kind::Free}},   // a prefix of hardware ids
      {"db export --out", {Kind::NotEmpty}},  // an existing file is refused
      {"db export --format", {Kind::Choice}},
      {"db merge other", {Kind::Directory}},
      {"db prune --keep", {Kind::Integer, {1, 1'000'000}}},
  };
  return m;
}

std::string key_of(const Option& o) { return o.command + " " + o.name; }

// The arguments that put `value` into option `o`, around arguments that make the command fail at
// once on a missing file should the value be wrongly accepted (the check then fails: the message
// does not name the option).
std::vector<std::string> args_with(const Option& o, const std::string& value, const TempDir& dir,
                                   bool equals_form) {
  std::vector<std::string> args;
  if (o.command.empty()) {
    args = {o.name, value, "report", dir.file("missing.h5")};
    if (equals_form) args = {o.name + "=" + value, "report", dir.file("missing.h5")};
    return args;
  }
  args = command_words(o.command);
  if (o.command == "report") args.push_back(dir.file("missing.h5"));
  if (o.command == "extract") args.push_back(dir.file("missing.onnx"));
  if (o.command == "bench" || o.command == "tune" || o.command == "show" || o.command == "llm-check")
    args.push_back(dir.file("missing.yaml"));
  if (equals_form) {
    args.push_back(o.name + "=" + value);
  } else {
    args.push_back(o.name);
    args.push_back(value);
  }
  return args;
}

// Whether `text` is a decimal number within `r` (and whole, for integers): the values the
// command line must accept. Independent of rctune's own parsing.
bool valid_number(const std::string& text, config::RealRange r, bool integer) {
  static const std::regex integer_re(R"([+-]?[0-9]+)");
  static const std::regex real_re(R"([+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?)");
  if (!std::regex_match(text, integer ? integer_re : real_re)) return false;
  const long double v = std::strtold(text.c_str(), nullptr);
  return std::isfinite(v) && v >= r.lo && v <= r.hi;
}

const char* const kBadNumbers[] = {"0",
                                   "-1",
                                   "99999999999",
                                   "99999999999999999999999",
                                   "1e400",
                                   "nan",
                                   "-nan",
                                   "inf",
                                   "-inf",
                                   "text",
                                   "",
                                   "1.5",
                                   "0x10",
                                   " 3",
                                   "3 ",
                                   "1e3",
                                   "-0.5"};

TEST(UserErrors, EveryOptionThatTakesAValueIsClassified) {
  std::set<std::string> found;
  for (const Option& o : all_value_options()) {
    found.insert(key_of(o));
    EXPECT_TRUE(classification().count(key_of(o)))
        << "'rctune " << key_of(o)
        << "' takes a value: classify it in classification() so that its bad values are "
        << "tested";
  }
  for (const auto& [key, c] : classification())
    EXPECT_TRUE(found.count(key)) << "no option '" << key << "' any more";
  EXPECT_GE(found.size(), 25u);
}

// Runs rctune with `value` for option `o` (as `--opt=value` when `equals_form`); expects a clean
// user error that names the option.
void expect_refused(const Option& o, const std::string& value, const TempDir& dir, bool equals_form) {
  const std::string what = "rctune " + key_of(o) + (equals_form ? "=" : " ") + "'" + value + "'";
  CliResult r = run_bounded(args_with(o, value, dir, equals_form));
  expect_clean_user_error(r, what);
  EXPECT_NE(r.output.find(o.name), std::string::npos) << what << "\n" << r.output;
}

// Runs rctune with each value `bad_values` gives for each option classified as one of `kinds` (in
// both the `--opt value` and the `--opt=value` form when `both_forms`), expecting each refused with
// a clean user error that names the option; returns how many runs it checked.
int expect_options_refuse(const std::set<Kind>& kinds,
                          const std::function<std::vector<std::string>(const Classified&)>& bad_values,
                          bool both_forms) {
  TempDir dir;
  int checked = 0;
  for (const Option& o : all_value_options()) {
    auto it = classification().find(key_of(o));
    if (it == classification().end() || !kinds.count(it->second.kind)) continue;
    for (const std::string& value : bad_values(it->second)) {
      for (bool equals_form : {false, true}) {
        if (equals_form && !both_forms) continue;
        expect_refused(o, value, dir, equals_form);
        ++checked;
      }
    }
  }
  return checked;
}

TEST(UserErrors, EveryNumericOptionRefusesEveryBadNumberNamingTheOption) {
  const int checked = expect_options_refuse(
      {Kind::Integer, Kind::Real},
      [](const Classified& c) {
        std::vector<std::string> bad;
        for (const char* value : kBadNumbers)
          if (!valid_number(value, c.range, c.kind == Kind::Integer)) bad.push_back(value);
        return bad;
      },
      true);
  EXPECT_GE(checked, 60);
}

TEST(UserErrors, PinCoreRefusesACoreThisProcessMayNotRunOnAndEveryNonNumber) {
  const int checked = expect_options_refuse(
      {Kind::PinCore},
      [](const Classified&) {
        return std::vector<std::string>{
            "999", "4096", "-1", "nan", "inf", "", "text", "1.5", "99999999999999999999"};
      },
      false);
  EXPECT_GE(checked, 9);
}

TEST(UserErrors, EveryChoiceUrlAndNameRefusesAValueItCannotTake) {
  const std::map<Kind, std::vector<std::string>> bad = {
      {Kind::Choice, {"", "bogus", "nan", "0"}},
      {Kind::Url, {"", "notaurl", "ftp://host/v1", "http://", "localhost:8000/v1"}},
      {Kind::NotEmpty, {""}},
      {Kind::DimBinding,
       {"", "batch", "=4", "batch=", "batch=-4", "batch=0", "batch=x", "batch=1.5", "batch=99999999999"}},
  };
  const int checked = expect_options_refuse(
      {Kind::Choice, Kind::Url, Kind::NotEmpty, Kind::DimBinding},
      [&bad](const Classified& c) { return bad.at(c.kind); }, false);
  EXPECT_GE(checked, 32);
}

// Command-line syntax errors (CLI11's own exit codes 104-109 before): exit 2 with `rctune: error:`.
TEST(UserErrors, EveryCommandLineSyntaxErrorExitsWith2AndSaysWhereHelpIs) {
  TempDir dir;
  for (const char* c : kSubcommands) {
    // With the arguments a command requires, so that the unknown option is the only error.
    std::vector<std::string> unknown = command_words(c);
    if (std::string(c) == "report" || std::string(c) == "llm-check" || std::string(c) == "show" ||
        std::string(c) == "db show" || std::string(c) == "db merge")
      unknown.push_back(dir.file("missing.h5"));
    if (std::string(c) == "db") unknown.push_back("list");  // db needs one of its subcommands
    if (std::string(c) == "db export") unknown.insert(unknown.end(), {"--out", dir.file("out.jsonl")});
    if (std::string(c) == "extract") unknown.push_back(dir.file("missing.onnx"));
    if (std::string(c) == "export" || std::string(c) == "plot")
      unknown.insert(unknown.end(), {dir.file("missing.h5"), "--out", dir.file("out")});
    unknown.push_back("--no-such-option");
    if (!*c) unknown.push_back("operators");
    CliResult r = run_bounded(unknown);
    expect_clean_user_error(r, std::string("rctune ") + c + " --no-such-option");
    EXPECT_NE(r.output.find("--no-such-option"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("--help"), std::string::npos) << r.output;
  }
  for (const Option& o : all_value_options()) {
    if (o.positional()) continue;
    std::vector<std::string> args = command_words(o.command);
    if (o.command == "report" || o.command == "llm-check" || o.command == "show")
      args.push_back(dir.file("missing.h5"));
    if (o.name == "--resume") continue;  // takes an optional value
    args.push_back(o.name);              // and no value after it
    CliResult r = run_bounded(args);
    expect_clean_user_error(r, "rctune " + key_of(o) + " without its value");
    EXPECT_NE(r.output.find(o.name), std::string::npos) << key_of(o) << "\n" << r.output;
  }
  CliResult none = run_bounded({});
  expect_clean_user_error(none, "rctune without a subcommand");
}

TEST(UserErrors, HelpAndVersionStillExitWith0) {
  for (const char* c : kSubcommands) {
    std::vector<std::string> args = command_words(c);
    args.push_back("--help");
    CliResult r = run_bounded(args);
    EXPECT_EQ(r.exit_code, 0) << c << "\n" << r.output;
    EXPECT_EQ(r.output.find("rctune: error:"), std::string::npos) << r.output;
  }
  EXPECT_EQ(run_bounded({"--version"}).exit_code, 0);
}

// ---- input files ----

// A bad file and the words of which one must appear in the message.
struct BadFile {
  std::string label;
  std::string path;
  std::vector<std::string> reasons;
};

std::vector<BadFile> bad_files(const TempDir& dir) {
  std::vector<BadFile> files;
  std::filesystem::create_directories(dir.file("a-directory"));
  files.push_back({"a directory", dir.file("a-directory"), {"it is a directory", "no example schedules"}});
  files.push_back({"a device", "/dev/zero", {"device", "Not a directory"}});
  EXPECT_EQ(mkfifo(dir.file("a-fifo").c_str(), 0600), 0);
  files.push_back({"a FIFO without a writer", dir.file("a-fifo"), {"FIFO", "Not a directory"}});
  files.push_back({"a missing file", dir.file("missing.yaml"), {"No such file"}});
  // A sparse file: 50 MiB that take no disk.
  const std::string big = dir.file("big.yaml");
  { std::ofstream(big) << "budget: 1\n"; }
  EXPECT_EQ(truncate(big.c_str(), 50 << 20), 0);
  files.push_back({"a 50 MiB file", big, {"52428800 bytes", "not an HDF5 file", "Not a directory"}});
  files.push_back(
      {"a missing file whose name is not UTF-8", dir.file("bad-\xff\xfe-name.yaml"), {"No such file"}});
  if (geteuid() != 0) {  // root reads a file of mode 000 anyway
    const std::string locked = dir.file("locked.yaml");
    { std::ofstream(locked) << "budget: 1\n"; }
    chmod(locked.c_str(), 0);
    files.push_back({"an unreadable file", locked, {"Permission denied"}});
  }
  return files;
}

// Where a user names a file: each entry writes what it needs into `dir` and returns the arguments
// that make rctune read `path` that way, and the path the message must name.
struct FileUse {
  std::string label;
  std::function<std::pair<std::vector<std::string>, std::string>(const std::string& path, const TempDir& dir,
                                                                 int case_number)>
      args;
};

std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

std::vector<FileUse> file_uses() {
  const std::string op = "matmul:M=8,N=8,K=8";
  auto plain = [](std::vector<std::string> before, std::vector<std::string> after) {
    return [before, after](const std::string& p, const TempDir&, int) {
      std::vector<std::string> a = before;
      a.push_back(p);
      a.insert(a.end(), after.begin(), after.end());
      return std::make_pair(a, p);
    };
  };
  return {
      {"show WORKLOAD", plain({"show"}, {})},
      {"show --trace", plain({"show", op, "--trace"}, {})},
      {"bench WORKLOAD", plain({"bench"}, {"--check-only"})},
      {"bench --trace", plain({"bench", op, "--check-only", "--trace"}, {})},
      {"bench --examples", plain({"bench", "--check-only", "--examples"}, {})},
      {"tune CONFIG", plain({"tune"}, {"--simulate", "--quiet"})},
      {"tune --resume", plain({"tune", "--simulate", "--quiet", "--resume"}, {})},
      {"llm-check CONFIG", plain({"llm-check"}, {})},
      {"report FILE", plain({"report"}, {})},
      {"report --format json FILE", plain({"report", "--format", "json"}, {})},
      {"db show WORKLOAD",
       [](const std::string& p, const TempDir& dir, int) {
         return std::make_pair(std::vector<std::string>{"db", "--database", dir.file("db"), "show", p}, p);
       }},
      // An example schedule inside --examples DIR: a link named *.sched to the bad file.
      {"bench --examples DIR/x.sched",
       [](const std::string& p, const TempDir& dir, int n) {
         const std::string ex = dir.file("examples-" + std::to_string(n));
         std::filesystem::create_directories(ex);
         const std::string link = ex + "/x.sched";
         EXPECT_EQ(symlink(p.c_str(), link.c_str()), 0);
         return std::make_pair(std::vector<std::string>{"bench", "--check-only", "--examples", ex}, link);
       }},
      // A task's workload file in a config.
      {"tune: tasks[0].workload",
       [](const std::string& p, const TempDir& dir, int n) {
         const std::string cfg = write_file(dir.file("workload-" + std::to_string(n) + ".yaml"),
                                            "tasks:\n  - workload: \"" + p + "\"\n");
         return std::make_pair(std::vector<std::string>{"tune", cfg, "--simulate", "--quiet"}, p);
       }},
      // A prompt template in a config's llm section: a file beside the config (templates elsewhere
      // are refused before they are read: LlmConfig.APromptTemplateOutsideTheConfigsDirectoryIsRefused).
      {"llm-check: llm.prompts.system",
       [](const std::string& p, const TempDir& dir, int n) {
         const std::string inside = dir.file("");
         const std::string rel = p.rfind(inside, 0) == 0 ? p.substr(inside.size()) : p;
         const std::string cfg = write_file(dir.file("prompt-" + std::to_string(n) + ".yaml"),
                                            "tasks: [\"matmul:M=8,N=8,K=8\"]\nproposer: llm\nllm:\n"
                                            "  models: [{url: \"http://127.0.0.1:9/v1\", model: m}]\n"
                                            "  prompts: {system: \"" +
                                                rel + "\"}\n");
         return std::make_pair(std::vector<std::string>{"llm-check", cfg}, p);
       }},
  };
}

TEST(UserErrors, EveryBadInputFileIsRefusedNamingTheFileAndTheReason) {
  TempDir dir;
  const std::vector<BadFile> files = bad_files(dir);
  int n = 0;
  for (const FileUse& use : file_uses())
    for (const BadFile& f : files) {
      // The non-UTF-8 name cannot be written into a YAML config (YAML is UTF-8): the config's own
      // reader refuses that earlier.
      if (use.label.find(':') != std::string::npos && f.label.find("UTF-8") != std::string::npos) continue;
      // A prompt template must be beside its config: one elsewhere (/dev/zero) is refused for that.
      if (use.label.find("prompts") != std::string::npos && f.path.rfind(dir.file(""), 0) != 0) continue;
      auto [args, named] = use.args(f.path, dir, n++);
      const std::string what = use.label + " with " + f.label;
      CliResult r = run_bounded(args);
      expect_clean_user_error(r, what);
      EXPECT_NE(r.output.find(named), std::string::npos) << what << ": the file is not named\n" << r.output;
      bool reason = false;
      for (const auto& word : f.reasons) reason = reason || r.output.find(word) != std::string::npos;
      EXPECT_TRUE(reason) << what << ": no reason\n" << r.output;
    }
  EXPECT_GE(n, 70);
}

// The reader's limit is the documented one, and the message says both numbers.
TEST(UserErrors, AFileJustOverTheLimitIsRefusedWithItsSizeAndTheLimit) {
  TempDir dir;
  const std::string path = dir.file("config.yaml");
  { std::ofstream(path) << "budget: 1\n"; }
  ASSERT_EQ(truncate(path.c_str(), static_cast<off_t>(config::kMaxInputFileBytes + 1)), 0);
  CliResult r = run_bounded({"tune", path, "--simulate"});
  expect_clean_user_error(r, "a config of 16 MiB + 1 byte");
  EXPECT_NE(r.output.find(std::to_string(config::kMaxInputFileBytes + 1) + " bytes"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("16 MiB"), std::string::npos) << r.output;
  EXPECT_EQ(config::kMaxInputFileBytes, 16u << 20);
}

// ---- values inside files ----

// A config with every section, one key per line: each line `key: value` of a mapping, written
// twice, must be refused at the second copy (yaml-cpp keeps both and reads the first).
const char* const kFullConfig = R"(seed: 7
budget: 16
strategy: mcts
proposer: heuristic
out: run.h5
tasks:
  - workload: "matmul:M=8,N=8,K=8"
    weight: 2
    budget: 4
  - workload:
      name: inline
      tensors:
        A: f32[4, 4]
        B: f32[4, 4]
      stages:
        - B[i, j] = A[i, j]
      outputs: [B]
measure:
  min_time: 0.01
  min_repeats: 2
  max_repeats: 9
  warmup: 0
  flush_cache: false
  pin_core: none
  timeout: 30
  flags: -O2
  simulated_latency: 0
mcts:
  exploration: 1.5
  branching: 2
  root_samples: 3
  measure_batch: 4
evolutionary:
  population: 8
  measure_batch: 4
cost_model:
  kind: none
  min_samples: 8
llm:
  concurrency: 2
  offline: true
  models:
    - url: http://127.0.0.1:9/v1
      model: m
      temperature: 0.5
      headers:
        X-Test: a
dist:
  group_size: 1
  sync_every: 4
)";

TEST(UserErrors, EveryDuplicatedKeyOfAConfigIsRefusedWithItsLineAndPath) {
  ASSERT_NO_THROW(config::parse_tune_config(kFullConfig, "full.yaml"));
  std::vector<std::string> lines;
  std::istringstream in(kFullConfig);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  static const std::regex key_line(R"(^ *([A-Za-z_][\w-]*): ?.*$)");
  int checked = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (!std::regex_match(lines[i], m, key_line)) continue;
    std::vector<std::string> copy = lines;
    // The copy goes right after the key's whole value (the lines indented deeper than it).
    const size_t indent = lines[i].find_first_not_of(' ');
    size_t end = i + 1;
    while (end < lines.size() && (lines[end].find_first_not_of(' ') > indent ||
                                  (lines[end].find_first_not_of(' ') == indent && lines[end][indent] == '-' &&
                                   lines[i].back() == ':')))
      ++end;
    copy.insert(copy.begin() + static_cast<long>(end), lines[i]);
    std::string text;
    for (const auto& l : copy) text += l + "\n";
    const std::string what = "line " + std::to_string(i + 1) + " '" + lines[i] + "' twice";
    try {
      config::parse_tune_config(text, "dup.yaml");
      ADD_FAILURE() << what << ": accepted";
    } catch (const config::ConfigError& e) {
      EXPECT_EQ(e.line(), static_cast<int>(end) + 1) << what << ": " << e.what();
      const std::string key = m[1];
      EXPECT_TRUE(e.key() == key || e.key().ends_with("." + key)) << what << ": " << e.what();
      EXPECT_NE(e.reason().find("duplicate key"), std::string::npos) << what << ": " << e.what();
      EXPECT_NE(e.reason().find("line " + std::to_string(i + 1)), std::string::npos)
          << what << ": " << e.what();
    }
    ++checked;
  }
  EXPECT_GE(checked, 40);
}

TEST(UserErrors, AConfigPinCoreThisProcessMayNotRunOnIsRefusedWithItsLine) {
  TempDir dir;
  const std::string cfg =
      write_file(dir.file("pin.yaml"), "tasks: [\"matmul:M=8,N=8,K=8\"]\nmeasure:\n  pin_core: 999\n");
  CliResult r = run_bounded({"tune", cfg, "--simulate", "--quiet", "--out", dir.file("run.h5")});
  expect_clean_user_error(r, "pin_core: 999");
  EXPECT_NE(r.output.find(cfg + ":3:13: measure.pin_core: core 999 is not one this process may run on"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("run.h5")));
}

TEST(UserErrors, AnExampleWhoseWorkloadLineIsBadIsNamedWithItsFileAndLine) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("ex"));
  write_file(dir.file("ex/good.sched"), "# workload: matmul:M=8,N=8,K=8\n");
  write_file(dir.file("ex/bad.sched"), "# an example\n# workload: matmul:M=abc\nsplit(C, i, [None, 4])\n");
  CliResult r = run_bounded({"bench", "--check-only", "--examples", dir.file("ex")});
  expect_clean_user_error(r, "a bad # workload: line");
  EXPECT_NE(r.output.find(dir.file("ex/bad.sched") + ":2: # workload: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'abc'"), std::string::npos) << r.output;
}

TEST(UserErrors, ReportAsJsonOfATraceWhoseNameIsNotUtf8IsValidJson) {
  TempDir dir;
  const std::string cfg = write_file(dir.file("run.yaml"), "budget: 1\ntasks: [\"matmul:M=8,N=8,K=8\"]\n");
  const std::string trace = dir.file("run-\xff\xfe.h5");
  CliResult tuned = run_bounded({"tune", cfg, "--simulate", "--quiet", "--out", trace});
  ASSERT_EQ(tuned.exit_code, 0) << tuned.output;
  CliResult r = run_bounded({"report", "--format", "json", trace});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(r.output)) << r.output;
  EXPECT_NE(j.at("trace").get<std::string>().find("run-"), std::string::npos);
}

}  // namespace
}  // namespace rctune
