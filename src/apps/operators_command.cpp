#include <cstdio>

#include "rctune/apps/commands.h"
#include "rctune/ir/operators.h"

namespace rctune::apps {

int run_operators() {
  for (const auto& op : ir::operator_library()) {
    std::printf("%-18s %s\n", op.name.c_str(), op.description.c_str());
    for (const auto& p : op.params)
      std::printf("    %-10s default %-8s %s\n", p.name.c_str(), p.default_value.c_str(),
                  p.description.c_str());
  }
  std::printf("\nuse as NAME:P=v,... for example matmul:M=1024,N=1024,K=1024\n");
  return 0;
}

}  // namespace rctune::apps
