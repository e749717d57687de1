import Foundation

/// A fresh, short path under /tmp that does not exist yet (a Unix socket path has at most 107
/// bytes, so test directories stay short): `/tmp/nb-<name>-<random>`.
public func temporaryPath(_ name: String = "d") -> String {
    "/tmp/nb-\(name)-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
}

/// A fresh directory, created, at ``temporaryPath(_:)``; the test removes it.
public func temporaryDirectory(_ name: String = "d") -> String {
    let path = temporaryPath(name)
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A fresh Unix socket path in a directory that does not exist yet (a broker creates it, 0700).
public struct TemporarySocket: Sendable {
    public let directory: String
    public let path: String

    public init(_ name: String = "s") {
        directory = temporaryPath(name)
        path = directory + "/b.sock"
    }

    /// Removes the directory and everything in it.
    public func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
