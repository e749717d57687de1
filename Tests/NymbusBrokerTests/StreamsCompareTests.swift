import Foundation
import NymbusTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@testable import NymbusBroker

/// A redis-server 7.0 on a fresh Unix socket, for byte-for-byte comparisons.
final class RedisServerProcess {
    let socketPath: String
    private let child: ChildProcess

    init(directory: String, arguments: [String] = []) async throws {
        let server = try requireTool("redis-server")
        socketPath = directory + "/r.sock"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        child = try ChildProcess(
            server,
            [
                "--port", "0", "--unixsocket", socketPath, "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                "--dir", directory,
            ] + arguments)
        let ready = await eventually(timeout: .seconds(20)) { FileManager.default.fileExists(atPath: self.socketPath) }
        if !ready { throw TestTimeout(description: "redis-server did not start: \(child.stderr)") }
    }

    /// Kills the server. SIGKILL: children of the test runner inherit its blocked signals, so
    /// redis-server never sees a SIGTERM.
    func stop() {
        kill(child.pid, SIGKILL)
        _ = child.waitUntilExit()
    }
}

/// The stream commands against redis-server 7.0.15 and the broker, request by request, RESP2 and
/// RESP3: every reply must be the same bytes (idle times, which depend on the clock, are masked
/// where the script says so). The script is `scripts/streams_compare.py`.
@Suite struct StreamsCompareTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/streams_compare.py").path

    @Test func streamRepliesMatchRedisByteForByte() async throws {
        let python = try requireTool("python3")
        let (broker, socket) = try await startBroker()
        defer { socket.remove() }
        let redis = try await RedisServerProcess(directory: socket.directory + "/redis")
        defer { redis.stop() }
        let result = try await ChildProcess.run(python, [Self.script, redis.socketPath, socket.path], timeout: .seconds(120))
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.hasSuffix("0 mismatches\n"), "\(result.stdout)")
        await broker.stop()
    }
}
