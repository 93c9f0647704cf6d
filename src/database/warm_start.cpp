// A task's start from the tuning database (include/rctune/database/warm_start.h).
#include "rctune/database/warm_start.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

namespace rctune::database {

namespace {

// "matmul:M=8,N=16,dtype=f32" -> {M: 8, N: 16, dtype: f32}; the operator in `op`.
std::map<std::string, std::string> spec_params(const std::string& spec, std::string& op) {
  std::map<std::string, std::string> params;
  const size_t colon = spec.find(':');
  op = spec.substr(0, colon);
  if (colon == std::string::npos) return params;
  size_t pos = colon + 1;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string::npos) comma = spec.size();
    const std::string item = spec.substr(pos, comma - pos);
    const size_t eq = item.find('=');
    if (eq != std::string::npos) params[item.substr(0, eq)] = item.substr(eq + 1);
    pos = comma + 1;
  }
  return params;
}

std::optional<double> positive_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !(v > 0) || !std::isfinite(v)) return std::nullopt;
  return v;
}

// The fastest record of each schedule, fastest first, at most k.
std::vector<TuningRecord> fastest_schedules(std::vector<TuningRecord> records, size_t k) {
  std::stable_sort(records.begin(), records.end(),
                   [](const TuningRecord& a, const TuningRecord& b) { return a.seconds < b.seconds; });
  std::vector<TuningRecord> out;
  std::set<std::string> seen;
  for (TuningRecord& r : records) {
    if (out.size() == k) break;
    if (seen.insert(r.schedule).second) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

std::optional<double> spec_distance(const std::string& a, const std::string& b) {
  if (operator_of(a).empty() || operator_of(b).empty()) return std::nullopt;  // hand-written workloads
  std::string op_a, op_b;
  const auto pa = spec_params(a, op_a), pb = spec_params(b, op_b);
  if (op_a != op_b || op_a.empty() || pa.size() != pb.size()) return std::nullopt;
  double d = 0;
  for (const auto& [name, va] : pa) {
    const auto it = pb.find(name);
    if (it == pb.end()) return std::nullopt;
    const auto na = positive_number(va), nb = positive_number(it->second);
    if (na && nb)
      d += std::abs(std::log(*na / *nb));
    else if (va != it->second)
      return std::nullopt;
  }
  return d;
}

WarmStart warm_start(const Database& db, const Key& key, size_t k) {
  WarmStart w;
  w.exact = db.best(key, k);
  std::vector<TuningRecord> elsewhere;
  for (const TuningRecord& r : db.all())
    if (r.workload == key.workload && r.hardware.id != key.hardware) elsewhere.push_back(r);
  w.other_hardware = fastest_schedules(std::move(elsewhere), k);
  // Neighbours: the closest shapes first.
  std::vector<std::pair<double, TuningRecord>> near;
  for (TuningRecord& r : db.neighbours(operator_of(key.workload), key.hardware)) {
    if (r.workload == key.workload) continue;
    if (const auto d = spec_distance(key.workload, r.workload)) near.emplace_back(*d, std::move(r));
  }
  std::stable_sort(near.begin(), near.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  for (auto& [d, r] : near) {
    if (w.neighbours.size() == k) break;
    w.neighbours.push_back(std::move(r));
  }
  return w;
}

}  // namespace rctune::database
