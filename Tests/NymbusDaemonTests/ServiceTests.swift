import Foundation
import Logging
import NymbusBroker
import NymbusDaemon
import NymbusMetrics
import NymbusMixnet
import NymbusNode
import NymbusPubSub
import NymClient
import NymbusTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Health verdicts, the lonely-node warning, log lines and the status-to-metrics rules.
@Suite struct ServicePartsTests {
    @Test func peerlessWatchWarnsOncePerSpell() {
        let start = ContinuousClock.now
        var watch = PeerlessWatch(threshold: .seconds(600), start: start)
        #expect(watch.observe(peers: 0, at: start + .seconds(599)) == nil)
        #expect(watch.observe(peers: 0, at: start + .seconds(600)) == .seconds(600))
        #expect(watch.observe(peers: 0, at: start + .seconds(601)) == nil)  // once
        #expect(watch.observe(peers: 0, at: start + .seconds(9000)) == nil)
        #expect(watch.observe(peers: 2, at: start + .seconds(9001)) == nil)  // spell over
        #expect(watch.alone == nil && !watch.warned)
        #expect(watch.observe(peers: 0, at: start + .seconds(9002)) == nil)  // a new spell starts here
        #expect(watch.observe(peers: 0, at: start + .seconds(9601)) == nil)
        #expect(watch.observe(peers: 0, at: start + .seconds(9602)) == .seconds(600))
    }

    @Test func healthCheckNamesTheFirstProblem() {
        let healthy: [(key: String, value: Int64)] = [
            ("nym-client-connected", 1), ("nym-client-reconnects", 0), ("peers", 3), ("address-book", 5),
            ("broker-publishes-lost", 0), ("objects-published", 7),
            // What a closing link's outbox still held is not lost (repair announces its objects
            // over the other links): a devnet whose duplicate link closed at start is healthy.
            ("link-messages-left-at-close", 2),
        ]
        #expect(HealthCheck.judge(healthy) == .healthy("3 peer(s), nym-client connected, no losses"))
        #expect(HealthCheck.judge(healthy).line == "OK: 3 peer(s), nym-client connected, no losses")

        var noClient = healthy
        noClient[0].value = 0
        noClient[2].value = 0
        #expect(
            HealthCheck.judge(noClient).line
                == "UNHEALTHY: no nym-client: the node is not connected to its nym-client (reconnects so far: 0)")

        var alone = healthy
        alone[2].value = 0
        #expect(HealthCheck.judge(alone).line == "UNHEALTHY: no peer: the node has no link to any other node (address book: 5)")

        // Any counter named …lost… / …dropped… counts, also keys added after this was written.
        var lossy = healthy
        lossy[4].value = 2
        lossy.append(("link-objects-dropped", 4))
        lossy.append(("objects-dropped-not", 0))
        #expect(HealthCheck.judge(lossy).line == "UNHEALTHY: losses: broker-publishes-lost=2, link-objects-dropped=4")
    }

    @Test func statusKeysBecomePrometheusNamesByRule() {
        let samples = StatusMetrics.samples([
            ("peers", 2), ("misbehaving-peers", 1), ("objects-published", 10), ("nym-client-queued", 3),
            ("seen-cache-bytes", 4096), ("broker-queue-waiting", 0), ("broker-publishes-lost", 1),
            // Keys that do not exist yet: a queue depth, a loss counter, a latency.
            ("link-queue-depth", 5), ("link-objects-dropped", 6), ("repair-rtt-ms", 1500),
            ("objects-published", 99),  // a repeated name keeps the first
        ])
        #expect(samples.map(\.name) == [
            "nymbus_peers", "nymbus_misbehaving_peers_total", "nymbus_objects_published_total", "nymbus_nym_client_queued",
            "nymbus_seen_cache_bytes", "nymbus_broker_queue_waiting", "nymbus_broker_publishes_lost_total",
            "nymbus_link_queue_depth", "nymbus_link_objects_dropped_total", "nymbus_repair_rtt_seconds_total",
        ])
        #expect(samples.map(\.kind) == [.gauge, .counter, .counter, .gauge, .gauge, .gauge, .counter, .gauge, .counter, .counter])
        #expect(samples.map(\.value) == [2, 1, 10, 3, 4096, 0, 1, 5, 6, 1.5])
    }

    @Test func registryRendersPrometheusTextAndFollowsTheStatus() {
        let registry = MetricsRegistry(version: "9.9.9")
        let first = registry.render([("peers", 2), ("objects-published", 10)])
        #expect(first.contains("# TYPE nymbus_build_info gauge\nnymbus_build_info{version=\"9.9.9\"} 1.0\n"), "\(first)")
        #expect(first.contains("# HELP nymbus_peers NYMBUS.STATUS peers\n# TYPE nymbus_peers gauge\nnymbus_peers 2.0\n"), "\(first)")
        #expect(
            first.contains(
                "# HELP nymbus_objects_published_total NYMBUS.STATUS objects-published\n# TYPE nymbus_objects_published_total counter\nnymbus_objects_published_total 10\n"
            ), "\(first)")
        // The next scrape shows the new values, and a key that appeared in between.
        let second = registry.render([("peers", 1), ("objects-published", 12), ("link-queue-depth", 4)])
        #expect(second.contains("nymbus_peers 1.0\n"))
        #expect(second.contains("nymbus_objects_published_total 12\n"))
        #expect(second.contains("# TYPE nymbus_link_queue_depth gauge\nnymbus_link_queue_depth 4.0\n"))
    }

    @Test func metricsAddressesStayOnLoopbackUnlessAllowed() throws {
        #expect(try MetricsAddress(parsing: "127.0.0.1:9464") == MetricsAddress(host: "127.0.0.1", port: 9464))
        #expect(try MetricsAddress(parsing: "[::1]:9") == MetricsAddress(host: "::1", port: 9))
        #expect(try MetricsAddress(parsing: "9464") == MetricsAddress(host: "127.0.0.1", port: 9464))
        #expect(try MetricsAddress(parsing: "localhost:1").isLoopback)
        #expect(throws: MetricsAddress.Invalid.self) { try MetricsAddress(parsing: "0.0.0.0:9464") }
        #expect(throws: MetricsAddress.Invalid.self) { try MetricsAddress(parsing: "192.168.1.2:9464") }
        #expect(throws: MetricsAddress.Invalid.self) { try MetricsAddress(parsing: "127.0.0.1:70000") }
        #expect(throws: MetricsAddress.Invalid.self) { try MetricsAddress(parsing: "127.0.0.1") }
        #expect(throws: MetricsAddress.Invalid.self) { try MetricsAddress(parsing: ":9464") }
        #expect(try MetricsAddress(parsing: "0.0.0.0:9464", allowNonLoopback: true).port == 9464)
        do {
            _ = try MetricsAddress(parsing: "10.1.2.3:80")
        } catch {
            #expect(error.description.hasPrefix("10.1.2.3:80 is not a loopback address"))
        }
    }

    @Test func jsonLogLinesAreOneEscapedObject() throws {
        let path = temporaryDirectory("log") + "/nymbus.log"
        let sink = try LogSink.file(path)
        var logger = Logger(label: "nymbus.test") { label in
            RedactingLogHandler(wrapping: LineLogHandler(label: label, format: .json, sink: sink))
        }
        logger.logLevel = .info
        logger.debug("hidden below the level")
        logger.warning("quote \" and\nnewline from 10.0.0.1", metadata: ["b": "2", "a": ["x", "y"]])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["label"] as? String == "nymbus.test")
        #expect(object["message"] as? String == "quote \" and\nnewline from <ip>")
        #expect((object["metadata"] as? [String: Any])?["a"] as? [String] == ["x", "y"])
        #expect(String(lines[0]).hasSuffix(#""message":"quote \" and\nnewline from <ip>","metadata":{"a":["x","y"],"b":"2"}}"#))
        var mode = stat()
        #expect(stat(path, &mode) == 0 && mode.st_mode & 0o777 == 0o600)
    }
}

/// The metrics endpoint over real HTTP, and fed by a real node's NYMBUS.STATUS.
@Suite struct MetricsEndpointTests {
    @Test func servesMetricsOverHTTPAndNothingElse() async throws {
        let server = MetricsServer(version: "1.2.3") { [("peers", 4), ("objects-published", 17)] }
        let port = try await server.start(address: MetricsAddress(host: "127.0.0.1", port: 0))
        #expect(port > 0)
        let ok = try await HTTPGet.fetch(port: port, request: "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(ok.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(ok)")
        #expect(ok.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
        #expect(ok.contains("Content-Length: \(ok.utf8.count - (ok.utf8.split(separator: 0x0A).prefix(4).map(\.count).reduce(0, +) + 6))\r\n"))
        #expect(ok.contains("\r\n\r\n# HELP nymbus_"))
        #expect(ok.contains("\n# TYPE nymbus_build_info gauge\nnymbus_build_info{version=\"1.2.3\"} 1.0\n"))
        #expect(ok.contains("\nnymbus_peers 4.0\n"))
        #expect(ok.contains("\nnymbus_objects_published_total 17\n"))
        let missing = try await HTTPGet.fetch(port: port, request: "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        let posted = try await HTTPGet.fetch(
            port: port, request: "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        #expect(posted.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"))
        await server.stop()
        await #expect(throws: (any Error).self) {
            _ = try await HTTPGet.fetch(port: port, request: "GET /metrics HTTP/1.1\r\n\r\n")
        }
    }

    /// Every integer of a running node's NYMBUS.STATUS is a metric with the same value, and
    /// the peerless warning fires for a node that has nobody to talk to.
    @Test func aNodesStatusIsScrapedWhole() async throws {
        let logs = LogCapture()
        var mixnetConfiguration = MixnetConfiguration()
        mixnetConfiguration.clientCount = 1
        mixnetConfiguration.hopDelay = .milliseconds(1)
        let mixnet = try LocalMixnet(configuration: mixnetConfiguration)
        try await mixnet.start()
        let directory = temporaryDirectory("met")
        let endpoint = try #require(await mixnet.endpoints.first)
        var configuration = DaemonConfiguration(
            nymClient: try NymClientConfiguration(url: endpoint.url), node: NodeConfiguration(),
            socketPath: directory + "/s.sock", dataDirectory: directory)
        configuration.warnWithoutPeerAfter = .milliseconds(200)
        let daemon = try NymbusDaemon(configuration: configuration, logger: logs.logger())
        try await daemon.start()
        let server = MetricsServer(version: NymbusVersion.current) { await daemon.statusNumbers() }
        let port = try await server.start(address: MetricsAddress(host: "127.0.0.1", port: 0))
        let body = try await HTTPGet.fetch(port: port, request: "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n")
        let status = await daemon.statusNumbers()
        #expect(status.count >= 20, "\(status)")
        let samples = StatusMetrics.samples(status)
        #expect(samples.count == status.count)
        for sample in samples {
            #expect(body.contains("# TYPE \(sample.name) \(sample.kind.rawValue)\n"), "\(sample.name) missing")
        }
        // Numbers that do not move on an idle node match exactly.
        #expect(body.contains("\nnymbus_peers 0.0\n"))
        #expect(body.contains("\nnymbus_nym_client_connected 1.0\n"))
        #expect(body.contains("\nnymbus_objects_published_total 0\n"))
        #expect(body.contains("nymbus_build_info{version=\"\(NymbusVersion.current)\"} 1.0\n"))
        let own = try #require(await daemon.advertisedAddress)
        #expect(!body.contains("\(own)"))  // the node's identity stays out of monitoring
        let warned = await eventually { logs.all.contains { $0.hasPrefix("warning no peer for ") } }
        #expect(warned, "\(logs.all.suffix(5))")
        await server.stop()
        await daemon.stop()
        await mixnet.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A minimal HTTP/1.1 client over a blocking socket (run off the cooperative pool): sends one
/// request and reads until the server closes.
enum HTTPGet {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static func fetch(port: Int, request: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try fetchBlocking(port: port, request: request) })
            }
        }
    }

    private static func fetchBlocking(port: Int, request: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect to port \(port): errno \(errno)") }
        let bytes = Array(request.utf8)
        guard send(fd, bytes, bytes.count, 0) == bytes.count else { throw Failure(description: "send: errno \(errno)") }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 { throw Failure(description: "recv: errno \(errno)") }
            if n == 0 { break }
            response += buffer[0..<n]
        }
        return String(decoding: response, as: UTF8.self)
    }
}

/// Channel names Redis accepts and the old mapping refused, and sharded pub/sub, across nodes.
@Suite struct ChannelMappingTests {
    /// `""` and a 300-byte name are public topics (a hash of the whole name); SPUBLISH travels
    /// as plain pub/sub and arrives as `smessage` for SSUBSCRIBE and `message` for SUBSCRIBE.
    @Test func emptyLongAndShardChannelsCrossTheOverlay() async throws {
        let (devnet, directory) = try await DevnetTests.devnet(nodes: 2)
        let daemons = await devnet.daemons
        let long = String(repeating: "l", count: 300)
        let receiver = try await subscribe(daemons[1], channel: "", topic: Topic.named(""))
        let longReceiver = try await subscribe(daemons[1], channel: long, topic: Topic.named(long))
        let shard = try await BrokerConnection.connect(path: daemons[1].broker.socketPath)
        #expect(try await shard.command("SSUBSCRIBE", "orders").elements?.first?.text == "ssubscribe")
        let plain = try await subscribe(daemons[1], channel: "orders", topic: Topic.named("orders"))

        let publisher = try await BrokerConnection.connect(path: daemons[0].broker.socketPath)
        #expect(try await publisher.command("PUBLISH", "", "to the empty channel") == .integer(0))
        #expect(try await publisher.command("PUBLISH", long, "to a long channel") == .integer(0))
        #expect(try await publisher.command("SPUBLISH", "orders", "sharded") == .integer(0))

        let first = await nextMessage(receiver)
        #expect(first?.channel == [] && first?.payload == Array("to the empty channel".utf8))
        let second = await nextMessage(longReceiver)
        #expect(second?.channel == Array(long.utf8) && second?.payload == Array("to a long channel".utf8))
        let sharded = await nextMessage(shard)
        #expect(sharded?.channel == Array("orders".utf8) && sharded?.payload == Array("sharded".utf8))
        let asPlain = await nextMessage(plain)
        #expect(asPlain?.payload == Array("sharded".utf8))
        // A private channel still has to be joined, whatever its length.
        let refused = try await publisher.command("PUBLISH", "~" + long, "x")
        guard case .error(let text) = refused else { throw RefusalMissing(reply: "\(refused)") }
        #expect(text.contains("is private and not joined"), "\(text)")
        for connection in [receiver, longReceiver, shard, plain, publisher] { await connection.close() }
        await devnet.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

struct RefusalMissing: Error { let reply: String }
