#include "rctune/schedule/step.h"

#include "rctune/ir/check.h"
#include "rctune/schedule/primitive_registry.h"

namespace rctune::schedule {

namespace {

// The argument of parameter i, which must hold a T.
template <typename T>
const T& arg_as(const Step& step, size_t i) {
  RCTUNE_CHECK(i < step.args.size());
  const T* v = std::get_if<T>(&step.args[i]);
  RCTUNE_CHECK(v != nullptr);
  return *v;
}

std::string factor_text(const std::optional<int64_t>& f) { return f ? std::to_string(*f) : "None"; }

}  // namespace

const std::string& primitive_name(Primitive p) { return primitive_info(p).name; }

const std::string& Step::name(size_t i) const { return arg_as<std::string>(*this, i); }

const std::vector<std::string>& Step::names(size_t i) const {
  return arg_as<std::vector<std::string>>(*this, i);
}

std::vector<int64_t> Step::factors(size_t i) const {
  std::vector<int64_t> out;
  for (const auto& f : arg_as<Factors>(*this, i)) out.push_back(f ? *f : kInferredFactor);
  return out;
}

Factors to_step_factors(const std::vector<int64_t>& factors) {
  Factors out;
  for (int64_t f : factors) out.push_back(f == kInferredFactor ? std::nullopt : std::optional<int64_t>(f));
  return out;
}

std::string to_text(const Step& step) {
  std::string out = primitive_name(step.primitive) + "(";
  bool first = true;
  auto add = [&](const std::string& v) {
    if (!first) out += ", ";
    first = false;
    out += v;
  };
  for (const StepArg& a : step.args) {
    if (const auto* name = std::get_if<std::string>(&a)) {
      add(*name);
    } else if (const auto* names = std::get_if<std::vector<std::string>>(&a)) {
      for (const auto& n : *names) add(n);
    } else {
      std::string list = "[";
      const Factors& fs = std::get<Factors>(a);
      for (size_t k = 0; k < fs.size(); ++k) list += (k ? ", " : "") + factor_text(fs[k]);
      add(list + "]");
    }
  }
  return out + ")";
}

}  // namespace rctune::schedule
