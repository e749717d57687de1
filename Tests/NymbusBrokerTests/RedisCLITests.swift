import Foundation
import NymbusTestSupport
import Testing

@testable import NymbusBroker

/// The stock `redis-cli -s SOCKET` talks to the broker unchanged. These tests fail (they do not
/// skip) when redis-cli is missing: `make test` installs it.
@Suite struct RedisCLITests {
    @Test func pingEchoAndErrors() async throws {
        let cli = try requireTool("redis-cli")
        let (broker, socket) = try await startBroker()
        defer { socket.remove() }
        let ping = try await ChildProcess.run(cli, ["-s", socket.path, "PING"])
        #expect(ping.status == 0)
        #expect(ping.stdout == "PONG\n")
        let unknown = try await ChildProcess.run(cli, ["-s", socket.path, "FOO", "a"])
        #expect(unknown.stdout == "ERR unknown command 'FOO', with args beginning with: 'a' \n\n")
        // Commands piped on stdin: redis-cli's REPL, which first asks COMMAND DOCS.
        let repl = try await ChildProcess.run(
            cli, ["-s", socket.path], stdin: Array("PING\nECHO hi\nCOMMAND COUNT\nSELECT 0\n".utf8))
        #expect(repl.status == 0)
        #expect(repl.stdout == "PONG\nhi\n\(BrokerCommandTable.all.count)\nOK\n")
        // RESP3 (`-3` sends HELLO 3 first).
        let hello = try await ChildProcess.run(cli, ["-3", "-s", socket.path, "HELLO", "3"])
        #expect(hello.stdout.hasPrefix("server nymbus\nversion 7.0.0\nproto 3\nid "))
        let info = try await ChildProcess.run(cli, ["-s", socket.path, "INFO", "stats"])
        #expect(info.stdout.contains("messages_published:0"))
        await broker.stop()
    }

    @Test func subscribeAndPublishBetweenTwoRedisClis() async throws {
        let cli = try requireTool("redis-cli")
        let backend = TestBackend()
        let (broker, socket) = try await startBroker(backend: backend)
        defer { socket.remove() }
        let subscriber = try ChildProcess(cli, ["-s", socket.path, "SUBSCRIBE", "news"])
        defer { subscriber.terminate() }
        let patternSubscriber = try ChildProcess(cli, ["-s", socket.path, "PSUBSCRIBE", "n*"])
        defer { patternSubscriber.terminate() }
        #expect(await eventually { subscriber.stdout == "subscribe\nnews\n1\n" })
        #expect(await eventually { patternSubscriber.stdout == "psubscribe\nn*\n1\n" })

        let publish = try await ChildProcess.run(cli, ["-s", socket.path, "PUBLISH", "news", "hello world"])
        #expect(publish.stdout == "2\n")
        #expect(await eventually { subscriber.stdout == "subscribe\nnews\n1\nmessage\nnews\nhello world\n" })
        #expect(await eventually { patternSubscriber.stdout == "psubscribe\nn*\n1\npmessage\nn*\nnews\nhello world\n" })
        #expect(await backend.published.map(\.payload) == [Array("hello world".utf8)])

        // From the network, too.
        #expect(await broker.deliver(channel: Array("news".utf8), payload: Array("from afar".utf8)) == 2)
        #expect(await eventually { subscriber.stdout.hasSuffix("message\nnews\nfrom afar\n") })
        await broker.stop()
    }

    @Test func binaryPayloadWithDashX() async throws {
        let cli = try requireTool("redis-cli")
        let (broker, socket) = try await startBroker()
        defer { socket.remove() }
        let listener = try await TestClient.connect(socket.path)
        try await listener.command("SUBSCRIBE", "bin")
        _ = try await listener.read()
        let payload: [UInt8] = [0x61, 0, 0x62, 13, 10, 0x63, 0xFF, 0]
        let publish = try await ChildProcess.run(cli, ["-s", socket.path, "-x", "PUBLISH", "bin"], stdin: payload)
        #expect(publish.stdout == "1\n")
        #expect(try await listener.read() == .array([.bulk("message"), .bulk("bin"), .bulkString(payload)]))

        // And redis-cli prints a binary message it receives byte for byte.
        let subscriber = try ChildProcess(cli, ["-s", socket.path, "SUBSCRIBE", "bin"])
        defer { subscriber.terminate() }
        #expect(await eventually { subscriber.stdout == "subscribe\nbin\n1\n" })
        _ = try await ChildProcess.run(cli, ["-s", socket.path, "-x", "PUBLISH", "bin"], stdin: payload)
        let expected = Array("subscribe\nbin\n1\nmessage\nbin\n".utf8) + payload + [10]
        #expect(await eventually { subscriber.stdoutBytes == expected })
        await broker.stop()
    }

    @Test func payloadOverTheOverlayLimitIsRefusedReadably() async throws {
        let cli = try requireTool("redis-cli")
        let (broker, socket) = try await startBroker(backend: LoopbackBrokerBackend(maxPayloadBytes: 1000))
        defer { socket.remove() }
        let refused = try await ChildProcess.run(
            cli, ["-s", socket.path, "-x", "PUBLISH", "big"], stdin: [UInt8](repeating: 0x7A, count: 1001))
        #expect(refused.stdout == "ERR payload over 1000 bytes\n\n")
        await broker.stop()
    }
}
