public import Foundation
import NymbusCrypto
import NymbusNode

/// The node's data directory: created with mode 0700, files written atomically with mode 0600.
///
/// Atomic means temp file + rename in the same directory, so a crash leaves either the old file
/// or the new one, never half of one.
public struct DataDirectory: Sendable {
    /// Absolute path of the directory.
    public let path: String

    /// Creates the directory (and parents) if needed and restricts it to the owner.
    public init(path: String) throws(DaemonError) {
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        self.path = url.path
        do {
            try FileManager.default.createDirectory(
                at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: url.path)
        } catch {
            throw DaemonError(.dataDirectory, "cannot create data directory \(url.path): \(error.localizedDescription)")
        }
    }

    /// Path of a file in the directory.
    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Reads a file, or returns nil if it does not exist.
    public func read(_ name: String) throws(DaemonError) -> Data? {
        let target = file(name)
        guard FileManager.default.fileExists(atPath: target) else { return nil }
        do { return try Data(contentsOf: URL(fileURLWithPath: target)) } catch {
            throw DaemonError(.dataDirectory, "cannot read \(target): \(error.localizedDescription)")
        }
    }

    /// Writes a file atomically (temp file, fsync, rename) with mode 0600.
    public func write(_ name: String, _ data: Data) throws(DaemonError) {
        do { try AtomicFile.write(data, to: file(name), in: path) } catch {
            throw DaemonError(.dataDirectory, "cannot write \(file(name)): \(error.description)")
        }
    }
}
