// fork() support: the child starts with an empty handle table and none of libmx's fds.
//
// A forked child must not keep the parent's channels alive: if it held a copy of a socket, the
// peer would never see PEER_CLOSED when the parent closes its end. So the child closes every fd
// libmx owned (os/fd_registry.h) and starts with a fresh table. The parent's objects are
// abandoned in the child, never destroyed: other threads may have held their locks at the
// moment of fork.
#include <pthread.h>

#include "object/handle_table.h"
#include "os/fd_registry.h"
#include "os/koid.h"

namespace mx::internal {
namespace {

void Prepare() { HandleTable::Get().LockForFork(); }
void Parent() { HandleTable::Get().UnlockForFork(); }
void Child() {
  FdRegistryCloseAllInChild();
  BumpForkGeneration();
  ResetKoidStateInChild();
  HandleTable::ResetInChild();
}

__attribute__((constructor)) void RegisterForkHandlers() {
  ::pthread_atfork(Prepare, Parent, Child);
}

}  // namespace
}  // namespace mx::internal
