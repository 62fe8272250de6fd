// SPDX-License-Identifier: BSD-3-Clause
// mx_service_listen / accept / connect (<magenta/service.h>): argument checks, then Listener.
#include <magenta/service.h>
#include <magenta/syscalls.h>

#include <cstring>
#include <string>

#include "api/add_handle.h"
#include "api/lookup.h"
#include "object/handle_table.h"
#include "object/listener.h"
#include "os/unix_listener.h"

using namespace mx::internal;

namespace {

// A usable name: non-empty, "@" followed by at least one byte for an abstract name, and short
// enough for a socket address (os/unix_listener.h, SocketNameCapacity).
bool ValidName(const char* path, std::string* out) {
  if (path == nullptr) return false;
  const size_t capacity = SocketNameCapacity();
  size_t n = ::strnlen(path, capacity);
  if (n == 0 || n >= capacity) return false;
  if (path[0] == '@' && n == 1) return false;
  out->assign(path, n);
  return true;
}

mx_status_t AddEndpoint(std::shared_ptr<ChannelEndpoint> ep, mx_handle_t* out) {
  return AddHandle(std::make_shared<Handle>(std::move(ep), MX_DEFAULT_CHANNEL_RIGHTS), out);
}

}  // namespace

extern "C" {

__MX_EXPORT mx_status_t mx_service_listen(const char* path, uint32_t options,
                                          mx_handle_t* listener) {
  std::string name;
  if (options != 0 || listener == nullptr || !ValidName(path, &name)) return MX_ERR_INVALID_ARGS;
  std::shared_ptr<Listener> l;
  mx_status_t st = Listener::Listen(name, &l);
  if (st != MX_OK) return st;
  return AddHandle(std::make_shared<Handle>(std::move(l), MX_DEFAULT_SERVICE_LISTENER_RIGHTS),
                   listener);
}

__MX_EXPORT mx_status_t mx_service_accept(mx_handle_t listener, mx_handle_t* channel) {
  std::shared_ptr<Listener> l;
  mx_status_t st = LookupObject(listener, MX_RIGHT_READ, &l);
  if (st != MX_OK) return st;
  if (channel == nullptr) return MX_ERR_INVALID_ARGS;
  if (!HandleTable::Get().HasRoom(1)) return MX_ERR_NO_RESOURCES;
  std::shared_ptr<ChannelEndpoint> ep;
  st = l->Accept(&ep);
  if (st != MX_OK) return st;
  return AddEndpoint(std::move(ep), channel);
}

__MX_EXPORT mx_status_t mx_service_connect(const char* path, uint32_t options,
                                           mx_handle_t* channel) {
  std::string name;
  if (options != 0 || channel == nullptr || !ValidName(path, &name)) return MX_ERR_INVALID_ARGS;
  if (!HandleTable::Get().HasRoom(1)) return MX_ERR_NO_RESOURCES;
  std::shared_ptr<ChannelEndpoint> ep;
  mx_status_t st = Listener::Connect(name, &ep);
  if (st != MX_OK) return st;
  return AddEndpoint(std::move(ep), channel);
}

}  // extern "C"
