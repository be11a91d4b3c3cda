// run_outputs.cpp: see run_outputs.h.
#include "train/run_outputs.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/file_text.h"
#include "core/log.h"
#include "report/html_report.h"
#include "report/tensorboard_export.h"

namespace grpo::train {
namespace {

namespace fs = std::filesystem;

std::string fnv1a_hex(const std::string& data) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ULL;
  std::ostringstream out;
  out << std::hex << h;
  return out.str();
}

}  // namespace

void save_policy_with_tokenizer(const policies::CausalLM& policy, const policies::Tokenizer& tokenizer, const std::string& out) {
  policy.save_hf(out);
  fs::copy_file(tokenizer.source(), out + "/tokenizer.json", fs::copy_options::overwrite_existing);
}

std::string write_run_checkpoint(RunDirectory& dir, int64_t step, const policies::CausalLM& policy,
                                 const policies::Tokenizer& tokenizer, const learner::Optimizer& optimizer,
                                 const learner::TrainProgress& progress, const learner::RetentionPolicy& keep) {
  std::string path = learner::save_checkpoint(
      dir.checkpoints_path(), step,
      [&](const std::string& d) {
        // A checkpoint's policy folder is a complete Hugging Face directory.
        save_policy_with_tokenizer(policy, tokenizer, d + "/policy");
        learner::save_train_state(d, optimizer, progress);
      },
      keep);
  dir.store().add_checkpoint({step, path, fnv1a_hex(read_file_or_empty(path + "/MANIFEST.json"))});
  GRPO_LOG_INFO("train", "checkpoint " << path);
  return path;
}

std::string write_run_report(RunDirectory& dir) {
  std::string path = report::default_report_path(dir.path());
  try {
    report::write_html_report(dir.store(), path);
    report::export_tensorboard(dir.store(), dir.path() + "/tb");
  } catch (const Error& e) {
    GRPO_LOG_WARN("train", "report not written: " << e.what());
  }
  return path;
}

}  // namespace grpo::train
