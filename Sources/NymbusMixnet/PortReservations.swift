#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#endif
import Synchronization

/// The ports local mixnets have picked for their endpoints, reserved on this machine for as long
/// as each mixnet lives, so that no other local mixnet, in this process or another, picks one.
///
/// An endpoint's port is closed while `LocalMixnet.restart()` or `takeOffline(_:)` has it down,
/// and must open again on the same number. A closed port cannot be held by a socket: one bound
/// without `SO_REUSEADDR` cannot be bound while the port's old connections linger in TIME_WAIT,
/// and one bound with it does not stop another listener with it from taking the port. With two
/// test suites at once, the other suite's mixnet picked such a port and the restart failed
/// (`bindFailed`). So a mixnet reserves each port it picks before binding it, and skips ports
/// reserved by others:
/// - in this process, in a set;
/// - across processes, with a POSIX record lock on byte `port` of one file,
///   ``lockFilePath``, which the kernel releases when the process ends, however it ends.
///
/// Programs that are not local mixnets do not bind there: `LocalMixnet.freePorts` lies below the
/// kernel's ephemeral ports. A port set in the configuration (`firstPort`) is not reserved.
enum PortReservations {
    /// The lock file shared by every process: `$TMPDIR/nymbus-mixnet-ports.lock` (`/tmp` when
    /// TMPDIR is unset). Processes with different TMPDIRs do not see each other's reservations.
    static let lockFilePath: String = {
        var directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        if directory.isEmpty { directory = "/tmp" }
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        return directory + "/nymbus-mixnet-ports.lock"
    }()

    private struct State {
        /// Ports reserved by this process (record locks do not exclude their own process).
        var reserved: Set<Int> = []
        /// The lock file, opened once and never closed: closing any descriptor of a file drops
        /// every record lock the process holds on it. -1 if it cannot be opened, and then
        /// reservations hold in this process only.
        var descriptor: Int32 = -2
    }

    private static let state = Mutex(State())

    /// Reserves `port` unless this process or another already holds it.
    /// - Returns: whether the port is now reserved by the caller (who must ``release(_:)`` it).
    static func reserve(_ port: Int) -> Bool {
        state.withLock { state in
            guard (1...65535).contains(port), !state.reserved.contains(port) else { return false }
            if state.descriptor == -2 {
                state.descriptor = open(lockFilePath, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
            }
            // Another process holds it: EAGAIN (Linux) or EACCES. Any other failure (no lock
            // support on that file system) leaves the reservation to this process alone.
            if state.descriptor >= 0, !setLock(state.descriptor, port: port, type: F_WRLCK),
                errno == EAGAIN || errno == EACCES
            {
                return false
            }
            state.reserved.insert(port)
            return true
        }
    }

    /// Gives `port` back (a no-op if this process does not hold it).
    static func release(_ port: Int) {
        state.withLock { state in
            guard state.reserved.remove(port) != nil, state.descriptor >= 0 else { return }
            _ = setLock(state.descriptor, port: port, type: F_UNLCK)
        }
    }

    /// Whether this process holds `port`.
    static func isReserved(_ port: Int) -> Bool {
        state.withLock { $0.reserved.contains(port) }
    }

    /// Sets (without waiting) or clears the lock on byte `port`; false with `errno` set if it
    /// could not (EAGAIN or EACCES: another process holds it).
    private static func setLock(_ descriptor: Int32, port: Int, type: Int32) -> Bool {
        var lock = flock()
        lock.l_type = numericCast(type)
        lock.l_whence = numericCast(SEEK_SET)
        lock.l_start = off_t(port)
        lock.l_len = 1
        while true {
            if fcntl(descriptor, F_SETLK, &lock) == 0 { return true }
            if errno != EINTR { return false }
        }
    }
}
