// SPDX-License-Identifier: BSD-3-Clause
// bench/peer_iceoryx.h: iceoryx (Eclipse iceoryx 2, its C binding), one of the IPC libraries
// mx_bench_ipc compares with, and the RouDi daemon it needs.
//
// A link is two publish/subscribe pairs, one per direction, on a service of its own. The sender
// loans a shared-memory chunk, copies the message in and publishes it (only the chunk's offset
// goes through the subscriber's queue); the receiver takes the chunk, copies the message out and
// releases it, so the bytes are copied as often as on every other row (a reader that works in
// place would save the second copy). Backpressure is iceoryx's own: the publisher waits for the
// consumer (ConsumerTooSlowPolicy WAIT_FOR_CONSUMER with BLOCK_PRODUCER; a queue of 256 messages,
// 64 above 16 KiB). A receiver blocks in a WaitSet. iceoryx cannot pass fds.
//
// Every process using iceoryx registers with a running `iox-roudi`. The bench starts its own
// (RoudiGuard) for the rows that need it and kills it afterwards; if it cannot start, the rows
// say why. Built when CMake finds iceoryx_binding_c (libiceoryx-binding-c-dev).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace mxb {

class Link;

// Runs `iox-roudi` (output in |log_path|) while it lives: the constructor waits, with a deadline,
// until RouDi accepts clients; the destructor ends this process's iceoryx runtime, kills RouDi and
// removes the shared memory, socket and lock files it leaves (see the .cc for why it kills).
class RoudiGuard {
 public:
  explicit RoudiGuard(const std::string& log_path);
  ~RoudiGuard();
  RoudiGuard(const RoudiGuard&) = delete;
  RoudiGuard& operator=(const RoudiGuard&) = delete;

 private:
  pid_t pid_ = -1;
};

// "" when iceoryx can be used now (built in and RouDi running), else why not.
std::string IceoryxUnavailable();
// "iceoryx 2.0.3" or "" when not built in.
std::string IceoryxVersion();

// The parent's end of a fresh link for messages of up to |max_msg| bytes; it adds "iox=INSTANCE"
// to |child_args|, and the child opens its end with OpenIceoryxChild(INSTANCE, max_msg).
std::unique_ptr<Link> MakeIceoryxParent(size_t max_msg, std::vector<std::string>* child_args);
std::unique_ptr<Link> OpenIceoryxChild(const std::string& instance, size_t max_msg);

}  // namespace mxb
