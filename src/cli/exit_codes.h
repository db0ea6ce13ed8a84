// Exit codes of the regenpath command (shared/spec/cli.md).
#ifndef REGENPATH_CLI_EXIT_CODES_H_
#define REGENPATH_CLI_EXIT_CODES_H_

namespace regenpath::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInvalidInput = 3;
inline constexpr int kExitEvaluationError = 4;

}  // namespace regenpath::cli

#endif  // REGENPATH_CLI_EXIT_CODES_H_
