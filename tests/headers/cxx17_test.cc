// SPDX-License-Identifier: BSD-3-Clause
// The C++ wrappers used from a C++17 program: every <mx/*.h> header, the operations each wrapper
// offers (checked at compile time, as the C++20 API tests do with concepts), and one round of each
// object's everyday use: channel write/read with a handle, duplicate and replace, eventpair peer
// signals, socket and VMO I/O, a port wait, process::self, unowned views and handle comparisons.
//
// A plain program (no test framework, so nothing here needs more than C++17): each failed check
// prints its line, and any failure makes the exit status 1.

#include <mx/channel.h>
#include <mx/event.h>
#include <mx/eventpair.h>
#include <mx/handle.h>
#include <mx/object.h>
#include <mx/object_traits.h>
#include <mx/port.h>
#include <mx/process.h>
#include <mx/socket.h>
#include <mx/time.h>
#include <mx/vmo.h>

#include <cstdio>
#include <cstring>
#include <type_traits>
#include <utility>

#if __cplusplus != 201703L
#error "this test must be compiled as C++17"
#endif

namespace {

int failures = 0;

void Check(bool ok, const char* what, int line) {
  if (!ok) {
    std::fprintf(stderr, "cxx17_test.cc:%d: check failed: %s\n", line, what);
    ++failures;
  }
}

#define CHECK(cond) Check((cond), #cond, __LINE__)

// ---- Compile-time: the same API as in C++20 ----------------------------------------------------

// Detection without concepts: whether a wrapper offers duplicate(), signal(), signal_peer().
template <typename T, typename = void>
struct CanDuplicate : std::false_type {};
template <typename T>
struct CanDuplicate<T, std::void_t<decltype(std::declval<const T&>().duplicate(
                           MX_RIGHT_SAME_RIGHTS, std::declval<T*>()))>> : std::true_type {};

template <typename T, typename = void>
struct CanSignal : std::false_type {};
template <typename T>
struct CanSignal<T, std::void_t<decltype(std::declval<const T&>().signal(0u, 0u))>>
    : std::true_type {};

template <typename T, typename = void>
struct CanSignalPeer : std::false_type {};
template <typename T>
struct CanSignalPeer<T, std::void_t<decltype(std::declval<const T&>().signal_peer(0u, 0u))>>
    : std::true_type {};

// Explicit template arguments must not reopen an operation the type does not offer.
template <typename T, typename U, typename = void>
struct CanDuplicateAs : std::false_type {};
template <typename T, typename U>
struct CanDuplicateAs<T, U,
                      std::void_t<decltype(std::declval<const T&>().template duplicate<U>(
                          MX_RIGHT_SAME_RIGHTS, std::declval<T*>()))>> : std::true_type {};

static_assert(CanDuplicate<mx::handle>::value);
static_assert(CanDuplicate<mx::event>::value);
static_assert(CanDuplicate<mx::eventpair>::value);
static_assert(CanDuplicate<mx::socket>::value);
static_assert(CanDuplicate<mx::vmo>::value);
static_assert(!CanDuplicate<mx::channel>::value);
static_assert(!CanDuplicateAs<mx::channel, mx::event>::value);
static_assert(CanSignal<mx::handle>::value && CanSignalPeer<mx::handle>::value);
static_assert(CanSignal<mx::event>::value && !CanSignalPeer<mx::event>::value);
static_assert(CanSignal<mx::eventpair>::value && CanSignalPeer<mx::eventpair>::value);
static_assert(CanSignal<mx::channel>::value && CanSignalPeer<mx::channel>::value);
static_assert(!CanSignal<mx::socket>::value && !CanSignalPeer<mx::socket>::value);
static_assert(!CanSignal<mx::process>::value);
static_assert(!CanSignal<mx::vmo>::value);
static_assert(!CanSignal<mx::port>::value);

static_assert(!std::is_copy_constructible_v<mx::handle>);
static_assert(!std::is_copy_assignable_v<mx::handle>);
static_assert(std::is_nothrow_move_constructible_v<mx::handle>);
static_assert(std::is_nothrow_move_assignable_v<mx::handle>);
static_assert(std::is_nothrow_move_constructible_v<mx::channel>);
static_assert(!std::is_convertible_v<mx_handle_t, mx::handle>);
static_assert(!std::is_convertible_v<mx::handle&&, mx::channel>);
static_assert(std::is_constructible_v<mx::channel, mx::handle&&>);
static_assert(std::is_convertible_v<mx::event&&, mx::handle>);
static_assert(std::is_assignable_v<mx::handle&, mx::event&&>);
static_assert(!std::is_assignable_v<mx::event&, mx::handle&&>);
static_assert(!std::is_constructible_v<mx::channel, mx::event&&>);
static_assert(!std::is_constructible_v<mx::event, mx::process&&>);
static_assert(std::is_same_v<decltype(*std::declval<mx::unowned<mx::event>&>()), const mx::event&>);
static_assert(mx::msec(2) == MX_MSEC(2));

// ---- Run time ----------------------------------------------------------------------------------

mx_time_t Soon() { return mx::deadline_after(mx::sec(10)); }

void ChannelRoundTripCarriesAHandle() {
  mx::channel a;
  mx::channel b;
  CHECK(mx::channel::create(0, &a, &b) == MX_OK);
  mx::event ev;
  CHECK(mx::event::create(0, &ev) == MX_OK);
  CHECK(ev.signal(0, MX_USER_SIGNAL_0) == MX_OK);

  const char msg[] = "hello from C++17";
  mx_handle_t sent = ev.release();
  CHECK(a.write(0, msg, sizeof(msg), &sent, 1) == MX_OK);
  CHECK(!ev.is_valid());

  mx_signals_t pending = 0;
  CHECK(b.wait_one(MX_CHANNEL_READABLE, Soon(), &pending) == MX_OK);
  char buf[64] = {};
  mx_handle_t got = MX_HANDLE_INVALID;
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 0;
  CHECK(b.read(0, buf, sizeof(buf), &actual_bytes, &got, 1, &actual_handles) == MX_OK);
  CHECK(actual_bytes == sizeof(msg) && std::memcmp(buf, msg, sizeof(msg)) == 0);
  CHECK(actual_handles == 1);

  // The event crossed the channel with its signal state.
  mx::event received(mx::handle{got});
  CHECK(received.wait_one(MX_USER_SIGNAL_0, 0, &pending) == MX_OK);

  // Closing one end tells the other.
  a.reset();
  CHECK(b.wait_one(MX_CHANNEL_PEER_CLOSED, Soon(), &pending) == MX_OK);
}

void DuplicateAndReplace() {
  mx::event ev;
  CHECK(mx::event::create(0, &ev) == MX_OK);
  mx::event dup;
  CHECK(ev.duplicate(MX_RIGHT_SAME_RIGHTS, &dup) == MX_OK);
  CHECK(dup.is_valid() && dup != ev);
  mx_info_handle_basic_t a = {};
  mx_info_handle_basic_t b = {};
  CHECK(ev.get_basic_info(&a) == MX_OK && dup.get_basic_info(&b) == MX_OK);
  CHECK(a.koid == b.koid);

  // Signals set through one handle are seen through the other: same object.
  CHECK(dup.signal(0, MX_EVENT_SIGNALED) == MX_OK);
  mx_signals_t pending = 0;
  CHECK(ev.wait_one(MX_EVENT_SIGNALED, 0, &pending) == MX_OK);

  mx::event reduced;
  CHECK(dup.replace(MX_RIGHT_READ, &reduced) == MX_OK);
  CHECK(!dup.is_valid() && reduced.is_valid());
  CHECK(reduced.get_basic_info(&b) == MX_OK && b.rights == MX_RIGHT_READ);

  // An untyped handle: a typed wrapper moves into it and comes back explicitly.
  mx::handle h = std::move(reduced);
  CHECK(!reduced.is_valid() && h.is_valid());
  mx_handle_t raw = h.get();
  CHECK(h == raw && raw == h && !(h != raw) && !(raw != h));
  mx::event back(std::move(h));
  CHECK(back.get() == raw && !h);
}

void EventpairSignalsThePeer() {
  mx::eventpair left;
  mx::eventpair right;
  CHECK(mx::eventpair::create(0, &left, &right) == MX_OK);
  CHECK(left.signal_peer(0, MX_USER_SIGNAL_1) == MX_OK);
  mx_signals_t pending = 0;
  CHECK(right.wait_one(MX_USER_SIGNAL_1, Soon(), &pending) == MX_OK);
  CHECK((pending & MX_USER_SIGNAL_1) != 0);
  CHECK(left.wait_one(MX_USER_SIGNAL_1, 0, &pending) == MX_ERR_TIMED_OUT);

  // The peer stays open while a duplicate of the left side lives.
  mx::eventpair left2;
  CHECK(left.duplicate(MX_RIGHT_SAME_RIGHTS, &left2) == MX_OK);
  left.reset();
  CHECK(right.wait_one(MX_EPAIR_PEER_CLOSED, 0, &pending) == MX_ERR_TIMED_OUT);
  left2.reset();
  CHECK(right.wait_one(MX_EPAIR_PEER_CLOSED, Soon(), &pending) == MX_OK);
}

void SocketAndVmoMoveBytes() {
  mx::socket s0;
  mx::socket s1;
  CHECK(mx::socket::create(0, &s0, &s1) == MX_OK);
  size_t actual = 0;
  CHECK(s0.write(0, "abc", 3, &actual) == MX_OK && actual == 3);
  char buf[8] = {};
  mx_signals_t pending = 0;
  CHECK(s1.wait_one(MX_SOCKET_READABLE, Soon(), &pending) == MX_OK);
  CHECK(s1.read(0, buf, sizeof(buf), &actual) == MX_OK && actual == 3);
  CHECK(std::memcmp(buf, "abc", 3) == 0);

  mx::vmo vmo;
  CHECK(mx::vmo::create(4096, 0, &vmo) == MX_OK);
  CHECK(vmo.write("xyz", 10, 3, &actual) == MX_OK);
  std::memset(buf, 0, sizeof(buf));
  CHECK(vmo.read(buf, 10, 3, &actual) == MX_OK && std::memcmp(buf, "xyz", 3) == 0);
  uint64_t size = 0;
  CHECK(vmo.get_size(&size) == MX_OK && size >= 4096);
}

void PortDeliversASignalPacket() {
  mx::port port;
  CHECK(mx::port::create(0, &port) == MX_OK);
  mx::event ev;
  CHECK(mx::event::create(0, &ev) == MX_OK);
  CHECK(ev.wait_async(port, 42, MX_EVENT_SIGNALED, MX_WAIT_ASYNC_ONCE) == MX_OK);
  CHECK(ev.signal(0, MX_EVENT_SIGNALED) == MX_OK);
  mx_port_packet_t packet = {};
  CHECK(port.wait(Soon(), &packet, 0) == MX_OK);
  CHECK(packet.key == 42 && packet.type == MX_PKT_TYPE_SIGNAL_ONE);
}

void UnownedViewsNeverClose() {
  mx::event ev;
  CHECK(mx::event::create(0, &ev) == MX_OK);
  {
    mx::unowned_event view(ev);
    mx::unowned_event copy = view;
    CHECK(copy->get() == ev.get());
    CHECK(copy->signal(0, MX_USER_SIGNAL_2) == MX_OK);
  }
  mx_signals_t pending = 0;
  CHECK(ev.wait_one(MX_USER_SIGNAL_2, 0, &pending) == MX_OK);

  mx::unowned<mx::process> self = mx::process::self();
  mx_info_handle_basic_t info = {};
  CHECK(self->get_basic_info(&info) == MX_OK && info.type == MX_OBJ_TYPE_PROCESS);
}

}  // namespace

int main() {
  ChannelRoundTripCarriesAHandle();
  DuplicateAndReplace();
  EventpairSignalsThePeer();
  SocketAndVmoMoveBytes();
  PortDeliversASignalPacket();
  UnownedViewsNeverClose();
  if (failures == 0) std::printf("cxx17_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
