// math_normalize.h: LaTeX clean-up before parsing an answer: math delimiters,
// \dfrac/\tfrac, \left/\right, spacing commands, \text{} (units dropped),
// degrees, \%, currency, thousands separators, trailing punctuation.
//
//   normalize_latex("$\\dfrac{1}{2}\\text{ cm}.$")  ->  "\\frac{1}{2}"
//
// Linear in the input. Pure function: thread-safe.
#pragma once

#include <string>

namespace grpo::rewards::math {

std::string normalize_latex(const std::string& text);

}  // namespace grpo::rewards::math
