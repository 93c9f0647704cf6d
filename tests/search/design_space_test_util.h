// Shared helpers of the design-space tests: a library operator as a workload, and the check that a
// candidate computes what the unscheduled workload computes.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "rctune/ir/operators.h"
#include "rctune/search/candidate.h"
#include "schedule/lower_test_util.h"

namespace rctune::testing {

inline std::shared_ptr<const ir::Workload> op(const std::string& spec) {
  return std::make_shared<const ir::Workload>(ir::make_operator(spec));
}

// Interprets the candidate and compares its outputs with the workload's reference evaluation.
inline ::testing::AssertionResult computes_reference(const search::Candidate& c) {
  return schedule::lowertest::lowered_matches_reference(*c.lowered, *c.state.original_workload_ptr(), 7,
                                                        c.trace);
}

}  // namespace rctune::testing
