// SPDX-License-Identifier: BSD-3-Clause
// <magenta/syscalls.h>: the Magenta system calls that libmx provides on Linux.
//
// Every function is thread-safe. Handle values are meaningful only in the calling process. Every
// deadline is an absolute MX_CLOCK_MONOTONIC time in nanoseconds; MX_TIME_INFINITE never expires.
// Out-parameters are left untouched when a call fails, except where noted. See docs/ for one page
// per family with its error table.
#pragma once

#include <magenta/errors.h>
#include <magenta/rights.h>
#include <magenta/syscalls/object.h>
#include <magenta/syscalls/port.h>
#include <magenta/types.h>

__BEGIN_CDECLS

// ---- Time -------------------------------------------------------------------------------------

// Nanoseconds on |clock_id| (MX_CLOCK_MONOTONIC, MX_CLOCK_UTC, MX_CLOCK_THREAD); 0 for an unknown
// id.
__MX_EXPORT mx_time_t mx_time_get(uint32_t clock_id);
// mx_time_get(MX_CLOCK_MONOTONIC) + nanoseconds (a plain, non-saturating add, as in Magenta).
__MX_EXPORT mx_time_t mx_deadline_after(mx_duration_t nanoseconds);
// Sleeps until |deadline|; 0 only yields.
__MX_EXPORT mx_status_t mx_nanosleep(mx_time_t deadline);

// ---- Ticks, the system, random bytes ----------------------------------------------------------

// A counter that only goes forward: CLOCK_MONOTONIC nanoseconds (see docs/system.md).
__MX_EXPORT uint64_t mx_ticks_get(void);
// Ticks per second: 1000000000.
__MX_EXPORT uint64_t mx_ticks_per_second(void);
// The CPUs this process may run on (its affinity mask when first asked); never changes.
__MX_EXPORT uint32_t mx_system_get_num_cpus(void);
// Copies a NUL-terminated version string into |version|: BUFFER_TOO_SMALL if |version_len| cannot
// hold it with its NUL, INVALID_ARGS if |version| is NULL.
__MX_EXPORT mx_status_t mx_system_get_version(char* version, uint32_t version_len);
// Fills |buffer| with |len| bytes from the kernel's CSPRNG and sets |*actual| to |len|.
// INVALID_ARGS if |len| > MX_CPRNG_DRAW_MAX_LEN, |buffer| is not writable or |actual| is NULL.
__MX_EXPORT mx_status_t mx_cprng_draw(void* buffer, size_t len, size_t* actual);

// ---- Handles ----------------------------------------------------------------------------------

__MX_EXPORT mx_status_t mx_handle_close(mx_handle_t handle);
__MX_EXPORT mx_status_t mx_handle_duplicate(mx_handle_t handle, mx_rights_t rights,
                                            mx_handle_t* out);
__MX_EXPORT mx_status_t mx_handle_replace(mx_handle_t handle, mx_rights_t rights, mx_handle_t* out);

// ---- Objects ----------------------------------------------------------------------------------

__MX_EXPORT mx_status_t mx_object_wait_one(mx_handle_t handle, mx_signals_t waitfor,
                                           mx_time_t deadline, mx_signals_t* observed);
__MX_EXPORT mx_status_t mx_object_wait_many(mx_wait_item_t* items, uint32_t count,
                                            mx_time_t deadline);
__MX_EXPORT mx_status_t mx_object_signal(mx_handle_t handle, uint32_t clear_mask,
                                         uint32_t set_mask);
__MX_EXPORT mx_status_t mx_object_signal_peer(mx_handle_t handle, uint32_t clear_mask,
                                              uint32_t set_mask);
__MX_EXPORT mx_status_t mx_object_get_info(mx_handle_t handle, uint32_t topic, void* buffer,
                                           size_t buffer_size, size_t* actual_count,
                                           size_t* avail_count);

// ---- Channels ---------------------------------------------------------------------------------

__MX_EXPORT mx_status_t mx_channel_create(uint32_t options, mx_handle_t* out0, mx_handle_t* out1);
__MX_EXPORT mx_status_t mx_channel_read(mx_handle_t handle, uint32_t options, void* bytes,
                                        mx_handle_t* handles, uint32_t num_bytes,
                                        uint32_t num_handles, uint32_t* actual_bytes,
                                        uint32_t* actual_handles);
__MX_EXPORT mx_status_t mx_channel_write(mx_handle_t handle, uint32_t options, const void* bytes,
                                         uint32_t num_bytes, const mx_handle_t* handles,
                                         uint32_t num_handles);
__MX_EXPORT mx_status_t mx_channel_call(mx_handle_t handle, uint32_t options, mx_time_t deadline,
                                        const mx_channel_call_args_t* args, uint32_t* actual_bytes,
                                        uint32_t* actual_handles, mx_status_t* read_status);

// ---- Events -----------------------------------------------------------------------------------

__MX_EXPORT mx_status_t mx_event_create(uint32_t options, mx_handle_t* out);

// ---- Ports ------------------------------------------------------------------------------------

// |options| must be 0. The port is process-local (no MX_RIGHT_TRANSFER).
__MX_EXPORT mx_status_t mx_port_create(uint32_t options, mx_handle_t* out);
// Queues a copy of |packet| with its type forced to MX_PKT_TYPE_USER. |count| must be 0 (or 1).
__MX_EXPORT mx_status_t mx_port_queue(mx_handle_t handle, const mx_port_packet_t* packet,
                                      size_t count);
// Takes the next packet, waiting until |deadline|. |count| must be 0 (or 1).
__MX_EXPORT mx_status_t mx_port_wait(mx_handle_t handle, mx_time_t deadline,
                                     mx_port_packet_t* packet, size_t count);
// Arms an asynchronous wait: |port| receives a packet with |key| when one of |signals| is asserted
// on |handle|'s object (MX_WAIT_ASYNC_ONCE), or each time the signals change while one is
// (MX_WAIT_ASYNC_REPEATING). Needs READ on |handle|, WRITE on |port|.
__MX_EXPORT mx_status_t mx_object_wait_async(mx_handle_t handle, mx_handle_t port, uint64_t key,
                                             mx_signals_t signals, uint32_t options);

// ---- Event pairs ------------------------------------------------------------------------------

__MX_EXPORT mx_status_t mx_eventpair_create(uint32_t options, mx_handle_t* out0, mx_handle_t* out1);

// ---- Sockets ----------------------------------------------------------------------------------

__MX_EXPORT mx_status_t mx_socket_create(uint32_t options, mx_handle_t* out0, mx_handle_t* out1);
__MX_EXPORT mx_status_t mx_socket_write(mx_handle_t handle, uint32_t options, const void* buffer,
                                        size_t size, size_t* actual);
__MX_EXPORT mx_status_t mx_socket_read(mx_handle_t handle, uint32_t options, void* buffer,
                                       size_t size, size_t* actual);

// ---- Fifos ------------------------------------------------------------------------------------

// Two queues of |elem_count| (a power of two) elements of |elem_size| bytes, at most 4096 bytes
// each; writing to one side enqueues for the other (docs/fifos.md). |len| is rounded down to
// whole elements; |*num_entries_*| is how many moved (at least one).
__MX_EXPORT mx_status_t mx_fifo_create(uint32_t elem_count, uint32_t elem_size, uint32_t options,
                                       mx_handle_t* out0, mx_handle_t* out1);
__MX_EXPORT mx_status_t mx_fifo_write(mx_handle_t handle, const void* data, size_t len,
                                      uint32_t* num_entries_written);
__MX_EXPORT mx_status_t mx_fifo_read(mx_handle_t handle, void* data, size_t len,
                                     uint32_t* num_entries_read);

// ---- Virtual memory objects -------------------------------------------------------------------

__MX_EXPORT mx_status_t mx_vmo_create(uint64_t size, uint32_t options, mx_handle_t* out);
__MX_EXPORT mx_status_t mx_vmo_read(mx_handle_t handle, void* data, uint64_t offset, size_t len,
                                    size_t* actual);
__MX_EXPORT mx_status_t mx_vmo_write(mx_handle_t handle, const void* data, uint64_t offset,
                                     size_t len, size_t* actual);
__MX_EXPORT mx_status_t mx_vmo_get_size(mx_handle_t handle, uint64_t* size);
__MX_EXPORT mx_status_t mx_vmo_set_size(mx_handle_t handle, uint64_t size);
__MX_EXPORT mx_status_t mx_vmar_map(mx_handle_t vmar, size_t vmar_offset, mx_handle_t vmo,
                                    uint64_t vmo_offset, size_t len, uint32_t flags,
                                    uintptr_t* mapped_addr);
__MX_EXPORT mx_status_t mx_vmar_unmap(mx_handle_t vmar, uintptr_t addr, size_t len);

// ---- Tasks ------------------------------------------------------------------------------------

// Kills the process behind |task| (a process handle from mx_spawn). Needs MX_RIGHT_WRITE.
__MX_EXPORT mx_status_t mx_task_kill(mx_handle_t task);

__END_CDECLS
