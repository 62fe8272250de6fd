// SPDX-License-Identifier: BSD-3-Clause
// FdRegistry: the set of file descriptors libmx owns in this process.
//
// Every fd libmx opens is recorded here (UniqueFd does it), so that a child created by fork()
// can close them all at once: after fork the child's handle table is empty and it must not keep
// the parent's channels alive (a peer would never see PEER_CLOSED).
//
// Thread-safety: lock-free; Add/Remove may race with each other on different fds. The caller
// must Remove an fd *before* closing it and Add it *after* opening it.
#pragma once

namespace mx::internal {

void FdRegistryAdd(int fd);
void FdRegistryRemove(int fd);
// Closes every registered fd. Only for the child side of fork(), where one thread runs.
void FdRegistryCloseAllInChild();

}  // namespace mx::internal

namespace mx::internal {
// Increases by one in every child created by fork(); lets per-thread state notice that the fds
// it held were closed by FdRegistryCloseAllInChild.
unsigned ForkGeneration();
void BumpForkGeneration();
}  // namespace mx::internal
