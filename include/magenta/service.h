// SPDX-License-Identifier: BSD-3-Clause
// <magenta/service.h>: named rendezvous (a libmx extension).
//
// A server listens on a name; any process that may open the name connects and both sides get one
// end of a fresh channel. Names are Unix socket addresses: a filesystem path, or "@name" for the
// Linux abstract namespace. File permissions on the path decide who may connect (connecting
// needs write permission on the socket file and search permission on its directories); abstract
// names have no permissions: any process in the same network namespace may connect.
//
//   server: mx_service_listen("/run/foo.sock", 0, &listener);
//           mx_object_wait_one(listener, MX_SERVICE_READABLE, deadline, NULL);
//           mx_service_accept(listener, &channel);
//   client: mx_service_connect("/run/foo.sock", 0, &channel);   // never blocks
//           mx_channel_write(channel, ...);                     // fine before the accept
//
// The server can learn who connected with mx_object_get_info(channel, MX_INFO_PEER_CRED, ...).
// See docs/rendezvous.md. All functions are thread-safe.
#pragma once

#include <magenta/types.h>

__BEGIN_CDECLS

// The listener's object type (a libmx value, outside Magenta's range).
#define MX_OBJ_TYPE_SERVICE_LISTENER ((uint32_t)0x10001u)
// Asserted on a listener while at least one client waits to be accepted.
#define MX_SERVICE_READABLE MX_OBJECT_SIGNAL_0
// Rights of a listener handle: waitable (READ) and duplicable, but process-local (no TRANSFER).
#define MX_DEFAULT_SERVICE_LISTENER_RIGHTS (MX_RIGHT_DUPLICATE | MX_RIGHT_READ)

// mx_object_get_info topic (a libmx value, outside Magenta's range): the credentials of the
// process at the other end of a channel made by mx_service_accept (the client, as of its
// connect) or mx_service_connect (the server, as of its listen). One record; no rights needed.
// MX_ERR_WRONG_TYPE for a non-channel; MX_ERR_NOT_FOUND for a channel that did not come from a
// rendezvous in this process (credentials do not travel with an endpoint written into a
// channel); MX_ERR_BUFFER_TOO_SMALL (actual 0, avail 1) if |buffer_size| is too small.
#define MX_INFO_PEER_CRED ((uint32_t)0x10001u)

typedef struct mx_info_peer_cred {
  int32_t pid;
  uint32_t uid;
  uint32_t gid;
} mx_info_peer_cred_t;

// Binds and listens on |path| ("@name": abstract namespace). A stale socket file at |path|
// (nothing listening) is replaced; the file is removed when the listener's last handle closes.
// MX_ERR_INVALID_ARGS: options != 0, |path| or |listener| NULL, |path| empty or too long (107
// bytes). MX_ERR_ALREADY_EXISTS: someone listens there or |path| is another kind of file.
// MX_ERR_ACCESS_DENIED: no permission to create the file. MX_ERR_NOT_FOUND: a directory of
// |path| does not exist. MX_ERR_NO_RESOURCES: out of fds or handles.
__MX_EXPORT mx_status_t mx_service_listen(const char* path, uint32_t options,
                                          mx_handle_t* listener);

// Takes the next waiting client: |*channel| is the server's end of its channel, with
// MX_DEFAULT_CHANNEL_RIGHTS. Never blocks. BAD_HANDLE / ACCESS_DENIED (no READ) / WRONG_TYPE;
// MX_ERR_INVALID_ARGS if |channel| is NULL; MX_ERR_SHOULD_WAIT if no client is waiting.
__MX_EXPORT mx_status_t mx_service_accept(mx_handle_t listener, mx_handle_t* channel);

// Connects to the listener at |path| and returns the client's end of a new channel at once (the
// server's end waits in the listener's backlog until accepted; writes made before that are
// queued). Never blocks. MX_ERR_INVALID_ARGS: options != 0, NULL or bad |path|, NULL |channel|.
// MX_ERR_NOT_FOUND: nothing listens at |path|. MX_ERR_ACCESS_DENIED: the file's permissions
// forbid it. MX_ERR_SHOULD_WAIT: the listener's backlog is full. MX_ERR_NO_RESOURCES.
__MX_EXPORT mx_status_t mx_service_connect(const char* path, uint32_t options,
                                           mx_handle_t* channel);

__END_CDECLS
