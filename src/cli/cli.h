// The regenpath command line: parses argv and dispatches to a subcommand.
#ifndef REGENPATH_CLI_CLI_H_
#define REGENPATH_CLI_CLI_H_

namespace regenpath::cli {

// Runs the program and returns its exit code (see shared/spec/cli.md):
// 0 success, 2 usage error, 3 unreadable or invalid input, 4 evaluation error.
int Main(int argc, char** argv);

}  // namespace regenpath::cli

#endif  // REGENPATH_CLI_CLI_H_
