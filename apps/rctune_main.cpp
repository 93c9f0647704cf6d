// The rctune command line: subcommands are registered from src/apps/.
#include "rctune/apps/cli.h"

int main(int argc, char** argv) { return rctune::apps::run_cli(argc, argv); }
