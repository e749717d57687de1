import Foundation
import NymbusCrypto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive lock on a data directory, held by the node using it: `flock` on the file
/// `nymbus.lock` in it, which also holds the owner's process id.
///
/// Why: two nodes on one directory overwrite each other's `peers.json` and `topics.json`. The
/// kernel drops the lock when the process dies, even by `kill -9`, so a stale file never blocks
/// a restart. (`flock` locks belong to the open file, so a second open in the same process is
/// refused too.)
final class DataDirectoryLock: @unchecked Sendable {
    /// The lock file's name in the data directory.
    static let fileName = "nymbus.lock"

    /// The path of the lock file.
    let path: String
    private let lock = NSLock()
    private var fd: Int32

    /// Takes the lock on `directory`, or throws naming the lock file and the running node.
    init(directory: DataDirectory) throws(DaemonError) {
        let path = directory.file(Self.fileName)
        self.path = path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw DaemonError(
                .dataDirectory, "Cannot open the lock file \(path): \(String(cString: strerror(errno))).")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let owner = Self.readOwner(fd)
            close(fd)
            guard busy else {
                throw DaemonError(.dataDirectory, "Cannot lock \(path): \(String(cString: strerror(errno))).")
            }
            let who = owner.map { "the node with process id \($0)" } ?? "another node"
            throw DaemonError(
                .dataDirectoryLocked,
                "The data directory \(directory.path) is in use by \(who): it holds the lock \(path). "
                    + "Stop that node first, or give this one another --data-dir.")
        }
        self.fd = fd
        let text = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    /// Releases the lock (also when the process ends, however it ends).
    func release() {
        lock.lock()
        defer { lock.unlock() }
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }

    private static func readOwner(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 31, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer.prefix(n), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
