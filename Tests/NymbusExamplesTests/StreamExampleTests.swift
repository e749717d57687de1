import Foundation
import NymbusBroker
import NymbusDaemon
import NymbusPubSub
import NymbusTestSupport
import Testing

/// The stream examples with python3 and redis-py against devnet nodes: the worker pool
/// (`Examples/python/worker_pool.py`) and the group chat's history (`chat.py --history`).
@Suite struct StreamExampleTests {
    /// Ten jobs; worker w1 finishes three and dies holding the fourth; w2 takes the fourth over
    /// with XAUTOCLAIM and does the rest. Every job is done exactly once, nothing stays pending.
    @Test func workerPoolRecoversADeadWorkersJobs() async throws {
        let python = try await requirePythonWithRedis()
        try await TestDevnet.with("workers", nodes: 1, hidden: 0) { net in
            let socket = net.sockets[0]
            let produced = try await ChildProcess.run(python, [ExamplePaths.workerPoolPy, "--socket", socket, "produce", "jobs", "10"])
            #expect(produced.stdout == "produced 10 jobs on jobs\n", "\(produced.stderr)")
            let first = try await ChildProcess.run(
                python, [ExamplePaths.workerPoolPy, "--socket", socket, "work", "jobs", "--name", "w1", "--crash-after", "3"])
            #expect(first.status == 3, "\(first.stderr)")
            #expect(first.stdout == "w1 done job-0\nw1 done job-1\nw1 done job-2\nw1 crashed holding job-3\n")
            let connection = try await BrokerConnection.connect(path: socket)
            let pending = try await connection.command("XPENDING", "jobs", "workers")
            #expect(pending.elements?.first == .integer(1))
            let second = try await ChildProcess.run(
                python,
                [ExamplePaths.workerPoolPy, "--socket", socket, "work", "jobs", "--name", "w2", "--min-idle", "0", "--exit-when-idle", "300"])
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stdout == (3...9).map { "w2 done job-\($0)\n" }.joined())
            #expect(try await connection.command("XPENDING", "jobs", "workers").elements?.first == .integer(0))
            await connection.close()
        }
    }

    /// Alice joins with --history, Bob writes two lines from another node, Alice leaves; Bob
    /// writes one more while she is away. Alice comes back and sees all three first.
    @Test func groupChatShowsHistoryAfterARestart() async throws {
        let python = try await requirePythonWithRedis()
        try await TestDevnet.with("history") { net in
            let created = try await ChildProcess.run(python, [ExamplePaths.chatPy, "--socket", net.sockets[0], "new", "den"])
            let invite = try #require(
                created.stdout.split(separator: "\n").last.flatMap { $0.hasPrefix("invite: ") ? String($0.dropFirst(8)) : nil })
            let topic = try Topic(invite: invite)
            let joined = "(your nick is only a label: members cannot verify who wrote a line, and every member reads everything)"
            let alice = try ChildProcess(
                python, [ExamplePaths.chatPy, "--socket", net.sockets[1], "join", invite, "--nick", "alice", "--history", "10"])
            let bob = try ChildProcess(python, [ExamplePaths.chatPy, "--socket", net.sockets[2], "join", invite, "--nick", "bob"])
            defer {
                alice.terminate()
                bob.terminate()
            }
            #expect(await alice.waitForLine(joined), "alice: \(alice.stdout) \(alice.stderr)")
            #expect(await bob.waitForLine(joined), "bob: \(bob.stdout) \(bob.stderr)")
            try await net.waitUntilListening(node: 1, to: topic)
            try await net.waitUntilListening(node: 2, to: topic)
            try bob.write("first\n")
            #expect(await alice.waitForLine("<bob> first"), "alice: \(alice.stdout)")
            try bob.write("second\n")
            #expect(await alice.waitForLine("<bob> second"), "alice: \(alice.stdout)")
            try alice.closeStdin()
            #expect(await alice.waitForExit() == 0, "\(alice.stderr)")

            // Alice is away; her node keeps the room's stream and appends what arrives.
            let node1 = try await BrokerConnection.connect(path: net.sockets[1])
            try bob.write("while you were out\n")
            let kept = await eventually { ((try? await node1.command("XLEN", "~den"))?.integerValue ?? 0) >= 3 }
            #expect(kept)
            await node1.close()

            let back = try ChildProcess(
                python, [ExamplePaths.chatPy, "--socket", net.sockets[1], "join", invite, "--nick", "alice", "--history", "10"])
            defer { back.terminate() }
            #expect(await back.waitForLine(joined), "alice: \(back.stdout) \(back.stderr)")
            let history = back.lines.filter { $0.hasPrefix("[history]") }
            #expect(Set(history) == ["[history] <bob> first", "[history] <bob> second", "[history] <bob> while you were out"])
            #expect(history.count == 3)
            try back.closeStdin()
            try bob.closeStdin()
            #expect(await back.waitForExit() == 0)
            #expect(await bob.waitForExit() == 0)
        }
    }
}
