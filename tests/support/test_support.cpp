#include "test_support.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

namespace spiral::test {

std::string test_path(const std::string& relative) { return std::string(SPIRAL_TEST_DIR) + "/" + relative; }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json reference_json(const std::string& relative) {
  return nlohmann::json::parse(read_text(test_path("reference/" + relative)));
}

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string temp_dir(const std::string& name) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("spiral-test-" + std::to_string(getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

RunResult run_spiral(const std::string& arguments, const std::string& stdin_text) {
  const std::string dir = temp_dir("run");
  const std::string in = dir + "/stdin", out = dir + "/stdout", err = dir + "/stderr";
  std::ofstream(in, std::ios::binary) << stdin_text;
  const std::string command = std::string("'") + SPIRAL_BINARY + "' " + arguments + " <'" + in + "' >'" + out +
                              "' 2>'" + err + "'";
  const int status = std::system(command.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

::testing::AssertionResult near_relative(double a, double b, double tol) {
  const double scale = std::max(std::fabs(b), 1e-300);
  if (std::isnan(a) && std::isnan(b)) return ::testing::AssertionSuccess();
  if (std::fabs(a - b) <= tol * scale) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << a << " vs reference " << b << " (relative difference "
                                       << std::fabs(a - b) / scale << " > " << tol << ")";
}

}  // namespace spiral::test
