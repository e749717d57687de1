public import FoundationEssentials
import NymbusCrypto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Atomic, private file writes in a data directory (the node's, and the daemon's files beside it).
///
/// `write` creates the directory with mode 0700 if needed, writes the bytes to a new temporary
/// file that is created with mode 0600 (so the data is never readable by others, not even for a
/// moment), flushes it to disk, and renames it over the target: a crash leaves either the old
/// file or the new one, never half of one.
public enum AtomicFile {
    /// Why a write failed.
    public struct WriteError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Writes `data` to `path` (inside `directory`) atomically with mode 0600.
    public static func write(_ data: Data, to path: String, in directory: String) throws(WriteError) {
        let fm = FileManager.default
        if !fm.fileExists(atPath: directory) {
            do {
                try fm.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw WriteError(description: "cannot create \(directory): \(error)")
            }
        }
        let temporary = path + ".tmp-" + Hex.encode(SecureRandom.bytes(6))
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WriteError(description: "cannot create \(temporary): errno \(errno)") }
        var failure: String?
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let n = systemWrite(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = "cannot write \(temporary): errno \(errno)"
                    return
                }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = "cannot flush \(temporary): errno \(errno)" }
        close(fd)
        if failure == nil, rename(temporary, path) != 0 { failure = "cannot rename onto \(path): errno \(errno)" }
        if let failure {
            unlink(temporary)
            throw WriteError(description: failure)
        }
    }
}

/// `write(2)`, named apart from `AtomicFile.write`.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.write(fd, buffer, count)
    #elseif canImport(Musl)
        Musl.write(fd, buffer, count)
    #else
        Darwin.write(fd, buffer, count)
    #endif
}
