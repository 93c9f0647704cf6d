// ir::parse_listing: the workload a trace's listing (ir::to_string) describes.
#include <gtest/gtest.h>

#include "rctune/ir/operators.h"
#include "rctune/ir/parser.h"

namespace rctune::ir {
namespace {

TEST(ParseListing, EveryLibraryOperatorComesBackAsTheSameWorkload) {
  for (const char* spec :
       {"matmul:M=4,N=8,K=16,epilogue=bias+add+relu", "batch_matmul:B=2,M=3,N=4,K=5", "dense:M=2,N=3,K=4",
        "dense_gelu:M=2,N=3,K=4", "conv2d_nchw:C=3,H=9,W=9,K=4,stride=2,dilation=2",
        "conv2d_nhwc:C=3,H=6,W=6,K=2", "depthwise_conv2d:C=4,H=7,W=7,epilogue=relu6", "softmax:M=3,N=5",
        "layernorm:M=2,N=6", "rmsnorm:M=2,N=6", "attention:B=1,S=4,D=2,SK=3"}) {
    const Workload w = make_operator(spec);
    const Workload back = parse_listing(to_string(w));
    EXPECT_EQ(to_string(back), to_string(w)) << spec;
    EXPECT_EQ(back.name, w.name);
    EXPECT_EQ(back.outputs, w.outputs);
  }
}

TEST(ParseListing, AHandWrittenWorkloadKeepsItsExplicitExtents) {
  const Workload w = parse_workload(
      "X: f32[4, 8]\nS: f32[4]\nY: f32[4, 8]\nS[i] += X[i, j * 2] where j < 4\nY[i, j] = X[i, j] / "
      "S[i]\noutputs: Y",
      "rowscale");
  const Workload back = parse_listing(to_string(w));
  EXPECT_EQ(to_string(back), to_string(w));
  ASSERT_EQ(back.stages[0].reduce_axes.size(), 1u);
  EXPECT_EQ(back.stages[0].reduce_axes[0].extent, 4);
}

TEST(ParseListing, AnEditedListingIsRefused) {
  std::string listing = to_string(make_operator("softmax:M=3,N=5"));
  EXPECT_THROW(parse_listing("not a listing\n"), ParseError);
  // Parses, but as a workload that lists differently: not the listing rctune wrote.
  listing.replace(listing.find("exp("), 4, "exp((");
  listing.replace(listing.find("])", listing.find("exp((")), 2, "]))");
  EXPECT_THROW(parse_listing(listing), std::invalid_argument);
}

}  // namespace
}  // namespace rctune::ir
