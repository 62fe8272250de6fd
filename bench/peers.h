// SPDX-License-Identifier: BSD-3-Clause
// bench/peers.h: the peer IPC libraries (ZeroMQ, nng), loaded at run time.
//
// The build links each bench executable against libmx (and libdl) only, so the peers are opened
// with dlopen() by soname (libzmq.so.5 from libzmq5, libnng.so.1 from libnng1).
// Their headers (libzmq3-dev, libnng-dev; tools/bench.sh installs both) give the function types,
// so every call is type-checked. Without a header the peer is compiled out; without the shared
// library at run time its rows say "not available" and the rest of the run goes on.
#pragma once

#include <dlfcn.h>

#include <string>

#if __has_include(<zmq.h>)
#include <zmq.h>
#define MXB_HAVE_ZMQ 1
#else
#define MXB_HAVE_ZMQ 0
#endif

#if __has_include(<nng/nng.h>)
#include <nng/nng.h>
#include <nng/protocol/pair0/pair.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#define MXB_HAVE_NNG 1
#else
#define MXB_HAVE_NNG 0
#endif

namespace mxb {

// Binds |*fn| to |name| in |lib|; false when the symbol is missing.
template <typename Fn>
bool BindSymbol(void* lib, const char* name, Fn* fn) {
  *fn = reinterpret_cast<Fn>(dlsym(lib, name));
  return *fn != nullptr;
}

#if MXB_HAVE_ZMQ
struct Zmq {
  decltype(&::zmq_ctx_new) ctx_new = nullptr;
  decltype(&::zmq_ctx_term) ctx_term = nullptr;
  decltype(&::zmq_socket) socket = nullptr;
  decltype(&::zmq_close) close = nullptr;
  decltype(&::zmq_setsockopt) setsockopt = nullptr;
  decltype(&::zmq_bind) bind = nullptr;
  decltype(&::zmq_connect) connect = nullptr;
  decltype(&::zmq_send) send = nullptr;
  decltype(&::zmq_recv) recv = nullptr;
  decltype(&::zmq_errno) errno_ = nullptr;
  decltype(&::zmq_strerror) strerror = nullptr;
  decltype(&::zmq_version) version = nullptr;
  std::string error;  // why it is not available

  bool ok() const { return error.empty(); }
  std::string Version() const {
    int a = 0, b = 0, c = 0;
    version(&a, &b, &c);
    return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c);
  }
  std::string LastError() const { return strerror(errno_()); }
};

inline const Zmq& GetZmq() {
  static const Zmq z = [] {
    Zmq z;
    void* lib = dlopen("libzmq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      z.error = "libzmq.so.5 not found (apt-get install libzmq5)";
      return z;
    }
    bool ok =
        BindSymbol(lib, "zmq_ctx_new", &z.ctx_new) &&
        BindSymbol(lib, "zmq_ctx_term", &z.ctx_term) && BindSymbol(lib, "zmq_socket", &z.socket) &&
        BindSymbol(lib, "zmq_close", &z.close) &&
        BindSymbol(lib, "zmq_setsockopt", &z.setsockopt) && BindSymbol(lib, "zmq_bind", &z.bind) &&
        BindSymbol(lib, "zmq_connect", &z.connect) && BindSymbol(lib, "zmq_send", &z.send) &&
        BindSymbol(lib, "zmq_recv", &z.recv) && BindSymbol(lib, "zmq_errno", &z.errno_) &&
        BindSymbol(lib, "zmq_strerror", &z.strerror) && BindSymbol(lib, "zmq_version", &z.version);
    if (!ok) z.error = "libzmq.so.5 lacks a symbol";
    return z;
  }();
  return z;
}
#endif

#if MXB_HAVE_NNG
struct Nng {
  decltype(&::nng_pair0_open) pair0_open = nullptr;
  decltype(&::nng_req0_open) req0_open = nullptr;
  decltype(&::nng_rep0_open) rep0_open = nullptr;
  decltype(&::nng_listen) listen = nullptr;
  decltype(&::nng_dial) dial = nullptr;
  decltype(&::nng_send) send = nullptr;
  decltype(&::nng_recv) recv = nullptr;
  decltype(&::nng_close) close = nullptr;
  decltype(&::nng_socket_set_ms) set_ms = nullptr;
  decltype(&::nng_socket_set_int) set_int = nullptr;
  decltype(&::nng_strerror) strerror = nullptr;
  decltype(&::nng_version) version = nullptr;
  std::string error;

  bool ok() const { return error.empty(); }
};

inline const Nng& GetNng() {
  static const Nng n = [] {
    Nng n;
    void* lib = dlopen("libnng.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      n.error = "libnng.so.1 not found (apt-get install libnng1)";
      return n;
    }
    bool ok =
        BindSymbol(lib, "nng_pair0_open", &n.pair0_open) &&
        BindSymbol(lib, "nng_req0_open", &n.req0_open) &&
        BindSymbol(lib, "nng_rep0_open", &n.rep0_open) &&
        BindSymbol(lib, "nng_listen", &n.listen) && BindSymbol(lib, "nng_dial", &n.dial) &&
        BindSymbol(lib, "nng_send", &n.send) && BindSymbol(lib, "nng_recv", &n.recv) &&
        BindSymbol(lib, "nng_close", &n.close) && BindSymbol(lib, "nng_socket_set_ms", &n.set_ms) &&
        BindSymbol(lib, "nng_socket_set_int", &n.set_int) &&
        BindSymbol(lib, "nng_strerror", &n.strerror) && BindSymbol(lib, "nng_version", &n.version);
    if (!ok) n.error = "libnng.so.1 lacks a symbol";
    return n;
  }();
  return n;
}
#endif

// "" when the peer can be used, else why not.
inline std::string ZmqUnavailable() {
#if MXB_HAVE_ZMQ
  return GetZmq().error;
#else
  return "built without <zmq.h> (apt-get install libzmq3-dev)";
#endif
}
inline std::string NngUnavailable() {
#if MXB_HAVE_NNG
  return GetNng().error;
#else
  return "built without <nng/nng.h> (apt-get install libnng-dev)";
#endif
}

}  // namespace mxb
