// Each record of the run log lists its fields once, here: the HDF5 compound types and row
// conversion (src/runlog/h5util.h), the JSON form that carries records between ranks
// (rctune/dist/codec.h) and the records' equality are derived from these lists.
//
// Adding a field to a record: declare the member in runlog.h and add one line to its list below.
// The order of a list is the order of the columns in the file (docs/trace-format.md); a column
// added after the first version of the format is `added_later` (absent in older files, read as
// the member's zero value).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "rctune/ir/check.h"
#include "rctune/runlog/runlog.h"

namespace rctune::runlog {

// One column: its name (in the file and on the wire) and the member that holds it.
template <typename R, typename T>
struct Field {
  const char* name;
  T R::*member;
  bool added_later = false;
};

template <typename R, typename T>
constexpr Field<R, T> field(const char* name, T R::*member) {
  return {name, member, false};
}
template <typename R, typename T>
constexpr Field<R, T> field_added_later(const char* name, T R::*member) {
  return {name, member, true};
}

// The columns of a member record, in place (a row of a rank tree: the rank, then a tree node's).
template <typename R, typename S>
struct Inline {
  S R::*member;
};
template <typename R, typename S>
constexpr Inline<R, S> inline_fields(S R::*member) {
  return {member};
}

// FieldList<R>::value: a std::tuple of Field and Inline entries, one per column, in file order.
template <typename R>
struct FieldList;

template <>
struct FieldList<SampleRecord> {
  using R = SampleRecord;
  static constexpr auto value = std::tuple{
      field("index", &R::index),
      field("wall_time", &R::wall_time),
      field("rank", &R::rank),
      field("strategy", &R::strategy),
      field("proposer", &R::proposer),
      field("node", &R::node),
      field("parent_node", &R::parent_node),
      field("trace", &R::trace),
      field("rationale", &R::rationale),
      field("structural_hash", &R::structural_hash),
      field("status", &R::status),
      field("error", &R::error),
      field("cached", &R::cached),
      field("median_s", &R::median_s),
      field("min_s", &R::min_s),
      field("max_s", &R::max_s),
      field("iqr_s", &R::iqr_s),
      field("gflops", &R::gflops),
      field("predicted", &R::predicted),
      field("compile_s", &R::compile_s),
  };
};

template <>
struct FieldList<TreeNode> {
  using R = TreeNode;
  static constexpr auto value = std::tuple{
      field("id", &R::id),         field("parent", &R::parent),
      field("action", &R::action), field("visits", &R::visits),
      field("value", &R::value),   field("best_gflops", &R::best_gflops),
      field("sample", &R::sample), field_added_later("structural_hash", &R::structural_hash),
  };
};

template <>
struct FieldList<BestSchedule> {
  using R = BestSchedule;
  static constexpr auto value = std::tuple{
      field("sample", &R::sample),   field("wall_time", &R::wall_time), field("trace", &R::trace),
      field("program", &R::program), field("gflops", &R::gflops),       field("median_s", &R::median_s),
      field("speedup", &R::speedup),
  };
};

template <>
struct FieldList<LlmCallRecord> {
  using R = LlmCallRecord;
  static constexpr auto value = std::tuple{
      field("index", &R::index),
      field("wall_time", &R::wall_time),
      field("rank", &R::rank),
      field("node", &R::node),
      field("model", &R::model),
      field("prompt_tokens", &R::prompt_tokens),
      field("completion_tokens", &R::completion_tokens),
      field("latency_s", &R::latency_s),
      field("cost_usd", &R::cost_usd),
      field("ok", &R::ok),
      field("from_cache", &R::from_cache),
      field("fallback", &R::fallback),
      field("proposals", &R::proposals),
      field("legal", &R::legal),
      field("error", &R::error),
  };
};

template <>
struct FieldList<RankStats> {
  using R = RankStats;
  static constexpr auto value = std::tuple{
      field("rank", &R::rank),           field("host", &R::host),         field("group", &R::group),
      field("node_rank", &R::node_rank), field("pin_core", &R::pin_core), field("samples", &R::samples),
      field("wall_s", &R::wall_s),       field("search_s", &R::search_s), field("measure_s", &R::measure_s),
      field("comm_s", &R::comm_s),       field("merge_s", &R::merge_s),
  };
};

template <>
struct FieldList<AllocationRecord> {
  using R = AllocationRecord;
  static constexpr auto value = std::tuple{
      field("round", &R::round),         field("wall_time", &R::wall_time),
      field("group", &R::group),         field("task", &R::task),
      field("scheduler", &R::scheduler), field("reason", &R::reason),
      field("priority", &R::priority),   field("samples", &R::samples),
      field("spent", &R::spent),         field("task_best_s", &R::task_best_s),
      field("latency_s", &R::latency_s),
  };
};

namespace fields_detail {

template <typename R, typename Access, typename F, typename Entry>
void visit_entry(const Access& access, F& f, const Entry& e);

template <typename R, typename Access, typename F>
void visit_all(const Access& access, F& f) {
  std::apply([&](const auto&... e) { (visit_entry<R>(access, f, e), ...); }, FieldList<R>::value);
}

template <typename R, typename Access, typename F, typename Entry>
void visit_entry(const Access& access, F& f, const Entry& e) {
  if constexpr (requires { e.name; }) {
    auto member = e.member;
    f(
        e.name, e.added_later, [ access, member ](auto& r) -> auto& { return access(r).*member; });
  } else {
    auto member = e.member;
    using S = std::remove_cvref_t<decltype(std::declval<R&>().*member)>;
    visit_all<S>(
        [ access, member ](auto& r) -> auto& { return access(r).*member; }, f);
  }
}

}  // namespace fields_detail

// Calls f(name, added_later, access) for each column of R in file order; access(record) is the
// column's member of a record (const or not).
template <typename R, typename F>
void for_each_field(F&& f) {
  fields_detail::visit_all<R>(
      [](auto& r) -> auto& { return r; }, f);
}

// Whether two records have equal fields, NaN equal to NaN.
template <typename R>
bool same_fields(const R& a, const R& b) {
  bool same = true;
  for_each_field<R>([&](const char*, bool, auto access) {
    const auto& x = access(a);
    const auto& y = access(b);
    if constexpr (std::is_floating_point_v<std::remove_cvref_t<decltype(x)>>)
      same = same && (x == y || (std::isnan(x) && std::isnan(y)));
    else
      same = same && x == y;
  });
  return same;
}

// Copies each field of `from` to the field of `to` of the same name (a sample recorded from a
// candidate and its measurement, a measurement read back from a sample). Two fields of one name
// have one type.
template <typename To, typename From>
void copy_matching_fields(To& to, const From& from) {
  for_each_field<From>([&](const char* name, bool, auto get_from) {
    using T = std::remove_cvref_t<decltype(get_from(from))>;
    for_each_field<To>([&](const char* to_name, bool, auto get_to) {
      if (std::strcmp(name, to_name) != 0) return;
      if constexpr (std::is_same_v<T, std::remove_cvref_t<decltype(get_to(to))>>)
        get_to(to) = get_from(from);
      else
        RCTUNE_CHECK(!"fields of one name and different types");
    });
  });
}

}  // namespace rctune::runlog
