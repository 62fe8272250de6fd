// SPDX-License-Identifier: BSD-3-Clause
// bench/peer_sdbus.cc: the sd-bus link (see peer_sdbus.h).
#include "peer_sdbus.h"

#include <sys/socket.h>

#include <deque>

#include "links.h"

#if MXB_HAVE_SDBUS
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>
#endif

namespace mxb {

#if MXB_HAVE_SDBUS
namespace {

constexpr char kPath[] = "/mx/bench";
constexpr char kInterface[] = "org.mx.Bench";

// Throws BenchError (PeerGone when the connection is gone) for a negative sd-bus result.
void CheckBus(int r, const char* what) {
  if (r >= 0) return;
  if (r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE)
    throw PeerGone(Fmt("%s: peer closed", what));
  Fail("%s: %s", what, strerror(-r));
}

struct MessageUnref {
  void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
using MessagePtr = std::unique_ptr<sd_bus_message, MessageUnref>;

// One end of a peer-to-peer bus. Messages that sd-bus hands over while this end is busy writing
// (sd_bus_process returns every message no callback claimed) wait in |inbox_| for Recv. A received
// method call stays |pending_call_| until the next Send, which answers it with a method return;
// any other Send is a signal.
class SdBusLink : public Link {
 public:
  // Takes |fd| (closed on failure too).
  SdBusLink(int fd, bool server) {
    int r = sd_bus_new(&bus_);
    if (r >= 0) r = sd_bus_set_fd(bus_, fd, fd);
    if (r < 0) {
      close(fd);
      if (bus_ != nullptr) sd_bus_unref(bus_);
      CheckBus(r, "sd_bus_new / sd_bus_set_fd");
    }
    try {
      if (server) {
        sd_id128_t id;
        CheckBus(sd_id128_randomize(&id), "sd_id128_randomize");
        CheckBus(sd_bus_set_server(bus_, 1, id), "sd_bus_set_server");
      }
      CheckBus(sd_bus_negotiate_fds(bus_, 1), "sd_bus_negotiate_fds");
      CheckBus(sd_bus_start(bus_), "sd_bus_start");
    } catch (...) {
      sd_bus_close_unref(bus_);
      throw;
    }
  }
  ~SdBusLink() override {
    inbox_.clear();
    pending_call_.reset();
    // Closes the socket too (sd_bus_set_fd gave it to the bus). No flush: Send left nothing queued,
    // and a flush could wait for a peer that no longer reads.
    sd_bus_close_unref(bus_);
  }

  void Send(const void* buf, size_t n, bool with_handle) override {
    sd_bus_message* raw = nullptr;
    if (pending_call_) {
      CheckBus(sd_bus_message_new_method_return(pending_call_.get(), &raw), "new_method_return");
      pending_call_.reset();
    } else {
      CheckBus(sd_bus_message_new_signal(bus_, &raw, kPath, kInterface, "Data"), "new_signal");
    }
    MessagePtr m(raw);
    CheckBus(sd_bus_message_append_array(raw, 'y', buf, n), "append_array");
    if (with_handle) {
      if (!handshake_done_) Handshake();
      CheckBus(sd_bus_message_append(raw, "h", DevNull()), "append h");  // dups it
    }
    CheckBus(sd_bus_send(bus_, raw, nullptr), "sd_bus_send");
    // sd_bus_send queues what the socket did not take; drain that queue before the next message,
    // so a full socket blocks the sender as it does for the socket rows.
    for (;;) {
      uint64_t queued = 0;
      CheckBus(sd_bus_get_n_queued_write(bus_, &queued), "sd_bus_get_n_queued_write");
      if (queued == 0) return;
      if (Pump() == 0) Wait();
    }
  }

  size_t Recv(void* buf, size_t cap) override {
    MessagePtr m = Next();
    while (sd_bus_message_is_method_call(m.get(), kInterface, "Ping") > 0) {
      sd_bus_message* raw = nullptr;
      CheckBus(sd_bus_message_new_method_return(m.get(), &raw), "new_method_return");
      MessagePtr pong(raw);
      CheckBus(sd_bus_send(bus_, raw, nullptr), "sd_bus_send");
      m = Next();
    }
    if (sd_bus_message_is_signal(m.get(), "org.freedesktop.DBus.Local", "Disconnected") > 0) {
      throw PeerGone("sd-bus: disconnected");
    }
    const char* iface = sd_bus_message_get_interface(m.get());
    if (iface == nullptr || strcmp(iface, kInterface) != 0) {
      const char* member = sd_bus_message_get_member(m.get());
      Fail("sd-bus: unexpected message %s.%s (%s)", iface ? iface : "-", member ? member : "-",
           sd_bus_message_get_signature(m.get(), 1));
    }
    const void* data = nullptr;
    size_t size = 0;
    CheckBus(sd_bus_message_read_array(m.get(), 'y', &data, &size), "read_array");
    size = std::min(size, cap);
    memcpy(buf, data, size);
    const char* sig = sd_bus_message_get_signature(m.get(), 1);
    if (sig != nullptr && strcmp(sig, "ayh") == 0) {
      int fd = -1;
      CheckBus(sd_bus_message_read(m.get(), "h", &fd), "read h");  // closed with the message
    }
    if (sd_bus_message_is_method_call(m.get(), kInterface, "Echo") > 0)
      pending_call_ = std::move(m);
    return size;
  }

  size_t Call(const void* req, size_t n, void* rep, size_t cap) override {
    sd_bus_message* raw = nullptr;
    CheckBus(sd_bus_message_new_method_call(bus_, &raw, nullptr, kPath, kInterface, "Echo"),
             "new_method_call");
    MessagePtr m(raw);
    CheckBus(sd_bus_message_append_array(raw, 'y', req, n), "append_array");
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply_raw = nullptr;
    int r = sd_bus_call(bus_, raw, TimeoutUs(), &error, &reply_raw);
    MessagePtr reply(reply_raw);
    std::string why = error.message != nullptr ? error.message : "";
    sd_bus_error_free(&error);
    if (r < 0 && !why.empty()) Fail("sd_bus_call: %s", why.c_str());
    CheckBus(r, "sd_bus_call");
    const void* data = nullptr;
    size_t size = 0;
    CheckBus(sd_bus_message_read_array(reply.get(), 'y', &data, &size), "read_array");
    size = std::min(size, cap);
    memcpy(rep, data, size);
    return size;
  }

 private:
  MessagePtr Next() {
    while (inbox_.empty()) {
      if (Pump() == 0 && inbox_.empty()) Wait();
    }
    MessagePtr m = std::move(inbox_.front());
    inbox_.pop_front();
    return m;
  }

  // sd-bus fails a connection whose first message carries fds while the receiving end is still
  // reading the authentication lines (the fds arrive in the same read). A round trip first
  // proves that the peer is past them; its Recv answers the "Ping".
  void Handshake() {
    sd_bus_message* raw = nullptr;
    CheckBus(sd_bus_message_new_method_call(bus_, &raw, nullptr, kPath, kInterface, "Ping"),
             "new_method_call");
    MessagePtr m(raw);
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call(bus_, raw, TimeoutUs(), &error, &reply);
    sd_bus_error_free(&error);
    sd_bus_message_unref(reply);
    CheckBus(r, "sd_bus_call Ping");
    handshake_done_ = true;
  }

  // One step of sd-bus's I/O (authentication, writing, reading); a message no callback claimed
  // goes to |inbox_|. Returns sd_bus_process's result: 0 when there was nothing to do.
  int Pump() {
    sd_bus_message* m = nullptr;
    int r = sd_bus_process(bus_, &m);
    CheckBus(r, "sd_bus_process");
    if (m != nullptr) inbox_.emplace_back(m);
    return r;
  }

  // Until the socket is ready for what sd-bus wants next, or the deadline.
  void Wait() {
    for (;;) {
      int r = sd_bus_wait(bus_, TimeoutUs());
      if (r == -EINTR) {
        OnEintr("sd_bus_wait");
        continue;
      }
      CheckBus(r, "sd_bus_wait");
      if (r == 0 && NowNs() >= deadline_) Fail("sd_bus_wait: deadline passed");
      return;
    }
  }

  uint64_t TimeoutUs() const {
    uint64_t now = NowNs();
    uint64_t left = deadline_ > now ? deadline_ - now : 0;
    return std::max<uint64_t>(1, std::min(left, kSocketTimeout) / 1000);
  }

  sd_bus* bus_ = nullptr;
  std::deque<MessagePtr> inbox_;
  MessagePtr pending_call_;
  bool handshake_done_ = false;
};

}  // namespace

std::string SdBusUnavailable() { return ""; }
std::string SdBusVersion() { return "libsystemd " MXB_SDBUS_VERSION; }

std::unique_ptr<Link> MakeSdBusParent(int* child_fd) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) FailErrno("socketpair");
  *child_fd = sv[1];
  try {
    return std::make_unique<SdBusLink>(sv[0], true);
  } catch (...) {
    close(sv[1]);
    throw;
  }
}

std::unique_ptr<Link> OpenSdBusChild(int fd) { return std::make_unique<SdBusLink>(fd, false); }

#else  // !MXB_HAVE_SDBUS

std::string SdBusUnavailable() {
  return "built without libsystemd (apt-get install libsystemd-dev, then rebuild)";
}
std::string SdBusVersion() { return ""; }
std::unique_ptr<Link> MakeSdBusParent(int*) { Fail("%s", SdBusUnavailable().c_str()); }
std::unique_ptr<Link> OpenSdBusChild(int) { Fail("%s", SdBusUnavailable().c_str()); }

#endif

}  // namespace mxb
