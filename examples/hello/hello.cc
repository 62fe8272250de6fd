// SPDX-License-Identifier: BSD-3-Clause
// hello: a first libmx program. It starts a copy of itself as a child process and hands it one end
// of a channel; the parent sends a greeting through the channel and the child answers it.
#include <mx/channel.h>
#include <mx/process.h>
#include <mx/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

// Waits up to 5 s for a message on |ch| and returns it ("" if the peer went away or timed out).
static std::string Receive(const mx::channel& ch) {
  char buf[256];
  uint32_t n = 0;
  ch.wait_one(MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED, mx::deadline_after(mx::sec(5)),
              nullptr);
  if (ch.read(0, buf, sizeof(buf), &n, nullptr, 0, nullptr) != MX_OK) return "";
  return std::string(buf, n);
}

// The child: take the channel end the parent handed over at spawn, and answer one message.
static int Child() {
  mx::channel ch(mx::get_startup_handle(PA_HND(PA_USER0, 0)));
  std::string reply = "hello, " + Receive(ch) + ", from process " + std::to_string(getpid());
  return ch.write(0, reply.data(), reply.size(), nullptr, 0) == MX_OK ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--child") == 0) return Child();

  mx::channel ours, theirs;
  if (mx::channel::create(0, &ours, &theirs) != MX_OK) return 1;
  const char* args[] = {argv[0], "--child", nullptr};
  mx_spawn_handle_t startup = {PA_HND(PA_USER0, 0), theirs.release()};  // moves into the child
  mx::process child;
  if (mx::process::spawn("/proc/self/exe", args, nullptr, &startup, 1, &child) != MX_OK) return 1;

  std::string greeting = "process " + std::to_string(getpid());
  if (ours.write(0, greeting.data(), greeting.size(), nullptr, 0) != MX_OK) return 1;
  std::string reply = Receive(ours);
  std::printf("child says: %s\n", reply.empty() ? "(no reply)" : reply.c_str());

  // Wait for the child to exit and check that it succeeded.
  mx_info_process_t info = {};
  child.wait_one(MX_PROCESS_TERMINATED, mx::deadline_after(mx::sec(5)), nullptr);
  child.get_process_info(&info);
  return !reply.empty() && info.exited && info.return_code == 0 ? 0 : 1;
}
