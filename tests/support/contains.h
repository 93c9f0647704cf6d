// Checks that a text holds the parts a test expects in it.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace rctune::test_support {

// Expects each of `parts` in `text`, naming every one that is missing.
inline void expect_contains_all(const std::string& text, std::initializer_list<std::string_view> parts) {
  for (const std::string_view part : parts)
    EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
}

}  // namespace rctune::test_support
