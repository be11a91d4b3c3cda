// Correctness of ordinary runs: outputs, stdin, exit codes, C++ compile and run.
#include <gtest/gtest.h>

#include "sandbox_fixture.h"

namespace grpo::sandbox::testing {
namespace {

TEST(SandboxRunTest, PythonEchoesStdin) {
  Execution e = run_python("namespace", "import sys\nprint(sum(map(int, sys.stdin.read().split())))\n", "1 2 3\n");
  EXPECT_EQ(e.verdict, Verdict::kOk) << e.to_json().dump();
  EXPECT_EQ(e.stdout_text, "6\n");
  EXPECT_EQ(e.exit_code, 0);
}

TEST(SandboxRunTest, NonZeroExitIsRuntimeError) {
  Execution e = run_python("namespace", "import sys\nsys.stderr.write('bad')\nsys.exit(3)\n");
  EXPECT_EQ(e.verdict, Verdict::kRuntimeError);
  EXPECT_EQ(e.exit_code, 3);
  EXPECT_EQ(e.stderr_text, "bad");
}

TEST(SandboxRunTest, CppCompilesAndRuns) {
  Program p{Language::kCpp, "#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a*b<<\"\\n\";}\n", "6 7\n"};
  Execution e = shared_runner("namespace").run(p, short_limits());
  EXPECT_EQ(e.verdict, Verdict::kOk) << e.to_json().dump();
  EXPECT_EQ(e.stdout_text, "42\n");
}

TEST(SandboxRunTest, CppCompileErrorIsItsOwnVerdict) {
  Program p{Language::kCpp, "int main() { return undefined_name; }\n", ""};
  Execution e = shared_runner("namespace").run(p, short_limits());
  EXPECT_EQ(e.verdict, Verdict::kCompileError) << e.to_json().dump();
  EXPECT_NE(e.stderr_text.find("undefined_name"), std::string::npos);
}

}  // namespace
}  // namespace grpo::sandbox::testing
