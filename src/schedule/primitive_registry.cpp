#include "rctune/schedule/primitive_registry.h"

#include "rctune/ir/check.h"
#include "schedule/primitive/traits.h"

namespace rctune::schedule {

namespace detail {

PrimitiveInfo primitive_traits(std::vector<PrimitiveParam> params, std::string description,
                               std::string legality, std::string example,
                               State (*apply)(const State&, const Step&)) {
  PrimitiveInfo i;
  i.params = std::move(params);
  i.description = std::move(description);
  i.legality = std::move(legality);
  i.example = std::move(example);
  i.apply = apply;
  return i;
}

}  // namespace detail

namespace {

// A primitive's traits under the id and name that RCTUNE_SCHEDULE_PRIMITIVES gives it, with its
// signature made from the name and the parameters: "split(stage, loop, factors)", variadic
// parameters written "loops...".
PrimitiveInfo registry_entry(Primitive id, std::string name, PrimitiveInfo i) {
  i.id = id;
  i.name = std::move(name);
  std::string sig = i.name + "(";
  for (size_t k = 0; k < i.params.size(); ++k) {
    if (k) sig += ", ";
    const bool variadic = i.params[k].kind == detail::PK::Loops || i.params[k].kind == detail::PK::Stages;
    sig += i.params[k].name + (variadic ? "..." : "");
  }
  i.signature = sig + ")";
  return i;
}

std::vector<PrimitiveInfo> build_registry() {
  std::vector<PrimitiveInfo> r = {
#define RCTUNE_PRIMITIVE_TRAITS(id, name) registry_entry(Primitive::id, #name, detail::name##_traits()),
      RCTUNE_SCHEDULE_PRIMITIVES(RCTUNE_PRIMITIVE_TRAITS)
#undef RCTUNE_PRIMITIVE_TRAITS
  };
  for (size_t k = 0; k < r.size(); ++k) {
    RCTUNE_CHECK(r[k].id == static_cast<Primitive>(k));  // the table follows the enumeration
    RCTUNE_CHECK(r[k].apply != nullptr);
  }
  return r;
}

}  // namespace

const std::vector<PrimitiveInfo>& primitive_registry() {
  static const std::vector<PrimitiveInfo> r = build_registry();
  return r;
}

const PrimitiveInfo* find_primitive(const std::string& name) {
  for (const auto& p : primitive_registry()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const PrimitiveInfo& primitive_info(Primitive p) {
  const auto& r = primitive_registry();
  const auto k = static_cast<size_t>(p);
  RCTUNE_CHECK(k < r.size());
  return r[k];
}

std::string primitive_reference() {
  std::string r =
      "Schedule language: one primitive per line, written as a call: name(arg, arg, ...).\n"
      "Arguments are names (stages, tensors, loops, scopes, levels), integers, None, or [lists]; a keyword "
      "form\n"
      "param=value is accepted. '#' starts a comment. Stages are named after the tensor they compute.\n"
      "Loop names: a stage starts with one loop per output axis then one per reduction axis, named after "
      "the\n"
      "index variables (i, j, k). split(S, x, [None, a, b]) replaces x by x.0, x.1, x.2 (outermost first);\n"
      "fuse(S, a, b) replaces a and b by a.b (e.g. i.0.j.0). cache_write(S, local) adds stage S.local;\n"
      "cache_read(T, local, ...) adds stage T.local with loops ax0, ax1, ...; rfactor(S, j.1) adds stage "
      "S.rf\n"
      "with loops named like S's axes plus j_1, j_0 ('.' becomes '_'). A stage placed at a loop that\n"
      "is later split moves to the innermost new loop; stages placed at the same loop run in workload "
      "order.\n\n";
  for (const auto& p : primitive_registry()) {
    r += p.signature + "\n";
    r += "  " + p.description + "\n";
    r += "  Legal when: " + p.legality + "\n";
    r += "  Example: " + p.example + "\n\n";
  }
  return r;
}

}  // namespace rctune::schedule
