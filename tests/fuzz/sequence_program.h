// SPDX-License-Identifier: BSD-3-Clause
// Sequence programs: a byte string decoded into at most kMaxOps operations on the public C API
// (<magenta/syscalls.h>, <magenta/fd.h>), each checked against a small model of what must hold.
//
// Used by the libFuzzer target tests/fuzz/sequence_fuzzer.cc (mx_sequence_fuzzer), and by
// tests/api/sequence_program_test.cc, which runs the seed programs below as ordinary tests in every
// preset and writes the seed corpus tests/fuzz/corpus/sequence/ from them.
//
// What is checked, after every operation:
//   - each call returns the status the model predicts (errors in Magenta's order of checks);
//   - no message is lost, duplicated or reordered: a read returns exactly the oldest message the
//     model holds for that endpoint, bytes and handles, wherever the endpoint has travelled;
//   - a handle read back (or returned by a call) is live, of the right type and koid, with the
//     rights the type allows, under a value no other live handle has;
//   - handles moved by a successful write are gone (BAD_HANDLE); after a failed one all are live;
//   - signals seen by a wait with deadline 0 match the model (READABLE, PEER_CLOSED, WRITABLE,
//     user signals, an event's SIGNALED and LAST_HANDLE) wherever the model can know them;
//   - a value that was closed, moved or replaced is BAD_HANDLE for close, wait and write;
//   - at the end, after every queued message was read and every handle closed, the process has as
//     many open fds (/proc/self/fd) as before the program.
// Some outcomes depend on the kernel's garbage collection of sockets in flight (an endpoint sent
// into its own channel, or discarded inside an unread message); the model then accepts either
// outcome for that endpoint's peer ("unknown") rather than guess.
//
// Encoding. Operations follow one another; each is an opcode byte (modulo kOpCount) then its
// argument bytes; missing bytes read as 0. A handle argument `h` is an index into the *pool*, the
// handles the program holds, modulo its size; an operation that needs a handle is skipped while
// the pool is empty. New handles are appended to the pool (create, read, duplicate, call replies);
// closed or sent ones are erased, the rest keep their order; replace and the fd check keep the
// position. So after CreateChannel() on an empty pool, 0 and 1 are its two endpoints.
//
//   op               arguments             what it does
//   kOpCreateChannel -                     mx_channel_create (both endpoints appended)
//   kOpCreateEvent   -                     mx_event_create
//   kOpCreatePipe    -                     pipe2, both ends through mx_fd_wrap (read end first)
//   kOpWrite         h size tag n h1..hn   mx_channel_write(h) of a |size| payload starting with
//   the
//                                          txid |tag| % 4, with handles h1..hn (n % 6; 255: 65)
//   kOpRead          h mode                mx_channel_read(h); mode bit 0: byte buffer one short,
//                                          bit 1: handle array one short, bit 2: MAY_DISCARD
//   kOpCallReply     h size n h1..hn mode  mx_channel_call(h), answered by a helper thread on the
//                                          peer (which must be in the pool, else kOpCallTimeout);
//                                          mode bit 0/1 as for read (reply buffers one short),
//                                          bit 2: the helper sends the request's handles back
//                                          (else it closes them), bits 4-7: reply size / 64
//   kOpCallTimeout   h size n h1..hn       mx_channel_call(h) with deadline 0: TIMED_OUT, the
//                                          request stays queued at the peer
//   kOpClose         h                     mx_handle_close, then the same value again (BAD_HANDLE)
//   kOpWait          h                     mx_object_wait_one(h, all signals, deadline 0)
//   kOpSignal        h clear set extra     mx_object_signal(h, clear << 24, set << 24), extra bit 0
//                                          sets / bit 1 clears MX_EVENT_SIGNALED, bit 2 sets
//                                          LAST_HANDLE (INVALID_ARGS)
//   kOpSignalPeer    h clear set           mx_object_signal_peer(h, clear << 24, set << 24)
//   kOpDuplicate     h                     mx_handle_duplicate(h, SAME_RIGHTS)
//   kOpReplace       h mode                mx_handle_replace; mode bit 0: without TRANSFER
//   kOpCheckFd       h                     mx_fd_unwrap, check the file (and move a byte through
//   the
//                                          pipe when both ends are in the pool), mx_fd_wrap again
//   kOpStale         i which               a value this program closed, sent or replaced (i-th,
//                                          modulo) is BAD_HANDLE for: 0 close, 1 wait, 2 write on
//                                          it, 3 sending it through a channel in the pool
//
// A |size| byte s is s bytes for s < 192, (s - 191) KiB for 192..253, 65,536 for 254 and 65,537
// (OUT_OF_RANGE) for 255. Payload beyond 512 KiB per program is cut to s % 64 bytes.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace mx_fuzz {

enum SequenceOp : uint8_t {
  kOpCreateChannel = 0,
  kOpCreateEvent,
  kOpCreatePipe,
  kOpWrite,
  kOpRead,
  kOpCallReply,
  kOpCallTimeout,
  kOpClose,
  kOpWait,
  kOpSignal,
  kOpSignalPeer,
  kOpDuplicate,
  kOpReplace,
  kOpCheckFd,
  kOpStale,
  kOpCount,
};

constexpr size_t kMaxOps = 64;

// Counters summed over every program run in this process (for the fuzzer's final report).
struct SequenceStats {
  uint64_t programs = 0;
  uint64_t ops = 0;  // operations executed (skipped ones not counted)
  uint64_t messages_written = 0;
  uint64_t messages_read = 0;  // read back and compared (including call replies)
  uint64_t handles_moved = 0;  // handles that left with a message (write, call, reply)
  uint64_t calls_answered = 0;
  uint64_t calls_timed_out = 0;
  uint64_t expected_errors = 0;   // calls that failed exactly as the model said they must
  uint64_t should_wait = 0;       // writes refused for backpressure
  uint64_t known_bug_writes = 0;  // writes to a closed peer that succeeded (tolerated known bug)
};

// Runs one program. Returns "" when every check held, else a description of the first violation
// (the program stops there; handles it held may stay open). Set MX_SEQ_TRACE=1 to log every
// operation to stderr. Not reentrant: one program at a time per process.
std::string RunSequence(const uint8_t* data, size_t size, SequenceStats* stats);

// Builds programs for seeds and tests (see the table above for each operation's arguments).
class SequenceWriter {
 public:
  SequenceWriter& CreateChannel() { return Op(kOpCreateChannel, {}); }
  SequenceWriter& CreateEvent() { return Op(kOpCreateEvent, {}); }
  SequenceWriter& CreatePipe() { return Op(kOpCreatePipe, {}); }
  SequenceWriter& Write(uint8_t h, uint8_t size, uint8_t tag, std::initializer_list<uint8_t> hs) {
    return Op(kOpWrite, {h, size, tag}).List(hs);
  }
  SequenceWriter& Read(uint8_t h, uint8_t mode = 0) { return Op(kOpRead, {h, mode}); }
  SequenceWriter& CallReply(uint8_t h, uint8_t size, std::initializer_list<uint8_t> hs,
                            uint8_t mode) {
    Op(kOpCallReply, {h, size}).List(hs);
    bytes_.push_back(mode);
    return *this;
  }
  SequenceWriter& CallTimeout(uint8_t h, uint8_t size, std::initializer_list<uint8_t> hs) {
    return Op(kOpCallTimeout, {h, size}).List(hs);
  }
  SequenceWriter& Close(uint8_t h) { return Op(kOpClose, {h}); }
  SequenceWriter& Wait(uint8_t h) { return Op(kOpWait, {h}); }
  SequenceWriter& Signal(uint8_t h, uint8_t clear, uint8_t set, uint8_t extra = 0) {
    return Op(kOpSignal, {h, clear, set, extra});
  }
  SequenceWriter& SignalPeer(uint8_t h, uint8_t clear, uint8_t set) {
    return Op(kOpSignalPeer, {h, clear, set});
  }
  SequenceWriter& Duplicate(uint8_t h) { return Op(kOpDuplicate, {h}); }
  SequenceWriter& Replace(uint8_t h, uint8_t mode) { return Op(kOpReplace, {h, mode}); }
  SequenceWriter& CheckFd(uint8_t h) { return Op(kOpCheckFd, {h}); }
  SequenceWriter& Stale(uint8_t i, uint8_t which) { return Op(kOpStale, {i, which}); }
  // Bytes as they are, for encodings the methods above do not produce (a count of 255).
  SequenceWriter& Raw(std::initializer_list<uint8_t> raw) {
    bytes_.insert(bytes_.end(), raw.begin(), raw.end());
    return *this;
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  SequenceWriter& Op(SequenceOp op, std::initializer_list<uint8_t> args) {
    bytes_.push_back(op);
    bytes_.insert(bytes_.end(), args.begin(), args.end());
    return *this;
  }
  SequenceWriter& List(std::initializer_list<uint8_t> hs) {
    bytes_.push_back(static_cast<uint8_t>(hs.size()));
    bytes_.insert(bytes_.end(), hs.begin(), hs.end());
    return *this;
  }

  std::vector<uint8_t> bytes_;
};

}  // namespace mx_fuzz
