// SPDX-License-Identifier: BSD-3-Clause
// service_stream: two unrelated-looking processes meet by name, then use an eventpair and a
// socket that travel over their channel.
//
// The server listens on an abstract name (@libmx-example-<pid>) and spawns a client that knows
// only the name. The client connects (no handles from the parent), sends the server one end of
// a socket and one side of an eventpair, streams 4 MiB through the socket, and raises
// MX_EPAIR_SIGNALED on the server's side when it is done. The server checks the bytes, prints who
// connected (MX_INFO_PEER_CRED) and the throughput, and answers with MX_USER_SIGNAL_0 on the
// client's side of the eventpair.
#include <magenta/launch.h>
#include <magenta/service.h>
#include <magenta/syscalls.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr size_t kBytes = 4u << 20;

mx_time_t Deadline() { return mx_deadline_after(MX_SEC(30)); }

uint8_t Pattern(size_t i) { return static_cast<uint8_t>((i * 131u) ^ (i >> 9)); }

int Client(const char* name) {
  mx_handle_t ch;
  if (mx_service_connect(name, 0, &ch) != MX_OK) return 2;
  mx_handle_t sock_mine, sock_theirs, ep_mine, ep_theirs;
  if (mx_socket_create(0, &sock_mine, &sock_theirs) != MX_OK) return 3;
  if (mx_eventpair_create(0, &ep_mine, &ep_theirs) != MX_OK) return 4;
  mx_handle_t handles[] = {sock_theirs, ep_theirs};
  if (mx_channel_write(ch, 0, "hello", 5, handles, 2) != MX_OK) return 5;
  std::vector<uint8_t> chunk(64 * 1024);
  for (size_t sent = 0; sent < kBytes;) {
    size_t n = std::min(chunk.size(), kBytes - sent);
    for (size_t i = 0; i < n; ++i) chunk[i] = Pattern(sent + i);
    size_t actual = 0;
    mx_status_t st = mx_socket_write(sock_mine, 0, chunk.data(), n, &actual);
    if (st == MX_ERR_SHOULD_WAIT) {
      if (mx_object_wait_one(sock_mine, MX_SOCKET_WRITABLE | MX_SOCKET_PEER_CLOSED, Deadline(),
                             nullptr) != MX_OK) {
        return 6;
      }
      continue;
    }
    if (st != MX_OK) return 7;
    sent += actual;  // a short write sends a prefix; the rest goes next round
  }
  if (mx_object_signal_peer(ep_mine, 0, MX_EPAIR_SIGNALED) != MX_OK) return 8;
  mx_signals_t seen = 0;
  if (mx_object_wait_one(ep_mine, MX_USER_SIGNAL_0, Deadline(), &seen) != MX_OK) return 9;
  mx_handle_close(sock_mine);
  mx_handle_close(ep_mine);
  mx_handle_close(ch);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 && strcmp(argv[1], "--client") == 0) return Client(argv[2]);
  std::string name = "@libmx-example-" + std::to_string(getpid());
  mx_handle_t listener;
  if (mx_service_listen(name.c_str(), 0, &listener) != MX_OK) return 1;
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0) return 1;
  self[len] = '\0';
  const char* args[] = {self, "--client", name.c_str(), nullptr};
  mx_handle_t process;
  if (mx_spawn(self, args, nullptr, nullptr, 0, &process) != MX_OK) return 1;
  printf("listening on %s; spawned a client that knows only the name\n", name.c_str());

  mx_time_t t0 = mx_time_get(MX_CLOCK_MONOTONIC);
  if (mx_object_wait_one(listener, MX_SERVICE_READABLE, Deadline(), nullptr) != MX_OK) return 1;
  mx_handle_t ch;
  if (mx_service_accept(listener, &ch) != MX_OK) return 1;
  mx_info_peer_cred_t cred = {};
  if (mx_object_get_info(ch, MX_INFO_PEER_CRED, &cred, sizeof(cred), nullptr, nullptr) != MX_OK) {
    return 1;
  }
  printf("accepted a client: pid %d, uid %u, gid %u\n", cred.pid, cred.uid, cred.gid);

  char hello[8];
  mx_handle_t got[2];
  uint32_t nb = 0, nh = 0;
  if (mx_object_wait_one(ch, MX_CHANNEL_READABLE, Deadline(), nullptr) != MX_OK ||
      mx_channel_read(ch, 0, hello, got, sizeof(hello), 2, &nb, &nh) != MX_OK || nh != 2) {
    return 1;
  }
  mx_handle_t sock = got[0], ep = got[1];
  std::vector<uint8_t> buf(64 * 1024);
  size_t received = 0, bad = 0;
  mx_time_t t1 = mx_time_get(MX_CLOCK_MONOTONIC);
  while (received < kBytes) {
    size_t actual = 0;
    mx_status_t st = mx_socket_read(sock, 0, buf.data(), buf.size(), &actual);
    if (st == MX_ERR_SHOULD_WAIT) {
      if (mx_object_wait_one(sock, MX_SOCKET_READABLE | MX_SOCKET_PEER_CLOSED, Deadline(),
                             nullptr) != MX_OK) {
        return 1;
      }
      continue;
    }
    if (st != MX_OK) return 1;
    for (size_t i = 0; i < actual; ++i) bad += buf[i] != Pattern(received + i);
    received += actual;
  }
  mx_time_t t2 = mx_time_get(MX_CLOCK_MONOTONIC);
  mx_signals_t seen = 0;
  if (mx_object_wait_one(ep, MX_EPAIR_SIGNALED, Deadline(), &seen) != MX_OK) return 1;
  if (mx_object_signal_peer(ep, 0, MX_USER_SIGNAL_0) != MX_OK) return 1;
  printf("received %zu bytes through the socket (%s) in %.1f ms: %.0f MiB/s\n", received,
         bad == 0 ? "all correct" : "CORRUPTED", static_cast<double>(t2 - t1) / 1e6,
         static_cast<double>(received) / (1 << 20) / (static_cast<double>(t2 - t1) / 1e9));
  printf("the client raised MX_EPAIR_SIGNALED on our side; we answered with MX_USER_SIGNAL_0\n");

  mx_info_process_t info = {};
  mx_object_wait_one(process, MX_PROCESS_TERMINATED, Deadline(), nullptr);
  mx_object_get_info(process, MX_INFO_PROCESS, &info, sizeof(info), nullptr, nullptr);
  printf("client exited with %d after %.1f ms in all\n", info.return_code,
         static_cast<double>(mx_time_get(MX_CLOCK_MONOTONIC) - t0) / 1e6);
  for (mx_handle_t h : {sock, ep, ch, listener, process}) mx_handle_close(h);
  return bad == 0 && info.exited && info.return_code == 0 ? 0 : 1;
}
