// Escaping for the package's generated files (src/package/package_files.h).
#include <cstdio>

#include "package/package_files.h"

namespace rctune::package::detail {

std::string c_comment(const std::string& s) {
  std::string out;
  for (char c : s) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  if (!out.empty() && out.back() == '\\') out += '.';
  return out;
}

std::string c_string_literal(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f || c == '?') {  // '?' escaped: no trigraph can form
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string function_signature(const KernelFiles& kf) {
  std::string s = "void " + kf.kernel->function + "(";
  for (size_t i = 0; i < kf.buffers.size(); ++i)
    s += (i ? ", " : "") + std::string(kf.outputs[i] ? "" : "const ") + c_type(kf.buffers[i]->dtype) + "* " +
         kf.parameter_names[i];
  return s + ")";
}

const char* dtype_text(ir::DType t) { return ir::dtype_name(t); }

const char* c_type(ir::DType t) { return t == ir::DType::F64 ? "double" : "float"; }

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace rctune::package::detail
