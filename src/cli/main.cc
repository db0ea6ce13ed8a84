// The regenpath executable.
//
// The command runs on a thread with a stack of its own size (64 MiB of
// address space; only the pages used are ever touched), so how deep a
// user's FHIRPath expression or JSON may nest before it is refused never
// depends on the `ulimit -s` of the shell that started regenpath.
#include <pthread.h>

#include <csignal>
#include <cstdio>

#include "cli/cli.h"

namespace {

constexpr size_t kStackBytes = size_t{64} << 20;

struct Invocation {
  int argc;
  char** argv;
  int status = 1;
};

void* RunMain(void* argument) {
  auto* invocation = static_cast<Invocation*>(argument);
  invocation->status = regenpath::cli::Main(invocation->argc, invocation->argv);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  Invocation invocation{argc, argv};
  pthread_attr_t attributes;
  pthread_t thread;
  if (pthread_attr_init(&attributes) != 0 || pthread_attr_setstacksize(&attributes, kStackBytes) != 0 ||
      pthread_create(&thread, &attributes, RunMain, &invocation) != 0) {
    // No thread to be had: run here, on the process's own stack.
    return regenpath::cli::Main(argc, argv);
  }
  pthread_attr_destroy(&attributes);
  // Termination signals go to the command's thread (`serve` waits for them
  // there); this thread only waits.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  pthread_join(thread, nullptr);
  return invocation.status;
}
