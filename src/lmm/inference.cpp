#include "lmm/inference.hpp"

namespace spiral::lmm_detail {

void add_inference(const FittedModel& fit, const LmmOptions& options, LmmResult& result) {
  if (options.anova) result.anova = type3_anova(fit, options);
  if (options.confint == "wald") wald_intervals(result);
  else if (options.confint == "profile") profile_intervals(fit, options, result);
  else if (!options.confint.empty())
    throw InputError("--confint: unknown method '" + options.confint + "' (wald or profile)");
  result.confint = options.confint;
}

}  // namespace spiral::lmm_detail
