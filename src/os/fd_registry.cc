// SPDX-License-Identifier: BSD-3-Clause
#include "os/fd_registry.h"

#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace mx::internal {
namespace {

// A two-level bitmap indexed by fd number: 256 chunks of 16384 fds cover fds below 4M, which is
// above Linux's default fs.nr_open (1M). Chunks are allocated on first use and never freed.
constexpr int kChunkBits = 14;
constexpr int kChunkFds = 1 << kChunkBits;
constexpr int kNumChunks = 256;
constexpr int kWordsPerChunk = kChunkFds / 64;

struct Chunk {
  std::atomic<uint64_t> words[kWordsPerChunk];
};

std::atomic<Chunk*> g_chunks[kNumChunks];

// The chunk for fds index << kChunkBits and up, or null if none was created yet.
Chunk* FindChunk(int index) { return g_chunks[index].load(std::memory_order_acquire); }

Chunk* FindOrCreateChunk(int index) {
  Chunk* chunk = FindChunk(index);
  if (chunk != nullptr) return chunk;
  auto* fresh = new Chunk();
  for (auto& w : fresh->words) w.store(0, std::memory_order_relaxed);
  if (g_chunks[index].compare_exchange_strong(chunk, fresh, std::memory_order_acq_rel)) {
    return fresh;
  }
  delete fresh;
  return chunk;
}

}  // namespace

void FdRegistryAdd(int fd) {
  if (fd < 0 || fd >= kChunkFds * kNumChunks) return;
  Chunk* chunk = FindOrCreateChunk(fd >> kChunkBits);
  int bit = fd & (kChunkFds - 1);
  chunk->words[bit / 64].fetch_or(uint64_t{1} << (bit % 64), std::memory_order_relaxed);
}

void FdRegistryRemove(int fd) {
  if (fd < 0 || fd >= kChunkFds * kNumChunks) return;
  Chunk* chunk = FindChunk(fd >> kChunkBits);
  if (chunk == nullptr) return;
  int bit = fd & (kChunkFds - 1);
  chunk->words[bit / 64].fetch_and(~(uint64_t{1} << (bit % 64)), std::memory_order_relaxed);
}

void FdRegistryCloseAllInChild() {
  for (int c = 0; c < kNumChunks; ++c) {
    Chunk* chunk = g_chunks[c].load(std::memory_order_acquire);
    if (chunk == nullptr) continue;
    for (int w = 0; w < kWordsPerChunk; ++w) {
      uint64_t bits = chunk->words[w].exchange(0, std::memory_order_relaxed);
      while (bits != 0) {
        int b = __builtin_ctzll(bits);
        bits &= bits - 1;
        ::close((c << kChunkBits) + w * 64 + b);
      }
    }
  }
}

}  // namespace mx::internal

namespace mx::internal {
namespace {
std::atomic<unsigned> g_fork_generation{0};
}
unsigned ForkGeneration() { return g_fork_generation.load(std::memory_order_relaxed); }
void BumpForkGeneration() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }
}  // namespace mx::internal
