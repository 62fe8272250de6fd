// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for HandleTable (object/handle_table.h): the shape of handle values, stale values
// (also after their slot was reused), the lookup error order, the two-phase transfer protocol,
// and consistency under concurrent use (run under TSan too).
//
// The table is the process's own (HandleTable::Get()); the tests only look at values they added,
// so other handles in the table do not matter.
#include "object/handle_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace mx::internal {
namespace {

constexpr uint32_t kTypeA = 0x7e570001;
constexpr uint32_t kTypeB = 0x7e570002;

// A trivial object: a type and nothing else.
class TestObject final : public Object {
 public:
  explicit TestObject(uint32_t type) : Object(/*koid=*/1), type_(type) {}
  uint32_t type() const override { return type_; }
  mx_signals_t Signals() override { return 0; }
  void AddWaitSources(mx_signals_t, std::vector<WaitSource>*) override {}
  mx_status_t PrepareTransfer(const Handle&, RawHandle*) override { return MX_ERR_NOT_SUPPORTED; }

 private:
  const uint32_t type_;
};

std::shared_ptr<Handle> NewHandle(uint32_t type = kTypeA,
                                  mx_rights_t rights = MX_RIGHT_READ | MX_RIGHT_TRANSFER) {
  return std::make_shared<Handle>(std::make_shared<TestObject>(type), rights);
}

HandleTable& Table() { return HandleTable::Get(); }

// Adds |n| fresh handles; returns their values.
std::vector<mx_handle_t> AddMany(size_t n,
                                 std::vector<std::shared_ptr<Handle>>* handles = nullptr) {
  std::vector<mx_handle_t> values;
  for (size_t i = 0; i < n; ++i) {
    auto h = NewHandle();
    mx_handle_t v = Table().Add(h);
    EXPECT_NE(v, MX_HANDLE_INVALID);
    values.push_back(v);
    if (handles != nullptr) handles->push_back(h);
  }
  return values;
}

void RemoveAll(const std::vector<mx_handle_t>& values) {
  for (mx_handle_t v : values) {
    std::shared_ptr<Handle> h;
    EXPECT_EQ(Table().Remove(v, &h), MX_OK);
  }
}

bool IsLive(mx_handle_t v) {
  std::shared_ptr<Handle> h;
  return Table().Lookup(v, 0, 0, &h) == MX_OK;
}

// Two values name the same slot iff bits 1..18 agree (the mixer XORs both the same way).
bool SameSlot(mx_handle_t a, mx_handle_t b) {
  return ((static_cast<uint32_t>(a) ^ static_cast<uint32_t>(b)) & 0x7fffeu) == 0;
}

// ---- Values --------------------------------------------------------------------------------

TEST(HandleTableTest, ValuesAreOddPositiveNonZeroAndDistinct) {
  std::vector<mx_handle_t> values = AddMany(2000);
  std::set<mx_handle_t> seen;
  for (mx_handle_t v : values) {
    EXPECT_NE(v, MX_HANDLE_INVALID);
    EXPECT_GT(v, 0);
    EXPECT_EQ(v & 1, 1);
    EXPECT_TRUE(seen.insert(v).second) << "duplicate value " << v;
  }
  RemoveAll(values);
}

TEST(HandleTableTest, LookupReturnsTheHandleThatWasAdded) {
  auto h = NewHandle();
  mx_handle_t v = Table().Add(h);
  std::shared_ptr<Handle> got;
  ASSERT_EQ(Table().Lookup(v, MX_RIGHT_READ, kTypeA, &got), MX_OK);
  EXPECT_EQ(got, h);
  std::shared_ptr<Handle> removed;
  ASSERT_EQ(Table().Remove(v, &removed), MX_OK);
  EXPECT_EQ(removed, h);
}

TEST(HandleTableTest, ValuesThatWereNeverIssuedAreBadHandle) {
  std::shared_ptr<Handle> out;
  for (mx_handle_t v : {MX_HANDLE_INVALID, -1, -2, INT32_MIN, 2, 4, 0x7ffffffe}) {
    EXPECT_EQ(Table().Lookup(v, 0, 0, &out), MX_ERR_BAD_HANDLE) << v;
    EXPECT_EQ(Table().Remove(v, &out), MX_ERR_BAD_HANDLE) << v;
  }
  EXPECT_EQ(out, nullptr);
  // A live value with a bit flipped names nothing.
  mx_handle_t v = Table().Add(NewHandle());
  for (int bit = 0; bit < 31; ++bit) {
    mx_handle_t flipped = v ^ (1 << bit);
    if (bit >= 1 && bit <= 18) continue;  // might name another live slot of this process
    EXPECT_EQ(Table().Lookup(flipped, 0, 0, &out), MX_ERR_BAD_HANDLE) << "bit " << bit;
  }
  RemoveAll({v});
}

TEST(HandleTableTest, RemovedValueIsBadHandle) {
  mx_handle_t v = Table().Add(NewHandle());
  std::shared_ptr<Handle> out;
  ASSERT_EQ(Table().Remove(v, &out), MX_OK);
  EXPECT_EQ(Table().Lookup(v, 0, 0, &out), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(Table().Remove(v, &out), MX_ERR_BAD_HANDLE);
}

TEST(HandleTableTest, StaleValueStaysBadAfterItsSlotIsReused) {
  std::vector<mx_handle_t> old_values = AddMany(100);
  RemoveAll(old_values);
  std::set<uint32_t> old_slots;
  for (mx_handle_t v : old_values) old_slots.insert(static_cast<uint32_t>(v) & 0x7fffeu);
  // Freed slots are reused FIFO once enough are free; other tests freed slots before ours, so
  // keep adding until some of ours come back (bounded).
  std::vector<mx_handle_t> new_values;
  size_t reused = 0;
  while (reused < 20 && new_values.size() < 200000) {
    mx_handle_t v = Table().Add(NewHandle());
    ASSERT_NE(v, MX_HANDLE_INVALID);
    new_values.push_back(v);
    if (old_slots.count(static_cast<uint32_t>(v) & 0x7fffeu) != 0) ++reused;
  }
  ASSERT_GE(reused, 20u) << "slots were never reused; the generation check is untested";
  std::set<mx_handle_t> fresh(new_values.begin(), new_values.end());
  for (mx_handle_t old : old_values) {
    EXPECT_EQ(fresh.count(old), 0u) << "a stale value was issued again";
    EXPECT_FALSE(IsLive(old)) << "stale value " << old << " resolves";
    std::shared_ptr<Handle> out;
    EXPECT_EQ(Table().Remove(old, &out), MX_ERR_BAD_HANDLE);
  }
  RemoveAll(new_values);
}

TEST(HandleTableTest, JustClosedValueIsNotReusedImmediately) {
  // Even a reused slot gets a new generation, but the table also delays reuse (FIFO after 64).
  mx_handle_t v = Table().Add(NewHandle());
  RemoveAll({v});
  std::vector<mx_handle_t> next = AddMany(32);
  for (mx_handle_t n : next) EXPECT_FALSE(SameSlot(v, n));
  RemoveAll(next);
}

// ---- Lookup order --------------------------------------------------------------------------

TEST(HandleTableTest, LookupChecksValidityThenRightsThenType) {
  auto h = NewHandle(kTypeA, MX_RIGHT_READ);
  mx_handle_t v = Table().Add(h);
  std::shared_ptr<Handle> out;
  // Missing right and wrong type: rights win.
  EXPECT_EQ(Table().Lookup(v, MX_RIGHT_WRITE, kTypeB, &out), MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(Table().Lookup(v, MX_RIGHT_READ | MX_RIGHT_WRITE, kTypeA, &out), MX_ERR_ACCESS_DENIED);
  // Rights present, wrong type.
  EXPECT_EQ(Table().Lookup(v, MX_RIGHT_READ, kTypeB, &out), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(Table().Lookup(v, 0, kTypeB, &out), MX_ERR_WRONG_TYPE);
  EXPECT_EQ(out, nullptr) << "out-param touched on failure";
  // Type 0 means any type.
  EXPECT_EQ(Table().Lookup(v, MX_RIGHT_READ, 0, &out), MX_OK);
  EXPECT_EQ(out, h);
  std::shared_ptr<Handle> removed;
  ASSERT_EQ(Table().Remove(v, &removed), MX_OK);
  // Invalid beats everything.
  std::shared_ptr<Handle> out2;
  EXPECT_EQ(Table().Lookup(v, MX_RIGHT_WRITE, kTypeB, &out2), MX_ERR_BAD_HANDLE);
  EXPECT_EQ(out2, nullptr);
}

// ---- Transfers -----------------------------------------------------------------------------

TEST(HandleTableTest, BeginTransferTakesHandlesOutAndCommitFreesThem) {
  std::vector<std::shared_ptr<Handle>> handles;
  std::vector<mx_handle_t> values = AddMany(3, &handles);
  std::vector<std::shared_ptr<Handle>> out;
  ASSERT_EQ(Table().BeginTransfer(
                values.data(), values.size(), [](const Handle&) { return MX_OK; }, &out),
            MX_OK);
  ASSERT_EQ(out, handles) << "handles come out in array order";
  for (mx_handle_t v : values) {
    std::shared_ptr<Handle> h;
    EXPECT_EQ(Table().Lookup(v, 0, 0, &h), MX_ERR_BAD_HANDLE) << "in transit";
    EXPECT_EQ(Table().Remove(v, &h), MX_ERR_BAD_HANDLE) << "in transit";
  }
  // A second transfer of a value in transit fails.
  std::vector<std::shared_ptr<Handle>> out2;
  EXPECT_EQ(Table().BeginTransfer(
                values.data(), 1, [](const Handle&) { return MX_OK; }, &out2),
            MX_ERR_BAD_HANDLE);
  Table().CommitTransfer(values.data(), values.size());
  for (mx_handle_t v : values) EXPECT_FALSE(IsLive(v));
  // The table dropped its references.
  std::weak_ptr<Handle> weak = handles[0];
  out.clear();
  handles.clear();
  EXPECT_TRUE(weak.expired());
  // Committing again is harmless.
  Table().CommitTransfer(values.data(), values.size());
}

TEST(HandleTableTest, AbortTransferRestoresTheSameValues) {
  std::vector<std::shared_ptr<Handle>> handles;
  std::vector<mx_handle_t> values = AddMany(4, &handles);
  std::vector<std::shared_ptr<Handle>> out;
  ASSERT_EQ(Table().BeginTransfer(
                values.data(), values.size(), [](const Handle&) { return MX_OK; }, &out),
            MX_OK);
  // Values in transit are not handed out again.
  std::vector<mx_handle_t> during = AddMany(200);
  for (mx_handle_t d : during) {
    for (mx_handle_t v : values) EXPECT_FALSE(SameSlot(d, v));
  }
  Table().AbortTransfer(values.data(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    std::shared_ptr<Handle> h;
    ASSERT_EQ(Table().Lookup(values[i], 0, 0, &h), MX_OK);
    EXPECT_EQ(h, handles[i]);
  }
  RemoveAll(values);
  RemoveAll(during);
}

TEST(HandleTableTest, BeginTransferValidatesInArrayOrder) {
  std::vector<std::shared_ptr<Handle>> handles;
  std::vector<mx_handle_t> values = AddMany(3, &handles);
  mx_handle_t stale = Table().Add(NewHandle());
  RemoveAll({stale});
  auto fail_second = [&](const Handle& h) {
    return &h == handles[1].get() ? MX_ERR_ACCESS_DENIED : MX_OK;
  };
  std::vector<std::shared_ptr<Handle>> out = {handles[0]};
  // [ok, stale, check fails]: BAD_HANDLE.
  {
    mx_handle_t vs[] = {values[0], stale, values[1]};
    EXPECT_EQ(Table().BeginTransfer(vs, 3, fail_second, &out), MX_ERR_BAD_HANDLE);
  }
  // [check fails, stale]: the check's error, before the stale value is seen.
  {
    mx_handle_t vs[] = {values[1], stale};
    EXPECT_EQ(Table().BeginTransfer(vs, 2, fail_second, &out), MX_ERR_ACCESS_DENIED);
  }
  // [ok, check fails, ok]: the check's error; the check runs in order and stops.
  {
    std::vector<const Handle*> checked;
    mx_handle_t vs[] = {values[0], values[1], values[2]};
    EXPECT_EQ(Table().BeginTransfer(
                  vs, 3,
                  [&](const Handle& h) {
                    checked.push_back(&h);
                    return fail_second(h);
                  },
                  &out),
              MX_ERR_ACCESS_DENIED);
    ASSERT_EQ(checked.size(), 2u);
    EXPECT_EQ(checked[0], handles[0].get());
    EXPECT_EQ(checked[1], handles[1].get());
  }
  // [dup, stale]: BAD_HANDLE, because validity is checked for every value before duplicates.
  {
    mx_handle_t vs[] = {values[0], values[0], stale};
    EXPECT_EQ(Table().BeginTransfer(
                  vs, 3, [](const Handle&) { return MX_OK; }, &out),
              MX_ERR_BAD_HANDLE);
  }
  // Nothing changed.
  for (size_t i = 0; i < values.size(); ++i) {
    std::shared_ptr<Handle> h;
    ASSERT_EQ(Table().Lookup(values[i], 0, 0, &h), MX_OK);
    EXPECT_EQ(h, handles[i]);
  }
  RemoveAll(values);
}

TEST(HandleTableTest, BeginTransferWithADuplicateIsInvalidArgsAndChangesNothing) {
  std::vector<std::shared_ptr<Handle>> handles;
  std::vector<mx_handle_t> values = AddMany(3, &handles);
  for (const auto& vs :
       std::vector<std::vector<mx_handle_t>>{{values[0], values[1], values[0]},
                                             {values[0], values[0]},
                                             {values[2], values[1], values[0], values[1]}}) {
    std::vector<std::shared_ptr<Handle>> out;
    EXPECT_EQ(Table().BeginTransfer(
                  vs.data(), vs.size(), [](const Handle&) { return MX_OK; }, &out),
              MX_ERR_INVALID_ARGS);
    EXPECT_TRUE(out.empty());
    for (size_t i = 0; i < values.size(); ++i) {
      std::shared_ptr<Handle> h;
      ASSERT_EQ(Table().Lookup(values[i], 0, 0, &h), MX_OK) << "handle " << i << " was lost";
      EXPECT_EQ(h, handles[i]);
    }
  }
  // The table is still fully usable for these values.
  std::vector<std::shared_ptr<Handle>> out;
  ASSERT_EQ(Table().BeginTransfer(
                values.data(), values.size(), [](const Handle&) { return MX_OK; }, &out),
            MX_OK);
  Table().AbortTransfer(values.data(), values.size());
  RemoveAll(values);
}

TEST(HandleTableTest, EmptyTransferSucceeds) {
  std::vector<std::shared_ptr<Handle>> out;
  EXPECT_EQ(Table().BeginTransfer(
                nullptr, 0, [](const Handle&) { return MX_OK; }, &out),
            MX_OK);
  EXPECT_TRUE(out.empty());
  Table().CommitTransfer(nullptr, 0);
  Table().AbortTransfer(nullptr, 0);
}

// ---- Reservations ----------------------------------------------------------------------------

TEST(HandleTableTest, ReservedSlotsGetValuesOnlyWhenFilled) {
  std::vector<uint32_t> slots;
  ASSERT_TRUE(Table().Reserve(3, &slots));
  ASSERT_EQ(slots.size(), 3u);
  std::vector<mx_handle_t> values;
  std::vector<std::shared_ptr<Handle>> handles;
  for (uint32_t slot : slots) {
    handles.push_back(NewHandle());
    values.push_back(Table().Fill(slot, handles.back()));
  }
  std::set<mx_handle_t> distinct(values.begin(), values.end());
  EXPECT_EQ(distinct.size(), 3u);
  for (size_t i = 0; i < values.size(); ++i) {
    std::shared_ptr<Handle> h;
    ASSERT_EQ(Table().Lookup(values[i], 0, 0, &h), MX_OK);
    EXPECT_EQ(h, handles[i]);
  }
  RemoveAll(values);
}

TEST(HandleTableTest, ReservedSlotsAreNotHandedOutByAdd) {
  std::vector<uint32_t> slots;
  ASSERT_TRUE(Table().Reserve(100, &slots));
  std::set<uint32_t> reserved(slots.begin(), slots.end());
  // Values name slots in bits 1..18 (see SameSlot); a value from Add never names a reserved one.
  std::vector<mx_handle_t> added = AddMany(500);
  std::vector<mx_handle_t> filled;
  for (uint32_t slot : slots) filled.push_back(Table().Fill(slot, NewHandle()));
  for (mx_handle_t a : added) {
    for (mx_handle_t f : filled) EXPECT_FALSE(SameSlot(a, f));
  }
  RemoveAll(added);
  RemoveAll(filled);
}

TEST(HandleTableTest, UnreservedSlotsAreFreeAgain) {
  std::vector<uint32_t> slots;
  ASSERT_TRUE(Table().Reserve(10, &slots));
  Table().Unreserve(slots);
  // All of them can be reserved again, and more.
  std::vector<uint32_t> again;
  ASSERT_TRUE(Table().Reserve(10, &again));
  Table().Unreserve(again);
}

TEST(HandleTableTest, ReserveIsAllOrNothing) {
  std::vector<uint32_t> slots = {12345};
  EXPECT_FALSE(Table().Reserve((size_t{1} << 18) + 1, &slots));  // more than the table holds
  EXPECT_TRUE(slots.empty());
  EXPECT_TRUE(Table().HasRoom(1000));
}

// ---- Concurrency ---------------------------------------------------------------------------

TEST(HandleTableTest, ConcurrentAddLookupRemoveStaysConsistent) {
  constexpr int kThreads = 4;
  constexpr int kIterations = 3000;
  std::atomic<int> failures{0};
  std::vector<std::vector<mx_handle_t>> kept(kThreads);
  auto worker = [&](int id) {
    std::mt19937 rng(static_cast<unsigned>(id) * 7919u + 1);
    std::vector<std::pair<mx_handle_t, std::shared_ptr<Handle>>> mine;
    for (int i = 0; i < kIterations; ++i) {
      switch (rng() % 5) {
        case 0:
        case 1: {
          auto h = NewHandle(id % 2 ? kTypeA : kTypeB);
          mx_handle_t v = Table().Add(h);
          if (v <= 0 || (v & 1) == 0) ++failures;
          mine.emplace_back(v, h);
          break;
        }
        case 2: {
          if (mine.empty()) break;
          auto& [v, h] = mine[rng() % mine.size()];
          std::shared_ptr<Handle> got;
          if (Table().Lookup(v, MX_RIGHT_READ, h->object()->type(), &got) != MX_OK || got != h) {
            ++failures;
          }
          break;
        }
        case 3: {
          if (mine.empty()) break;
          size_t k = rng() % mine.size();
          std::shared_ptr<Handle> got;
          if (Table().Remove(mine[k].first, &got) != MX_OK || got != mine[k].second) ++failures;
          if (Table().Lookup(mine[k].first, 0, 0, &got) != MX_ERR_BAD_HANDLE) ++failures;
          mine.erase(mine.begin() + static_cast<ptrdiff_t>(k));
          break;
        }
        case 4: {
          // Transfer a few of ours, then commit or abort.
          if (mine.size() < 3) break;
          mx_handle_t vs[2] = {mine[0].first, mine[1].first};
          std::vector<std::shared_ptr<Handle>> out;
          if (Table().BeginTransfer(
                  vs, 2, [](const Handle&) { return MX_OK; }, &out) != MX_OK) {
            ++failures;
            break;
          }
          if (out.size() != 2 || out[0] != mine[0].second || out[1] != mine[1].second) ++failures;
          if (rng() % 2) {
            Table().AbortTransfer(vs, 2);
          } else {
            Table().CommitTransfer(vs, 2);
            mine.erase(mine.begin(), mine.begin() + 2);
          }
          break;
        }
      }
    }
    for (auto& [v, h] : mine) kept[static_cast<size_t>(id)].push_back(v);
    // Values held by this thread still resolve to this thread's handles.
    for (auto& [v, h] : mine) {
      std::shared_ptr<Handle> got;
      if (Table().Lookup(v, 0, 0, &got) != MX_OK || got != h) ++failures;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::set<mx_handle_t> all;
  size_t total = 0;
  for (const auto& v : kept) {
    all.insert(v.begin(), v.end());
    total += v.size();
  }
  EXPECT_EQ(all.size(), total) << "two threads hold the same value";
  for (const auto& v : kept) RemoveAll(v);
}

}  // namespace
}  // namespace mx::internal
