// A block as a list of package calls: each step is a workload spec and its buffers (inputs then
// outputs, in declaration order, intermediates excluded: PACKAGE-API), checked against the package's
// own description of the workload (pkg::tensors_of) when it is made.
#pragma once

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "block_util.hpp"
#include "rctune_package.hpp"

namespace example {

struct Arg {
  const char* name;                 // the buffer's name in the workload ("A", "gamma", "res0", ...)
  std::vector<std::int64_t> shape;  // as the example allocated it
  Buffer* buffer;
};

// One call of the package. pkg::run(spec, ...) looks the spec up on every call (a few microseconds:
// it parses and canonicalises the spec), so a step resolves its tuned kernel once and calls it
// directly; without one, pkg::run computes it with the package's generic kernel.
struct Step {
  std::string spec;
  std::vector<void*> buffers;
  const pkg::KernelInfo* tuned;  // nullptr: not tuned in the package

  void run() const {
    if (tuned)
      tuned->call(buffers.data());
    else
      pkg::run(spec, buffers.data());
  }
};

inline std::string shape_text(const std::int64_t* shape, int rank) {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// The step of `spec` on `args`; throws std::runtime_error naming the difference when the package
// expects other buffers (names, order or shapes) than the example passes.
inline Step make_step(const std::string& spec, const std::vector<Arg>& args) {
  std::vector<pkg::TensorInfo> want = pkg::tensors_of(spec);
  auto fail = [&](const std::string& why) { return std::runtime_error("step " + spec + ": " + why); };
  if (want.size() != args.size())
    throw fail("the package takes " + std::to_string(want.size()) + " buffers, the example passes " +
               std::to_string(args.size()));
  Step step{spec, {}, pkg::find(spec)};
  for (std::size_t i = 0; i < args.size(); ++i) {
    const pkg::TensorInfo& t = want[i];
    const Arg& a = args[i];
    std::string mine = shape_text(a.shape.data(), static_cast<int>(a.shape.size()));
    std::string theirs = shape_text(t.shape, t.rank);
    if (std::string(t.name) != a.name || mine != theirs || t.dtype != pkg::DType::f32)
      throw fail("buffer " + std::to_string(i) + " is " + t.name + theirs + " in the package, " + a.name +
                 mine + " (f32) in the example");
    step.buffers.push_back(a.buffer->data());
  }
  return step;
}

// Prints, for each step, whether the package holds a tuned kernel of it.
inline void print_kernels(const std::vector<Step>& steps) {
  for (const Step& s : steps) {
    if (const pkg::KernelInfo* k = s.tuned)
      std::printf("kernel: %s tuned function=%s task=%s gflops=%.2f\n", s.spec.c_str(), k->function, k->task,
                  k->gflops);
    else
      std::printf("kernel: %s not-tuned (the package's generic kernel runs it)\n", s.spec.c_str());
  }
}

// Throws pkg::NotTuned (the package's message) for the first step without a tuned kernel.
inline void require_tuned(const std::vector<Step>& steps) {
  for (const Step& s : steps) pkg::lookup(s.spec);
}

inline void run_steps(const std::vector<Step>& steps) {
  for (const Step& s : steps) s.run();
}

}  // namespace example
