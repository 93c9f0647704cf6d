#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rctune/apps/commands.h"
#include "rctune/config/workload_file.h"
#include "rctune/ir/limits.h"
#include "rctune/ir/text.h"
#include "rctune/runtime/evaluate.h"
#include "rctune/schedule/error.h"

namespace fs = std::filesystem;

namespace rctune::apps {

namespace {

runtime::JitOptions jit_options(const BenchArgs& a) {
  runtime::JitOptions o;
  o.cache_dir = a.cache_dir;
  o.flags = a.flags;
  return o;
}

runtime::MeasureOptions measure_options(const BenchArgs& a) {
  runtime::MeasureOptions o;
  o.seed = a.seed;
  o.timing.min_time_s = a.min_time_s;
  o.pin_core = runtime::parse_pin_core(a.pin_core);
  o.flush_cache = a.flush_cache;
  o.timeout_s = a.timeout_s;
  o.check_only = a.check_only;
  return o;
}

using ir::fmt;

nlohmann::json to_json(const std::string& workload, const runtime::Measurement& m) {
  nlohmann::json j;
  j["workload"] = workload;
  j["status"] = runtime::status_name(m.status);
  j["message"] = m.message;
  j["median_s"] = m.times.median_s;
  j["min_s"] = m.times.min_s;
  j["max_s"] = m.times.max_s;
  j["iqr_s"] = m.times.iqr_s;
  j["repeats"] = m.times.repeats;
  j["gflops"] = m.gflops;
  j["compile_s"] = m.compile_seconds;
  j["cache_hit"] = m.cache_hit;
  j["source"] = m.source_path;
  j["max_abs_error"] = m.errors.max_abs;
  j["max_rel_error"] = m.errors.max_rel;
  return j;
}

void print_measurement(const std::string& workload, const runtime::Measurement& m) {
  std::cout << "workload   " << workload << "\n";
  std::cout << "status     " << runtime::status_name(m.status) << "\n";
  if (!m.message.empty()) std::cout << "error      " << m.message << "\n";
  if (m.ok()) {
    std::cout << "median     " << fmt("%.4f", m.times.median_s * 1e3) << " ms  (min "
              << fmt("%.4f", m.times.min_s * 1e3) << ", max " << fmt("%.4f", m.times.max_s * 1e3) << ", IQR "
              << fmt("%.4f", m.times.iqr_s * 1e3) << " ms, " << m.times.repeats << " runs)\n";
    std::cout << "GFLOP/s    " << fmt("%.2f", m.gflops) << "\n";
    std::cout << "max error  abs " << fmt("%.3g", m.errors.max_abs) << ", rel "
              << fmt("%.3g", m.errors.max_rel) << "\n";
  }
  std::cout << "compile    " << fmt("%.3f", m.compile_seconds) << " s" << (m.cache_hit ? " (cached)" : "")
            << (m.used_pch ? " (precompiled Kokkos header)" : "") << "\n";
  if (!m.source_path.empty()) std::cout << "source     " << m.source_path << "\n";
}

}  // namespace

int run_bench(const BenchArgs& a) {
  ir::Workload w = config::load_workload(a.workload);
  std::string text = schedule_text_of(a.trace_file, a.schedule_text);
  runtime::ScheduledProgram c = program_or_explain(w, text, a.trace_file);
  if (std::string why = ir::check_measurement_fits(w); !why.empty()) throw std::runtime_error(why);
  runtime::Measurer measurer(jit_options(a));
  runtime::Measurement m = runtime::evaluate(measurer, c, measure_options(a));
  if (a.format == "json") {
    std::cout << to_json(w.name, m).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    print_measurement(w.name, m);
  }
  return m.ok() ? 0 : 1;
}

std::string example_workload(const std::string& sched_text, const std::string& path, int* line_number) {
  std::istringstream in(sched_text);
  std::string line;
  const std::string key = "# workload:";
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.rfind(key, 0) == 0) {
      if (line_number) *line_number = number;
      std::string spec = line.substr(key.size());
      spec.erase(0, spec.find_first_not_of(" \t"));
      spec.erase(spec.find_last_not_of(" \t\r") + 1);
      if (!spec.empty()) return spec;
    }
  }
  throw std::runtime_error(path + ": no header line \"# workload: SPEC\" naming the workload");
}

int run_bench_examples(const BenchArgs& a) {
  std::vector<fs::path> files;
  std::error_code ec;
  fs::directory_iterator dir(a.examples_dir, ec);
  if (ec)
    throw std::runtime_error(a.examples_dir +
                             ": cannot read the examples directory (--examples): " + ec.message());
  for (const auto& e : dir)
    if (e.path().extension() == ".sched") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw std::runtime_error("no example schedules (*.sched) in " + a.examples_dir);

  // Read every example first: a bad file is reported before anything is measured.
  struct Example {
    fs::path path;
    std::string text;
    ir::Workload workload;
  };
  std::vector<Example> examples;
  int width = 8;
  for (const auto& f : files) {
    std::string text = read_text_file(f.string(), "the example schedule");
    int line = 0;
    const std::string spec = example_workload(text, f.string(), &line);
    ir::Workload w;
    try {
      w = config::load_workload(spec);
    } catch (const std::exception& e) {
      throw std::runtime_error(f.string() + ":" + std::to_string(line) + ": # workload: " + e.what());
    }
    width = std::max(width, static_cast<int>(w.name.size()));
    examples.push_back({f, std::move(text), std::move(w)});
  }

  runtime::Measurer measurer(jit_options(a));
  runtime::MeasureOptions mo = measure_options(a);
  nlohmann::json all = nlohmann::json::array();
  bool table = a.format == "table";
  if (table) {
    std::printf("%-18s %-*s %-13s %12s %10s %12s %9s %9s\n", "example", width, "workload", "status",
                "median ms", "GFLOP/s", "unsched GF/s", "speedup", "compile s");
  }
  int failures = 0;
  for (const auto& [f, text, w] : examples) {
    runtime::Measurement m, base;
    try {
      m = runtime::evaluate(measurer, runtime::build_program(w, text), mo);
      if (!a.check_only) base = runtime::evaluate(measurer, runtime::build_program(w, ""), mo);
    } catch (const schedule::ScheduleError& e) {
      m.status = runtime::Status::CompileError;
      m.message = std::string("illegal schedule: ") + e.what();
    }
    failures += m.ok() ? 0 : 1;
    if (table) {
      std::string compile = m.cache_hit ? "cached" : fmt("%.2f", m.compile_seconds);
      std::printf("%-18s %-*s %-13s %12.3f %10.2f %12.2f %8.2fx %9s\n", f.stem().c_str(), width,
                  w.name.c_str(), runtime::status_name(m.status), m.times.median_s * 1e3, m.gflops,
                  base.gflops, base.gflops > 0 ? m.gflops / base.gflops : 0.0, compile.c_str());
      if (!m.ok()) std::printf("    %s\n", m.message.c_str());
      std::fflush(stdout);
    } else {
      nlohmann::json j = to_json(w.name, m);
      j["example"] = f.stem().string();
      j["unscheduled_gflops"] = base.gflops;
      all.push_back(j);
    }
  }
  if (!table) std::cout << all.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return failures == 0 ? 0 : 1;
}

}  // namespace rctune::apps
