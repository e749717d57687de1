public import Testing

/// How often the waits below look at their condition.
let pollInterval: Duration = .milliseconds(10)

/// Waits until `condition` holds, polling; on timeout records an Issue at the caller's source
/// location (naming `what`, if given) and returns false.
///
/// The timeout is an upper bound for a loaded machine, never an assertion about speed: the call
/// returns as soon as the condition holds. So `_ = await eventually { … }` still fails the test
/// when the condition never comes true, and `#expect(await eventually { … })` fails it once more
/// with the expression.
@discardableResult
public func eventually(
    _ what: Comment? = nil, timeout: Duration = .seconds(30), sourceLocation: SourceLocation = #_sourceLocation,
    isolation: isolated (any Actor)? = #isolation, _ condition: () async throws -> Bool
) async rethrows -> Bool {
    if try await waitUntil(timeout: timeout, isolation: isolation, condition) { return true }
    Issue.record(
        "timed out after \(timeout) waiting for \(what.map { "\($0)" } ?? "a condition")", sourceLocation: sourceLocation)
    return false
}

/// Waits until `condition` holds or `timeout` passes, polling, and says which: for waits whose
/// timeout is an expected outcome (a retry round, a process that may have to be killed). Records
/// nothing; use ``eventually(_:timeout:sourceLocation:_:)`` when the condition must come true.
/// Both run on the caller's actor (`isolation`), so a condition may read its state directly.
public func waitUntil(
    timeout: Duration, isolation: isolated (any Actor)? = #isolation, _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: pollInterval)
    }
    return try await condition()
}

/// Waits until `condition` holds for as long as the system moves towards it: fails (recording an
/// Issue at the caller, naming `what` and the last `progress` seen) only once `progress` has not
/// changed for `stalledFor`.
///
/// For waits whose length depends on how loaded the machine is (a network of nodes catching up,
/// a book filling): a starved machine is slow but its counters move, a stuck system's do not. So
/// the wait ends in failure on a stall, however fast or slow the machine, and never asserts how
/// long the work takes. `progress` should be something the awaited work changes (counts of what
/// arrived, what is still queued), not something that moves anyway (a clock, a ping counter).
/// The test's `.timeLimit` stays the backstop against progress that never ends.
@discardableResult
public func eventually<Progress: Equatable>(
    _ what: Comment? = nil, stalledFor: Duration, sourceLocation: SourceLocation = #_sourceLocation,
    isolation: isolated (any Actor)? = #isolation, progress: () async throws -> Progress,
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    var last = try await progress()
    var lastChange = ContinuousClock.now
    while true {
        if try await condition() { return true }
        let current = try await progress()
        let now = ContinuousClock.now
        if current != last {
            last = current
            lastChange = now
        } else if now - lastChange >= stalledFor {
            break
        }
        try? await Task.sleep(for: pollInterval)
    }
    if try await condition() { return true }
    Issue.record(
        "no progress for \(stalledFor) waiting for \(what.map { "\($0)" } ?? "a condition") (progress stuck at \(last))",
        sourceLocation: sourceLocation)
    return false
}
