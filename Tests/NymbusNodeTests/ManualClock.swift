import FoundationEssentials

@testable import NymbusNode

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Time that moves only when a test says so, for nodes under test.
///
/// A node on this clock never times out a handshake, sends a ping, refills a token bucket or
/// lets a discouragement expire on its own: the test calls `advance(by:)` and then runs the
/// node's timers (`tick(_:)`), so what happens does not depend on how fast a loaded machine
/// runs the test.
final class ManualClock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var offset: Duration = .zero
    private let start = ContinuousClock.now
    private let unixStart: Int64

    init(unix: Int64 = Int64(Date().timeIntervalSince1970)) {
        unixStart = unix
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// Moves both clocks forward.
    func advance(by duration: Duration) { locked { offset += duration } }

    /// The Unix time now (whole seconds).
    var unix: Int64 { locked { unixStart + offset.components.seconds } }

    /// The readers a `NodeConfiguration` takes.
    var nodeClock: NodeClock {
        NodeClock(
            monotonic: { [self] in locked { start + offset } },
            unix: { [self] in unix })
    }

    /// Moves time forward and runs `node`'s timers once (timeouts, pings, dialing).
    func advance(by duration: Duration, running node: Node) async {
        advance(by: duration)
        await node.maintain()
    }
}
