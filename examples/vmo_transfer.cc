// SPDX-License-Identifier: BSD-3-Clause
// mx_vmo_transfer: payloads larger than a channel message (64 KiB) go in a VMO.
//
// The parent fills a 256 MiB buffer (size: first argument, in MiB), sends a handle to it through
// a channel to a child process it spawned, and the child maps the same pages, checksums them and
// replies with the checksum. Nothing is copied: both processes map one memfd. Prints how long
// each step took and checks the checksum.
//
//   $ mx_vmo_transfer [MiB]
#include <magenta/launch.h>
#include <magenta/process.h>
#include <magenta/syscalls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace {

constexpr uint32_t kRW = MX_VM_FLAG_PERM_READ | MX_VM_FLAG_PERM_WRITE;

struct Request {
  uint64_t size;  // bytes of the VMO to checksum; the VMO handle travels with the message
};
struct Reply {
  uint64_t checksum;
  uint64_t map_ns;       // the child's mx_vmar_map
  uint64_t checksum_ns;  // the child's pass over the pages
};

// FNV-1a over 8-byte words: fast enough to be memory-bound, sensitive to every word.
uint64_t Checksum(const uint64_t* words, size_t count) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < count; ++i) h = (h ^ words[i]) * 0x100000001b3ull;
  return h;
}

double Ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

int Child() {
  mx_handle_t ch = mx_get_startup_handle(PA_HND(PA_USER0, 0));
  if (mx_object_wait_one(ch, MX_CHANNEL_READABLE, mx_deadline_after(MX_SEC(60)), NULL) != MX_OK) {
    return 1;
  }
  Request req;
  mx_handle_t vmo;
  uint32_t nb = 0, nh = 0;
  if (mx_channel_read(ch, 0, &req, &vmo, sizeof(req), 1, &nb, &nh) != MX_OK || nh != 1) return 1;
  Reply reply = {};
  mx_time_t t0 = mx_time_get(MX_CLOCK_MONOTONIC);
  uintptr_t addr = 0;
  if (mx_vmar_map(mx_vmar_root_self(), 0, vmo, 0, req.size, MX_VM_FLAG_PERM_READ, &addr) != MX_OK) {
    return 1;
  }
  mx_time_t t1 = mx_time_get(MX_CLOCK_MONOTONIC);
  reply.checksum = Checksum(reinterpret_cast<const uint64_t*>(addr), req.size / 8);
  mx_time_t t2 = mx_time_get(MX_CLOCK_MONOTONIC);
  reply.map_ns = t1 - t0;
  reply.checksum_ns = t2 - t1;
  mx_vmar_unmap(mx_vmar_root_self(), addr, req.size);
  mx_handle_close(vmo);
  return mx_channel_write(ch, 0, &reply, sizeof(reply), NULL, 0) == MX_OK ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--child") == 0) return Child();
  uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 256;
  if (mib == 0) mib = 256;
  const uint64_t size = mib << 20;

  mx_time_t t0 = mx_time_get(MX_CLOCK_MONOTONIC);
  mx_handle_t vmo;
  uintptr_t addr = 0;
  if (mx_vmo_create(size, 0, &vmo) != MX_OK ||
      mx_vmar_map(mx_vmar_root_self(), 0, vmo, 0, size, kRW, &addr) != MX_OK) {
    fprintf(stderr, "cannot create or map a %llu MiB VMO\n", static_cast<unsigned long long>(mib));
    return 1;
  }
  auto* words = reinterpret_cast<uint64_t*>(addr);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < size / 8; ++i) {  // xorshift: every word differs
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    words[i] = x;
  }
  mx_time_t t1 = mx_time_get(MX_CLOCK_MONOTONIC);
  uint64_t expected = Checksum(words, size / 8);
  mx_time_t t2 = mx_time_get(MX_CLOCK_MONOTONIC);

  mx_handle_t ours, theirs, process;
  if (mx_channel_create(0, &ours, &theirs) != MX_OK) return 1;
  const char* args[] = {argv[0], "--child", NULL};
  mx_spawn_handle_t startup = {PA_HND(PA_USER0, 0), theirs};
  if (mx_spawn("/proc/self/exe", args, NULL, &startup, 1, &process) != MX_OK) return 1;
  mx_time_t t3 = mx_time_get(MX_CLOCK_MONOTONIC);

  // Send a duplicate (read-only, mappable) and keep ours: the child cannot write our buffer.
  mx_handle_t ro;
  if (mx_handle_duplicate(vmo, MX_RIGHT_TRANSFER | MX_RIGHT_READ | MX_RIGHT_MAP, &ro) != MX_OK) {
    return 1;
  }
  Request req = {size};
  if (mx_channel_write(ours, 0, &req, sizeof(req), &ro, 1) != MX_OK) return 1;
  mx_time_t t4 = mx_time_get(MX_CLOCK_MONOTONIC);
  Reply reply;
  uint32_t nb = 0;
  if (mx_object_wait_one(ours, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                         mx_deadline_after(MX_SEC(120)), NULL) != MX_OK ||
      mx_channel_read(ours, 0, &reply, NULL, sizeof(reply), 0, &nb, NULL) != MX_OK ||
      nb != sizeof(reply)) {
    fprintf(stderr, "no reply from the child\n");
    return 1;
  }
  mx_time_t t5 = mx_time_get(MX_CLOCK_MONOTONIC);
  mx_object_wait_one(process, MX_PROCESS_TERMINATED, mx_deadline_after(MX_SEC(10)), NULL);

  printf("VMO transfer of %llu MiB to a child process\n", static_cast<unsigned long long>(mib));
  printf("  parent: create + map + fill        %9.2f ms\n", Ms(t1 - t0));
  printf("  parent: checksum (local)           %9.2f ms\n", Ms(t2 - t1));
  printf("  spawn child                        %9.2f ms\n", Ms(t3 - t2));
  printf("  send VMO handle (channel write)    %9.3f ms\n", Ms(t4 - t3));
  printf("  child: map                         %9.3f ms\n", Ms(reply.map_ns));
  printf("  child: checksum over shared pages  %9.2f ms  (%.2f GiB/s)\n", Ms(reply.checksum_ns),
         static_cast<double>(size) / (1u << 30) / (static_cast<double>(reply.checksum_ns) / 1e9));
  printf("  send → reply received              %9.2f ms\n", Ms(t5 - t4));
  printf("  checksum %016llx %s\n", static_cast<unsigned long long>(reply.checksum),
         reply.checksum == expected ? "matches" : "MISMATCH");

  mx_vmar_unmap(mx_vmar_root_self(), addr, size);
  mx_handle_close(vmo);
  mx_handle_close(ours);
  mx_handle_close(process);
  return reply.checksum == expected ? 0 : 1;
}
