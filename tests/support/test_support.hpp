// Helpers shared by the test programs.
#pragma once
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace spiral::test {

// Path of a file under tests/ (SPIRAL_TEST_DIR).
std::string test_path(const std::string& relative);
// Whole file as text; fails the test when it cannot be read.
std::string read_text(const std::string& path);
// tests/reference/<relative> parsed as JSON (values written by an R script there).
nlohmann::json reference_json(const std::string& relative);

// The CLI run with arguments (a shell-quoted string appended to the binary path).
struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
RunResult run_spiral(const std::string& arguments, const std::string& stdin_text = "");

// A fresh empty directory under the build tree's temp folder.
std::string temp_dir(const std::string& name);

// |a - b| <= tol * max(|b|, tiny): relative closeness used against R's values.
::testing::AssertionResult near_relative(double a, double b, double tol);

}  // namespace spiral::test
