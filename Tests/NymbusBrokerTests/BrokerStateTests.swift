import Logging
import NIOCore
import NymbusCrypto
import Testing

@testable import NymbusBroker

/// Collects what the broker sends to one client.
final class RecordingOutput: BrokerClientOutput {
    var bytes: [UInt8] = []
    func send(_ buffer: ByteBuffer) { bytes += Array(buffer.readableBytesView) }
    func flush() {}
    func close() -> EventLoopFuture<Void>? { nil }
    /// Everything received since the last call, as text (replies here are ASCII).
    func take() -> String {
        defer { bytes = [] }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Drives `BrokerState` directly: command semantics and exact reply bytes, no sockets.
/// Expected bytes were taken from redis-server 7.0.15 answering the same requests.
final class StateHarness {
    let state: BrokerState
    let interest: AsyncStream<InterestSnapshot>
    private let continuation: AsyncStream<InterestSnapshot>.Continuation
    private var outputs: [RecordingOutput] = []

    init(configuration: BrokerConfiguration = BrokerConfiguration(socketPath: "/tmp/unused.sock")) {
        (interest, continuation) = AsyncStream.makeStream(of: InterestSnapshot.self)
        state = BrokerState(configuration: configuration, logger: Logger(label: "test"), interest: continuation)
    }

    func connect() -> (BrokerClient, RecordingOutput) {
        let output = RecordingOutput()
        outputs.append(output)
        guard let client = state.register(output: output) else { fatalError("registration refused") }
        return (client, output)
    }

    /// Runs every request in `text`; PUBLISH and NYMBUS outcomes are completed as an accepting
    /// backend would (NYMBUS replies +OK). Returns the outcomes.
    @discardableResult
    func run(_ client: BrokerClient, _ text: String) -> [CommandOutcome] {
        var input = ByteBuffer(string: text)
        var outcomes: [CommandOutcome] = []
        while let arguments = try? RESPRequestParser.parse(&input) {
            let outcome = state.execute(arguments, from: client)
            outcomes.append(outcome)
            complete(outcome, client)
        }
        return outcomes
    }

    private func complete(_ outcome: CommandOutcome, _ client: BrokerClient) {
        switch outcome {
        case .publish(let channel, let payload):
            state.finishPublish(client: client, channel: channel, payload: payload, error: nil)
        case .nymbus:
            state.finishNymbus(client: client, result: .success(.simpleString("OK")))
        case .exec(let commands):
            client.beginExec()
            for command in commands { complete(state.execute(command, from: client), client) }
            client.endExec(commandCount: commands.count)
        case .done, .close, .block:
            break
        }
    }

    func finishInterest() { continuation.finish() }
}

@Suite struct BrokerStateTests {
    @Test func unknownCommandAndArityErrorsMatchRedis() {
        let harness = StateHarness()
        let (client, output) = harness.connect()
        harness.run(client, "foo a b\r\n")
        #expect(output.take() == "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n")
        harness.run(client, "FOO\r\n")
        #expect(output.take() == "-ERR unknown command 'FOO', with args beginning with: \r\n")
        harness.run(client, "*2\r\n$5\r\nfo\r\no\r\n$3\r\na\nb\r\n")
        #expect(output.take() == "-ERR unknown command 'fo  o', with args beginning with: 'a b' \r\n")
        harness.run(client, "SUBSCRIBE\r\nPUBLISH a\r\nECHO\r\nPING a b\r\nSELECT\r\n")
        #expect(
            output.take()
                == "-ERR wrong number of arguments for 'subscribe' command\r\n"
                + "-ERR wrong number of arguments for 'publish' command\r\n"
                + "-ERR wrong number of arguments for 'echo' command\r\n"
                + "-ERR wrong number of arguments for 'ping' command\r\n"
                + "-ERR wrong number of arguments for 'select' command\r\n")
    }

    @Test func unknownCommandArgumentsAreTruncatedLikeRedis() {
        let harness = StateHarness()
        let (client, output) = harness.connect()
        let words = (UInt8(ascii: "a")...UInt8(ascii: "z")).map { String(UnicodeScalar($0)) }
        harness.run(client, "x " + words.joined(separator: " ") + "\r\n")
        let quoted = words.map { "'\($0)' " }.joined()
        #expect(output.take() == "-ERR unknown command 'x', with args beginning with: \(quoted)\r\n")
        harness.run(client, "x \(String(repeating: "y", count: 200)) z\r\n")
        #expect(
            output.take()
                == "-ERR unknown command 'x', with args beginning with: '\(String(repeating: "y", count: 128))' \r\n")
    }

    @Test func subscribedModeInResp2MatchesRedis() {
        let harness = StateHarness()
        let (client, output) = harness.connect()
        harness.run(
            client, "SUBSCRIBE a b\r\nECHO x\r\nPING\r\nPING hi\r\nUNSUBSCRIBE\r\nUNSUBSCRIBE\r\nPUNSUBSCRIBE\r\n")
        #expect(
            output.take()
                == "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
                + "-ERR Can't execute 'echo': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
                + "*2\r\n$4\r\npong\r\n$0\r\n\r\n*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"
                + "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n"
                + "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n")
        harness.run(client, "PSUBSCRIBE a* b?\r\nPUBLISH ab x\r\nSUBSCRIBE ab\r\nNYMBUS.STATUS\r\n")
        #expect(
            output.take()
                == "*3\r\n$10\r\npsubscribe\r\n$2\r\na*\r\n:1\r\n*3\r\n$10\r\npsubscribe\r\n$2\r\nb?\r\n:2\r\n"
                + "-ERR Can't execute 'publish': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
                + "*3\r\n$9\r\nsubscribe\r\n$2\r\nab\r\n:3\r\n"
                + "-ERR Can't execute 'nymbus.status': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
        )
        // Unknown commands and arity are checked before the subscribed-mode rule, as in Redis.
        harness.run(client, "FOO\r\nPUBLISH a\r\n")
        #expect(
            output.take()
                == "-ERR unknown command 'FOO', with args beginning with: \r\n"
                + "-ERR wrong number of arguments for 'publish' command\r\n")
        #expect(harness.run(client, "QUIT\r\n") == [.close])
        #expect(output.take() == "+OK\r\n")
    }

    @Test func resetLeavesSubscribedModeSilently() {
        let harness = StateHarness()
        let (client, output) = harness.connect()
        harness.run(client, "CLIENT SETNAME n\r\nHELLO 3\r\n")
        _ = output.take()
        harness.run(client, "SUBSCRIBE a\r\nRESET\r\nPING\r\nCLIENT GETNAME\r\n")
        #expect(output.take() == ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n+RESET\r\n+PONG\r\n$-1\r\n")
        #expect(client.protocolVersion == .resp2)
        #expect(harness.state.channelSubscribers.isEmpty)
    }

    @Test func helloRepliesAsRedisWithNymbusAsServer() {
        let harness = StateHarness()
        let (client, output) = harness.connect()
        let fields = { (proto: Int, id: Int64) in
            "$6\r\nserver\r\n$6\r\nnymbus\r\n$7\r\nversion\r\n$5\r\n7.0.0\r\n$5\r\nproto\r\n:\(proto)\r\n$2\r\nid\r\n:\(id)\r\n"
                + "$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
        }
        harness.run(client, "HELLO\r\n")
        #expect(output.take() == "*14\r\n" + fields(2, client.id))
        harness.run(
            client,
            "HELLO 4\r\nHELLO x\r\nHELLO 2 SETNAME foo\r\nHELLO 2 FOO\r\nHELLO 2 SETNAME\r\nHELLO 3 AUTH default\r\n")
        #expect(
            output.take()
                == "-NOPROTO unsupported protocol version\r\n"
                + "-ERR Protocol version is not an integer or out of range\r\n" + "*14\r\n" + fields(2, client.id)
                + "-ERR Syntax error in HELLO option 'FOO'\r\n" + "-ERR Syntax error in HELLO option 'SETNAME'\r\n"
                + "-ERR Syntax error in HELLO option 'AUTH'\r\n")
        #expect(client.name == Array("foo".utf8))
        harness.run(client, "HELLO 3 AUTH default secret SETNAME bar\r\n")
        #expect(output.take() == "%7\r\n" + fields(3, client.id))
        #expect(client.protocolVersion == .resp3)
        #expect(client.name == Array("bar".utf8))
        harness.run(client, "HELLO 2 SETNAME \"a b\"\r\n")
        #expect(output.take() == "-ERR Client names cannot contain spaces, newlines or special characters.\r\n")
        #expect(client.protocolVersion == .resp3)
    }

    @Test func resp3SubscribedClientGetsPushFramesAndMayRunAnyCommand() {
        let harness = StateHarness()
        let (client, output) = harness.connect()
        harness.run(client, "HELLO 3\r\n")
        _ = output.take()
        harness.run(
            client,
            "SUBSCRIBE a\r\nPING\r\nPSUBSCRIBE a*\r\nPUBLISH a hi\r\nUNSUBSCRIBE\r\nPUNSUBSCRIBE\r\nUNSUBSCRIBE\r\nPUBSUB NUMSUB a b\r\nCLIENT GETNAME\r\n"
        )
        #expect(
            output.take()
                == ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n+PONG\r\n>3\r\n$10\r\npsubscribe\r\n$2\r\na*\r\n:2\r\n"
                + ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n>4\r\n$8\r\npmessage\r\n$2\r\na*\r\n$1\r\na\r\n$2\r\nhi\r\n:2\r\n"
                + ">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n>3\r\n$12\r\npunsubscribe\r\n$2\r\na*\r\n:0\r\n"
                + ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n*4\r\n$1\r\na\r\n:0\r\n$1\r\nb\r\n:0\r\n_\r\n")
    }

    @Test func publishFansOutLikeRedis() {
        let harness = StateHarness()
        let (publisher, publisherOutput) = harness.connect()
        let (subscriber, subscriberOutput) = harness.connect()
        let (patternSubscriber, patternOutput) = harness.connect()
        harness.run(subscriber, "SUBSCRIBE news\r\nPSUBSCRIBE n*\r\n")
        harness.run(patternSubscriber, "PSUBSCRIBE n* *s x*\r\n")
        _ = subscriberOutput.take()
        _ = patternOutput.take()

        harness.run(publisher, "PUBLISH news hello\r\nPUBLISH other x\r\n")
        // news: 1 channel subscriber + n* twice (two clients) + *s once = 4 frames.
        #expect(publisherOutput.take() == ":4\r\n:0\r\n")
        #expect(
            subscriberOutput.take()
                == "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello\r\n"
        )
        let patternFrames = patternOutput.take()
        #expect(patternFrames.contains("*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello\r\n"))
        #expect(patternFrames.contains("*4\r\n$8\r\npmessage\r\n$2\r\n*s\r\n$4\r\nnews\r\n$5\r\nhello\r\n"))
        #expect(patternFrames.count == 2 * "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello\r\n".count)

        #expect(harness.state.deliverFromNetwork(channel: Array("xyz".utf8), payload: [0, 13, 10]) == 1)
        #expect(Array(patternOutput.bytes.suffix(5)) == [0, 13, 10, 13, 10])
        let stats = harness.state.currentStats()
        #expect(stats.messagesPublished == 2)
        #expect(stats.messagesFromNetwork == 1)
        #expect(stats.messagesDelivered == 5)
        #expect(stats.connectedClients == 3)
        #expect(stats.channels == 1)
        #expect(stats.patterns == 3)
        #expect(stats.subscriptions == 5)
    }

    @Test func backendRefusalRepliesErrorAndDeliversNothing() {
        let harness = StateHarness()
        let (publisher, publisherOutput) = harness.connect()
        let (subscriber, subscriberOutput) = harness.connect()
        harness.run(subscriber, "SUBSCRIBE t\r\n")
        _ = subscriberOutput.take()
        let outcome = harness.state.execute([Array("publish".utf8), Array("t".utf8), Array("x".utf8)], from: publisher)
        #expect(outcome == .publish(channel: Array("t".utf8), payload: Array("x".utf8)))
        harness.state.finishPublish(
            client: publisher, channel: Array("t".utf8), payload: Array("x".utf8),
            error: BrokerBackendError(.notJoined, "topic is private and not joined"))
        #expect(publisherOutput.take() == "-ERR topic is private and not joined\r\n")
        #expect(subscriberOutput.take() == "")
        #expect(harness.state.currentStats().publishesRejected == 1)
    }

    @Test func nymbusCommandsAreForwardedWithUpperCaseName() {
        let harness = StateHarness()
        let (client, output) = harness.connect()
        let outcome = harness.state.execute([Array("nymbus.join".utf8), Array("Invite".utf8)], from: client)
        #expect(outcome == .nymbus([Array("NYMBUS.JOIN".utf8), Array("Invite".utf8)]))
        harness.state.finishNymbus(client: client, result: .success(.map(["peers": .integer(3)])))
        #expect(output.take() == "*2\r\n$5\r\npeers\r\n:3\r\n")
        harness.state.finishNymbus(client: client, result: .failure(BrokerBackendError(.invalidArgument, "bad invite")))
        #expect(output.take() == "-ERR bad invite\r\n")
    }

    @Test func connectionCommandsMatchRedis() {
        let harness = StateHarness()
        let (client, output) = harness.connect()
        harness.run(
            client,
            "CLIENT GETNAME\r\nCLIENT SETNAME a\r\nCLIENT GETNAME\r\nCLIENT SETNAME \"a b\"\r\nCLIENT SETNAME \"\"\r\nCLIENT GETNAME\r\nCLIENT FOO\r\nCLIENT\r\n"
        )
        #expect(
            output.take()
                == "$-1\r\n+OK\r\n$1\r\na\r\n-ERR Client names cannot contain spaces, newlines or special characters.\r\n+OK\r\n$-1\r\n-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n-ERR wrong number of arguments for 'client' command\r\n"
        )
        harness.run(
            client,
            "CLIENT SETNAME\r\nCLIENT ID x\r\nPUBSUB NUMPAT x\r\nCLIENT GETNAME x\r\nCOMMAND FOO\r\nCOMMAND COUNT x\r\n"
        )
        #expect(
            output.take()
                == "-ERR wrong number of arguments for 'client|setname' command\r\n-ERR wrong number of arguments for 'client|id' command\r\n-ERR wrong number of arguments for 'pubsub|numpat' command\r\n-ERR wrong number of arguments for 'client|getname' command\r\n-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n-ERR wrong number of arguments for 'command|count' command\r\n"
        )
        harness.run(client, "SELECT 1\r\nSELECT x\r\nSELECT 0\r\nCLIENT ID\r\nECHO a\r\nping\r\nPing x\r\n")
        #expect(
            output.take()
                == "-ERR DB index is out of range\r\n-ERR value is not an integer or out of range\r\n+OK\r\n:\(client.id)\r\n$1\r\na\r\n+PONG\r\n$1\r\nx\r\n"
        )
        harness.run(
            client, "CLIENT SETINFO LIB-NAME redis-py\r\nCLIENT SETINFO LIB-VER 8.1.0\r\nCLIENT SETINFO LIB-FOO x\r\n")
        #expect(output.take() == "+OK\r\n+OK\r\n-ERR Unrecognized option 'LIB-FOO'\r\n")
        harness.run(client, "CLIENT INFO\r\n")
        #expect(output.take().contains("id=\(client.id) addr=unix:0 name= "))
        #expect(harness.run(client, "QUIT x y\r\n") == [.close])
        #expect(output.take() == "+OK\r\n")
    }

    @Test func pubsubIntrospection() {
        let harness = StateHarness()
        let (a, _) = harness.connect()
        let (b, _) = harness.connect()
        let (asker, output) = harness.connect()
        harness.run(a, "SUBSCRIBE x y\r\nPSUBSCRIBE p*\r\n")
        harness.run(b, "SUBSCRIBE y z\r\nPSUBSCRIBE p*\r\n")
        harness.run(
            asker,
            "PUBSUB CHANNELS\r\nPUBSUB CHANNELS [xz]\r\nPUBSUB NUMSUB y q\r\nPUBSUB NUMPAT\r\nPUBSUB FOO\r\nPUBSUB\r\n")
        #expect(
            output.take()
                == "*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n*2\r\n$1\r\nx\r\n$1\r\nz\r\n*4\r\n$1\r\ny\r\n:2\r\n$1\r\nq\r\n:0\r\n:1\r\n-ERR unknown subcommand 'FOO'. Try PUBSUB HELP.\r\n-ERR wrong number of arguments for 'pubsub' command\r\n"
        )
    }

    @Test func commandAndInfoAnswerWhatClientsAsk() throws {
        let harness = StateHarness()
        let (client, output) = harness.connect()
        harness.run(client, "COMMAND COUNT\r\n")
        #expect(output.take() == ":\(BrokerCommandTable.all.count)\r\n")
        harness.run(client, "COMMAND INFO publish nosuch\r\n")
        #expect(
            output.take()
                == "*2\r\n*10\r\n$7\r\npublish\r\n:3\r\n*4\r\n+pubsub\r\n+loading\r\n+stale\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@pubsub\r\n+@fast\r\n*0\r\n*0\r\n*0\r\n$-1\r\n"
        )
        harness.run(client, "COMMAND DOCS ping\r\n")
        #expect(
            output.take()
                == "*2\r\n$4\r\nping\r\n*8\r\n$7\r\nsummary\r\n$15\r\nPing the server\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n"
        )
        harness.run(client, "COMMAND\r\n")
        var all = ByteBuffer(string: output.take())
        let table = try #require(try RESPValueParser.parse(&all))
        #expect(table.elements?.count == BrokerCommandTable.all.count)
        harness.run(client, "INFO\r\n")
        let info = output.take()
        #expect(info.contains("# Server\r\nredis_version:7.0.0\r\nnymbus_version:"))
        #expect(info.contains("connected_clients:1\r\n"))
        #expect(info.contains("slow_client_disconnects:0\r\n"))
        harness.run(client, "INFO clients\r\n")
        let clients = output.take()
        #expect(clients.contains("# Clients"))
        #expect(!clients.contains("# Server"))
    }

    @Test func interestIsSentOnFirstAndLastSubscriberOnly() async {
        let harness = StateHarness()
        let (a, _) = harness.connect()
        let (b, _) = harness.connect()
        harness.run(a, "SUBSCRIBE x\r\n")  // x appears
        harness.run(b, "SUBSCRIBE x\r\n")  // no change
        harness.run(b, "PSUBSCRIBE p*\r\n")  // p* appears
        harness.run(a, "UNSUBSCRIBE x\r\n")  // b still has x: no change
        harness.state.unregister(b)  // x and p* disappear
        harness.finishInterest()
        var snapshots: [InterestSnapshot] = []
        for await snapshot in harness.interest { snapshots.append(snapshot) }
        #expect(snapshots.map(\.channels) == [[Array("x".utf8)], [Array("x".utf8)], []])
        #expect(snapshots.map(\.patterns) == [[], [Array("p*".utf8)], []])
    }

    @Test func transactionsQueueAndExecuteLikeRedis() {
        let harness = StateHarness()
        let (client, output) = harness.connect()
        harness.run(client, "MULTI\r\nPUBLISH a b\r\nFOO\r\nEXEC\r\n")
        #expect(
            output.take()
                == "+OK\r\n+QUEUED\r\n-ERR unknown command 'FOO', with args beginning with: \r\n-EXECABORT Transaction discarded because of previous errors.\r\n"
        )
        harness.run(client, "MULTI\r\nMULTI\r\nPUBLISH a b\r\nPING\r\nECHO\r\nDISCARD\r\nEXEC\r\nDISCARD\r\n")
        #expect(
            output.take()
                == "+OK\r\n-ERR MULTI calls can not be nested\r\n+QUEUED\r\n+QUEUED\r\n-ERR wrong number of arguments for 'echo' command\r\n+OK\r\n-ERR EXEC without MULTI\r\n-ERR DISCARD without MULTI\r\n"
        )
        // The subscribed-mode rule does not apply inside EXEC (Redis runs queued commands directly).
        let (subscriber, subscriberOutput) = harness.connect()
        harness.run(subscriber, "SUBSCRIBE other\r\n")
        _ = subscriberOutput.take()
        harness.run(client, "MULTI\r\nSUBSCRIBE a\r\nPUBLISH other x\r\nECHO e\r\nEXEC\r\nPING\r\n")
        #expect(
            output.take()
                == "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n:1\r\n$1\r\ne\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n"
        )
        #expect(subscriberOutput.take() == "*3\r\n$7\r\nmessage\r\n$5\r\nother\r\n$1\r\nx\r\n")
        harness.run(client, "RESET\r\nMULTI\r\nRESET\r\nEXEC\r\n")
        #expect(output.take() == "+RESET\r\n+OK\r\n+RESET\r\n-ERR EXEC without MULTI\r\n")
        #expect(harness.run(client, "MULTI\r\nQUIT\r\n") == [.done, .close])
        #expect(output.take() == "+OK\r\n+OK\r\n")
    }

    @Test func transactionQueueIsBounded() {
        let harness = StateHarness()
        let (client, output) = harness.connect()
        harness.run(client, "MULTI\r\n")
        for _ in 0..<BrokerState.maxQueuedCommands {
            _ = harness.state.execute([Array("PING".utf8)], from: client)
        }
        _ = output.take()
        harness.run(client, "PING\r\nEXEC\r\nPING\r\n")
        #expect(
            output.take()
                == "-ERR transaction too large: at most 10000 commands and 8388608 bytes\r\n-EXECABORT Transaction discarded because of previous errors.\r\n+PONG\r\n"
        )
    }

    @Test func authRepliesAsAServerWithoutPasswords() {
        let harness = StateHarness()
        let (client, output) = harness.connect()
        harness.run(client, "AUTH x\r\nAUTH a b\r\nAUTH default anything\r\n")
        #expect(
            output.take()
                == "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n"
        )
    }

    @Test func maxClientsIsEnforced() {
        let harness = StateHarness(configuration: BrokerConfiguration(socketPath: "/tmp/x.sock", maxClients: 2))
        _ = harness.connect()
        _ = harness.connect()
        #expect(harness.state.register(output: RecordingOutput()) == nil)
        #expect(harness.state.currentStats().rejectedConnections == 1)
    }
}
