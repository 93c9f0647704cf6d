#include <iostream>
#include <memory>

#include "rctune/apps/commands.h"
#include "rctune/codegen/kokkos.h"
#include "rctune/config/workload_file.h"
#include "rctune/ir/stmt.h"
#include "rctune/runtime/evaluate.h"
#include "rctune/schedule/error.h"
#include "rctune/schedule/lower.h"

namespace rctune::apps {

std::string schedule_text_of(const std::string& trace_file, const std::string& schedule_text) {
  if (!trace_file.empty()) return read_text_file(trace_file, "the schedule trace (--trace)");
  std::string s = schedule_text;
  for (auto& c : s)
    if (c == ';') c = '\n';
  return s;
}

runtime::ScheduledProgram program_or_explain(const ir::Workload& w, const std::string& text,
                                             const std::string& trace_file) {
  try {
    return runtime::build_program(w, text);
  } catch (const schedule::ScheduleError& e) {
    throw std::runtime_error("illegal schedule in " +
                             (trace_file.empty() ? std::string("--schedule") : trace_file) + ": " + e.what());
  }
}

int run_show(const ShowArgs& a) {
  ir::Workload w = config::load_workload(a.workload);
  std::cout << ir::to_string(w) << "\n";
  schedule::State initial(std::make_shared<const ir::Workload>(w));
  std::cout << "# before scheduling\n" << ir::to_string(schedule::lower(initial)) << "\n";
  std::string text = schedule_text_of(a.trace_file, a.schedule_text);
  runtime::ScheduledProgram c = program_or_explain(w, text, a.trace_file);
  if (!text.empty()) {
    std::cout << "# schedule\n";
    for (const auto& step : c.state.trace()) std::cout << schedule::to_text(step) << "\n";
    std::cout << "\n# after scheduling\n" << ir::to_string(c.lowered) << "\n";
  }
  if (a.print_source) std::cout << "# generated Kokkos source\n" << c.kernel.code << "\n";
  if (a.print_reference) std::cout << "# reference source\n" << codegen::generate_reference(w).code << "\n";
  return 0;
}

}  // namespace rctune::apps
