// SPDX-License-Identifier: BSD-3-Clause
#include "object/object.h"

#include <algorithm>

#include "base/check.h"

namespace mx::internal {

mx_status_t Object::UserSignal(uint32_t, uint32_t) { return MX_ERR_NOT_SUPPORTED; }
mx_status_t Object::UserSignalPeer(uint32_t, uint32_t) { return MX_ERR_NOT_SUPPORTED; }

bool Object::IsLastHandle(const Handle&) const { return local_handle_count() == 1; }

mx_status_t Object::PrepareNewHandle(const Handle& from, mx_rights_t rights,
                                     std::unique_ptr<Handle>* out) {
  *out = std::make_unique<Handle>(from.object(), rights);
  return MX_OK;
}

void Object::AddObserver(Observer* o) {
  MutexLock lock(&observers_mu_);
  observers_.push_back(o);
}

void Object::RemoveObserver(Observer* o) {
  MutexLock lock(&observers_mu_);
  auto it = std::find(observers_.begin(), observers_.end(), o);
  if (it != observers_.end()) observers_.erase(it);
}

void Object::NotifySignalsChanged(mx_signals_t set, mx_signals_t cleared) {
  // The calling thread is running, not blocked: it re-checks state before it waits, so it need
  // not wake itself (that would cost a write now and a read later).
  Waker* self = ThreadWaker::CurrentIfCreated();
  MutexLock lock(&observers_mu_);
  for (Observer* o : observers_) {
    if (set != 0) o->seen.fetch_or(set, std::memory_order_acq_rel);
    if (cleared != 0) o->cleared.fetch_or(cleared, std::memory_order_acq_rel);
    if (o->waker != self) o->waker->Wake();
  }
}

Handle::Handle(std::shared_ptr<Object> object, mx_rights_t rights)
    : object_(std::move(object)), rights_(rights) {
  object_->handle_count_.fetch_add(1, std::memory_order_acq_rel);
}

Handle::~Handle() {
  // A handle that never left the table explicitly (e.g. dropped during a failed create).
  if (!gone_.load(std::memory_order_acquire)) Close();
}

void Handle::Leave() {
  gone_.store(true, std::memory_order_release);
  MutexLock lock(&mu_);
  for (Waker* w : waiters_) w->Wake();
}

UniqueFd Handle::TakeToken() {
  MutexLock lock(&mu_);
  return std::move(token_);
}

mx_status_t Handle::OpenFromToken(mx_status_t (*open)(int fd, UniqueFd* out), UniqueFd* out) const {
  MutexLock lock(&mu_);
  if (!token_) return MX_ERR_BAD_HANDLE;
  return open(token_.get(), out);
}

void Handle::Close() {
  if (gone_.exchange(true, std::memory_order_acq_rel)) return;
  Leave();
  {
    MutexLock lock(&mu_);
    token_.reset();
  }
  const int before = object_->handle_count_.fetch_sub(1, std::memory_order_acq_rel);
  MX_DCHECK(before >= 1);  // every Handle counted itself once, at construction
  if (before == 1) object_->OnLastHandleClosed();
  object_->OnHandleCountChanged();
}

void Handle::TransferOut() {
  if (gone_.exchange(true, std::memory_order_acq_rel)) return;
  Leave();
  object_->CommitTransferOut(*this);
  {
    MutexLock lock(&mu_);
    token_.reset();
  }
  const int before = object_->handle_count_.fetch_sub(1, std::memory_order_acq_rel);
  MX_DCHECK(before >= 1);
}

void Handle::TransferOutQuietly() {
  if (gone_.exchange(true, std::memory_order_acq_rel)) return;
  Leave();
  const int before = object_->handle_count_.fetch_sub(1, std::memory_order_acq_rel);
  MX_DCHECK(before >= 1);
}

void Handle::AddWaiter(Waker* w) {
  MutexLock lock(&mu_);
  waiters_.push_back(w);
}

void Handle::RemoveWaiter(Waker* w) {
  MutexLock lock(&mu_);
  auto it = std::find(waiters_.begin(), waiters_.end(), w);
  if (it != waiters_.end()) waiters_.erase(it);
}

mx_signals_t Handle::Signals(bool fast) const {
  return WithLastHandle(fast ? object_->FastSignals() : object_->Signals());
}

mx_signals_t Handle::SignalsBeforePoll() const {
  return WithLastHandle(object_->SignalsBeforePoll());
}

mx_signals_t Handle::WithLastHandle(mx_signals_t s) const {
  MutexLock lock(&mu_);
  if (!gone_.load(std::memory_order_acquire) && object_->IsLastHandle(*this)) {
    s |= MX_SIGNAL_LAST_HANDLE;
  }
  return s;
}

}  // namespace mx::internal
