// SPDX-License-Identifier: BSD-3-Clause
// The sequence fuzzer's seed programs (tests/fuzz/sequence_program.h), run as ordinary tests in
// every preset, and the writer of its seed corpus, tests/fuzz/corpus/sequence/.
//
// Each program is built with SequenceWriter; the comments track the pool (the handles the program
// holds, by index) after each step, since every handle argument is an index into it. A program
// passes when every call returned what the model predicts and no fd leaked. Inputs that once
// found a bug stay here as regression programs.
#include "fuzz/sequence_program.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "support/multiprocess.h"

namespace {

using mx_fuzz::SequenceWriter;

struct Seed {
  const char* name;
  SequenceWriter program;
};

std::vector<Seed> Seeds() {
  std::vector<Seed> seeds;
  auto add = [&](const char* name) -> SequenceWriter& {
    seeds.push_back({name, SequenceWriter()});
    return seeds.back().program;
  };

  // Messages both ways, in order, a read of an empty endpoint.
  add("write_read")
      .CreateChannel()  // a0 a1
      .Write(0, 10, 1, {})
      .Write(0, 0, 2, {})
      .Write(1, 100, 3, {})
      .Wait(0)
      .Wait(1)
      .Read(1)
      .Read(1)
      .Read(1)  // SHOULD_WAIT
      .Read(0)
      .Read(0);

  // An event and both ends of a pipe travel together and come back live.
  add("handles")
      .CreateChannel()             // a0 a1
      .CreateEvent()               // a0 a1 ev
      .CreatePipe()                // a0 a1 ev r w
      .Write(0, 20, 0, {2, 3, 4})  // a0 a1
      .Wait(1)
      .Read(1)  // a0 a1 ev r w
      .Wait(2)
      .CheckFd(3)
      .Duplicate(2)         // a0 a1 ev r w ev2
      .Wait(2)              // two handles: no LAST_HANDLE
      .Write(1, 5, 0, {5})  // a0 a1 ev r w
      .Wait(2)
      .Read(0)  // a0 a1 ev r w ev2
      .Close(5)
      .Wait(2);

  // An endpoint with queued messages moves (twice); messages sent to it meanwhile follow it.
  add("transfer_endpoint")
      .CreateChannel()  // a0 a1
      .CreateChannel()  // a0 a1 b0 b1
      .Write(3, 8, 0, {})
      .Write(3, 9, 1, {})
      .Wait(2)              // pulls the two messages into b0's local queue
      .Write(0, 4, 0, {2})  // b0 into a1's inbox: a0 a1 b1
      .Write(2, 10, 2, {})  // sent to b0 while it travels
      .Read(1)              // a0 a1 b1 b0
      .Read(3)
      .Read(3)
      .Read(3)
      .Read(3)  // SHOULD_WAIT
      .Write(3, 8, 0, {})
      .Read(2)
      .Write(2, 11, 3, {})
      .Write(1, 0, 0, {3})  // b0 again, into a0's inbox: a0 a1 b1
      .Read(0)              // a0 a1 b1 b0
      .Wait(3)
      .Read(3);

  // Calls answered by the responder: handles echoed, a reply too large, an earlier message with
  // the same txid left alone.
  add("call_reply")
      .CreateChannel()                  // a0 a1
      .CreateEvent()                    // a0 a1 ev
      .Write(1, 8, 2, {})               // txid 2, like the first call's
      .CallReply(0, 12, {2}, 4 | 0x10)  // ev echoed back: a0 a1 ev
      .Wait(0)
      .Read(0)
      .CallReply(0, 4, {}, 1)   // reply buffer one byte short: CALL_FAILED
      .CallReply(1, 8, {2}, 0)  // the responder closes ev: a0 a1
      .CallReply(1, 30, {}, 0x20);

  // A call nobody answers times out; its request (with a pipe end) waits at the peer.
  add("call_timeout")
      .CreateChannel()         // a0 a1
      .CreatePipe()            // a0 a1 r w
      .CallTimeout(0, 8, {3})  // a0 a1 r
      .Wait(1)
      .Read(1)  // a0 a1 r w
      .CheckFd(2);

  // Closing one end: queued messages stay readable, then PEER_CLOSED everywhere.
  add("peer_closed")
      .CreateChannel()  // a0 a1
      .Write(0, 5, 0, {})
      .Close(0)  // a1
      .Wait(0)
      .Read(0)
      .Read(0)
      .Write(0, 4, 0, {})
      .SignalPeer(0, 0, 1)
      .CallTimeout(0, 4, {})
      .CallReply(0, 4, {}, 0);

  // Event signals, an endpoint's own user signals, user signals sent to the peer.
  add("signals")
      .CreateChannel()  // a0 a1
      .CreateEvent()    // a0 a1 ev
      .Signal(2, 0, 0x3, 1)
      .Wait(2)
      .Signal(2, 0x1, 0, 2)
      .Wait(2)
      .Signal(0, 0, 0x80)
      .Wait(0)
      .SignalPeer(0, 0, 0x0f)
      .Wait(1)
      .SignalPeer(1, 0x80, 0x40)
      .Wait(0)
      .Signal(2, 0, 0, 4)   // LAST_HANDLE: INVALID_ARGS
      .Signal(0, 0, 0, 1)   // SIGNALED on a channel: INVALID_ARGS
      .CreateChannel()      // a0 a1 ev b0 b1
      .Write(3, 4, 0, {1})  // a1 travels with its signals: a0 ev b0 b1
      .Read(3)              // a0 ev b0 b1 a1
      .Wait(4);

  // Rights: no TRANSFER after replace, channels can't be duplicated; stale values.
  add("rights_and_stale")
      .CreateChannel()      // a0 a1
      .CreateEvent()        // a0 a1 ev
      .Replace(2, 1)        // ev without TRANSFER
      .Write(0, 4, 0, {2})  // ACCESS_DENIED
      .Duplicate(0)         // ACCESS_DENIED
      .Duplicate(2)         // a0 a1 ev ev2 (also without TRANSFER)
      .Replace(0, 0)
      .Close(1)  // a0 ev ev2
      .Stale(0, 0)
      .Stale(1, 1)
      .Stale(2, 2)
      .Stale(0, 3)
      .Wait(1);

  // Errors in Magenta's order of checks.
  add("errors")
      .CreateChannel()                         // a0 a1
      .CreateEvent()                           // a0 a1 ev
      .CreatePipe()                            // a0 a1 ev r w
      .Write(2, 4, 0, {})                      // WRONG_TYPE
      .Write(0, 4, 0, {0})                     // NOT_SUPPORTED
      .Write(0, 4, 0, {2, 2})                  // INVALID_ARGS
      .Write(0, 4, 0, {1, 0})                  // NOT_SUPPORTED before anything else
      .Write(0, 255, 0, {})                    // OUT_OF_RANGE (bytes)
      .Raw({mx_fuzz::kOpWrite, 0, 4, 0, 255})  // OUT_OF_RANGE (65 handles)
      .Write(0, 254, 0, {})                    // exactly 64 KiB
      .Read(1)
      .Read(3)                // WRONG_TYPE
      .Wait(3)                // NOT_SUPPORTED
      .Signal(3, 0, 1)        // ACCESS_DENIED
      .SignalPeer(2, 0, 1)    // ACCESS_DENIED
      .CheckFd(0)             // WRONG_TYPE
      .CallTimeout(2, 4, {})  // WRONG_TYPE
      .Read(0, 7);

  // Enough bytes to fill the socket: the rest go through the message ring, a message with handles
  // is split (handles on the socket, payload in the ring); order holds across both.
  add("spill")
      .CreateChannel()  // a0 a1
      .CreateEvent()    // a0 a1 ev
      .Write(0, 253, 0, {})
      .Write(0, 253, 1, {})
      .Write(0, 253, 2, {})
      .Write(0, 253, 3, {})
      .Write(0, 253, 0, {})
      .Write(0, 10, 1, {2})  // a0 a1
      .Write(0, 253, 2, {})
      .Write(0, 253, 3, {})
      .Wait(1)
      .Wait(0)
      .Read(1)
      .Read(1)
      .Read(1)
      .Read(1)
      .Read(1)
      .Read(1)  // a0 a1 ev
      .Read(1)
      .Read(1)
      .Wait(0)
      .Write(0, 4, 0, {});

  // An endpoint sent into its own channel, and two endpoints sent into each other's: nobody can
  // read them any more (the kernel's garbage collector frees them).
  add("cycles")
      .CreateChannel()      // a0 a1
      .Write(0, 4, 0, {1})  // a0
      .Wait(0)
      .Write(0, 4, 0, {})
      .CreateChannel()      // a0 b0 b1
      .CreateChannel()      // a0 b0 b1 c0 c1
      .Write(1, 4, 0, {3})  // c0 into b1's inbox: a0 b0 b1 c1
      .Write(3, 4, 0, {2})  // b1 into c0's inbox: a0 b0 c1
      .Wait(1)
      .Wait(2)
      .Close(0)
      .Close(0);

  // Discarded messages close what they carry.
  add("discard")
      .CreateChannel()      // a0 a1
      .CreateChannel()      // a0 a1 b0 b1
      .Write(0, 8, 0, {2})  // a0 a1 b1
      .Read(1, 4 | 1)       // MAY_DISCARD with a short buffer: b0 is closed
      .Wait(2)
      .Read(2)
      .Write(0, 8, 0, {})
      .Read(1, 2)  // handle array short, but the message has none: read
      .Write(0, 8, 0, {})
      .Close(1)  // a0 b1, a1 closed with a message queued
      .Wait(0)
      .Write(0, 1, 0, {});

  // Pipe ends as handles: duplicates, unwrapping, a byte through the pipe.
  add("fd_pipe")
      .CreatePipe()  // r w
      .Duplicate(1)  // r w w2
      .CheckFd(2)
      .CheckFd(0)
      .Close(1)  // r w2
      .CheckFd(1)
      .CreateChannel()         // r w2 a0 a1
      .Write(2, 3, 0, {0, 1})  // r and w2 travel: a0 a1
      .Read(1)                 // a0 a1 r w2
      .CheckFd(2);

  // Regressions: inputs the fuzzer reduced to a bug, kept as programs.

  // An endpoint closed with a message of its own unread: what it had sent before must stay
  // readable at the peer (was lost: ECONNRESET ahead of the queued datagrams read as the end).
  add("regression_close_with_unread")
      .CreateChannel()  // a0 a1
      .Write(0, 1, 0, {})
      .Write(1, 12, 0, {})  // never read by a0
      .Close(0)             // a1
      .Read(0)
      .Read(0);

  // A received event duplicated, then the received handle closed: the duplicate must be the
  // last handle (was not: the event's mapping held the received lock description).
  add("regression_event_dup_of_received")
      .CreateChannel()      // a0 a1
      .CreateEvent()        // a0 a1 ev
      .Write(0, 4, 0, {2})  // a0 a1
      .Read(1)              // a0 a1 ev
      .Duplicate(2)         // a0 a1 ev ev2
      .Close(2)             // a0 a1 ev2
      .Wait(2);

  return seeds;
}

class SequenceProgramTest : public testing::TestWithParam<size_t> {};

TEST_P(SequenceProgramTest, RunsWithoutViolation) {
  const std::vector<Seed> seeds = Seeds();
  const Seed& seed = seeds[GetParam()];
  const std::vector<uint8_t>& bytes = seed.program.bytes();
  mx_fuzz::SequenceStats stats;
  EXPECT_EQ(mx_fuzz::RunSequence(bytes.data(), bytes.size(), &stats), "") << seed.name;
  EXPECT_EQ(stats.programs, 1u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, SequenceProgramTest, testing::Range<size_t>(0, Seeds().size()),
                         [](const testing::TestParamInfo<size_t>& info) {
                           return std::string(Seeds()[info.param].name);
                         });

// Not a test but a corpus writer: writes every program above into args[0], one file each.
// `cmake --build --preset debug --target mx_write_corpus` rewrites tests/fuzz/corpus/sequence/
// (tests/fuzz/README.md).
MX_CHILD(write_sequence_corpus) {
  CHILD_CHECK(args.size() == 1);
  for (const Seed& seed : Seeds()) {
    const std::vector<uint8_t>& bytes = seed.program.bytes();
    std::ofstream f(args[0] + "/" + seed.name, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
    CHILD_CHECK(f.good());
  }
  return 0;
}

}  // namespace
