import NymbusCrypto
import NymbusBroker
import NymbusPubSub

/// The `NYMBUS.*` commands a local client sends: parses their arguments and runs them.
///
/// `NYMBUS.JOIN` and `NYMBUS.TOPIC` change the joined topics (``TopicMembership``);
/// `NYMBUS.PEERS` and `NYMBUS.STATUS` report on the node (``DaemonCommands``).
struct NymbusCommands: Sendable {
    /// Runs a reporting command (`NYMBUS.PEERS`, `NYMBUS.STATUS`); nil for an unknown name.
    typealias Report = @Sendable (_ arguments: [[UInt8]]) async throws(BrokerBackendError) -> RESPValue?

    let membership: TopicMembership
    let reconciler: SubscriptionReconciler
    let directory: ChannelDirectory
    let report: Report

    /// Runs `arguments` (the name in upper case first).
    func run(_ arguments: [[UInt8]]) async throws(BrokerBackendError) -> RESPValue {
        let name = String(decoding: arguments.first ?? [], as: UTF8.self)
        let args = Array(arguments.dropFirst())
        switch name {
        case "NYMBUS.JOIN":
            guard (1...2).contains(args.count) else { throw arity(name, "<invite> [channel]") }
            return .bulk(
                try await membership.join(
                    invite: String(decoding: args[0], as: UTF8.self), channel: args.count == 2 ? args[1] : nil))
        case "NYMBUS.TOPIC":
            guard let sub = args.first.map({ String(decoding: $0, as: UTF8.self).uppercased() }) else {
                throw arity(name, "NEW [name] | LIST | INVITE <channel> | LEAVE <channel>")
            }
            return try await topic(sub, Array(args.dropFirst()))
        default:
            if let reply = try await report(arguments) { return reply }
            throw BrokerBackendError(
                .unknownCommand,
                "unknown Nymbus command '\(name)'; known: NYMBUS.JOIN, NYMBUS.TOPIC NEW|LIST|INVITE|LEAVE, NYMBUS.PEERS, NYMBUS.STATUS")
        }
    }

    private func topic(_ sub: String, _ args: [[UInt8]]) async throws(BrokerBackendError) -> RESPValue {
        switch sub {
        case "NEW":
            // NEW [name [REPLACE]]
            let replace = args.count == 2 && String(decoding: args[1], as: UTF8.self).uppercased() == "REPLACE"
            guard args.count <= 1 || replace else { throw arity("NYMBUS.TOPIC NEW", "[name [REPLACE]]") }
            let created = try await membership.create(
                label: args.first.map { String(decoding: $0, as: UTF8.self) }, replace: replace)
            return .array([.bulk(created.channel), .bulk(created.invite)])
        case "LIST":
            let joined = await membership.joinedChannels
            let subscribed = await reconciler.subscribedChannels
            return .array(Array(Set(joined + subscribed)).sorted { $0.lexicographicallyPrecedes($1) }.map { .bulk($0) })
        case "INVITE":
            guard args.count == 1 else { throw arity("NYMBUS.TOPIC INVITE", "<channel>") }
            return .bulk(try directory.topic(for: args[0]).invite)
        case "LEAVE":
            guard args.count == 1 else { throw arity("NYMBUS.TOPIC LEAVE", "<channel>") }
            return .integer(try await membership.leave(channel: args[0]) ? 1 : 0)
        default:
            throw BrokerBackendError(.invalidArgument, "unknown NYMBUS.TOPIC subcommand '\(sub)'; use NEW, LIST, INVITE or LEAVE")
        }
    }

    private func arity(_ command: String, _ usage: String) -> BrokerBackendError {
        BrokerBackendError(.invalidArgument, "wrong number of arguments; usage: \(command) \(usage)")
    }
}
