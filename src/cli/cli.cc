#include "cli/cli.h"

#include <cstdio>

namespace regenpath::cli {

int Main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  std::fprintf(stderr, "regenpath: no subcommands yet\n");
  return 2;
}

}  // namespace regenpath::cli
