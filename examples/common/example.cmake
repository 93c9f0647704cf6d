# What both examples need, included by their CMakeLists.txt after project(): the kernel package that
# `rctune export` wrote (find_package(NAME) -> NAME::NAME), Kokkos, OpenBLAS, and
# rctune_block_example(TARGET SOURCE), which builds one example program against them.
#
# Before including, set EXAMPLE_DEFAULT_PACKAGE to the package name the example expects by default;
# -DRCTUNE_PACKAGE=NAME chooses another (the --name given to `rctune export`).

set(RCTUNE_PACKAGE "${EXAMPLE_DEFAULT_PACKAGE}" CACHE STRING "the kernel package (rctune export --name)")
if(NOT RCTUNE_PACKAGE MATCHES "^[a-z_][a-z0-9_]*$")
  message(FATAL_ERROR "RCTUNE_PACKAGE is '${RCTUNE_PACKAGE}': a package name is lowercase letters, digits "
                      "and '_', not starting with a digit (the --name given to rctune export)")
endif()

set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)  # Kokkos refuses GNU extensions
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

find_package(Kokkos REQUIRED)
find_package(${RCTUNE_PACKAGE} REQUIRED)
if(NOT TARGET ${RCTUNE_PACKAGE}::${RCTUNE_PACKAGE})
  message(FATAL_ERROR "the package ${RCTUNE_PACKAGE} defines no target ${RCTUNE_PACKAGE}::${RCTUNE_PACKAGE}")
endif()

# Kokkos: a Kokkos install of its own exports Kokkos::kokkos. Trilinos' Kokkos (Debian's
# libtrilinos-kokkos-dev) sets Kokkos_INCLUDE_DIRS and Kokkos_LIBRARIES instead, and its Kokkos::kokkos
# names an include directory that does not exist (<prefix>/lib/include), so it is not used.
if(Kokkos_INCLUDE_DIRS AND Kokkos_LIBRARIES)
  add_library(example_kokkos INTERFACE)
  target_link_libraries(example_kokkos INTERFACE ${Kokkos_LIBRARIES})
  target_include_directories(example_kokkos SYSTEM INTERFACE ${Kokkos_INCLUDE_DIRS} ${Kokkos_TPL_INCLUDE_DIRS})
  set(EXAMPLE_KOKKOS example_kokkos)
elseif(TARGET Kokkos::kokkos)
  set(EXAMPLE_KOKKOS Kokkos::kokkos)
else()
  message(FATAL_ERROR "Kokkos was found but defines neither the target Kokkos::kokkos nor Kokkos_INCLUDE_DIRS")
endif()

# OpenBLAS (the library the blocks are compared with): its pkg-config file where there is one
# (Debian's libopenblas-dev), else the library and a cblas.h of OpenBLAS's. The examples call
# openblas_set_num_threads, so another BLAS does not do.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(OPENBLAS QUIET IMPORTED_TARGET openblas)
endif()
if(TARGET PkgConfig::OPENBLAS)
  set(EXAMPLE_OPENBLAS PkgConfig::OPENBLAS)
else()
  find_library(EXAMPLE_OPENBLAS_LIBRARY NAMES openblas)
  find_path(EXAMPLE_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas openblas-pthread)
  if(NOT EXAMPLE_OPENBLAS_LIBRARY OR NOT EXAMPLE_CBLAS_INCLUDE_DIR)
    message(FATAL_ERROR "OpenBLAS not found (neither pkg-config's openblas nor libopenblas with cblas.h); "
                        "install it (Debian: libopenblas-dev) or set CMAKE_PREFIX_PATH")
  endif()
  add_library(example_openblas INTERFACE)
  target_link_libraries(example_openblas INTERFACE ${EXAMPLE_OPENBLAS_LIBRARY})
  target_include_directories(example_openblas SYSTEM INTERFACE ${EXAMPLE_CBLAS_INCLUDE_DIR})
  set(EXAMPLE_OPENBLAS example_openblas)
endif()

set(EXAMPLE_COMMON_DIR "${CMAKE_CURRENT_LIST_DIR}")
configure_file(${EXAMPLE_COMMON_DIR}/package.hpp.in ${CMAKE_CURRENT_BINARY_DIR}/generated/rctune_package.hpp @ONLY)

function(rctune_block_example target source)
  add_executable(${target} ${source})
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/generated ${EXAMPLE_COMMON_DIR})
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
  target_link_libraries(${target} PRIVATE ${RCTUNE_PACKAGE}::${RCTUNE_PACKAGE} ${EXAMPLE_KOKKOS} ${EXAMPLE_OPENBLAS})
endfunction()
