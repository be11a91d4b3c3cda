// did_you_mean.h: suggestions for misspelt names (config keys, subcommands,
// reward names), by edit distance.
#pragma once

#include <string>
#include <vector>

namespace grpo {

// Levenshtein distance between a and b (insert, delete, substitute cost 1).
int edit_distance(const std::string& a, const std::string& b);

// The candidate closest to `name` when it is close enough to be a likely typo
// (distance <= max(1, len/3)), else an empty string.
std::string closest_match(const std::string& name, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "" — ready to append to an error message.
std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace grpo
