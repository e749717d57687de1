import NymbusBroker
import NymbusNode
import NymbusPubSub

extension DaemonCommands {
    /// `status` with the catch-up counters and the archive's size appended (spec/pubsub.md §16).
    static func withSyncStatus(pubsub: PubSub<Node>, _ status: RESPValue) async -> RESPValue {
        guard case .map(var entries) = status else { return status }
        let s = await pubsub.syncStatistics
        let archive = await pubsub.archiveUsage
        let extra: KeyValuePairs<String, Int> = [
            "sync-sessions": s.sessionsStarted,
            "sync-sessions-completed": s.sessionsCompleted,
            "sync-ranges-sent": s.rangesSent,
            "sync-ranges-received": s.rangesReceived,
            "sync-gets-sent": s.getsSent,
            "sync-ids-asked": s.idsAsked,
            "sync-objects-served": s.objectsServed,
            "sync-bytes-served": s.bytesServed,
            "sync-objects-received": s.objectsReceived,
            "sync-bytes-received": s.bytesReceived,
            "sync-fetched": s.fetched,
            "sync-duplicates": s.duplicates,
            "sync-too-old": s.tooOld,
            "sync-unsolicited": s.unsolicited,
            "sync-refused": s.refused,
            "sync-gave-up": s.gaveUp,
            "sync-reply-surbs": s.replySURBsSpent,
            "sync-wanted": await pubsub.syncWanted,
            "archive-objects": archive.count,
            "archive-bytes": archive.bytes,
            "archive-write-failures": s.archiveFailures,
        ]
        for (key, value) in extra { entries.append(RESPMapEntry(key: .bulk(key), value: .integer(Int64(value)))) }
        return .map(entries)
    }
}
