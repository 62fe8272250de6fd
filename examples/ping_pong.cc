// SPDX-License-Identifier: BSD-3-Clause
// mx_ping_pong: the smallest useful libmx program. It spawns itself with one end of a channel,
// sends "ping" with mx_channel_call(), the child answers "pong", and it prints the round trip.
// The first round trip includes the child's start-up, so it pings three times.
#include <magenta/launch.h>
#include <magenta/process.h>
#include <magenta/syscalls.h>
#include <stdio.h>
#include <string.h>

// A message is a 4-byte txid (mx_channel_call matches the reply by it) followed by text.
struct Message {
  mx_txid_t txid;
  char text[4];
};

// Answers every "ping" with a "pong" until the parent closes the channel.
static int Child() {
  mx_handle_t ch = mx_get_startup_handle(PA_HND(PA_USER0, 0));
  for (;;) {
    mx_status_t st = mx_object_wait_one(ch, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                                        mx_deadline_after(MX_SEC(5)), NULL);
    if (st != MX_OK) return 1;
    Message msg;
    uint32_t n = 0;
    st = mx_channel_read(ch, 0, &msg, NULL, sizeof(msg), 0, &n, NULL);
    if (st == MX_ERR_PEER_CLOSED) return 0;  // the parent is done
    if (st != MX_OK) return 1;
    memcpy(msg.text, "pong", 4);  // same txid: this is the reply
    if (mx_channel_write(ch, 0, &msg, sizeof(msg), NULL, 0) != MX_OK) return 1;
  }
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--child") == 0) return Child();

  mx_handle_t ours, theirs, process;
  if (mx_channel_create(0, &ours, &theirs) != MX_OK) return 1;
  const char* args[] = {argv[0], "--child", NULL};
  mx_spawn_handle_t startup = {PA_HND(PA_USER0, 0), theirs};  // moves |theirs| into the child
  mx_status_t st = mx_spawn("/proc/self/exe", args, NULL, &startup, 1, &process);
  if (st != MX_OK) {
    fprintf(stderr, "mx_spawn: %d\n", st);
    return 1;
  }

  for (mx_txid_t txid = 1; txid <= 3; ++txid) {
    Message ping = {txid, {'p', 'i', 'n', 'g'}}, pong = {0, {0}};
    mx_channel_call_args_t call = {&ping, NULL, &pong, NULL, sizeof(ping), 0, sizeof(pong), 0};
    uint32_t n = 0, nh = 0;
    mx_time_t t0 = mx_time_get(MX_CLOCK_MONOTONIC);
    st = mx_channel_call(ours, 0, mx_deadline_after(MX_SEC(5)), &call, &n, &nh, NULL);
    mx_time_t t1 = mx_time_get(MX_CLOCK_MONOTONIC);
    if (st != MX_OK) {
      fprintf(stderr, "mx_channel_call: %d\n", st);
      return 1;
    }
    printf("sent \"%.4s\", got \"%.4s\" in %.1f us\n", ping.text, pong.text, (t1 - t0) / 1e3);
  }

  // Hang up; the child sees PEER_CLOSED and exits. Wait for it, so it is reaped.
  mx_handle_close(ours);
  mx_info_process_t info = {};
  st = mx_object_wait_one(process, MX_PROCESS_TERMINATED, mx_deadline_after(MX_SEC(5)), NULL);
  if (st == MX_OK) {
    mx_object_get_info(process, MX_INFO_PROCESS, &info, sizeof(info), NULL, NULL);
  }
  mx_handle_close(process);
  return st == MX_OK && info.return_code == 0 ? 0 : 1;
}
