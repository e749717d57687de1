import Foundation
import NymbusBroker
import NymbusTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Three processes: a local mixnet (`nymbus mixnet`, unpaced, 15 ms mean delay per hop, so
/// packets overtake each other) and two nodes (`nymbus run`). Node 0 takes a burst of pipelined
/// XADD from one connection and is killed with SIGKILL in the middle; after it is started again,
/// and a second connection has added 100 more, every id it answered is in its stream, and every
/// one of those entries is in node 1's stream exactly once (the outbox sends what had not left;
/// what had left and is sent again has the same message id and is dropped as seen), each
/// connection's entries in the order it added them (spec/broker.md "Order": the tag and number
/// are stored with the outbox row, so the run goes on after the restart without a gap).
@Suite struct NodeKill9Tests {
    @Test func everyAnsweredXADDReachesTheOtherNodeOnceAfterKill9() async throws {
        let python = try await requirePythonWithRedis()
        let nymbus = try ExamplePaths.builtProduct("nymbus")
        let directory = temporaryDirectory("nodekill")
        var children: [ChildProcess] = []
        defer {
            for child in children { kill(child.pid, SIGKILL) }
            try? FileManager.default.removeItem(atPath: directory)
        }
        let random = SeededRandom()
        // `--port 0`: free ports, not nym-client's 1977 (two suites at once, or a real nym-client,
        // would hold it; the endpoints' URLs are read from the mixnet's output below).
        let mixnet = try ChildProcess(
            nymbus,
            ["mixnet", "--clients", "2", "--port", "0", "--send-delay-ms", "0", "--hop-delay-ms", "15", "--seed", "\(random.seed)"])
        children.append(mixnet)
        #expect(await mixnet.waitForLine("Ready. Stop with Ctrl-C."), "mixnet: \(mixnet.stdout) \(mixnet.stderr)")
        let endpoints = mixnet.lines.filter { $0.hasPrefix("endpoint ") }.map { $0.split(separator: " ").map(String.init) }
        try #require(endpoints.count == 2, "\(mixnet.stdout)")
        let (url0, url1, address1) = (endpoints[0][2], endpoints[1][2], endpoints[1][3])
        let socket0 = directory + "/n0/nymbus.sock"
        let socket1 = directory + "/n1/nymbus.sock"
        let node0Arguments = ["run", "--nym-client", url0, "--data-dir", directory + "/n0", "--bootstrap", address1]
        let node1 = try ChildProcess(nymbus, ["run", "--nym-client", url1, "--data-dir", directory + "/n1"])
        children.append(node1)
        var node0 = try ChildProcess(nymbus, node0Arguments)
        children.append(node0)
        #expect(await node1.waitForLine("broker: redis-cli -s \(socket1)"), "node 1: \(node1.stderr)")
        #expect(await node0.waitForLine("broker: redis-cli -s \(socket0)"), "node 0: \(node0.stderr)")

        let setup = try await ChildProcess.run(
            python,
            [
                "-c",
                """
                import sys, time, redis
                n0 = redis.Redis(unix_socket_path=sys.argv[1], socket_timeout=10)
                n1 = redis.Redis(unix_socket_path=sys.argv[2], socket_timeout=10)
                n1.xgroup_create("burst", "g", id="$", mkstream=True)
                deadline = time.time() + 30
                while time.time() < deadline:
                    n0.xadd("burst", {"n": "probe"})
                    time.sleep(0.2)
                    if n1.xlen("burst") > 0:
                        print("linked"); break
                """,
                socket0, socket1,
            ], timeout: .seconds(60))
        #expect(setup.stdout.contains("linked"), "\(setup.stdout) \(setup.stderr)")

        let writer = try ChildProcess(
            python,
            [
                "-c",
                """
                import sys, redis
                r = redis.Redis(unix_socket_path=sys.argv[1], socket_timeout=10)
                n = 0
                while True:
                    p = r.pipeline(transaction=False)
                    for _ in range(10):
                        p.xadd("burst", {"n": str(n), "w": "1"})
                        n += 1
                    for entry_id in p.execute():
                        print(entry_id.decode())
                    sys.stdout.flush()
                """,
                socket0,
            ])
        children.append(writer)
        #expect(await eventually(timeout: .seconds(60)) { writer.lines.count >= 300 }, "writer: \(writer.stderr)")
        kill(node0.pid, SIGKILL)
        _ = await node0.waitForExit()
        _ = await writer.waitForExit()
        let answered = writer.lines
        #expect(answered.count >= 300)

        node0 = try ChildProcess(nymbus, node0Arguments)
        children.append(node0)
        #expect(await node0.waitForLine("broker: redis-cli -s \(socket0)"), "node 0 again: \(node0.stderr)")
        let check = try await ChildProcess.run(
            python,
            [
                "-c",
                """
                import sys, time, redis, collections
                # NYMBUS.STATUS: a map (redis-py parses it as a dict) or a flat key/value list.
                as_map = lambda reply: reply if isinstance(reply, dict) else dict(zip(reply[::2], reply[1::2]))
                n0 = redis.Redis(unix_socket_path=sys.argv[1], socket_timeout=10)
                n1 = redis.Redis(unix_socket_path=sys.argv[2], socket_timeout=10)
                answered = [line for line in sys.stdin.read().split() if line]
                # A second connection after the restart: a new publisher tag.
                p = n0.pipeline(transaction=False)
                for n in range(100):
                    p.xadd("burst", {"n": "after-%d" % n, "w": "2"})
                p.execute()
                local = [(i.decode(), f[b"n"].decode()) for i, f in n0.xrange("burst")]
                local_ids = [i for i, _ in local]
                assert set(answered) <= set(local_ids), "answered ids missing locally"
                wanted = {n for i, n in local if n != "probe"}
                deadline = time.time() + 60
                while time.time() < deadline:
                    status = as_map(n0.execute_command("NYMBUS.STATUS"))
                    remote = collections.Counter(f[b"n"].decode() for _, f in n1.xrange("burst"))
                    if status.get(b"stream-outbox-waiting") == 0 and wanted <= set(remote):
                        break
                    time.sleep(0.2)
                remote = collections.Counter(f[b"n"].decode() for _, f in n1.xrange("burst"))
                missing = sorted(wanted - set(remote), key=str)
                twice = sorted((n for n, c in remote.items() if c > 1 and n != "probe"), key=str)
                entries = [f for _, f in n1.xrange("burst")]
                first = [int(f[b"n"]) for f in entries if f.get(b"w") == b"1"]
                second = [int(f[b"n"][6:]) for f in entries if f.get(b"w") == b"2"]
                status = as_map(n1.execute_command("NYMBUS.STATUS"))
                print("order", first == sorted(first), second == list(range(100)),
                      "late", status.get(b"order-late"), "skipped", status.get(b"order-gaps-skipped"))
                print("local", len(wanted), "remote", sum(c for n, c in remote.items() if n != "probe"), "missing", missing[:10], "twice", twice[:10])
                # On a failure: the first writer's numbers as node 1 appended them (as runs), and
                # both nodes' order, link and outbox counters.
                runs = []
                for n in first:
                    if runs and runs[-1][1] + 1 == n:
                        runs[-1][1] = n
                    else:
                        runs.append([n, n])
                print("arrival", " ".join("%d-%d" % (a, b) if a != b else "%d" % a for a, b in runs[:40]),
                      "answered", len(answered))
                keep = lambda m: {k.decode(): v for k, v in m.items() if any(w in k.decode() for w in
                    ("order", "link", "outbox", "held", "queued", "flushed", "sync", "getdata", "tree", "peers", "resealed"))}
                print("node0", keep(as_map(n0.execute_command("NYMBUS.STATUS"))))
                print("node1", keep(status))
                """,
                socket0, socket1,
            ], stdin: Array(answered.joined(separator: "\n").utf8), timeout: .seconds(120))
        #expect(check.status == 0, "\(check.stderr)")
        let lines = check.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 5, "\(check.stdout) \(check.stderr)")
        #expect(lines[0] == "order True True late 0 skipped 0", "\(random)\n\(lines[2...].joined(separator: "\n"))")
        let summary = lines[1]
        #expect(summary.hasSuffix("missing [] twice []"), "\(summary) \(random)")
        let counts = summary.split(separator: " ")
        #expect(counts.count > 3 && counts[1] == counts[3], "\(summary)")
    }
}
