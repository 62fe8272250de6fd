// SPDX-License-Identifier: BSD-3-Clause
// What the libFuzzer targets beside the code (src/**/*_fuzzer.cc) share: the check that aborts
// on a violated property, and the kinds of real fd an input attaches to a datagram.
//
// Each fuzzer keeps its own numbering of fd kinds (part of its input format, documented in its
// header and in tests/fuzz/README.md, and baked into its seed corpus): a table of FuzzFd in the
// fuzzer, indexed by the input byte modulo the table's size, names the kinds made here.
// Header-only, without gtest.
#pragma once

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "os/unique_fd.h"

namespace mx_fuzz {

// Prints "<fuzzer>: check failed: <cond> (<file>:<line>)", <fuzzer> being the file's name
// without ".cc", and aborts (libFuzzer keeps the input).
[[noreturn]] inline void CheckFailed(const char* cond, const char* file, int line) {
  const char* base = std::strrchr(file, '/');
  base = base == nullptr ? file : base + 1;
  const char* dot = std::strrchr(base, '.');
  const int len =
      dot == nullptr ? static_cast<int>(std::strlen(base)) : static_cast<int>(dot - base);
  std::fprintf(stderr, "%.*s: check failed: %s (%s:%d)\n", len, base, cond, file, line);
  std::abort();
}

#define FUZZ_CHECK(cond)                                            \
  do {                                                              \
    if (!(cond)) ::mx_fuzz::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (0)

enum class FuzzFd {
  kPipeRead,             // the read end of a pipe (the write end closed)
  kPipeWrite,            // the write end of a pipe (the read end closed)
  kEventFd,              // a non-blocking eventfd
  kMemfd,                // an empty memfd, no seals
  kSeqpacketEnd,         // one end of a non-blocking SOCK_SEQPACKET socketpair (the other closed)
  kStreamEnd,            // one end of a non-blocking SOCK_STREAM socketpair (the other closed)
  kSealedMemfd,          // a 4 KiB memfd sealed against shrinking, growing and more seals (an
                         // event's shape)
  kMemfdWithContents,    // a memfd holding the bytes given to MakeFuzzFd
  kListeningSeqpacket,   // a SOCK_SEQPACKET socket autobound to an abstract name and listening
  kUnconnectedSeqpacket  // a SOCK_SEQPACKET socket, neither bound nor connected
};

// A new close-on-exec fd of |kind|; |contents| (|size| bytes) only for kMemfdWithContents. An
// fd the kernel refuses is returned invalid for kEventFd, kMemfd and kUnconnectedSeqpacket (the
// fuzzer checks), every other failure aborts.
inline mx::internal::UniqueFd MakeFuzzFd(FuzzFd kind, const uint8_t* contents = nullptr,
                                         size_t size = 0) {
  using mx::internal::UniqueFd;
  int p[2];
  switch (kind) {
    case FuzzFd::kPipeRead:
    case FuzzFd::kPipeWrite: {
      FUZZ_CHECK(::pipe2(p, O_CLOEXEC) == 0);
      const int keep = kind == FuzzFd::kPipeRead ? 0 : 1;
      ::close(p[1 - keep]);
      return UniqueFd(p[keep]);
    }
    case FuzzFd::kEventFd:
      return UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    case FuzzFd::kMemfd:
      return UniqueFd(::memfd_create("fuzz", MFD_CLOEXEC));
    case FuzzFd::kSeqpacketEnd:
    case FuzzFd::kStreamEnd: {
      const int type = (kind == FuzzFd::kSeqpacketEnd ? SOCK_SEQPACKET : SOCK_STREAM) |
                       SOCK_CLOEXEC | SOCK_NONBLOCK;
      FUZZ_CHECK(::socketpair(AF_UNIX, type, 0, p) == 0);
      ::close(p[1]);
      return UniqueFd(p[0]);
    }
    case FuzzFd::kSealedMemfd: {
      UniqueFd fd(::memfd_create("fuzz-sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING));
      FUZZ_CHECK(fd.is_valid() && ::ftruncate(fd.get(), 4096) == 0);
      FUZZ_CHECK(::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0);
      return fd;
    }
    case FuzzFd::kMemfdWithContents: {
      UniqueFd fd(::memfd_create("fuzz-contents", MFD_CLOEXEC));
      FUZZ_CHECK(fd.is_valid());
      FUZZ_CHECK(size == 0 || ::pwrite(fd.get(), contents, size, 0) == static_cast<ssize_t>(size));
      return fd;
    }
    case FuzzFd::kListeningSeqpacket: {
      UniqueFd s(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
      FUZZ_CHECK(s.is_valid());
      // Autobind to an abstract name, then listen.
      struct sockaddr_un addr = {};
      addr.sun_family = AF_UNIX;
      FUZZ_CHECK(::bind(s.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(sa_family_t)) ==
                 0);
      FUZZ_CHECK(::listen(s.get(), 1) == 0);
      return s;
    }
    case FuzzFd::kUnconnectedSeqpacket:
      return UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  }
  std::abort();
}

}  // namespace mx_fuzz
