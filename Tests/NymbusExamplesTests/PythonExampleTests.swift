import Foundation
import NymbusBroker
import NymbusDaemon
import NymbusPubSub
import NymbusTestSupport
import Testing

/// `Examples/python/pubsub.py` and `Examples/group-chat/chat.py`, run with python3 and redis-py
/// against the sockets of an in-process devnet: every message crosses the local mixnet.
/// A missing python3 or redis-py fails these tests (`make test` installs redis-py).
@Suite struct PythonExampleTests {
    /// Subscribe on the hidden node 2, publish text and binary bytes on node 0: the subscriber
    /// prints exactly the two messages (control bytes escaped) and exits after `--count 2`.
    @Test func pubsubPyCarriesTextAndBinaryAcrossNodes() async throws {
        let python = try await requirePythonWithRedis()
        try await TestDevnet.with("py") { net in
            let subscriber = try ChildProcess(
                python, [ExamplePaths.pubsubPy, "--socket", net.sockets[2], "subscribe", "py-news", "--count", "2"])
            let ready = await subscriber.waitForLine("subscribed to py-news; waiting for messages (Ctrl-C to stop)")
            #expect(ready, "subscriber never confirmed; stderr: \(subscriber.stderr)")
            try await net.waitUntilListening(node: 2, to: Topic.named("py-news"))

            let first = try await ChildProcess.run(python, [ExamplePaths.pubsubPy, "--socket", net.sockets[0], "publish", "py-news", "hi"])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout == "published to py-news; local subscribers: 0\n")
            // The mixnet does not keep order: wait for the first before sending the second.
            #expect(await subscriber.waitForLine("py-news: hi"), "stdout: \(subscriber.stdout) stderr: \(subscriber.stderr)")

            let binary: [UInt8] = [0x61, 0x00, 0x62, 0x1B, 0x5B, 0x32, 0x4A, 0xFF]  // a NUL b ESC [2J, invalid UTF-8
            let second = try await ChildProcess.run(
                python, [ExamplePaths.pubsubPy, "--socket", net.sockets[0], "publish", "py-news", "-"], stdin: binary)
            #expect(second.status == 0, "\(second.stderr)")
            #expect(await subscriber.waitForExit() == 0, "stderr: \(subscriber.stderr)")
            #expect(
                subscriber.lines == [
                    "subscribed to py-news; waiting for messages (Ctrl-C to stop)",
                    "py-news: hi",
                    #"py-news: a\x00b\x1b[2J\xff"#,
                ])
            // The payload arrived byte for byte: node 2 delivered exactly two objects.
            #expect(await net.daemons[2].pubsub.statistics.delivered == 2)
        }
    }

    /// The bad paths: a private channel nobody joined is refused (exit 1, the node's reason on
    /// stderr), and a socket with no broker behind it is a clear error, not a traceback.
    @Test func pubsubPyReportsRefusalsAndMissingBroker() async throws {
        let python = try await requirePythonWithRedis()
        try await TestDevnet.with("pyerr", nodes: 1, hidden: 0) { net in
            let refused = try await ChildProcess.run(python, [ExamplePaths.pubsubPy, "--socket", net.sockets[0], "publish", "~secret", "x"])
            #expect(refused.status == 1)
            #expect(refused.stdout == "")
            #expect(
                refused.stderr
                    == "error: the node refused: topic ~secret is private and not joined: run NYMBUS.JOIN <invite> first\n")
            let missing = try await ChildProcess.run(python, [ExamplePaths.pubsubPy, "--socket", net.directory + "/none.sock", "publish", "a", "b"])
            #expect(missing.status == 1)
            #expect(missing.stderr.hasPrefix("error: cannot reach the Nymbus broker at \(net.directory)/none.sock"), "\(missing.stderr)")
        }
    }

    /// A room made on node 0; alice on node 1 and bob on the hidden node 2 chat through it. Each
    /// sees exactly the other's lines (not their own echo), a garbage payload is shown as
    /// unreadable, terminal escape codes in a nick or text are neutralised, and Ctrl-D leaves.
    @Test func groupChatBetweenTwoNodes() async throws {
        let python = try await requirePythonWithRedis()
        try await TestDevnet.with("chat") { net in
            let created = try await ChildProcess.run(python, [ExamplePaths.chatPy, "--socket", net.sockets[0], "new", "room"])
            #expect(created.status == 0, "\(created.stderr)")
            let createdLines = created.stdout.split(separator: "\n").map(String.init)
            #expect(createdLines.count == 2)
            #expect(createdLines.first == "room: ~room")
            let invite = try #require(createdLines.last.flatMap { $0.hasPrefix("invite: ") ? String($0.dropFirst(8)) : nil })
            let topic = try Topic(invite: invite)
            #expect(!topic.isPublic)
            #expect(topic.name == "room")

            let alice = try ChildProcess(python, [ExamplePaths.chatPy, "--socket", net.sockets[1], "join", invite, "--nick", "alice"])
            let bob = try ChildProcess(python, [ExamplePaths.chatPy, "--socket", net.sockets[2], "join", invite, "--nick", "bob"])
            defer {
                alice.terminate()
                bob.terminate()
            }
            let header = { (nick: String) in
                [
                    "joined ~room as \(nick); type a line and press Enter to send, Ctrl-D to leave",
                    "(your nick is only a label: members cannot verify who wrote a line, and every member reads everything)",
                ]
            }
            #expect(await alice.waitForLine(header("alice")[1]), "alice: \(alice.stdout) \(alice.stderr)")
            #expect(await bob.waitForLine(header("bob")[1]), "bob: \(bob.stdout) \(bob.stderr)")
            try await net.waitUntilListening(node: 1, to: topic)
            try await net.waitUntilListening(node: 2, to: topic)

            try alice.write("hello bob\n")
            #expect(await bob.waitForLine("<alice> hello bob"), "bob: \(bob.stdout) \(bob.stderr)")
            try bob.write("hi alice, über 🙂\n")
            #expect(await alice.waitForLine("<bob> hi alice, über 🙂"), "alice: \(alice.stdout) \(alice.stderr)")

            // Node 0 holds the room too (it made it); anything a member posts reaches both.
            let creator = try await BrokerConnection.connect(path: net.sockets[0])
            #expect(try await creator.command("PUBLISH", "~room", "garbage") == .integer(0))
            for chatter in [alice, bob] { #expect(await chatter.waitForLine("[unreadable message of 7 bytes]")) }
            let forged = #"{"v":1,"id":"x","nick":"\u001b[31mmallory","text":"evil\u001b[2J"}"#
            #expect(try await creator.command("PUBLISH", "~room", forged) == .integer(0))
            for chatter in [alice, bob] { #expect(await chatter.waitForLine("<\u{FFFD}[31mmallory> evil\u{FFFD}[2J")) }
            await creator.close()

            try alice.closeStdin()
            try bob.closeStdin()
            #expect(await alice.waitForExit() == 0, "\(alice.stderr)")
            #expect(await bob.waitForExit() == 0, "\(bob.stderr)")
            let tail = [
                "[unreadable message of 7 bytes]", "<\u{FFFD}[31mmallory> evil\u{FFFD}[2J",
                "left ~room (the node stays a member; NYMBUS.TOPIC LEAVE ~room forgets the room)",
            ]
            #expect(alice.lines == header("alice") + ["<bob> hi alice, über 🙂"] + tail)
            #expect(bob.lines == header("bob") + ["<alice> hello bob"] + tail)

            // A broken invite never gets as far as chatting.
            let bad = try await ChildProcess.run(python, [ExamplePaths.chatPy, "--socket", net.sockets[1], "join", "nymbus:topic:abc", "--nick", "eve"])
            #expect(bad.status == 1)
            #expect(bad.stderr.hasPrefix("error: the node refused: invalid invite:"), "\(bad.stderr)")
        }
    }
}
