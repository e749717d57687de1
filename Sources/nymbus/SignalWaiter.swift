import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// The self-pipe that the signal handler writes the signal number into (write is
/// async-signal-safe; the handler can run on whichever thread the kernel picks).
private let signalPipe: (read: Int32, write: Int32) = {
    var descriptors: [Int32] = [-1, -1]
    guard pipe(&descriptors) == 0 else { return (-1, -1) }
    return (descriptors[0], descriptors[1])
}()

/// Turns SIGINT/SIGTERM into an awaitable latch: a plain handler replaces the default action
/// (which would kill the process) and reports through `signalPipe`; the first signal releases
/// every waiter, now and later, so the command can stop what it started.
final class SignalWaiter: @unchecked Sendable {
    private let lock = NSLock()
    private var received: Int32?
    private var waiters: [UInt64: CheckedContinuation<Int32?, Never>] = [:]
    private var nextID: UInt64 = 0

    init(signals: [Int32]) {
        _ = signalPipe
        for number in signals {
            signal(number) { received in
                var byte = UInt8(truncatingIfNeeded: received)
                _ = write(signalPipe.write, &byte, 1)
            }
        }
        DispatchQueue.global().async { [self] in
            var byte: UInt8 = 0
            while read(signalPipe.read, &byte, 1) < 0, errno == EINTR {}
            fire(Int32(byte))
        }
    }

    private func fire(_ signal: Int32) {
        let released = lock.withLock {
            received = signal
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
        for waiter in released { waiter.resume(returning: signal) }
    }

    /// The first signal received; nil if the waiting task is cancelled first.
    func next() async -> Int32? {
        let id: UInt64 = lock.withLock {
            defer { nextID += 1 }
            return nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
                let ready: Int32?? = lock.withLock {
                    if let received { return .some(received) }
                    if Task.isCancelled { return .some(nil) }
                    waiters[id] = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            lock.withLock { waiters.removeValue(forKey: id) }?.resume(returning: nil)
        }
    }
}
