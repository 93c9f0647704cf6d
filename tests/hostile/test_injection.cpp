// Hostile input, class INJECTION (docs/security.md): no text from a workload file, a file name, a
// run config or a trace becomes code. Every name that reaches the generated C++ either is refused
// at its entry (exit 2, "rctune: error:", naming the place) or reaches the source only mangled or
// escaped, so that a kernel with such names compiles and computes the right result.
//
// Each test generates its cases: every entry point x every payload of its kind. A payload that
// runs code does `touch PWNED` in the working directory of the run; no case may leave PWNED.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "apps/cli_runner.h"
#include "runlog/runlog_test_util.h"

namespace rctune::testing {
namespace {

namespace fs = std::filesystem;
using runlog::testing::TempDir;

// ---- payloads ----

struct Payload {
  std::string label;  // for failure messages
  std::string text;
};

// Code that runs when the kernel's shared object is loaded, if it ever gets past a comment; `eol`
// is the line break it uses. Guarded (a name appears in several comments), without '/' (so that a
// file name can hold it), and the rest of the line it lands in becomes an unused macro.
std::string touch_payload(const std::string& eol) {
  return "x" + eol + "#include <cstdlib>" + eol + "#ifndef PWN" + eol + "#define PWN" + eol +
         "static int pwn = std::system(\"touch PWNED\");" + eol + "#endif" + eol + "#define PWN_REST ";
}
const std::string kTouch = touch_payload("\n");

// Workload names that break out of a comment or are otherwise not a workload name: refused.
std::vector<Payload> hostile_workload_names() {
  return {
      {"include directive after a line feed", "x\n#include <cstdlib>\nstatic int pwn = std::system(\"touch PWNED\");\n//"},
      {"line feed", touch_payload("\n")},
      {"carriage return", touch_payload("\r")},
      {"CR LF", touch_payload("\r\n")},
      {"backslash, then a line feed (splice)", "x\\" + touch_payload("\n").substr(1)},
      {"block comment end and a line feed", "x */" + touch_payload("\n") + " /*"},
      {"vertical tab", touch_payload("\v")},
      {"form feed", touch_payload("\f")},
      {"tab", "a\tb"},
      {"NUL byte", std::string("x\0y", 3)},
      {"DEL", "x\x7fy"},
      {"non-ASCII (UTF-8)",
       "gr\xc3\xb6\xc3\x9f"
       "e"},
      {"Unicode line separator", touch_payload("\xe2\x80\xa8")},
      {"empty", ""},
      {"201 characters", std::string(201, 'n')},
  };
}

// Workload names that look like C++ comment or string syntax but are printable ASCII: legal, and
// harmless in the generated source.
std::vector<Payload> legal_workload_names() {
  return {
      {"block comment end", "a*/b /* c"},
      {"trailing backslash", "x\\"},
      {"quotes, trigraph, format", "\"q\" ?\?/ %s%n"},
      {"backslash-n as text", "x\\n#include <cstdlib>"},
      {"spec-like", "my_op:M=4,N=4,K=4"},
  };
}

// Identifiers (tensor and index names) that collide with C++ keywords, alternative tokens, macros
// of the included headers, the Kokkos and std namespaces, the generator's own names and the names
// it derives (split loops i.0 -> i_0, cache buffers C.local -> C_local): legal, and must work.
std::vector<std::string> cpp_word_identifiers() {
  return {"int",     "class",        "template",     "and",
          "not",     "xor",          "bitand",       "compl",
          "or_eq",   "this",         "operator",     "new",
          "typedef", "alignas",      "float",        "double",
          "int64_t", "size_t",       "errno",        "assert",
          "NAN",     "EOF",          "stdin",        "NULL",
          "linux",   "unix",         "__LINE__",     "KOKKOS_LAMBDA",
          "buffers", "acc",          "rctune_acc",   "rctune_kernel",
          "team",    "Kokkos",       "std",          "rctune_shared",
          "p",       "i0",           "_x",           "__x",
          "x__y",    "_X",           "t_A",          "v_i",
          "v16f",    "__restrict__", "__attribute__"};
}

// Identifiers that are not identifiers: refused.
std::vector<Payload> hostile_identifiers() {
  return {
      {"line feed", "a\n" + kTouch},
      {"carriage return", "a\r" + kTouch},
      {"space", "a b"},
      {"minus", "a-b"},
      {"dot", "a.b"},
      {"semicolon", "a;b"},
      {"leading digit", "1a"},
      {"non-ASCII",
       "gr\xc3\xb6\xc3\x9f"
       "e"},
      {"65 characters", std::string(65, 'n')},
  };
}

// ---- helpers ----

// A YAML double-quoted scalar holding exactly these bytes (non-ASCII bytes are written raw: the
// payloads hold valid UTF-8 there).
std::string yaml_quoted(const std::string& s) {
  std::string q = "\"";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      q += '\\';
      q += ch;
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      q += buf;
    } else {
      q += ch;
    }
  }
  return q + "\"";
}

std::string shown(const std::string& s) {
  std::string r;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      r += buf;
    } else {
      r += ch;
    }
  }
  return r;
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << p;
}

// The body of a tiny workload (4x4 matmul) as YAML lines, with `name` if given.
std::string workload_yaml(const std::string& indent, const std::optional<std::string>& name) {
  std::string y;
  if (name) y += indent + "name: " + yaml_quoted(*name) + "\n";
  y += indent + "tensors:\n";
  y += indent + "  A: f32[4, 4]\n" + indent + "  B: f32[4, 4]\n" + indent + "  C: f32[4, 4]\n";
  y += indent + "stages:\n" + indent + "  - C[i, j] += A[i, k] * B[k, j]\n";
  return y;
}

struct Outcome {
  CliResult r;
  bool pwned = false;
};

// One kernel cache for the whole test program: the precompiled Kokkos header is built once.
const TempDir& shared_cache() {
  static const TempDir cache;  // removed when the program ends
  return cache;
}

// Runs rctune in `dir` and says whether PWNED appeared there.
Outcome run_in(const TempDir& dir, const std::vector<std::string>& args) {
  Outcome run;
  run.r = run_rctune_args(args, dir.path().string(), {{"XDG_CACHE_HOME", shared_cache().path().string()}});
  run.pwned = fs::exists(dir.path() / "PWNED");
  return run;
}

// A run config with one task whose workload is written inline, and measure.flags if given.
std::string inline_config(const TempDir& dir, const std::string& name,
                          const std::optional<std::string>& flags = std::nullopt) {
  std::string c = "seed: 1\nbudget: 2\nout: " + dir.file("run.h5") + "\ntasks:\n  - workload:\n" +
                  workload_yaml("      ", name);
  if (flags) c += "measure:\n  flags: " + yaml_quoted(*flags) + "\n";
  return c;
}

// Replaces the string attribute `attr` of the object `object` ("/" for the root group) of a trace.
void set_string_attribute(const std::string& path, const std::string& object, const std::string& attr,
                          const std::string& text) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0) << path;
  hid_t o = H5Oopen(f, object.c_str(), H5P_DEFAULT);
  ASSERT_GE(o, 0) << object;
  ASSERT_GE(H5Adelete(o, attr.c_str()), 0) << attr;
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(o, attr.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(a, 0);
  const char* p = text.c_str();
  EXPECT_GE(H5Awrite(a, type, &p), 0);
  H5Aclose(a);
  H5Sclose(space);
  H5Tclose(type);
  H5Oclose(o);
  H5Fclose(f);
}

// Replaces the config text stored in a trace (attribute "config" of the root group).
void set_trace_config(const std::string& path, const std::string& text) {
  set_string_attribute(path, "/", "config", text);
}

// An entry point through which a workload's name reaches rctune. `run` returns nullopt when the
// payload cannot be given this way (a file name cannot hold '/' or NUL).
struct NameEntry {
  std::string label;
  std::function<std::optional<Outcome>(const TempDir&, const std::string&)> run;
  bool compiles;  // whether the entry compiles and runs the kernel (else: --simulate)
  // Whether the payload is part of a path the user gave on the command line (messages name that
  // file as given).
  bool in_path = false;
};

bool file_name_ok(const std::string& s) {
  return !s.empty() && s.find('/') == std::string::npos && s.find('\0') == std::string::npos && s != "." &&
         s != ".." && s.size() <= 200;
}

std::vector<NameEntry> name_entries(const std::string& valid_trace) {
  std::vector<NameEntry> e;
  e.push_back({"workload file name:",
               [](const TempDir& dir, const std::string& name) -> std::optional<Outcome> {
                 write_file(dir.path() / "w.yaml", workload_yaml("", name));
                 return run_in(dir, {"bench", dir.file("w.yaml"), "--check-only"});
               },
               true});
  e.push_back({"workload file stem",
               [](const TempDir& dir, const std::string& name) -> std::optional<Outcome> {
                 if (!file_name_ok(name)) return std::nullopt;
                 const fs::path p = dir.path() / (name + ".yaml");
                 write_file(p, workload_yaml("", std::nullopt));
                 return run_in(dir, {"bench", p.string(), "--check-only"});
               },
               true, true});
  e.push_back({"inline workload in a run config",
               [](const TempDir& dir, const std::string& name) -> std::optional<Outcome> {
                 write_file(dir.path() / "run.yaml", inline_config(dir, name));
                 return run_in(dir, {"tune", dir.file("run.yaml"), "--simulate", "--quiet"});
               },
               false});
  if (!valid_trace.empty())
    e.push_back({"config stored in a trace given to --resume",
                 [valid_trace](const TempDir& dir, const std::string& name) -> std::optional<Outcome> {
                   const std::string h5 = dir.file("resumed.h5");
                   fs::copy_file(valid_trace, h5, fs::copy_options::overwrite_existing);
                   set_trace_config(h5, inline_config(dir, name));
                   return run_in(dir, {"tune", "--resume", h5, "--budget", "4", "--quiet"});
                 },
                 false});
  return e;
}

// A simulated trace of a valid run, made once; the resume cases rewrite a copy's config.
class InjectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    write_file(dir_->path() / "run.yaml", inline_config(*dir_, "good"));
    const Outcome r = run_in(*dir_, {"tune", dir_->file("run.yaml"), "--simulate", "--quiet"});
    if (r.r.exit_code == 0) trace_ = dir_->file("run.h5");
    setup_output_ = r.r.output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static TempDir* dir_;
  static std::string trace_;
  static std::string setup_output_;
};
TempDir* InjectionTest::dir_ = nullptr;
std::string InjectionTest::trace_;
std::string InjectionTest::setup_output_;

void expect_refused(const Outcome& run, const std::string& what, const std::string& place) {
  EXPECT_FALSE(run.pwned) << what << ": the payload ran";
  EXPECT_EQ(run.r.exit_code, 2) << what << "\n" << run.r.output;
  EXPECT_NE(run.r.output.find("rctune: error:"), std::string::npos) << what << "\n" << run.r.output;
  EXPECT_NE(run.r.output.find(place), std::string::npos)
      << what << ": the message names the place (" << place << ")\n"
      << run.r.output;
}

void expect_ok(const Outcome& run, const std::string& what) {
  EXPECT_FALSE(run.pwned) << what << ": the payload ran";
  EXPECT_EQ(run.r.exit_code, 0) << what << "\n" << run.r.output;
  EXPECT_NE(run.r.output.find("status     ok"), std::string::npos) << what << "\n" << run.r.output;
}

// What the case that gives payload `p` to the entry labelled `entry` is called in messages.
std::string case_label(const std::string& entry, const Payload& p) {
  return entry + " <- " + p.label + " (" + shown(p.text) + ")";
}

// One payload given to one entry: what it gave (nullopt where the entry cannot take the payload,
// such as a file name holding a '/'), under the case's label.
using CaseCheck =
    std::function<void(const NameEntry&, const Payload&, const std::optional<Outcome>&, const std::string&)>;

// Gives each payload to each entry, each case in a fresh directory, and checks what it gave.
void run_every_case(const std::vector<NameEntry>& entries, const std::vector<Payload>& payloads,
                    const CaseCheck& check) {
  for (const NameEntry& entry : entries) {
    for (const Payload& p : payloads) {
      TempDir dir;
      check(entry, p, entry.run(dir, p.text), case_label(entry.label, p));
    }
  }
}

TEST_F(InjectionTest, AWorkloadNameThatCouldBreakOutOfACommentIsRefusedAtEveryEntry) {
  ASSERT_FALSE(trace_.empty()) << "the valid run for the --resume cases failed:\n" << setup_output_;
  run_every_case(name_entries(trace_), hostile_workload_names(),
                 [](const NameEntry& entry, const Payload& p, const std::optional<Outcome>& run,
                    const std::string& what) {
                   if (!run) return;
                   expect_refused(*run, what, "name");
                   // The message shows the name escaped: the raw bytes never reach the terminal.
                   if (!entry.in_path && p.text.find_first_of("\n\r") != std::string::npos) {
                     EXPECT_EQ(run->r.output.find(p.text), std::string::npos) << what << "\n"
                                                                              << run->r.output;
                   }
                 });
}

// The entries above that tune do so with simulated measurement (fast; nothing is compiled). The
// issue's reproduction through a real tune and a real trace's --resume, where the old code compiled
// and ran the payload.
TEST(Injection, TheIssueReproductionIsRefusedByARealTuneAndByResumingARealTrace) {
  TempDir dir;
  write_file(dir.path() / "good.yaml", inline_config(dir, "good"));
  const Outcome made = run_in(dir, {"tune", dir.file("good.yaml"), "--budget", "1", "--quiet"});
  ASSERT_EQ(made.r.exit_code, 0) << made.r.output;
  const std::string name = hostile_workload_names().at(0).text;

  TempDir fresh;
  write_file(fresh.path() / "run.yaml", inline_config(fresh, name));
  expect_refused(run_in(fresh, {"tune", fresh.file("run.yaml"), "--budget", "1", "--quiet"}), "tune", "name");

  const std::string h5 = dir.file("resumed.h5");
  fs::copy_file(dir.file("run.h5"), h5);
  set_trace_config(h5, inline_config(dir, name));
  expect_refused(run_in(dir, {"tune", "--resume", h5, "--budget", "2", "--quiet"}), "tune --resume", "name");
}

// Compiler flags that run a program, load code or read files: a config (or the config stored in a
// trace) may come from others, so measure.flags takes code-generation flags only.
std::vector<Payload> hostile_compiler_flags() {
  return {
      {"-wrapper", "-O2 -wrapper sh,-c,touch${IFS}PWNED"},
      {"-fplugin=", "-fplugin=./evil.so"},
      {"response file", "@args.txt"},
      {"-B", "-B."},
      {"-specs=", "-specs=evil.specs"},
      {"linker option", "-Wl,-rpath,."},
      {"-include", "-include evil.h"},
      {"include path", "-I."},
      {"output", "-o PWNED"},
      {"profile output", "-fprofile-generate=."},
      {"line feed", "-O2\n-wrapper"},
  };
}

// Entry points of measure.flags: a run config, and the config stored in a trace given to --resume.
std::vector<NameEntry> flags_entries(const std::string& valid_trace) {
  std::vector<NameEntry> e;
  e.push_back({"measure.flags of a run config",
               [](const TempDir& dir, const std::string& flags) -> std::optional<Outcome> {
                 write_file(dir.path() / "run.yaml", inline_config(dir, "good", flags));
                 return run_in(dir, {"tune", dir.file("run.yaml"), "--simulate", "--quiet"});
               },
               false});
  e.push_back({"measure.flags of the config stored in a trace given to --resume",
               [valid_trace](const TempDir& dir, const std::string& flags) -> std::optional<Outcome> {
                 const std::string h5 = dir.file("resumed.h5");
                 fs::copy_file(valid_trace, h5, fs::copy_options::overwrite_existing);
                 set_trace_config(h5, inline_config(dir, "good", flags));
                 return run_in(dir, {"tune", "--resume", h5, "--budget", "4", "--quiet"});
               },
               false});
  return e;
}

TEST_F(InjectionTest, ACompilerFlagThatRunsAProgramOrLoadsCodeIsRefusedInConfigsAndTraces) {
  ASSERT_FALSE(trace_.empty()) << "the valid run for the --resume cases failed:\n" << setup_output_;
  run_every_case(
      flags_entries(trace_), hostile_compiler_flags(),
      [](const NameEntry&, const Payload&, const std::optional<Outcome>& run, const std::string& what) {
        ASSERT_TRUE(run) << what;
        expect_refused(*run, what, "measure.flags");
      });
  for (const NameEntry& entry : flags_entries(trace_)) {
    TempDir dir;
    const std::optional<Outcome> ok =
        entry.run(dir, "-O3 -march=native -fopenmp-simd -ffast-math -DNDEBUG -g1");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->r.exit_code, 0) << entry.label << ": code-generation flags are fine\n" << ok->r.output;
  }
}

TEST_F(InjectionTest, AWorkloadNameWithCommentOrStringSyntaxIsHarmlessInTheGeneratedSource) {
  std::vector<NameEntry> compiling;  // the simulated entries never generate source
  for (const NameEntry& entry : name_entries(""))
    if (entry.compiles) compiling.push_back(entry);
  run_every_case(
      compiling, legal_workload_names(),
      [](const NameEntry&, const Payload&, const std::optional<Outcome>& run, const std::string& what) {
        if (run) expect_ok(*run, what);
      });
}

// Both identifier entries in one workload file each: tensors named by the payloads, chained
// through alternating elementwise and reduction stages, or stages whose index variables are the
// payloads (each one a reduction variable somewhere). With a schedule that derives names from the
// user's: split loops (i.0 next to a user index i_0) and a cache buffer (C.local next to a
// tensor C_local).
struct IdentifierEntry {
  std::string label;
  std::string place;  // where a refusal names the name
  std::function<std::string(const std::vector<std::string>&)> yaml;
  std::string schedule;
};

std::vector<IdentifierEntry> identifier_entries() {
  std::vector<IdentifierEntry> e;
  e.push_back({"tensor names", "tensors.",
               [](const std::vector<std::string>& names) {
                 std::string y = "tensors:\n  X: f32[4, 4]\n";
                 for (const auto& n : names) y += "  " + yaml_quoted(n) + ": f32[4, 4]\n";
                 y += "  C_local: f32[4, 4]\n  C: f32[4, 4]\nstages:\n";
                 std::string prev = "X";
                 for (size_t k = 0; k < names.size(); ++k) {
                   const std::string& n = names[k];
                   if (k % 2 == 0)
                     y += "  - " + yaml_quoted(n + "[i, j] = " + prev + "[j, i] * 0.5 + X[i, j]") + "\n";
                   else
                     y += "  - " + yaml_quoted(n + "[i, j] += " + prev + "[i, k] * X[k, j] * 0.25") + "\n";
                   prev = n;
                 }
                 y += "  - " + yaml_quoted("C_local[i, j] = " + prev + "[i, j]") + "\n";
                 y += "  - \"C[i, j] += X[i, k] * C_local[k, j]\"\n";
                 return y;
               },
               "cache_write(C, local)"});
  e.push_back({"index names", "stages[",
               [](const std::vector<std::string>& names) {
                 std::string y = "tensors:\n  X: f32[4, 4]\n  W: f32[4, 4]\n  S: f32[4, 4]\n";
                 for (size_t k = 0; k < names.size(); ++k) y += "  Y" + std::to_string(k) + ": f32[4, 4]\n";
                 y += "stages:\n";
                 for (size_t k = 0; k < names.size(); ++k) {
                   const std::string& a = names[k];
                   const std::string& b = names[(k + 1) % names.size()];
                   const std::string& r = names[(k + 2) % names.size()];
                   y += "  - " +
                        yaml_quoted("Y" + std::to_string(k) + "[" + a + ", " + b + "] += X[" + a + ", " + r +
                                    "] * W[" + r + ", " + b + "]") +
                        "\n";
                 }
                 y += "  - \"S[i, i_0] += X[i, i_1] * W[i_1, i_0]\"\n";
                 return y;
               },
               "split(S, i, [None, 2])"});
  return e;
}

TEST(Injection, IdentifiersThatAreCppWordsOrGeneratorNamesCompileAndComputeTheRightResult) {
  for (const IdentifierEntry& entry : identifier_entries()) {
    TempDir dir;
    write_file(dir.path() / "w.yaml", entry.yaml(cpp_word_identifiers()));
    const Outcome run =
        run_in(dir, {"bench", dir.file("w.yaml"), "--check-only", "--schedule", entry.schedule});
    expect_ok(run, entry.label);
  }
}

TEST(Injection, AnIdentifierThatIsNotLettersDigitsAndUnderscoreIsRefusedAtEveryEntry) {
  for (const IdentifierEntry& entry : identifier_entries()) {
    for (const Payload& p : hostile_identifiers()) {
      TempDir dir;
      write_file(dir.path() / "w.yaml", entry.yaml({"ok_1", p.text, "ok_2"}));
      const Outcome run = run_in(dir, {"bench", dir.file("w.yaml"), "--check-only"});
      expect_refused(run, case_label(entry.label, p), entry.place);
    }
  }
}

// File names reach error messages. A name holding terminal escape sequences (ESC, BEL, CR) is shown
// with those bytes as \xHH by every command, so it cannot move the cursor, rewrite a line or retitle
// the user's terminal.
TEST(Injection, AnEscapeSequenceInAFileNameNeverReachesTheTerminal) {
  TempDir dir;
  const std::string name = dir.file("x\x1b]0;owned\x07\x1b[2J\rrun");
  const std::vector<std::vector<std::string>> commands = {
      {"tune", name + ".yaml"},
      {"tune", "--resume", name + ".h5"},
      {"report", name + ".h5"},
      {"show", name + ".yaml"},
      {"bench", name + ".yaml"},
      {"llm-check", name + ".yaml"},
      {"show", "matmul:M=8,N=8,K=8", "--trace", name + ".sched"}};
  for (const auto& args : commands) {
    const CliResult r = run_rctune_args(args, dir.path().string());
    const std::string what = args[0] + " " + args[1];
    EXPECT_EQ(r.exit_code, 2) << what << "\n" << r.output;
    EXPECT_NE(r.output.find("rctune: error:"), std::string::npos) << what << "\n" << r.output;
    for (char c : {'\x1b', '\x07', '\r'})
      EXPECT_EQ(r.output.find(c), std::string::npos) << what << ": a control byte reached the terminal";
    EXPECT_NE(r.output.find("\\x1b"), std::string::npos) << what << "\n" << r.output;
  }
}

// A trace from someone else: its task names and run attributes reach `report`'s table and CSV (JSON
// escapes them itself) with control bytes shown as \xHH.
TEST(Injection, ATraceWithEscapeSequencesInItsNamesCannotWriteThemToTheTerminal) {
  TempDir dir;
  write_file(dir.path() / "run.yaml", "seed: 1\nbudget: 2\nout: " + dir.file("run.h5") +
                                          "\ntasks:\n  - workload: matmul:M=8,N=8,K=8\n");
  const CliResult made = run_rctune_args({"tune", dir.file("run.yaml"), "--simulate", "--quiet"});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const std::string evil = "x\x1b]0;owned\x07\x1b[2J\r";
  set_string_attribute(dir.file("run.h5"), "/", "host", evil);
  set_string_attribute(dir.file("run.h5"), "/tasks/matmul_M_8_N_8_K_8_dtype_f32", "name", evil);
  for (const char* format : {"table", "csv"}) {
    const CliResult r = run_rctune_args({"report", dir.file("run.h5"), "--format", format});
    ASSERT_EQ(r.exit_code, 0) << format << "\n" << r.output;
    for (char c : {'\x1b', '\x07', '\r'})
      EXPECT_EQ(r.output.find(c), std::string::npos) << format << ": a control byte reached the terminal";
    EXPECT_NE(r.output.find("\\x1b]0;owned"), std::string::npos) << format << "\n" << r.output;
  }
}

}  // namespace
}  // namespace rctune::testing
