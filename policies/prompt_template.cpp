#include "policies/prompt_template.h"

#include <algorithm>

#include "core/error.h"

namespace grpo::policies {
namespace {

// Special tokens by name (model-reference.md §3.7).
constexpr const char* kImStart = "<|im_start|>";
constexpr const char* kImEnd = "<|im_end|>";
constexpr const char* kBos = "<｜begin▁of▁sentence｜>";
constexpr const char* kEos = "<｜end▁of▁sentence｜>";
constexpr const char* kUser = "<｜User｜>";
constexpr const char* kAssistant = "<｜Assistant｜>";
constexpr const char* kEndOfText[] = {"<|endoftext|>", "<|im_end|>", "<｜end▁of▁sentence｜>", "<|eot_id|>", "<|end_of_text|>"};

bool identifier_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && ((c >= '0' && c <= '9') || c == '.'));
}

std::string field_names(const TemplateRow& row) {
  std::string names;
  for (const auto& [k, v] : row) names += (names.empty() ? "" : ", ") + k;
  return names.empty() ? "(none)" : names;
}

}  // namespace

const char* PromptTemplate::r1_zero_text() {
  return "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The "
         "assistant first thinks about the reasoning process in the mind and then provides the user with the answer. "
         "The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, "
         "respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>. User: {prompt}. "
         "Assistant:";
}

std::string fill_placeholders(const std::string& text, const TemplateRow& row, const std::string& where) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {  // "{{" / "}}"
      out += c;
      ++i;
      continue;
    }
    if (c == '{' && i + 1 < text.size() && identifier_char(text[i + 1], true)) {
      size_t j = i + 1;
      while (j < text.size() && identifier_char(text[j], false)) ++j;
      if (j < text.size() && text[j] == '}') {
        const std::string name = text.substr(i + 1, j - i - 1);
        const auto it = row.find(name);
        if (it == row.end())
          throw ConfigError("", where, "placeholder {" + name + "} is not a field of the row; fields: " + field_names(row) +
                                           " (write {{" + name + "}} for literal braces)");
        out += it->second;
        i = j;
        continue;
      }
    }
    out += c;
  }
  return out;
}

PromptTemplate::PromptTemplate(const TemplateSpec& spec, const Tokenizer& tokenizer) : spec_(spec), tokenizer_(&tokenizer) {
  const std::string who = "template \"" + spec.name + "\"";
  auto need = [&](const char* token) {
    try {
      return tokenizer.require_token(token, who);
    } catch (const Error& e) {
      throw ConfigError("", "template.name", e.what());
    }
  };
  if (spec.name == "chatml") {
    need(kImStart);
    stop_ids_.push_back(need(kImEnd));
  } else if (spec.name == "deepseek") {
    need(kBos);
    need(kUser);
    need(kAssistant);
    stop_ids_.push_back(need(kEos));
  } else if (spec.name == "plain") {
    if (spec.text.empty()) throw ConfigError("", "template.text", "template.name is plain: set template.text, e.g. \"Q: {question}\\nA:\"");
  } else if (spec.name != "r1_zero") {
    throw ConfigError("", "template.name", "unknown template \"" + spec.name + "\"; expected r1_zero, plain, chatml or deepseek");
  }
  for (const char* t : kEndOfText)
    if (auto id = tokenizer.token_to_id(t))
      if (std::find(stop_ids_.begin(), stop_ids_.end(), *id) == stop_ids_.end()) stop_ids_.push_back(*id);
}

std::string PromptTemplate::user_text(const TemplateRow& row) const {
  if (spec_.name == "r1_zero") return fill_placeholders(r1_zero_text(), row, "template.name");
  return fill_placeholders(spec_.text.empty() ? "{prompt}" : spec_.text, row, "template.text");
}

std::string PromptTemplate::render(const TemplateRow& row) const {
  std::vector<ChatTurn> turns;
  if (!spec_.system.empty()) turns.push_back({"system", fill_placeholders(spec_.system, row, "template.system")});
  turns.push_back({"user", user_text(row)});
  return render_chat(turns, /*add_generation_prompt=*/true);
}

std::vector<int32_t> PromptTemplate::encode(const TemplateRow& row) const { return tokenizer_->encode(render(row)); }

std::string PromptTemplate::render_chat(const std::vector<ChatTurn>& turns, bool add_generation_prompt) const {
  std::string out;
  if (spec_.name == "chatml") {
    for (const ChatTurn& t : turns) out += std::string(kImStart) + t.role + "\n" + t.content + kImEnd + "\n";
    if (add_generation_prompt) out += std::string(kImStart) + "assistant\n" + spec_.generation_prefix;
    return out;
  }
  if (spec_.name == "deepseek") {
    // All system messages joined with "\n\n" right after BOS; no separators between turns.
    std::string system;
    for (const ChatTurn& t : turns)
      if (t.role == "system") system += (system.empty() ? "" : "\n\n") + t.content;
    out = kBos + system;
    for (const ChatTurn& t : turns) {
      if (t.role == "user") out += kUser + t.content;
      else if (t.role == "assistant") out += kAssistant + t.content + kEos;
    }
    if (add_generation_prompt) out += kAssistant + spec_.generation_prefix;
    return out;
  }
  // r1_zero / plain: raw text, no chat markers; the system text (if any) leads.
  for (const ChatTurn& t : turns) {
    if (!out.empty() && t.role != "assistant") out += "\n";
    out += t.content;
  }
  if (add_generation_prompt) out += spec_.generation_prefix;
  return out;
}

}  // namespace grpo::policies
