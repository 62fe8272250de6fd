// SPDX-License-Identifier: BSD-3-Clause
// Taking the socket's head frame with its fds, for the pump (channel_receive.cc). The fds a
// frame carries are installed only with headroom (os/fd_budget.h); a frame the process cannot
// take now stays in the kernel, whole, and is recorded as held (HoldFrameLocked).
#include <algorithm>
#include <cstring>

#include "object/channel_costs.h"
#include "object/channel_endpoint.h"
#include "os/fd_budget.h"
#include "os/socket.h"

namespace mx::internal {
namespace {

// True if the |size| bytes at |data| start with a data frame's header (a message).
bool IsDataFrame(const void* data, size_t size) {
  FrameHeader h;
  if (size < sizeof(h)) return false;
  std::memcpy(&h, data, sizeof(h));
  return h.magic == kFrameMagic && h.kind == kFrameData;
}

}  // namespace

void ChannelEndpoint::HoldFrameLocked(bool data, bool starved) {
  const bool was_held = HeldMessageLocked();
  held_.present = true;
  held_.data = data;
  held_.starved = starved;
  if (!was_held && HeldMessageLocked()) NotifySignalsSet(MX_CHANNEL_READABLE);
}

bool ChannelEndpoint::ReceiveForReaderLocked(std::vector<uint8_t>& buffer, ReceivedDatagram* out,
                                             mx_status_t* status) {
  ReceivedDatagram& got = *out;
  mx_status_t& st = *status;
  FrameHeader head = {};
  // A reader or a call asked for what comes next.
  // With room for the largest frame, overflow included, by a count at most 20 ms old, the
  // frame is taken in one recvmsg with its fds (most frames carry none: a kick, a control
  // frame, a message without handles that found the ring full or came before it). Otherwise:
  // 1. Install the frame's fds, as duplicates, while the kernel keeps the frame (and its own
  //    references) queued. The control buffer holds only as many fds as the table can take
  //    with kFdReserve to spare: a frame carrying more (or a table that fills up part-way)
  //    is reported, and stays there, whole.
  const size_t room = InstallableFds(kMaxFdsPerDatagram);  // refreshes a stale count
  const bool single = RecentlyPlentiful(kMaxFrameFds);
  if (single) {
    st = ReceiveDatagram(sock_.get(), buffer.data(), buffer.size(), &got);
    if (st == MX_OK) CountInstalled(got.fds.size());
  } else if (room == 0) {
    PeekedDatagram peek;
    st = PeekDatagram(sock_.get(), buffer.data(), sizeof(head), &peek);
    if (st == MX_OK && peek.has_control) {
      HoldFrameLocked(IsDataFrame(buffer.data(), std::min(peek.size, sizeof(head))),
                      /*starved=*/true);
      return false;
    }
  } else {
    st = PeekDatagramFds(sock_.get(), buffer.data(), buffer.size(), room, &got);
    if (st == MX_ERR_NO_RESOURCES) {
      HoldFrameLocked(IsDataFrame(buffer.data(), got.size), /*starved=*/true);
      return false;
    }
  }
  if (!single && st == MX_OK && !got.fds.empty()) {
    // 2. Keep kFdReserve slots free after the fds an overflow socket (the frame's last fd)
    //    still brings. A header claiming more than any frame may carry is taken as it is and
    //    refused by the decoder (the channel breaks), never held for fds it cannot need.
    if (got.size >= sizeof(head)) std::memcpy(&head, buffer.data(), sizeof(head));
    size_t more = 0;
    if ((head.flags & kFlagFdOverflow) && head.num_fds > got.fds.size() &&
        head.num_fds <= kMaxFrameFds) {
      more = head.num_fds - got.fds.size() + 1;
    }
    int highest = -1;
    for (const UniqueFd& fd : got.fds) highest = std::max(highest, fd.get());
    if (!KeepsFdHeadroom(got.fds.size(), highest, more)) {
      got.fds.clear();  // our duplicates; the frame keeps its own
      HoldFrameLocked(IsDataFrame(buffer.data(), got.size), /*starved=*/true);
      return false;
    }
  }
  if (!single && st == MX_OK) {
    // 3. Take the frame without its control data: the kernel drops its own references.
    ReceivedDatagram taken;
    st = room == 0 ? ReceiveDatagramWithoutFds(sock_.get(), buffer.data(), buffer.size(), &got)
                   : ReceiveDatagramWithoutFds(sock_.get(), nullptr, 0, &taken);
  }
  return true;
}

bool ChannelEndpoint::ReceiveForRefreshLocked(std::vector<uint8_t>& buffer, ReceivedDatagram* out,
                                              mx_status_t* status) {
  ReceivedDatagram& got = *out;
  mx_status_t& st = *status;
  FrameHeader head = {};
  // A wait or a signal query. It installs the fds of the message at the head of the socket
  // when they fit (see docs/channels.md, "fd budget"), so that the frames behind it (wake-ups,
  // user signals) are seen; otherwise the message stays there, READABLE, for the reader.
  // With room left in the queue and for the most fds any frame may carry (by a count at most
  // 20 ms old, taken afresh when older), the frame is taken in one recvmsg with its fds, as a
  // reader takes it: the queue may then pass kRefreshPumpBytes by that one message (at most
  // kMaxFrameBytes and kMaxFrameFds fds, which fit with kFdReserve to spare), and the pump stops
  // there. A frame whose fds break the rules (a kick with fds, more fds than its header claims) is
  // refused by the decoder and its fds closed with it. Otherwise:
  if (queue_bytes_ < kRefreshPumpBytes && PlentifulRecounting(kMaxFrameFds)) {
    st = ReceiveDatagram(sock_.get(), buffer.data(), buffer.size(), &got);
    if (st == MX_OK) CountInstalled(got.fds.size());
    return true;
  }
  // 1. Look at the header without taking the frame or installing anything: it tells whether
  //    fds are attached and how many the frame claims.
  PeekedDatagram peek;
  st = PeekDatagram(sock_.get(), &head, sizeof(head), &peek);
  if (st == MX_OK && peek.has_control) {
    const bool data = IsDataFrame(&head, peek.size);
    const bool ring =
        peek.size >= sizeof(head) && head.magic == kFrameMagic && head.kind == kFrameRing;
    if ((!data && !(ring && head.num_fds == 1)) || head.num_fds == 0 ||
        head.num_fds > kMaxFrameFds) {
      // 2a. Only a message or the ring announcement (one fd, once per channel) carries fds:
      //     anything else is malformed. Take it without installing anything, and break.
      ReceivedDatagram taken;
      st = ReceiveDatagramWithoutFds(sock_.get(), nullptr, 0, &taken);
      if (st == MX_OK) {
        BreakLocked("frame with fds that is neither a message nor the ring");
        return false;
      }
    } else {
      // 2b. Its fds: those attached, plus the overflow socket's for a larger message.
      const size_t attached = std::min<size_t>(head.num_fds, kMaxFdsPerDatagram);
      const size_t more = (head.flags & kFlagFdOverflow) && head.num_fds > kMaxFdsPerDatagram
                              ? head.num_fds - kMaxFdsPerDatagram + 1
                              : 0;
      // A message is queued only if it fits the refresh limit whole, its fds charged as in
      // the queue, so that waits on a channel nobody reads hold at most kRefreshPumpBytes.
      const size_t charge = FrameCharge(peek.size, head.num_fds) + sizeof(Message);
      if (data && queue_bytes_ + charge > kRefreshPumpBytes) {
        HoldFrameLocked(/*data=*/true, /*starved=*/false);
        return false;
      }
      // 3. A fresh count: a recent one may predate fds opened since, and nothing here can
      //    tell (the read path checks the numbers the kernel gave out, after installing).
      if (!HaveFdHeadroom(attached + more)) {
        HoldFrameLocked(data, /*starved=*/true);
        return false;
      }
      // 4. Take it with its fds in one recvmsg. The control buffer holds exactly the fds the
      //    header claims: a frame carrying more arrives cut short (MSG_CTRUNC; the kernel
      //    closes the rest) and breaks the channel, as its lying header would anyway. Only
      //    this process's other threads opening kFdReserve fds between the count and the
      //    recvmsg could make the kernel install fewer; that channel would break, no fd leaks.
      st = ReceiveDatagramUpTo(sock_.get(), buffer.data(), buffer.size(), attached, &got);
    }
  } else if (st == MX_OK) {
    st = ReceiveDatagramWithoutFds(sock_.get(), buffer.data(), buffer.size(), &got);
  }
  return true;
}

}  // namespace mx::internal
