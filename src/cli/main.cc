// regenpath: command-line entry point. All logic lives in regenpath_cli.
#include "cli/cli.h"

int main(int argc, char** argv) { return regenpath::cli::Main(argc, argv); }
