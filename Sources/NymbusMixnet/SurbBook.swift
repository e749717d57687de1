/// The reply SURBs one endpoint holds for one sender tag, and the replies waiting for them.
///
/// Mirrors nym-client's `ReceivedReplySurbsMap` entry plus the reply controller's `SenderData`
/// for that tag: a count of usable SURBs, SURBs requested but not yet received, when SURBs last
/// came, how often the holder has asked again, and the queue of reply fragments that did not fit.
struct SurbBook: Sendable {
    /// A reply waiting (in part or whole) for SURBs.
    struct PendingReply: Sendable {
        /// The reply's payload.
        let data: [UInt8]
        /// Packets (SURBs) the whole reply needs.
        let packetsTotal: Int
        /// Packets still without a SURB.
        var packetsLeft: Int
        /// The connection id (lane) it was sent on, if any.
        let lane: UInt64?
    }

    /// SURBs ready to use.
    var available: Int
    /// SURBs requested from the original sender and not yet received.
    var pendingReception = 0
    /// When SURBs last arrived for this tag.
    var lastReceived: Duration
    /// Re-requests since SURBs last arrived (nym-client's `current_clear_rerequest_counter`).
    var rerequests = 0
    /// Replies waiting for SURBs, oldest first.
    var queue: [PendingReply] = []
    /// Whether a stale-data inspection is scheduled.
    var inspectionScheduled = false

    /// Reply packets waiting for SURBs.
    var queuedPackets: Int { queue.reduce(0) { $0 + $1.packetsLeft } }
}
