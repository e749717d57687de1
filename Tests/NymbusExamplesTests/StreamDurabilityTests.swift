import Foundation
import NymbusTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Streams through real clients and real processes: redis-py's streams API against a node and
/// against `nymbus broker`, and `kill -9` in the middle of a burst of XADD.
@Suite struct StreamDurabilityTests {
    static let redisPyScript = ExamplePaths.repository.appendingPathComponent("scripts/streams_redis_py.py").path

    /// The same script first against redis-server 7.0 (so its expectations are Redis's), then
    /// against a node's broker.
    @Test func redisPyStreamsAPIAgainstANode() async throws {
        let python = try await requirePythonWithRedis()
        let server = try requireTool("redis-server")
        let redisDirectory = temporaryDirectory("pyredis")
        defer { try? FileManager.default.removeItem(atPath: redisDirectory) }
        let redisSocket = redisDirectory + "/r.sock"
        let redis = try ChildProcess(
            server,
            ["--port", "0", "--unixsocket", redisSocket, "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", redisDirectory])
        // SIGKILL: children of the test runner inherit its blocked signals (SIGTERM included).
        defer { kill(redis.pid, SIGKILL) }
        #expect(await eventually { FileManager.default.fileExists(atPath: redisSocket) }, "redis-server: \(redis.stderr)")
        let baseline = try await ChildProcess.run(python, [Self.redisPyScript, redisSocket], timeout: .seconds(60))
        #expect(baseline.stdout == "OK\n", "against redis-server: \(baseline.stderr)")
        try await TestDevnet.with("pystreams", nodes: 1, hidden: 0) { net in
            let result = try await ChildProcess.run(python, [Self.redisPyScript, net.sockets[0]], timeout: .seconds(60))
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == "OK\n", "\(result.stdout)\n\(result.stderr)")
        }
    }

    /// A writer pipelines XADD and prints each id the broker returned; the broker is killed
    /// with SIGKILL mid-burst. After a restart every printed id is in the stream, in order.
    @Test func everyAcknowledgedXADDSurvivesKill9() async throws {
        let python = try await requirePythonWithRedis()
        let nymbus = try ExamplePaths.builtProduct("nymbus")
        let directory = temporaryDirectory("kill9")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/run/b.sock"
        let arguments = ["broker", "--socket", socket, "--data-dir", directory + "/data"]
        let broker = try ChildProcess(nymbus, arguments)
        #expect(await broker.waitForLine("broker: redis-cli -s \(socket)"), "\(broker.stderr)")
        let writer = try ChildProcess(
            python,
            [
                "-c",
                """
                import sys, redis
                r = redis.Redis(unix_socket_path=sys.argv[1], socket_timeout=10)
                while True:
                    p = r.pipeline(transaction=False)
                    for i in range(20):
                        p.xadd("burst", {"i": i, "pad": "x" * 100})
                    for entry_id in p.execute():
                        print(entry_id.decode())
                    sys.stdout.flush()
                """,
                socket,
            ])
        let enough = await eventually(timeout: .seconds(60)) { writer.lines.count >= 3000 }
        #expect(enough, "writer: \(writer.stderr)")
        kill(broker.pid, SIGKILL)
        _ = await broker.waitForExit()
        _ = await writer.waitForExit()
        let acknowledged = writer.lines
        #expect(acknowledged.count >= 3000)

        let restarted = try ChildProcess(nymbus, arguments)
        #expect(await restarted.waitForLine("broker: redis-cli -s \(socket)"), "\(restarted.stderr)")
        let reader = try await ChildProcess.run(
            python,
            [
                "-c",
                """
                import sys, redis
                r = redis.Redis(unix_socket_path=sys.argv[1], socket_timeout=10)
                for entry_id, _ in r.xrange("burst"):
                    print(entry_id.decode())
                """,
                socket,
            ], timeout: .seconds(60))
        #expect(reader.status == 0, "\(reader.stderr)")
        let stored = reader.stdout.split(separator: "\n").map(String.init)
        // Everything acknowledged is there, in order; at most the one unanswered batch more.
        #expect(Array(stored.prefix(acknowledged.count)) == acknowledged)
        #expect(stored.count - acknowledged.count <= 20, "\(stored.count) stored, \(acknowledged.count) acknowledged")
        kill(restarted.pid, SIGKILL)
        _ = await restarted.waitForExit()
    }
}
