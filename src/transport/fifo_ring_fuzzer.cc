// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target for FifoRing (transport/fifo_ring.h): the page check a receiver runs
// (ValidateShape) and the queue operations, on a page whose every word a hostile holder chose.
//
// Properties checked (a violation aborts):
//   - no crash, no sanitizer report (no read or write outside the page or the caller's buffer),
//     whatever the page holds and whatever it is changed to between operations;
//   - ValidateShape accepts a page only with a shape Magenta allows and the koids the handle
//     claims, and reports the side whose koid the handle names;
//   - an operation that succeeds moves at least one and at most the asked number of elements.
//
// Input format:
//   bytes 0..447   the first 448 bytes of page 0 (the header, the sides' and queues' words)
//   then, per operation, 6 bytes: op (mod 4: write, read, signals, scribble), side (bit 0),
//   count (u8), a word index (u8) and a value (u16) for scribbles
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "transport/fifo_ring.h"
#include "transport/fifo_ring_page.h"

namespace mx::internal {
namespace {

constexpr size_t kHeaderInput = 448;

void Check(bool ok) {
  if (!ok) std::abort();
}

struct alignas(4096) Page {
  uint8_t bytes[kFifoPageBytes];
};

}  // namespace
}  // namespace mx::internal

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mx::internal;
  if (size < kHeaderInput) return 0;
  static Page page;
  std::memset(page.bytes, 0, sizeof(page.bytes));
  std::memcpy(page.bytes, data, kHeaderInput);
  const auto* header = reinterpret_cast<const FifoPage*>(page.bytes);
  const uint64_t koid = header->koid[data[0] & 1];
  const uint64_t peer = header->koid[(data[0] & 1) ^ 1];
  FifoShape shape;
  int side = -1;
  if (!FifoRing::ValidateShape(page.bytes, koid, peer, &shape, &side)) return 0;
  Check(FifoShapeValid(shape.elem_count, shape.elem_size));
  Check(shape.koid[side] == koid && shape.koid[1 - side] == peer && koid != peer);
  FifoRing rings[2] = {FifoRing(page.bytes, shape, 0), FifoRing(page.bytes, shape, 1)};
  std::vector<uint8_t> buffer(kFifoMaxBytes);
  for (size_t pos = kHeaderInput; pos + 6 <= size; pos += 6) {
    const uint8_t* op = data + pos;
    FifoRing& ring = rings[op[1] & 1];
    const uint32_t want = 1 + op[2] % shape.elem_count;
    uint32_t moved = 0;
    bool wake = false, corrupt = false;
    switch (op[0] % 4) {
      case 0:
        if (ring.Write(buffer.data(), want, &moved, &wake) == FifoRing::Result::kOk) {
          Check(moved >= 1 && moved <= want);
        }
        break;
      case 1:
        if (ring.Read(buffer.data(), want, &moved, &wake) == FifoRing::Result::kOk) {
          Check(moved >= 1 && moved <= want);
        }
        break;
      case 2:
        ring.QueueSignals(&corrupt);
        break;
      default: {
        // A hostile holder rewrites one 16-bit half of a word of the shared area.
        uint16_t value;
        std::memcpy(&value, op + 4, sizeof(value));
        std::memcpy(page.bytes + 64 + static_cast<size_t>(op[3] % 192) * 2, &value, sizeof(value));
        break;
      }
    }
  }
  return 0;
}
