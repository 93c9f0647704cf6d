// The `rctune` command line.
#pragma once

namespace rctune::apps {

// Parses argv and runs one subcommand; returns the process exit code.
int run_cli(int argc, char** argv);

}  // namespace rctune::apps
