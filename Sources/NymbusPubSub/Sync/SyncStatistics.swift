/// Catch-up sync counters (NYMBUS.STATUS `sync-*`, spec/pubsub.md §16).
public struct SyncStatistics: Sendable, Equatable {
    /// Reconciliations this node started (one per link, and again after a stalled round).
    public var sessionsStarted = 0
    /// Reconciliations that ended with nothing more to ask.
    public var sessionsCompleted = 0
    /// `syncrange` messages sent (questions and answers).
    public var rangesSent = 0
    /// `syncrange` messages received.
    public var rangesReceived = 0
    /// `syncget` messages sent and ids asked.
    public var getsSent = 0
    public var idsAsked = 0
    /// `syncobject` answers served to peers, and their bytes.
    public var objectsServed = 0
    public var bytesServed = 0
    /// `syncobject` messages received, and their bytes.
    public var objectsReceived = 0
    public var bytesReceived = 0
    /// Objects fetched by sync that were new and accepted (delivered like any object).
    public var fetched = 0
    /// Fetched objects that were already known (archive or seen cache): dropped.
    public var duplicates = 0
    /// Fetched objects refused as older than the archive accepts (retention or horizon).
    public var tooOld = 0
    /// `syncobject`s nobody asked for: dropped, not archived.
    public var unsolicited = 0
    /// Questions and ids this node refused to answer (over a peer's budget, or no room on its link).
    public var refused = 0
    /// Ids given up after every attempt to fetch them.
    public var gaveUp = 0
    /// Reply SURBs peers spent answering this node (hidden nodes only).
    public var replySURBsSpent = 0
    /// Archive writes that failed (the object was still delivered; logged).
    public var archiveFailures = 0

    public init() {}
}
