// What a writer killed between extending a table and writing its rows leaves, for the trace tests
// that need HDF5 itself (runlog_test_util.h is shared with suites that do not link it).
#pragma once

#include <gtest/gtest.h>
#include <hdf5.h>

#include <string>

namespace rctune::runlog::testing {

// Sets the extent of the table `dataset` of the run file `path` to `rows`: the rows beyond those
// written hold the fill value, as after such a crash.
inline void grow_table(const std::string& path, const std::string& dataset, hsize_t rows) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  ASSERT_GE(d, 0);
  ASSERT_GE(H5Dset_extent(d, &rows), 0);
  H5Dclose(d);
  H5Fclose(f);
}

}  // namespace rctune::runlog::testing
