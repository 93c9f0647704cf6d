// Small ONNX graphs for the tests, built with the protobuf API: weights are graph inputs, scalars
// are initializers, every node's output is "<name>_out".
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "rctune/model/extract.h"
#include "rctune/model/onnx_graph.h"

namespace rctune::testing {

// A dimension: a size, or a symbolic name.
struct Dim {
  int64_t value = -1;
  std::string name;
  Dim(int v) : value(v) {}
  Dim(const char* n) : name(n) {}
};

class GraphBuilder {
 public:
  explicit GraphBuilder(int64_t opset = 17) {
    model_.set_ir_version(8);
    auto* imp = model_.add_opset_import();
    imp->set_domain("");
    imp->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }

  std::string input(const std::string& name, std::vector<Dim> shape,
                    int32_t elem = onnx::TensorProto::FLOAT) {
    auto* v = model_.mutable_graph()->add_input();
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(elem);
    auto* s = t->mutable_shape();
    for (const Dim& d : shape) {
      auto* dim = s->add_dim();
      if (d.name.empty())
        dim->set_dim_value(d.value);
      else
        dim->set_dim_param(d.name);
    }
    return name;
  }

  std::string scalar(float value) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name("const_" + std::to_string(++constants_));
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_float_data(value);
    return t->name();
  }

  std::string ints(std::vector<int64_t> values) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name("ints_" + std::to_string(++constants_));
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) t->add_int64_data(v);
    return t->name();
  }

  // Adds a node; its output is returned and becomes the graph's output unless another node reads it.
  std::string op(const std::string& type, std::vector<std::string> inputs, const std::string& name = "") {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(type);
    n->set_name(name.empty() ? type + "_" + std::to_string(model_.graph().node_size()) : name);
    for (const auto& in : inputs) n->add_input(in);
    n->add_output(n->name() + "_out");
    last_ = n;
    return n->output(0);
  }

  // A node of another operator domain (imported at version 1 the first time).
  std::string domain_op(const std::string& domain, const std::string& type, std::vector<std::string> inputs) {
    bool imported = false;
    for (const auto& imp : model_.opset_import()) imported |= imp.domain() == domain;
    if (!imported) {
      auto* imp = model_.add_opset_import();
      imp->set_domain(domain);
      imp->set_version(1);
    }
    std::string out = op(type, std::move(inputs));
    last_->set_domain(domain);
    return out;
  }

  GraphBuilder& attr(const std::string& name, int64_t v) {
    auto* a = add_attr(name, onnx::AttributeProto::INT);
    a->set_i(v);
    return *this;
  }
  GraphBuilder& attr(const std::string& name, float v) {
    auto* a = add_attr(name, onnx::AttributeProto::FLOAT);
    a->set_f(v);
    return *this;
  }
  GraphBuilder& attr(const std::string& name, std::initializer_list<int64_t> v) {
    auto* a = add_attr(name, onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
    return *this;
  }

  void output(const std::string& value, int32_t elem = onnx::TensorProto::FLOAT) {
    auto* v = model_.mutable_graph()->add_output();
    v->set_name(value);
    v->mutable_type()->mutable_tensor_type()->set_elem_type(elem);
  }

  onnx::ModelProto& proto() { return model_; }
  std::string bytes() const { return model_.SerializeAsString(); }

  model::LoadedModel load(const model::DimBindings& dims = {}, const model::ModelLimits& limits = {}) {
    return model::prepare_model(bytes(), "test.onnx", dims, limits);
  }
  model::Extraction extract(const model::DimBindings& dims = {}) { return model::extract_tasks(load(dims)); }

 private:
  onnx::AttributeProto* add_attr(const std::string& name, onnx::AttributeProto::AttributeType type) {
    auto* a = last_->add_attribute();
    a->set_name(name);
    a->set_type(type);
    return a;
  }

  onnx::ModelProto model_;
  onnx::NodeProto* last_ = nullptr;
  int constants_ = 0;
};

// The workloads of an extraction, in order, with their weights: "spec x2".
inline std::vector<std::string> task_lines(const model::Extraction& e) {
  std::vector<std::string> lines;
  for (const auto& t : e.tasks) lines.push_back(t.workload + " x" + std::to_string(t.weight));
  return lines;
}

// The not-tuned list: "Op x2: reason".
inline std::vector<std::string> not_tuned_lines(const model::Extraction& e) {
  std::vector<std::string> lines;
  for (const auto& n : e.not_tuned)
    lines.push_back(n.op_type + " x" + std::to_string(n.count) + ": " + n.reason);
  return lines;
}

}  // namespace rctune::testing
