// JSON forms of records between ranks (include/rctune/dist/codec.h).
#include "rctune/dist/codec.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "rctune/runlog/fields.h"

namespace rctune::dist {

namespace {

using nlohmann::json;

// A field's JSON value: NaN travels as null, a status as its name.
template <typename T>
json value_to_json(const T& v) {
  if constexpr (std::is_floating_point_v<T>)
    return std::isnan(v) ? json(nullptr) : json(v);
  else if constexpr (std::is_same_v<T, runlog::SampleStatus>)
    return runlog::sample_status_name(v);
  else
    return v;
}

// A field from its JSON value, from another rank: anything but the field's own type (a string, a
// boolean, an integer in the member's range, a number or null) is refused.
template <typename T>
void value_from_json(const json& j, const char* name, T& out) {
  auto refuse = [&](const std::string& expected) {
    throw json::type_error::create(
        302, std::string("field '") + name + "' is not " + expected + ": " + j.dump(), &j);
  };
  if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) refuse("a string");
    out = j.get<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) refuse("a boolean");
    out = j.get<bool>();
  } else if constexpr (std::is_same_v<T, runlog::SampleStatus>) {
    if (!j.is_string()) refuse("a sample status");
    try {
      out = runlog::parse_sample_status(j.get<std::string>());
    } catch (const std::invalid_argument&) {
      refuse("a sample status");
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    if (j.is_null())
      out = runlog::kNaN;
    else if (j.is_number())
      out = j.get<T>();
    else
      refuse("a number");
  } else {
    static_assert(std::is_integral_v<T>, "a record field of a type the codec cannot carry");
    const bool fits = j.is_number_unsigned() ? std::in_range<T>(j.get<uint64_t>())
                                             : j.is_number_integer() && std::in_range<T>(j.get<int64_t>());
    if (!fits) refuse("an integer in range");
    out = j.get<T>();
  }
}

template <typename R>
json record_to_json(const R& r) {
  json j = json::object();
  runlog::for_each_field<R>([&](const char* name, bool, auto access) { j[name] = value_to_json(access(r)); });
  return j;
}

template <typename R>
R record_from_json(const json& j) {
  if (!j.is_object()) throw json::type_error::create(302, "a record is not an object: " + j.dump(), &j);
  R r;
  runlog::for_each_field<R>(
      [&](const char* name, bool, auto access) { value_from_json(j.at(name), name, access(r)); });
  return r;
}

}  // namespace

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json to_json(const runlog::SampleRecord& s) { return record_to_json(s); }
runlog::SampleRecord sample_from_json(const json& j) { return record_from_json<runlog::SampleRecord>(j); }
json to_json(const runlog::TreeNode& n) { return record_to_json(n); }
runlog::TreeNode tree_node_from_json(const json& j) { return record_from_json<runlog::TreeNode>(j); }
json to_json(const runlog::BestSchedule& b) { return record_to_json(b); }
runlog::BestSchedule best_from_json(const json& j) { return record_from_json<runlog::BestSchedule>(j); }
json to_json(const runlog::LlmCallRecord& c) { return record_to_json(c); }
runlog::LlmCallRecord llm_call_from_json(const json& j) { return record_from_json<runlog::LlmCallRecord>(j); }
json to_json(const runlog::RankStats& r) { return record_to_json(r); }
runlog::RankStats rank_stats_from_json(const json& j) { return record_from_json<runlog::RankStats>(j); }

json to_json(const search::RootStatistic& r) {
  return json{{"hash", r.hash}, {"visits", r.visits}, {"value", r.value}};
}

search::RootStatistic root_statistic_from_json(const json& j) {
  search::RootStatistic r;
  value_from_json(j.at("hash"), "hash", r.hash);
  value_from_json(j.at("visits"), "visits", r.visits);
  value_from_json(j.at("value"), "value", r.value);
  return r;
}

}  // namespace rctune::dist
