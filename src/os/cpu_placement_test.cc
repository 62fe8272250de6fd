// SPDX-License-Identifier: BSD-3-Clause
// CpuPlacement: the published summary of a CPU set, and PlanSpin, the decision over two of them.
#include "os/cpu_placement.h"

#include <gtest/gtest.h>

#include <initializer_list>

namespace mx::internal {
namespace {

CpuPlacement Cpus(std::initializer_list<int> cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus) CPU_SET(cpu, &set);
  return PlacementOfSet(set);
}

TEST(CpuPlacementTest, SummarizesSetsExactlyForOneCpuAndAsAMaskOtherwise) {
  EXPECT_EQ(Cpus({0}), kSingleCpu | 0);
  EXPECT_EQ(Cpus({5}), kSingleCpu | 5);
  EXPECT_EQ(Cpus({700}), kSingleCpu | 700);  // a single CPU keeps its number, however high
  EXPECT_EQ(Cpus({0, 1}), 3u);
  EXPECT_EQ(Cpus({1, 61}), (uint64_t{1} << 61) | 2);
  EXPECT_EQ(Cpus({1, 62}), kHighCpus | 2);  // CPUs from 62 on share one bit
  EXPECT_EQ(Cpus({62, 900}), kHighCpus);
  // A failed query (no CPU) reads as any CPU, never as unknown or a single CPU.
  EXPECT_EQ(Cpus({}), ~kSingleCpu);
}

TEST(CpuPlacementTest, BothOnTheSameSingleCpuNeverSpin) {
  EXPECT_FALSE(PlanSpin(Cpus({0}), Cpus({0})).spin);
  EXPECT_FALSE(PlanSpin(Cpus({700}), Cpus({700})).spin);
  // The same CPU written as a one-bit mask by a peer is still that CPU.
  EXPECT_FALSE(PlanSpin(Cpus({3}), uint64_t{1} << 3).spin);
}

TEST(CpuPlacementTest, PinnedToDistinctCpusSpinWithoutYielding) {
  for (auto [a, b] : {std::pair{0, 1}, {1, 0}, {5, 63}, {700, 701}}) {
    const SpinPlan plan = PlanSpin(Cpus({a}), Cpus({b}));
    EXPECT_TRUE(plan.spin) << a << " " << b;
    EXPECT_FALSE(plan.yield) << a << " " << b;
  }
  // Disjoint masks cannot share a CPU either.
  EXPECT_FALSE(PlanSpin(Cpus({0, 1}), Cpus({2, 3})).yield);
  EXPECT_FALSE(PlanSpin(Cpus({0}), Cpus({2, 3})).yield);
}

TEST(CpuPlacementTest, UnpinnedOrOverlappingSpinAndYield) {
  const CpuPlacement any = Cpus({0, 1});
  for (auto [own, peer] : {std::pair{any, any}, {any, Cpus({0})}, {Cpus({0}), any}}) {
    const SpinPlan plan = PlanSpin(own, peer);
    EXPECT_TRUE(plan.spin);
    EXPECT_TRUE(plan.yield);
  }
  // Two high CPUs are told apart only when each end is pinned to one: masks say "may share".
  EXPECT_TRUE(PlanSpin(Cpus({62, 63}), Cpus({64, 65})).yield);
  EXPECT_TRUE(PlanSpin(Cpus({70}), Cpus({64, 65})).yield);
}

TEST(CpuPlacementTest, AnUnknownPeerIsSpunForOnlyWhenWeMayUseSeveralCpus) {
  EXPECT_EQ(PlanSpin(Cpus({0, 1}), kPlacementUnknown).spin, true);
  EXPECT_EQ(PlanSpin(Cpus({0, 1}), kPlacementUnknown).yield, true);
  EXPECT_EQ(PlanSpin(Cpus({1}), kPlacementUnknown).spin, false);
  // Our own placement unknown (never published by OwnPlacement) reads as any CPU.
  EXPECT_TRUE(PlanSpin(kPlacementUnknown, Cpus({1})).spin);
}

TEST(CpuPlacementTest, AnyPeerWordDecodesToAPlan) {
  // Words a hostile peer may write: each gives some plan, and only that.
  for (uint64_t word : {~uint64_t{0}, kSingleCpu, kSingleCpu | 0xffffffffu, kHighCpus,
                        uint64_t{1} << 61, kSingleCpu | (uint64_t{0x7fff} << 32)}) {
    (void)PlanSpin(Cpus({0}), word);
    (void)PlanSpin(Cpus({0, 1}), word);
  }
  // The top bits above a single CPU's number are ignored.
  EXPECT_FALSE(PlanSpin(Cpus({4}), kSingleCpu | (uint64_t{0x7fff} << 32) | 4).spin);
}

TEST(CpuPlacementTest, MergedPlansSpinIfEitherHelps) {
  const SpinPlan no{false, false}, distinct{true, false}, shared{true, true};
  EXPECT_FALSE(MergeSpinPlans(no, no).spin);
  EXPECT_TRUE(MergeSpinPlans(no, distinct).spin);
  EXPECT_FALSE(MergeSpinPlans(no, distinct).yield);
  EXPECT_TRUE(MergeSpinPlans(distinct, shared).yield);
  // A plan that does not spin contributes no yield.
  EXPECT_FALSE(MergeSpinPlans(SpinPlan{false, true}, distinct).yield);
}

TEST(CpuPlacementTest, OwnPlacementIsThisThreadsAffinity) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(::sched_getaffinity(0, sizeof(set), &set), 0);
  EXPECT_EQ(OwnPlacement(), PlacementOfSet(set));
}

}  // namespace
}  // namespace mx::internal
