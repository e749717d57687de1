import Foundation
import NymbusBroker
import NymbusDaemon
import NymbusNode
import NymbusPubSub
import NymbusTestSupport
import Testing

/// The flow-control issue's reproductions, with plain Redis clients against devnets whose local
/// mixnet has nym-client's send budget (one packet per 20 ms on average per node, 15 ms per hop):
/// every PUBLISH is answered with an integer, every subscriber gets every message exactly once,
/// no loss counter moves, nobody is discouraged, and a message published afterwards arrives.
/// Sized to keep `make test` short; `make bench` runs larger versions (FlowBench).
@Suite(.serialized) struct FlowControlTests {
    /// Counts messages on a channel, by the key before their first colon, until `expected`
    /// arrived or nothing came for `idle` seconds, then listens 2 s more for late duplicates;
    /// prints READY once subscribed and one JSON line at the end.
    static let subscriber = #"""
        import sys, json, time, redis
        path, channel, expected, idle = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        r = redis.Redis(unix_socket_path=path, socket_timeout=idle + 5)
        p = r.pubsub()
        p.subscribe(channel)
        assert p.get_message(timeout=10)["type"] == "subscribe"
        print("READY", flush=True)
        counts, total, last = {}, 0, time.monotonic()
        while total < expected and time.monotonic() - last < idle:
            m = p.get_message(timeout=1)
            if m is None or m["type"] != "message":
                continue
            key = m["data"].split(b":", 1)[0]
            counts[key] = counts.get(key, 0) + 1
            total += 1
            last = time.monotonic()
        # Anything still in flight would show up as a duplicate: wait a little longer.
        end = time.monotonic() + 2
        while time.monotonic() < end:
            m = p.get_message(timeout=0.2)
            if m is not None and m["type"] == "message":
                key = m["data"].split(b":", 1)[0]
                counts[key] = counts.get(key, 0) + 1
                total += 1
        print(json.dumps({"distinct": len(counts), "total": total,
                          "duplicated": sum(1 for c in counts.values() if c > 1)}), flush=True)
        """#

    /// `clients` connections publish `perClient` numbered messages of `size` bytes each, in
    /// pipelines of `pipeline`; prints how many replies were integers and the first error.
    static let publisher = #"""
        import sys, json, threading, redis
        path, channel, clients, per, size, depth = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
        prefix = sys.argv[7] if len(sys.argv) > 7 else "m"
        ints, errors = [0], []
        lock = threading.Lock()
        def run(c):
            r = redis.Redis(unix_socket_path=path, socket_timeout=600)
            sent = 0
            while sent < per:
                pipe = r.pipeline(transaction=False)
                n = min(depth, per - sent)
                for i in range(sent, sent + n):
                    head = b"%s%d-%d:" % (prefix.encode(), c, i)
                    pipe.publish(channel, head + b"x" * (size - len(head)))
                try:
                    replies = pipe.execute(raise_on_error=False)
                except Exception as e:
                    replies = [e] * n
                sent += n
                with lock:
                    for reply in replies:
                        if isinstance(reply, int):
                            ints[0] += 1
                        elif len(errors) < 3:
                            errors.append(repr(reply))
        threads = [threading.Thread(target=run, args=(c,)) for c in range(clients)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(json.dumps({"integers": ints[0], "errors": errors}), flush=True)
        """#

    struct SubscriberResult: Decodable {
        let distinct: Int
        let total: Int
        let duplicated: Int
    }

    struct PublisherResult: Decodable {
        let integers: Int
        let errors: [String]
    }

    static func lastJSON<T: Decodable>(_ type: T.Type, _ output: String) throws -> T {
        let line = try #require(output.split(separator: "\n").last { $0.hasPrefix("{") }, "no JSON in: \(output)")
        return try JSONDecoder().decode(T.self, from: Data(line.utf8))
    }

    static func startSubscriber(python: String, socket: String, channel: String, expected: Int) async throws
        -> ChildProcess
    {
        let child = try ChildProcess(python, ["-c", subscriber, socket, channel, String(expected), "60"])
        let ready = await child.waitForLine("READY", timeout: .seconds(30))
        try #require(ready, "subscriber did not start: \(child.stderr)")
        return child
    }

    /// NYMBUS.STATUS of a node as name → integer.
    static func status(_ socket: String) async throws -> [String: Int64] {
        let connection = try await BrokerConnection.connect(path: socket)
        defer { Task { await connection.close() } }
        let reply = try await connection.command("NYMBUS.STATUS")
        guard case .array(let flat?) = reply else { throw StatusError(reply: "\(reply)") }
        var fields: [String: Int64] = [:]
        for index in stride(from: 0, to: flat.count - 1, by: 2) {
            if case .bulkString(let key?) = flat[index], case .integer(let value) = flat[index + 1] {
                fields[String(decoding: key, as: UTF8.self)] = value
            }
        }
        return fields
    }

    struct StatusError: Error { let reply: String }

    /// Every loss and misbehaviour counter of every node is zero. With `relaysMayDefer`, objects a
    /// relay's link refused and left to repair are allowed (not a loss: the subscribers' exact
    /// counts prove repair delivered them); they happen when both nodes publish flat out, since
    /// relayed objects do not wait for room and a loaded machine drains the lanes slowly.
    static func expectNoLossAnywhere(_ net: TestDevnet, _ context: String, relaysMayDefer: Bool = false) async throws {
        var counters = [
            "broker-publishes-lost", "broker-publishes-refused", "broker-publishes-refused-no-peer",
            "broker-slow-subscribers-disconnected", "subscription-overflow", "nym-client-inbound-dropped",
            "nym-client-sends-refused", "misbehaving-peers",
        ]
        if !relaysMayDefer { counters.append("link-objects-left-to-repair") }
        for (index, socket) in net.sockets.enumerated() {
            let fields = try await status(socket)
            for name in counters {
                #expect(fields[name] == 0, "\(context): node \(index) \(name) = \(fields[name].map(String.init) ?? "missing")")
            }
        }
        for daemon in net.daemons {
            for other in net.daemons where other !== daemon {
                if let address = await other.advertisedAddress {
                    let discouraged = await daemon.node.isDiscouraged(address)
                    #expect(!discouraged, "\(context): an honest node was discouraged")
                }
            }
        }
    }

    /// A message published after the load arrives at a subscriber.
    static func expectStillDelivers(_ net: TestDevnet, from sender: Int, to receiver: Int, python: String)
        async throws
    {
        let after = try await startSubscriber(
            python: python, socket: net.sockets[receiver], channel: "after", expected: 1)
        try await net.waitUntilListening(node: receiver, to: Topic.named("after"))
        let sent = try await ChildProcess.run(
            python, ["-c", publisher, net.sockets[sender], "after", "1", "1", "64", "1"], timeout: .seconds(60))
        #expect(try lastJSON(PublisherResult.self, sent.stdout).integers == 1)
        #expect(await after.waitForExit(timeout: .seconds(90)) == 0)
        let result = try lastJSON(SubscriberResult.self, after.stdout)
        #expect(result.distinct == 1 && result.total == 1, "the message published after the load")
    }

    /// Reproduction 1: 10 redis-py clients pipeline 1 KiB messages on node 0; redis-py
    /// subscribers on nodes 1 and 2 (node 2 hidden: its links answer it by reply SURBs, on
    /// lanes too) get every one exactly once.
    @Test(.timeLimit(.minutes(5))) func manyPipeliningPublishersLoseNothingAtTheSubscribers() async throws {
        let python = try await requirePythonWithRedis()
        try await TestDevnet.with("flow1", nodes: 3, hidden: 1, hopDelay: .milliseconds(15)) { net in
            let clients = 10
            let perClient = 40
            let total = clients * perClient
            var subscribers: [ChildProcess] = []
            for node in [1, 2] {
                subscribers.append(
                    try await Self.startSubscriber(python: python, socket: net.sockets[node], channel: "burst", expected: total))
                try await net.waitUntilListening(node: node, to: Topic.named("burst"))
            }
            let published = try await ChildProcess.run(
                python,
                ["-c", Self.publisher, net.sockets[0], "burst", String(clients), String(perClient), "1024", "50"],
                timeout: .seconds(240))
            let answers = try Self.lastJSON(PublisherResult.self, published.stdout)
            #expect(answers.integers == total, "every PUBLISH answered with an integer; errors: \(answers.errors)")
            for (node, child) in zip([1, 2], subscribers) {
                #expect(await child.waitForExit(timeout: .seconds(240)) == 0, "subscriber on node \(node): \(child.stderr)")
                let got = try Self.lastJSON(SubscriberResult.self, child.stdout)
                #expect(got.distinct == total, "node \(node) got \(got.distinct) of \(total)")
                #expect(got.total == total && got.duplicated == 0, "node \(node) got duplicates: \(got)")
            }
            try await Self.expectNoLossAnywhere(net, "many publishers")
            try await Self.expectStillDelivers(net, from: 0, to: 1, python: python)
        }
    }

    /// Reproduction 2: redis-benchmark, 50 clients, one PUBLISH of 1 KiB at a time, on a
    /// 2-node devnet: the publisher is slowed to what nym-client carries (it waits, the broker
    /// stops reading it) instead of being refused or losing what it was told was published.
    @Test(.timeLimit(.minutes(5))) func redisBenchmarkIsSlowedNotRefusedAndNobodyIsBanned() async throws {
        let python = try await requirePythonWithRedis()
        let benchmark = try requireTool("redis-benchmark")
        try await TestDevnet.with("flow2", nodes: 2, hidden: 0, hopDelay: .milliseconds(15)) { net in
            let count = 800
            let subscriber = try await Self.startSubscriber(
                python: python, socket: net.sockets[1], channel: "bars", expected: count)
            try await net.waitUntilListening(node: 1, to: Topic.named("bars"))
            // Every message carries the same payload: the subscriber counts them under one key.
            let payload = "b:" + String(repeating: "x", count: 1022)
            let run = try await ChildProcess.run(
                benchmark,
                ["-s", net.sockets[0], "-n", String(count), "-c", "50", "-P", "1", "-e", "-q", "PUBLISH", "bars", payload],
                timeout: .seconds(240))
            #expect(run.status == 0, "redis-benchmark failed: \(run.stderr)")
            #expect(!run.stdout.contains("ERR") && !run.stderr.contains("ERR"), "a PUBLISH was refused: \(run.stdout)")
            let sender = try await Self.status(net.sockets[0])
            #expect((sender["publish-waits-for-links"] ?? 0) > 0, "the publisher was never slowed: \(sender)")
            #expect(await subscriber.waitForExit(timeout: .seconds(240)) == 0, "subscriber: \(subscriber.stderr)")
            let got = try Self.lastJSON(SubscriberResult.self, subscriber.stdout)
            #expect(got.total == count && got.distinct == 1, "node 1's subscriber got \(got.total) of \(count)")
            try await Self.expectNoLossAnywhere(net, "redis-benchmark")
            // Exactly once: the broker saw exactly `count` messages from the network, no more.
            let exactly = await net.daemons[1].broker.stats().messagesFromNetwork
            #expect(exactly == UInt64(count))
            try await Self.expectStillDelivers(net, from: 0, to: 1, python: python)
        }
    }

    /// Two honest nodes publishing flat out at the same time trip no limit of each other's.
    @Test(.timeLimit(.minutes(5))) func twoNodesPublishingFlatOutDiscourageNobody() async throws {
        let python = try await requirePythonWithRedis()
        try await TestDevnet.with("flow3", nodes: 2, hidden: 0, hopDelay: .milliseconds(15)) { net in
            let perNode = 300
            var subscribers: [ChildProcess] = []
            for node in [0, 1] {
                subscribers.append(
                    try await Self.startSubscriber(
                        python: python, socket: net.sockets[node], channel: "both", expected: 2 * perNode))
                try await net.waitUntilListening(node: node, to: Topic.named("both"))
            }
            async let a = ChildProcess.run(
                python, ["-c", Self.publisher, net.sockets[0], "both", "5", String(perNode / 5), "1024", "50", "a"],
                timeout: .seconds(240))
            async let b = ChildProcess.run(
                python, ["-c", Self.publisher, net.sockets[1], "both", "5", String(perNode / 5), "1024", "50", "b"],
                timeout: .seconds(240))
            for run in try await [a, b] {
                #expect(try Self.lastJSON(PublisherResult.self, run.stdout).integers == perNode)
            }
            // Each node's subscriber hears its own node's messages locally and the other's through
            // the mixnet: 2 × `perNode`, every one once.
            for (node, child) in zip([0, 1], subscribers) {
                #expect(await child.waitForExit(timeout: .seconds(240)) == 0, "subscriber on node \(node): \(child.stderr)")
                let got = try Self.lastJSON(SubscriberResult.self, child.stdout)
                #expect(got.total == 2 * perNode && got.distinct == 2 * perNode && got.duplicated == 0, "node \(node): \(got)")
            }
            for daemon in net.daemons {
                let fromNetwork = await daemon.broker.stats().messagesFromNetwork
                #expect(fromNetwork == UInt64(perNode))
            }
            try await Self.expectNoLossAnywhere(net, "both publishing", relaysMayDefer: true)
        }
    }
}
