#include "rctune/runtime/protocol.h"

#include "rctune/ir/limits.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace rctune::runtime {

using nlohmann::json;

const char* role_name(BufferRole r) {
  switch (r) {
    case BufferRole::Input:
      return "input";
    case BufferRole::Intermediate:
      return "intermediate";
    case BufferRole::Output:
      return "output";
  }
  return "input";
}

static BufferRole parse_role(const std::string& s) {
  for (BufferRole r : {BufferRole::Input, BufferRole::Intermediate, BufferRole::Output})
    if (s == role_name(r)) return r;
  throw std::invalid_argument("unknown buffer role '" + s + "' (expected input, intermediate or output)");
}

int64_t BufferSpec::num_elements() const {
  // Saturates instead of overflowing; request_from_json refuses such shapes.
  return ir::checked_product(shape).value_or(INT64_MAX);
}

ResolvedTolerance default_tolerance(const std::string& dtype, int64_t reduction_length, double ref_rms,
                                    const Tolerance& overrides) {
  const double base = dtype == "f64" ? 1e-10 : 1e-4;
  const double len = static_cast<double>(std::max<int64_t>(reduction_length, 1));
  ResolvedTolerance t;
  t.rtol = overrides.rtol.value_or(base * std::sqrt(len));
  t.atol = overrides.atol.value_or(base * std::sqrt(len) * std::max(ref_rms, 1e-3));
  return t;
}

TimingStats summarize_times(std::vector<double> times) {
  TimingStats s;
  if (times.empty()) return s;
  std::sort(times.begin(), times.end());
  const size_t n = times.size();
  // Linear interpolation between order statistics (the usual "type 7" quantile).
  auto quantile = [&](double q) {
    const double pos = q * static_cast<double>(n - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, n - 1);
    const double frac = pos - static_cast<double>(lo);
    return times[lo] + (times[hi] - times[lo]) * frac;
  };
  s.repeats = static_cast<int>(n);
  s.min_s = times.front();
  s.max_s = times.back();
  s.median_s = quantile(0.5);
  s.iqr_s = quantile(0.75) - quantile(0.25);
  double sum = 0;
  for (double t : times) sum += t;
  s.mean_s = sum / static_cast<double>(n);
  return s;
}

json to_json(const WorkerRequest& r) {
  json bufs = json::array();
  for (const auto& b : r.buffers) {
    bufs.push_back({{"name", b.name}, {"dtype", b.dtype}, {"shape", b.shape}, {"role", role_name(b.role)}});
  }
  json j = {{"op", "measure"},
            {"id", r.id},
            {"buffers", bufs},
            {"reference_so", r.reference_so},
            {"kernel_so", r.kernel_so},
            {"seed", r.seed},
            {"reduction_length", r.reduction_length},
            {"timing",
             {{"warmup", r.timing.warmup},
              {"min_time_s", r.timing.min_time_s},
              {"min_repeats", r.timing.min_repeats},
              {"max_repeats", r.timing.max_repeats}}},
            {"pin_core", r.pin_core},
            {"flush_cache", r.flush_cache},
            {"check_only", r.check_only},
            {"time_budget_s", r.time_budget_s}};
  json tol = json::object();
  if (r.tolerance.atol) tol["atol"] = *r.tolerance.atol;
  if (r.tolerance.rtol) tol["rtol"] = *r.tolerance.rtol;
  j["tolerance"] = tol;
  if (!r.test_fault.empty()) j["test_fault"] = r.test_fault;
  return j;
}

WorkerRequest request_from_json(const json& j) {
  WorkerRequest r;
  r.id = j.value("id", uint64_t{0});
  for (const auto& b : j.at("buffers")) {
    BufferSpec s;
    s.name = b.at("name").get<std::string>();
    s.dtype = b.value("dtype", std::string("f32"));
    if (s.dtype != "f32" && s.dtype != "f64") {
      throw std::invalid_argument("buffer '" + s.name + "': unknown dtype '" + s.dtype +
                                  "' (expected f32 or f64)");
    }
    s.shape = b.at("shape").get<std::vector<int64_t>>();
    for (int64_t d : s.shape) {
      if (d < 0) throw std::invalid_argument("buffer '" + s.name + "': negative extent");
    }
    auto n = ir::checked_product(s.shape);
    if (!n || *n > ir::kMaxElements) {
      throw std::invalid_argument("buffer '" + s.name +
                                  "': " + (n ? std::to_string(*n) : std::string("more than 2^63")) +
                                  " elements (the limit is 2^56)");
    }
    s.role = parse_role(b.value("role", std::string("input")));
    r.buffers.push_back(std::move(s));
  }
  r.reference_so = j.value("reference_so", std::string());
  r.kernel_so = j.at("kernel_so").get<std::string>();
  r.seed = j.value("seed", uint64_t{1});
  r.reduction_length = j.value("reduction_length", int64_t{1});
  if (j.contains("tolerance")) {
    const auto& t = j["tolerance"];
    if (t.contains("atol") && !t["atol"].is_null()) r.tolerance.atol = t["atol"].get<double>();
    if (t.contains("rtol") && !t["rtol"].is_null()) r.tolerance.rtol = t["rtol"].get<double>();
  }
  if (j.contains("timing")) {
    const auto& t = j["timing"];
    r.timing.warmup = t.value("warmup", r.timing.warmup);
    r.timing.min_time_s = t.value("min_time_s", r.timing.min_time_s);
    r.timing.min_repeats = t.value("min_repeats", r.timing.min_repeats);
    r.timing.max_repeats = t.value("max_repeats", r.timing.max_repeats);
  }
  r.pin_core = j.value("pin_core", -1);
  r.flush_cache = j.value("flush_cache", false);
  r.check_only = j.value("check_only", false);
  r.time_budget_s = j.value("time_budget_s", 0.0);
  r.test_fault = j.value("test_fault", std::string());
  return r;
}

// JSON has no NaN or infinity: they travel as the strings "nan", "inf" and "-inf".
static json jnum(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

json to_json(const WorkerResponse& r) {
  return {{"id", r.id},
          {"status", status_name(r.status)},
          {"message", r.message},
          {"reference_cached", r.reference_cached},
          {"times",
           {{"median_s", jnum(r.times.median_s)},
            {"min_s", jnum(r.times.min_s)},
            {"max_s", jnum(r.times.max_s)},
            {"mean_s", jnum(r.times.mean_s)},
            {"iqr_s", jnum(r.times.iqr_s)},
            {"repeats", r.times.repeats},
            {"batch", r.times.batch}}},
          {"errors",
           {{"max_abs", jnum(r.errors.max_abs)},
            {"max_rel", jnum(r.errors.max_rel)},
            {"first_bad_buffer", r.errors.first_bad_buffer},
            {"first_bad_index", r.errors.first_bad_index},
            {"expected", jnum(r.errors.expected)},
            {"got", jnum(r.errors.got)},
            {"atol", jnum(r.errors.atol)},
            {"rtol", jnum(r.errors.rtol)},
            {"bad_count", r.errors.bad_count}}}};
}

static double num(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nan("");
  if (j[key].is_string()) {
    const std::string v = j[key].get<std::string>();
    if (v == "inf") return std::numeric_limits<double>::infinity();
    if (v == "-inf") return -std::numeric_limits<double>::infinity();
    return std::nan("");
  }
  return j[key].get<double>();
}

WorkerResponse response_from_json(const json& j) {
  WorkerResponse r;
  r.id = j.value("id", uint64_t{0});
  r.status = parse_status(j.at("status").get<std::string>());
  if (r.status == Status::Illegal) throw std::invalid_argument("a worker's status cannot be 'illegal'");
  r.message = j.value("message", std::string());
  r.reference_cached = j.value("reference_cached", false);
  if (j.contains("times")) {
    const auto& t = j["times"];
    r.times.median_s = num(t, "median_s");
    r.times.min_s = num(t, "min_s");
    r.times.max_s = num(t, "max_s");
    r.times.mean_s = num(t, "mean_s");
    r.times.iqr_s = num(t, "iqr_s");
    r.times.repeats = t.value("repeats", 0);
    r.times.batch = t.value("batch", 1);
  }
  if (j.contains("errors")) {
    const auto& e = j["errors"];
    r.errors.max_abs = num(e, "max_abs");
    r.errors.max_rel = num(e, "max_rel");
    r.errors.first_bad_buffer = e.value("first_bad_buffer", std::string());
    r.errors.first_bad_index = e.value("first_bad_index", int64_t{-1});
    r.errors.expected = num(e, "expected");
    r.errors.got = num(e, "got");
    r.errors.atol = num(e, "atol");
    r.errors.rtol = num(e, "rtol");
    r.errors.bad_count = e.value("bad_count", int64_t{0});
  }
  return r;
}

}  // namespace rctune::runtime
