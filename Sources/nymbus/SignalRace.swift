/// Runs `work` until it finishes or a signal arrives, whichever is first; returns the signal if
/// one came (the work is then cancelled). The caller stops what it started either way, so Ctrl-C
/// and SIGTERM always clean up, even while the work is still starting up.
func untilSignal(_ signals: SignalWaiter, _ work: @escaping @Sendable () async throws -> Void) async throws -> Int32? {
    try await withThrowingTaskGroup(of: Int32?.self) { group in
        group.addTask {
            try await work()
            return nil
        }
        group.addTask { await signals.next() }
        defer { group.cancelAll() }
        return try await group.next() ?? nil
    }
}
