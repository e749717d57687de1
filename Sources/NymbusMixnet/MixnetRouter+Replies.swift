import NymClient
import NymbusCrypto
import NymbusTransport

/// The reply side: SURB books, the reserve, queued replies, top-up requests and their answers,
/// and the stale-data inspection, following nym-client's `ReceiverReplyController` and
/// `SenderReplyController` (NYM-CLIENT.md §5.2).
extension MixnetRouter {
    /// `reply`: app data back to the anonymous sender behind `tag`, on SURBs `holder` keeps.
    ///
    /// With no book for the tag the reply is dropped silently (counted, never reported). Else
    /// it is queued and as many packets as the SURBs above the reserve allow go out at once.
    mutating func reply(from holder: Int, tag: SenderTag, data: [UInt8], connectionID: UInt64?, now: Duration)
        -> [RouterAction]
    {
        guard endpoints.indices.contains(holder) else { return [] }
        guard hasBook(holder, tag) else {
            count { $0.repliesDroppedUnknownTag += 1 }
            return laneAnswer(holder, connectionID)
        }
        let packets = NymPacketSizes.replyPackets(dataCount: data.count)
        updateBook(holder, tag) {
            $0.queue.append(
                SurbBook.PendingReply(
                    data: data, packetsTotal: packets, packetsLeft: packets, lane: connectionID))
        }
        var actions = sendQueuedReplies(holder: holder, tag: tag, now: now)
        actions += requestSurbsIfNeeded(holder: holder, tag: tag, now: now)
        scheduleInspectionIfNeeded(holder: holder, tag: tag, now: now)
        actions += laneAnswer(holder, connectionID)
        return actions
    }

    /// SURBs arrived at `holder` for `tag`, with an anonymous message or as a top-up.
    mutating func receivedSurbs(holder: Int, tag: SenderTag, count surbs: Int, fromRequest: Bool, now: Duration)
        -> [RouterAction]
    {
        createBookIfMissing(holder, tag, now: now)
        updateBook(holder, tag) { book in
            if fromRequest { book.pendingReception = max(0, book.pendingReception - surbs) }
            book.available += surbs
            book.lastReceived = now
            book.rerequests = 0
        }
        var actions = sendQueuedReplies(holder: holder, tag: tag, now: now)
        actions += requestSurbsIfNeeded(holder: holder, tag: tag, now: now)
        return actions
    }

    /// Sends queued reply packets while SURBs above the reserve last; a reply whose last packet
    /// got a SURB is on its way and arrives, with no tag, when its slowest packet does.
    private mutating func sendQueuedReplies(holder: Int, tag: SenderTag, now: Duration) -> [RouterAction] {
        guard var book = book(holder: holder, tag: tag), let owner = owner(of: tag) else { return [] }
        var spendable = book.available - configuration.surbs.reserve
        var finished: [SurbBook.PendingReply] = []
        while spendable > 0, var first = book.queue.first {
            let take = min(spendable, first.packetsLeft)
            spendable -= take
            book.available -= take
            first.packetsLeft -= take
            if first.packetsLeft == 0 {
                book.queue.removeFirst()
                finished.append(first)
            } else {
                book.queue[0] = first
            }
        }
        updateBook(holder, tag) { $0 = book }
        var actions: [RouterAction] = []
        for reply in finished {
            actions.append(
                .tap(
                    MixnetTapEvent(
                        kind: .reply, from: holder, fromAddress: endpoints[holder].address, to: owner,
                        toAddress: endpoints[owner].address, senderTag: tag, bytes: reply.data,
                        surbCount: reply.packetsTotal)))
            count { $0.messagesRouted += 1 }
            // Every packet has its SURB: the reply joins its lane for the Poisson sender.
            submit(
                .data(to: owner, message: ReceivedMessage(data: reply.data, senderTag: nil), surbs: 0), from: holder,
                lane: .init(reply.lane), packets: reply.packetsTotal, isData: true, now: now)
        }
        return actions
    }

    /// nym-client's `should_request_more_surbs`: ask when the SURBs held and awaited cannot clear
    /// the queue and leave the reserve (plus buffer), unless the book is already at its maximum.
    private mutating func requestSurbsIfNeeded(holder: Int, tag: SenderTag, now: Duration) -> [RouterAction] {
        guard let book = book(holder: holder, tag: tag) else { return [] }
        let policy = configuration.surbs
        let held = book.available + book.pendingReception
        let required = book.queuedPackets + policy.reserve + policy.thresholdBuffer
        guard held < policy.maximumStorage, held < required else { return [] }
        return requestSurbs(holder: holder, tag: tag, now: now)
    }

    /// Sends a SURB request to the original sender, spending one SURB (the reserve may be used).
    /// With no SURB left the holder cannot ask and stalls until the drop period ends.
    private mutating func requestSurbs(holder: Int, tag: SenderTag, now: Duration) -> [RouterAction] {
        guard let book = book(holder: holder, tag: tag), book.available >= 1, let owner = owner(of: tag) else {
            return []
        }
        let policy = configuration.surbs
        let amount = min(policy.maximumRequest, max(book.queuedPackets + policy.thresholdBuffer, policy.minimumRequest))
        updateBook(holder, tag) {
            $0.available -= 1
            $0.pendingReception += amount
        }
        count { $0.surbRequests += 1 }
        submit(
            .surbRequest(holder: holder, sender: owner, tag: tag, amount: amount), from: holder, lane: .surbRequest,
            packets: 1, isData: false, now: now)
        return [
            .tap(
                MixnetTapEvent(
                    kind: .surbRequest, from: holder, fromAddress: endpoints[holder].address, to: owner,
                    toAddress: endpoints[owner].address, senderTag: tag, bytes: [], surbCount: amount))
        ]
    }

    /// The original sender gets a SURB request: it answers only a recipient it has sent
    /// anonymous messages to, caps the amount, and sends the SURBs in batches.
    mutating func answerSurbRequest(holder: Int, sender: Int, amount: Int, now: Duration)
        -> [RouterAction]
    {
        let holderAddress = endpoints[holder].address
        guard endpoints[sender].senderTags[holderAddress] != nil else {
            count { $0.surbRequestsRefused += 1 }
            return []
        }
        // nym-client sends them under its current tag for that recipient.
        let currentTag = senderTag(of: sender, for: holderAddress)
        var remaining = min(amount, configuration.surbs.maximumAllowedRequest)
        var actions: [RouterAction] = []
        while remaining > 0 {
            let batch = min(remaining, configuration.surbs.answerBatch)
            remaining -= batch
            count { $0.surbTopUps += 1 }
            actions.append(
                .tap(
                    MixnetTapEvent(
                        kind: .surbTopUp, from: sender, fromAddress: endpoints[sender].address, to: holder,
                        toAddress: holderAddress, senderTag: currentTag, bytes: [], surbCount: batch)))
            submit(
                .surbTopUp(holder: holder, tag: currentTag, amount: batch), from: sender, lane: .additionalSurbs,
                packets: NymPacketSizes.additionalSurbPackets(surbs: batch), isData: false, now: now)
        }
        return actions
    }

    private mutating func scheduleInspectionIfNeeded(holder: Int, tag: SenderTag, now: Duration) {
        guard let book = book(holder: holder, tag: tag), !book.queue.isEmpty, !book.inspectionScheduled else { return }
        updateBook(holder, tag) { $0.inspectionScheduled = true }
        schedule(.inspect(holder: holder, tag: tag), at: now + configuration.surbs.inspectionInterval)
    }

    /// nym-client's `inspect_stale_pending_data` for one book: with replies waiting and no SURBs
    /// for longer than the re-request period, ask again; past the drop period, or after more
    /// than the allowed re-requests, drop the waiting replies silently.
    mutating func inspect(holder: Int, tag: SenderTag, now: Duration) -> [RouterAction] {
        updateBook(holder, tag) { $0.inspectionScheduled = false }
        guard endpoints[holder].online, let book = book(holder: holder, tag: tag), !book.queue.isEmpty else {
            return []
        }
        let policy = configuration.surbs
        let sinceSurbs = now - book.lastReceived
        var actions: [RouterAction] = []
        if book.rerequests > policy.maximumRerequests || sinceSurbs > policy.dropWait {
            count { $0.repliesDroppedNoSurbs += book.queue.count }
            updateBook(holder, tag) {
                $0.queue = []
                $0.rerequests = 0
            }
            return []
        }
        if sinceSurbs > policy.rerequestWait {
            updateBook(holder, tag) {
                $0.rerequests += 1
                $0.pendingReception = 0
            }
            actions += requestSurbs(holder: holder, tag: tag, now: now)
        }
        scheduleInspectionIfNeeded(holder: holder, tag: tag, now: now)
        return actions
    }
}
