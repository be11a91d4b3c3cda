// Checkpoints: atomic save, retention, torn-checkpoint fallback, a real child
// process SIGKILLed mid-save, and save/resume continuing identically.
#include "learner/checkpoint.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "learner/optimizer.h"
#include "learner/train_state.h"
#include "tests/support/test_env.h"

namespace grpo::learner {
namespace {
namespace fs = std::filesystem;

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::vector<int64_t> steps_in(const std::string& root) {
  std::vector<int64_t> out;
  for (const auto& c : list_checkpoints(root)) out.push_back(c.step);
  return out;
}

TEST(CheckpointTest, SaveIsVerifiedAndFoundAsLatest) {
  testing::TempDir tmp;
  const std::string root = tmp.file("ckpt");
  save_checkpoint(root, 1, [](const std::string& d) { write_text(d + "/a.txt", "one"); });
  const std::string dir = save_checkpoint(root, 2, [](const std::string& d) {
    fs::create_directories(d + "/model");
    write_text(d + "/model/w.bin", "two");
  });
  EXPECT_TRUE(verify_checkpoint(dir));
  auto latest = latest_checkpoint(root);
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->step, 2);
  EXPECT_EQ(testing::read_file(latest->dir + "/model/w.bin"), "two");
}

TEST(CheckpointTest, RetentionKeepsLastKAndEveryN) {
  testing::TempDir tmp;
  const std::string root = tmp.file("ckpt");
  for (int64_t s = 1; s <= 10; ++s)
    save_checkpoint(root, s, [&](const std::string& d) { write_text(d + "/s", std::to_string(s)); }, {3, 4});
  EXPECT_EQ(steps_in(root), (std::vector<int64_t>{4, 8, 9, 10}));
}

TEST(CheckpointTest, TornCheckpointFallsBackToPrevious) {
  testing::TempDir tmp;
  const std::string root = tmp.file("ckpt");
  save_checkpoint(root, 1, [](const std::string& d) { write_text(d + "/w", "0123456789"); });
  const std::string newest = save_checkpoint(root, 2, [](const std::string& d) { write_text(d + "/w", "abcdefghij"); });
  fs::resize_file(newest + "/w", 4);  // truncated by a bad disk
  std::string why;
  EXPECT_FALSE(verify_checkpoint(newest, &why));
  EXPECT_NE(why.find("bytes"), std::string::npos) << why;
  EXPECT_EQ(latest_checkpoint(root)->step, 1);
  write_text(newest + "/w", "abcdefghiX");  // same size, different bytes
  EXPECT_FALSE(verify_checkpoint(newest));
  fs::remove(newest + "/MANIFEST.json");
  EXPECT_EQ(latest_checkpoint(root)->step, 1);
}

// Starts a child that saves checkpoint 2 and stops at `phase` (or in the
// middle of writing its big file for phase "writing"); the parent SIGKILLs it there.
void kill_child_during_save(const std::string& root, const std::string& phase) {
  int ready[2], never[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(never), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // child: no torch here, plain file writes only
    auto stop = [&] {
      char c = 1;
      (void)!write(ready[1], &c, 1);
      (void)!read(never[0], &c, 1);  // blocks until killed
    };
    save_checkpoint(root, 2, [&](const std::string& d) {
      std::ofstream out(d + "/model.bin", std::ios::binary);
      std::string chunk(1 << 20, 'x');
      out << chunk << std::flush;
      if (phase == "writing") stop();
      out << chunk;
    }, {3, 0}, [&](const std::string& p) { if (p == phase) stop(); });
    _exit(0);
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status));
  close(ready[0]); close(ready[1]); close(never[0]); close(never[1]);
}

TEST(CheckpointTest, KillDuringSaveLeavesPreviousLoadable) {
  for (std::string phase : {"writing", "files_written", "manifest_written"}) {
    SCOPED_TRACE(phase);
    testing::TempDir tmp;
    const std::string root = tmp.file("ckpt");
    torch::manual_seed(0);
    torch::nn::Linear model(4, 3);
    save_checkpoint(root, 1, [&](const std::string& d) { torch::save(model, d + "/model.pt"); });
    kill_child_during_save(root, phase);
    EXPECT_EQ(steps_in(root), std::vector<int64_t>{1});  // the half-written one never became a step dir
    auto latest = latest_checkpoint(root);
    ASSERT_TRUE(latest);
    EXPECT_EQ(latest->step, 1);
    torch::nn::Linear loaded(4, 3);
    torch::load(loaded, latest->dir + "/model.pt");
    EXPECT_TRUE(torch::equal(loaded->weight, model->weight));
    // The next save cleans the dead save's temporary directory up.
    save_checkpoint(root, 3, [&](const std::string& d) { torch::save(model, d + "/model.pt"); });
    for (const auto& e : fs::directory_iterator(root)) EXPECT_NE(e.path().filename().string().rfind(".tmp-", 0), 0u);
  }
}

// One training step of a toy regression whose data comes from the global RNG.
double toy_step(torch::nn::Linear& model, Optimizer& opt) {
  torch::Tensor x = torch::randn({8, 4});
  torch::Tensor y = x.sum(1, true).repeat({1, 3});
  torch::Tensor loss = (model(x) - y).pow(2).mean();
  loss.backward();
  opt.step();
  return loss.item<double>();
}

OptimizerOptions toy_options() {
  OptimizerOptions o;
  o.schedule = {/*lr=*/0.05, /*warmup_steps=*/2, "cosine", 20};
  o.weight_decay = 0.01;
  return o;
}

TEST(CheckpointTest, SaveResumeContinuesIdentically) {
  testing::TempDir tmp;
  const std::string root = tmp.file("ckpt");
  torch::manual_seed(42);
  torch::nn::Linear model(4, 3);
  Optimizer opt(model->parameters(), toy_options());
  for (int i = 0; i < 3; ++i) toy_step(model, opt);
  save_checkpoint(root, 3, [&](const std::string& d) {
    torch::save(model, d + "/model.pt");
    save_train_state(d, opt, TrainProgress{3, 17, {{"note", "x"}}});
  });
  std::vector<double> losses;
  for (int i = 0; i < 3; ++i) losses.push_back(toy_step(model, opt));

  torch::manual_seed(999);  // a fresh process would start from another RNG state
  torch::nn::Linear resumed(4, 3);
  Optimizer resumed_opt(resumed->parameters(), toy_options());
  auto latest = latest_checkpoint(root);
  ASSERT_TRUE(latest);
  torch::load(resumed, latest->dir + "/model.pt");
  TrainProgress p = load_train_state(latest->dir, resumed_opt);
  EXPECT_EQ(p.step, 3);
  EXPECT_EQ(p.data_cursor, 17);
  EXPECT_EQ(p.extra["note"], "x");
  EXPECT_EQ(resumed_opt.steps_applied(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(toy_step(resumed, resumed_opt), losses[i]) << "step " << i;
  EXPECT_TRUE(torch::equal(resumed->weight, model->weight));
  EXPECT_TRUE(torch::equal(resumed->bias, model->bias));
}

}  // namespace
}  // namespace grpo::learner
