// `grpo serve` end to end: a real server process over a tiny random
// checkpoint, driven by the official openai Python client (completions, chat,
// streaming, n > 1, stop strings, errors, API key); greedy and seeded output
// through the server equals `grpo generate`; SIGTERM stops it with exit 0.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/test_env.h"

namespace grpo {
namespace {

using nlohmann::json;
using testing::grpo_command;
using testing::read_file;
using testing::run_command;
using testing::shell_quote;
using testing::TempDir;
using testing::write_file;

// A `grpo serve` process on a free port; stopped with SIGTERM on destruction.
class ServeProcess {
 public:
  // env: variable assignments for the server ("GRPO_API_KEY=k"), may be empty.
  ServeProcess(const std::string& args, const TempDir& dir, const std::string& env = "")
      : log_(dir.file("serve-" + std::to_string(counter_++) + ".out")) {
    pid_ = fork();
    if (pid_ == 0) {
      std::string command = env + " exec " + grpo_command() + " serve --port 0 --threads 1 " + args + " >" + log_ + " 2>" + log_ + ".err";
      execl("/bin/sh", "sh", "-c", command.c_str(), nullptr);
      _exit(127);
    }
    // The server prints its address once it accepts requests.
    std::regex listening(R"(listening on (http://127\.0\.0\.1:[0-9]+/v1) \(model ([^)]+)\))");
    for (int i = 0; i < 600 && base_url_.empty(); ++i) {
      std::smatch m;
      std::string out = std::filesystem::exists(log_) ? read_file(log_) : "";
      if (std::regex_search(out, m, listening)) {
        base_url_ = m[1];
        model_ = m[2];
      } else if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
  ~ServeProcess() { stop(); }

  // SIGTERM, then the exit code (-1 if it died by a signal).
  int stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  const std::string& base_url() const { return base_url_; }
  const std::string& model() const { return model_; }
  std::string stderr_text() const { return std::filesystem::exists(log_ + ".err") ? read_file(log_ + ".err") : ""; }

 private:
  static int counter_;
  std::string log_;
  pid_t pid_ = -1;
  std::string base_url_;
  std::string model_;
};
int ServeProcess::counter_ = 0;

// A tokenizer and a tiny random Qwen2 checkpoint made with the CLI, and one
// server over them shared by the tests.
class ServeE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    assets_ = new TempDir();
    std::string corpus;
    for (int i = 0; i < 400; ++i) corpus += "What is " + std::to_string(i) + " + " + std::to_string(i * 7 % 50) + "? aaaa bbb abc\n";
    write_file(assets_->file("corpus.txt"), corpus);
    auto tok = run_command(grpo_command() + " tokenizer train " + assets_->file("corpus.txt") + " --vocab 300 --out " + assets_->file("tok"));
    ASSERT_EQ(tok.exit_code, 0) << tok.err;
    auto model = run_command(grpo_command() + " model init --arch qwen2 --preset tiny --out " + assets_->file("tiny"));
    ASSERT_EQ(model.exit_code, 0) << model.err;
    server_ = new ServeProcess(model_args() + " --max-context 256", *assets_);
    ASSERT_FALSE(server_->base_url().empty()) << "grpo serve did not start: " << server_->stderr_text();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete assets_;
  }

  static std::string model_args() { return assets_->file("tiny") + " --tokenizer " + assets_->file("tok"); }

  // Runs openai_client.py against `server` and parses what it printed.
  static json client(const ServeProcess& server, const std::string& scenario, const std::string& env = "") {
    std::string script = testing::source_dir() + "/tests/e2e/openai_client.py";
    auto r = run_command(env + " " + shell_quote(testing::reference_python()) + " " + shell_quote(script) + " " + server.base_url() + " " +
                         shell_quote(server.model()) + " " + scenario);
    EXPECT_EQ(r.exit_code, 0) << r.err << "\nserver log:\n" << server.stderr_text();
    return r.exit_code == 0 ? json::parse(r.out) : json::object();
  }

  static TempDir* assets_;
  static ServeProcess* server_;
};
TempDir* ServeE2ETest::assets_ = nullptr;
ServeProcess* ServeE2ETest::server_ = nullptr;

void expect_usage(const json& usage, int64_t completion_tokens_at_most) {
  EXPECT_GT(usage["prompt_tokens"].get<int64_t>(), 0);
  EXPECT_GT(usage["completion_tokens"].get<int64_t>(), 0);
  EXPECT_LE(usage["completion_tokens"].get<int64_t>(), completion_tokens_at_most);
  EXPECT_EQ(usage["total_tokens"], usage["prompt_tokens"].get<int64_t>() + usage["completion_tokens"].get<int64_t>());
}

TEST_F(ServeE2ETest, OpenAiClientGetsCompletionsChatStreamsAndErrors) {
  json out = client(*server_, "all");
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out["models"], json::array({"tiny"})) << "the model id is the checkpoint folder's name";

  // Completions: greedy, usage counted; the stream spells the same text.
  const json& greedy = out["greedy"];
  EXPECT_EQ(greedy["object"], "text_completion");
  ASSERT_EQ(greedy["texts"].size(), 1u);
  expect_usage(greedy["usage"], 12);
  EXPECT_EQ(out["greedy_stream"]["texts"], greedy["texts"]);
  EXPECT_EQ(out["greedy_stream"]["finish"], greedy["finish"]);
  EXPECT_EQ(out["greedy_stream"]["usage"], greedy["usage"]);

  // n > 1: three indexed choices; a seed makes them repeatable, streamed or not.
  const json& n3 = out["n3"];
  EXPECT_EQ(n3["indices"], json::array({0, 1, 2}));
  EXPECT_EQ(n3["texts"], out["n3_again"]["texts"]);
  EXPECT_EQ(n3["texts"], out["n3_stream"]["texts"]);
  EXPECT_EQ(n3["usage"], out["n3_stream"]["usage"]);
  EXPECT_EQ(n3["usage"]["prompt_tokens"], greedy["usage"]["prompt_tokens"]) << "the prompt counts once, not n times";
  EXPECT_FALSE(n3["texts"][0] == n3["texts"][1] && n3["texts"][1] == n3["texts"][2]) << "sampled choices all equal: " << n3["texts"];

  // A stop string ends the completion before it, with finish_reason "stop";
  // the kept text is the sample's text up to there (less a token straddling it).
  std::string full = out["sampled"]["texts"][0], stop = out["stop_string"];
  ASSERT_FALSE(stop.empty()) << "no stop character found in the sample '" << full << "'";
  std::string cut = out["stop"]["texts"][0];
  EXPECT_EQ(out["sampled"]["finish"][0], "length");
  EXPECT_EQ(out["stop"]["finish"][0], "stop");
  EXPECT_EQ(cut.find(stop), std::string::npos) << cut;
  EXPECT_EQ(full.compare(0, cut.size(), cut), 0) << "'" << cut << "' is not a prefix of '" << full << "'";
  EXPECT_LE(cut.size(), full.find(stop));
  EXPECT_LT(out["stop"]["usage"]["completion_tokens"], out["sampled"]["usage"]["completion_tokens"]);
  EXPECT_EQ(out["stop_stream"]["texts"][0], cut);
  EXPECT_EQ(out["stop_stream"]["finish"][0], "stop");

  // Chat: an assistant message; the stream matches it.
  const json& chat = out["chat"];
  EXPECT_EQ(chat["object"], "chat.completion");
  EXPECT_EQ(chat["roles"], json::array({"assistant"}));
  expect_usage(chat["usage"], 10);
  EXPECT_EQ(out["chat_stream"]["texts"], chat["texts"]);
  EXPECT_EQ(out["chat_stream"]["finish"], chat["finish"]);
  EXPECT_EQ(out["chat_stream"]["usage"], chat["usage"]);

  // Errors arrive in OpenAI's shape, naming the field.
  const json& bad = out["bad_temperature"];
  EXPECT_EQ(bad["status"], 400);
  EXPECT_EQ(bad["error"]["param"], "temperature");
  EXPECT_EQ(bad["error"]["type"], "invalid_request_error");
  EXPECT_EQ(bad["error"]["message"], "temperature: must be in [0.0, 2.0], got 5");
  EXPECT_EQ(out["unknown_model"]["status"], 404);
  EXPECT_EQ(out["unknown_model"]["error"]["code"], "model_not_found");
  EXPECT_EQ(out["oversize"]["status"], 400);
  EXPECT_EQ(out["oversize"]["error"]["code"], "context_length_exceeded");
  EXPECT_EQ(out["unknown_field"]["status"], 400);
  EXPECT_EQ(out["unknown_field"]["error"]["param"], "temprature");
}

// `grpo generate` output as {"texts": [...]} for one prompt.
json generate_texts(const std::string& model_args, const std::string& prompt, const std::string& flags) {
  auto r = run_command(grpo_command() + " generate " + model_args + " --threads 1 --prompt " + shell_quote(prompt) + " " + flags);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  json texts = json::array();
  size_t at = 0;
  for (size_t nl; (nl = r.out.find('\n', at)) != std::string::npos; at = nl + 1) texts.push_back(json::parse(r.out.substr(at, nl - at))["text"]);
  return texts;
}

TEST_F(ServeE2ETest, OutputEqualsGrpoGenerateForTheSamePromptAndSeed) {
  std::string prompt = "What is 3 + 21?";
  json greedy = client(*server_, "complete " + shell_quote(prompt) + " 1 0 0 14");
  EXPECT_EQ(greedy["texts"], generate_texts(model_args(), prompt, "--temperature 0 --max-new-tokens 14"));
  // Sampling too: the server seeds prompt 0 as grpo generate does.
  json sampled = client(*server_, "complete " + shell_quote(prompt) + " 2 7 1.0 10");
  EXPECT_EQ(sampled["texts"], generate_texts(model_args(), prompt, "--n 2 --seed 7 --temperature 1.0 --max-new-tokens 10"));
}

// --device and --dtype place the checkpoint as model.device / model.dtype do;
// a device this machine lacks fails at startup naming the flag.
TEST_F(ServeE2ETest, GrpoGeneratePlacesTheModelOnDeviceAndDtype) {
  json bf16 = generate_texts(model_args(), "the", "--temperature 0 --max-new-tokens 6 --device cpu --dtype bfloat16");
  EXPECT_EQ(bf16.size(), 1u);
  auto r = run_command(grpo_command() + " generate " + model_args() + " --prompt the --device cuda:99");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("command line: --device"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cuda:99"), std::string::npos) << r.err;
}

// --decode static runs the fixed-shape decode steps (the CPU twin of CUDA
// graphs): the same greedy texts as eager; cuda_graphs on a CPU model is an
// error saying why.
TEST_F(ServeE2ETest, GrpoGenerateDecodeModes) {
  const std::string flags = "--n 3 --temperature 0 --max-new-tokens 8";
  EXPECT_EQ(generate_texts(model_args(), "the", flags + " --decode static"), generate_texts(model_args(), "the", flags + " --decode eager"));
  auto r = run_command(grpo_command() + " generate " + model_args() + " --prompt the --decode cuda_graphs");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("cuda_graphs"), std::string::npos) << r.err;
  // Why: the model is not on a CUDA device (a CUDA build) or the build has no CUDA (e.g. LibTorch 1.13).
  EXPECT_TRUE(r.err.find("not a CUDA device") != std::string::npos || r.err.find("has no CUDA") != std::string::npos)
      << r.err;
}

TEST_F(ServeE2ETest, ApiKeyIsRequiredWhenSet) {
  // The key comes from the environment (GRPO_API_KEY), so it never shows in `ps`.
  ServeProcess keyed(model_args(), *assets_, "GRPO_API_KEY=s3cret");
  ASSERT_FALSE(keyed.base_url().empty()) << keyed.stderr_text();
  json out = client(keyed, "auth", "GRPO_TEST_KEY=s3cret");
  EXPECT_EQ(out["without"]["status"], 401);
  EXPECT_EQ(out["without"]["error"]["code"], "invalid_api_key");
  EXPECT_EQ(out["with"], json::array({"tiny"}));
}

TEST_F(ServeE2ETest, SigtermStopsTheServerWithExitZero) {
  ServeProcess server(model_args(), *assets_);
  ASSERT_FALSE(server.base_url().empty()) << server.stderr_text();
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
}

}  // namespace
}  // namespace grpo
