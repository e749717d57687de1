import Foundation
import NymbusBroker
import NymbusPubSub
import NymbusTestSupport
import Testing

/// The shell side: `Examples/redis-cli.sh` (the session of `Examples/redis-cli.md`, checking
/// every answer) and `nymbus topic` against a running devnet.
@Suite struct CommandLineExampleTests {
    /// Every command of the redis-cli walk-through, run with the real redis-cli against a devnet.
    @Test func redisCLISessionWorks() async throws {
        _ = try requireTool("redis-cli")
        try await TestDevnet.with("cli") { net in
            // Through python's subprocess, which closes inherited descriptors: Foundation's Process
            // passes its exit-watching socket to the child, and the script's background
            // subscribers would otherwise hold it (the exit would go unnoticed while they live).
            let python = try requireTool("python3")
            let result = try await ChildProcess.run(
                python, ["-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))", "/bin/sh", ExamplePaths.redisCLIScript, net.directory],
                timeout: .seconds(60))
            #expect(result.status == 0, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
            #expect(result.stdout.hasSuffix("OK: every command answered as expected\n"), "\(result.stdout)")
            #expect(result.stderr == "")
            // The script's private topic was left on node 2 and is still joined on node 0.
            let node0 = try await BrokerConnection.connect(path: net.sockets[0])
            #expect(try await node0.command("NYMBUS.TOPIC", "LIST").elements?.compactMap(\.text).contains("~team") == true)
            await node0.close()
        }
    }

    /// `nymbus topic new` on node 0 and `nymbus topic join` on node 2 go through the broker
    /// sockets; a message then crosses between them. Also the offline modes and the errors.
    @Test func nymbusTopicNewAndJoinTalkToTheNode() async throws {
        let nymbus = try ExamplePaths.builtProduct("nymbus")
        try await TestDevnet.with("topic") { net in
            let created = try await ChildProcess.run(nymbus, ["topic", "new", "ops", "--socket", net.sockets[0]])
            #expect(created.status == 0, "\(created.stderr)")
            let lines = created.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 2)
            #expect(lines.first == "channel: ~ops")
            let invite = try #require(lines.last.flatMap { $0.hasPrefix("invite: ") ? String($0.dropFirst(8)) : nil })
            #expect(created.stderr.contains("Share the invite only with the people who may read and post"))
            let topic = try Topic(invite: invite)
            #expect(topic.name == "ops" && !topic.isPublic)

            let joined = try await ChildProcess.run(nymbus, ["topic", "join", invite, "--socket", net.sockets[2]])
            #expect(joined.status == 0, "\(joined.stderr)")
            #expect(joined.stdout == "joined: ~ops\n")
            let renamed = try await ChildProcess.run(nymbus, ["topic", "join", invite, "ops-too", "--socket", net.sockets[1]])
            #expect(renamed.stdout == "joined: ~ops-too\n", "\(renamed.stderr)")

            let listed = try await ChildProcess.run(nymbus, ["topic", "list", "--socket", net.sockets[2]])
            #expect(listed.stdout == "~ops\n")
            let shown = try await ChildProcess.run(nymbus, ["topic", "invite", "~ops", "--socket", net.sockets[2]])
            #expect(shown.stdout == invite + "\n")

            // The joined topic works: node 0 publishes, node 2 (hidden) receives.
            let subscriber = try await BrokerConnection.connect(path: net.sockets[2])
            _ = try await subscriber.command("SUBSCRIBE", "~ops")
            try await net.waitUntilListening(node: 2, to: topic)
            let published = try await ChildProcess.run(nymbus, ["publish", "~ops", "deploy at noon", "--socket", net.sockets[0]])
            #expect(published.status == 0, "\(published.stderr)")
            let message = try await subscriber.nextMessage()
            #expect(message?.channel == Array("~ops".utf8))
            #expect(message?.payload == Array("deploy at noon".utf8))
            await subscriber.close()

            let left = try await ChildProcess.run(nymbus, ["topic", "leave", "~ops", "--socket", net.sockets[2]])
            #expect(left.stdout == "left ~ops\n")
            let again = try await ChildProcess.run(nymbus, ["topic", "leave", "~ops", "--socket", net.sockets[2]])
            #expect(again.status == 1)
            #expect(again.stderr == "Error: ~ops is not a joined private topic on this node\n")

            let badInvite = try await ChildProcess.run(nymbus, ["topic", "join", "nymbus:topic:abc", "--socket", net.sockets[2]])
            #expect(badInvite.status == 1)
            #expect(badInvite.stderr.hasPrefix("Error: not a valid invite:"), "\(badInvite.stderr)")
            // ~ops exists on node 0: a second `new` is refused, `--replace` makes a new secret.
            let again0 = try await ChildProcess.run(nymbus, ["topic", "new", "ops", "--socket", net.sockets[0]])
            #expect(again0.status == 1)
            #expect(again0.stderr.hasPrefix("Error: the node refused: ERR ~ops already exists on this node"), "\(again0.stderr)")
            let replaced = try await ChildProcess.run(nymbus, ["topic", "new", "ops", "--replace", "--socket", net.sockets[0]])
            #expect(replaced.status == 0, "\(replaced.stderr)")
            #expect(replaced.stdout.hasPrefix("channel: ~ops\ninvite: nymbus:topic:") && !replaced.stdout.contains(invite))
            let refused = try await ChildProcess.run(nymbus, ["topic", "new", String(repeating: "x", count: 254) + "~", "--socket", net.sockets[0]])
            #expect(refused.status == 64)  // 255 bytes: refused before asking the node
        }
    }

    /// Without a node: `--offline` makes or checks an invite, `--public` prints a public topic's
    /// invite, and a missing broker is a one-line error (exit 1), not a usage dump.
    @Test func nymbusTopicOfflineModes() async throws {
        let nymbus = try ExamplePaths.builtProduct("nymbus")
        let made = try await ChildProcess.run(nymbus, ["topic", "new", "lab", "--offline"])
        #expect(made.status == 0)
        let invite = try #require(made.stdout.hasPrefix("invite: ") ? String(made.stdout.dropFirst(8).dropLast()) : nil)
        let topic = try Topic(invite: invite)
        #expect(topic.name == "lab" && !topic.isPublic)
        let checked = try await ChildProcess.run(nymbus, ["topic", "join", invite, "--offline"])
        #expect(checked.stdout == "valid invite\ntopic id: \(topic.id)\nkind: private\nname: lab\n")
        #expect(!checked.stdout.contains(invite))  // never prints the secret back

        let publicInvite = try await ChildProcess.run(nymbus, ["topic", "new", "news", "--public"])
        #expect(publicInvite.stdout == "channel: news\ninvite: \(Topic.named("news").invite)\n")

        let nobody = try await ChildProcess.run(nymbus, ["topic", "new", "x", "--socket", "/tmp/nbx-nobody.sock"])
        #expect(nobody.status == 1)
        #expect(
            nobody.stderr == "Error: cannot connect to the Nymbus broker at /tmp/nbx-nobody.sock; is `nymbus run` (or `nymbus devnet`) running?\n")
        let mixed = try await ChildProcess.run(nymbus, ["topic", "new", "x", "--offline", "--socket", "/tmp/s"])
        #expect(mixed.status == 64)  // a usage error
    }
}
