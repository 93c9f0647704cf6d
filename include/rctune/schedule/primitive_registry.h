// The registry of primitives: for each, its signature, documentation and how to apply a step of it.
// Each primitive's file (src/schedule/primitive/<name>.cpp) fills in its own entry; the trace
// parser checks calls against the signatures, replay applies steps through `apply`, and the
// reference text (docs, the LLM's system prompt) is generated from the descriptions.
#pragma once

#include <string>
#include <vector>

#include "rctune/schedule/state.h"
#include "rctune/schedule/step.h"

namespace rctune::schedule {

struct PrimitiveParam {
  enum class Kind {
    Stage,    // a stage name
    Tensor,   // a tensor name
    Loop,     // a loop name of the stage
    Loops,    // one or more loop names (the rest of the positional arguments, or a list)
    Stages,   // zero or more stage names (the rest of the positional arguments, or a list)
    Factors,  // a list of integers, the first may be None; a single integer f means [None, f]
    Scope,    // local | shared | heap
    Level,    // league | team | vector
  } kind;
  std::string name;
};

struct PrimitiveInfo {
  Primitive id = Primitive::Split;
  std::string name;
  std::vector<PrimitiveParam> params;
  std::string signature;    // "split(stage, loop, factors)"
  std::string description;  // one line
  std::string legality;     // when it is refused
  std::string example;      // a valid call
  // Applies a step of this primitive (its arguments match params); throws the primitive's
  // PrimitiveError when it is illegal.
  State (*apply)(const State& s, const Step& step) = nullptr;
};

// In the order of Primitive.
const std::vector<PrimitiveInfo>& primitive_registry();
const PrimitiveInfo* find_primitive(const std::string& name);  // nullptr if unknown
const PrimitiveInfo& primitive_info(Primitive p);

// Reference text of the language: syntax, naming, then for each primitive its signature,
// description, legality rules and an example.
std::string primitive_reference();

}  // namespace rctune::schedule
