import ArgumentParser
import Foundation
import NymbusBroker
import NymbusCrypto
import NymbusPubSub

/// `nymbus topic`: private topics on the running node (new, join, list, invite, leave), through
/// its broker socket, plus an offline mode that only makes or checks invites.
///
/// Online, each subcommand is one Nymbus broker command (`NYMBUS.TOPIC NEW`, `NYMBUS.JOIN`,
/// `NYMBUS.TOPIC LIST|INVITE|LEAVE`), so `redis-cli` can do the same. Invites hold the topic
/// secret: they are printed only by `new` and `invite`, and should be shared only with the
/// people who may read and post.
struct TopicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topic",
        abstract: "Create, join and list private topics on the running node.",
        discussion: """
            A private topic is a channel whose name starts with ~ and whose key travels only in an \
            invite string (nymbus:topic:…). Typical use, with `nymbus run` (or `nymbus devnet`) running:

              nymbus topic new team       # prints the channel ~team and its invite
              nymbus topic join INVITE    # on another node: joins it as ~team
              nymbus subscribe '~team'    # read it; post with: nymbus publish '~team' hi

            Whoever has the invite can read and post, forever: there is no removing a member, \
            make a new topic instead. Public topics need none of this: any channel name without \
            ~ is a public topic that anyone who knows the name can read and post to.
            """,
        subcommands: [New.self, Join.self, List.self, Invite.self, Leave.self])

    /// `nymbus topic new [NAME] [--offline | --public]`
    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a private topic on the node and print its invite.",
            discussion: """
                Asks the node (NYMBUS.TOPIC NEW) for a fresh private topic. The node joins it at \
                once as channel ~NAME (without NAME, ~ and the first hex digits of the topic id) \
                and keeps it in <data-dir>/topics.json. Prints two lines:

                  channel: ~NAME
                  invite: nymbus:topic:…

                The invite holds the topic's secret: whoever has it can read and post. Send it \
                only over a channel you trust. In a script:

                  INVITE=$(nymbus topic new team | awk '/^invite:/ {print $2}')

                --offline makes an invite without a node (nothing is joined or saved; join it \
                later with `nymbus topic join`). --public prints the invite of the public topic \
                NAME, which needs no node either: anyone who knows NAME can read and post to it.
                """)

        @OptionGroup var broker: BrokerOptions

        @Argument(help: "A name for the topic (1 to 254 bytes); its channel becomes ~NAME and the invite carries it as a label.")
        var name: String?

        @Flag(name: .long, help: "Only make an invite, without a running node; nothing is joined.")
        var offline = false

        @Flag(name: .customLong("public"), help: "Print the invite of the public topic NAME (needs no node).")
        var isPublic = false

        @Flag(name: .long, help: "Replace an existing ~NAME on the node (its current invite stops working here).")
        var replace = false

        func validate() throws {
            if let name {
                guard !name.isEmpty else { throw ValidationError("the topic name must not be empty") }
                guard name.utf8.count <= 254 else {
                    throw ValidationError("the topic name has \(name.utf8.count) bytes; at most 254 fit a channel name")
                }
            }
            if isPublic {
                guard let name else { throw ValidationError("--public needs the public topic's NAME") }
                guard !name.hasPrefix("~") else {
                    throw ValidationError("names starting with ~ are private channels; drop the ~ or the --public")
                }
            }
            if replace, name == nil || offline || isPublic {
                throw ValidationError("--replace needs NAME and a running node (not --offline or --public)")
            }
            if offline || isPublic, broker.socket != nil {
                throw ValidationError("--offline and --public talk to no node; --socket is not used with them")
            }
        }

        func run() async throws {
            if isPublic, let name {
                print("channel: \(name)")
                print("invite: \(Topic.named(name).invite)")
                printError("public topic: anyone who knows the name can read and post; just subscribe to \(name)")
                return
            }
            if offline {
                print("invite: \(Topic.random(name: name).invite)")
                printError("not joined anywhere yet: join it with `nymbus topic join <invite>` on each node")
                return
            }
            let reply = try await TopicCommand.ask(
                broker, ["NYMBUS.TOPIC", "NEW"] + (name.map { [$0] } ?? []) + (replace ? ["REPLACE"] : []))
            let parts = reply.elements ?? []
            guard parts.count == 2, let channel = parts[0].text, let invite = parts[1].text else {
                throw TopicCommandError("unexpected reply from the node: \(render(reply))")
            }
            print("channel: \(channel)")
            print("invite: \(invite)")
            printError(
                "the node has joined \(channel). Share the invite only with the people who may read and post; "
                    + "they join with: nymbus topic join <invite>")
        }
    }

    /// `nymbus topic join INVITE [CHANNEL] [--offline]`
    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Join a private topic with its invite.",
            discussion: """
                Hands the invite to the node (NYMBUS.JOIN). The node keeps it in \
                <data-dir>/topics.json, and its programs can then subscribe and publish to the \
                channel it prints: ~ followed by the invite's label, or ~CHANNEL if given (needed \
                when the invite carries no label, or to avoid a clash with a channel you use). \
                Joining again under the same channel replaces the topic.

                --offline only checks the invite, without a node, and prints the topic id relays \
                see, its label and whether it is public; never the secret.
                """)

        @OptionGroup var broker: BrokerOptions

        @Argument(help: "The invite string (nymbus:topic:…).")
        var invite: String

        @Argument(help: "Local channel name to use (default: ~ + the invite's label).")
        var channel: String?

        @Flag(name: .long, help: "Only check the invite, without a running node.")
        var offline = false

        func validate() throws {
            if offline, broker.socket != nil || channel != nil {
                throw ValidationError("--offline only checks the invite: drop --socket and CHANNEL")
            }
        }

        func run() async throws {
            let topic: Topic
            do { topic = try Topic(invite: invite) } catch { throw InvalidInvite(reason: error.reason) }
            if offline {
                print("valid invite")
                print("topic id: \(topic.id)")
                print("kind: \(topic.isPublic ? "public (anyone who knows the name can read and post)" : "private")")
                if let label = topic.name {
                    print("name: \(label)")
                } else if topic.nameBytes != nil {
                    print("name: <not UTF-8>")
                }
                return
            }
            let reply = try await TopicCommand.ask(broker, ["NYMBUS.JOIN", invite] + (channel.map { [$0] } ?? []))
            guard let joined = reply.text else { throw TopicCommandError("unexpected reply from the node: \(render(reply))") }
            print("joined: \(joined)")
            if topic.isPublic {
                printError("this invite names a public topic: anyone who knows the name can read and post")
            }
            printError("read with: nymbus subscribe '\(joined)'   post with: nymbus publish '\(joined)' MESSAGE")
        }
    }

    /// `nymbus topic list`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the node's joined private topics and the channels it listens to.",
            discussion: "One channel per line, sorted (NYMBUS.TOPIC LIST). Private topics start with ~.")

        @OptionGroup var broker: BrokerOptions

        func run() async throws {
            let reply = try await TopicCommand.ask(broker, ["NYMBUS.TOPIC", "LIST"])
            for channel in reply.elements ?? [] { print(render(channel)) }
        }
    }

    /// `nymbus topic invite CHANNEL`
    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the invite of a topic the node has joined.",
            discussion: """
                NYMBUS.TOPIC INVITE. The invite holds the topic's secret: whoever has it can read \
                and post. Quote the channel in the shell: nymbus topic invite '~team'.
                """)

        @OptionGroup var broker: BrokerOptions
        @Argument(help: "The channel, e.g. ~team.") var channel: String

        func run() async throws {
            let reply = try await TopicCommand.ask(broker, ["NYMBUS.TOPIC", "INVITE", channel])
            guard let invite = reply.text else { throw TopicCommandError("unexpected reply from the node: \(render(reply))") }
            print(invite)
        }
    }

    /// `nymbus topic leave CHANNEL`
    struct Leave: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget a private topic on this node.",
            discussion: """
                NYMBUS.TOPIC LEAVE: the node deletes the invite from topics.json and stops \
                delivering the topic. It cannot make other members forget it: whoever has the \
                invite can still read and post.
                """)

        @OptionGroup var broker: BrokerOptions
        @Argument(help: "The channel, e.g. ~team.") var channel: String

        func run() async throws {
            let reply = try await TopicCommand.ask(broker, ["NYMBUS.TOPIC", "LEAVE", channel])
            guard case .integer(let left) = reply else {
                throw TopicCommandError("unexpected reply from the node: \(render(reply))")
            }
            if left == 1 {
                print("left \(channel)")
            } else {
                throw TopicCommandError("\(channel) is not a joined private topic on this node")
            }
        }
    }

    /// Sends one command to the node and returns its reply; a `-ERR` reply becomes an error.
    static func ask(_ broker: BrokerOptions, _ arguments: [String]) async throws -> RESPValue {
        let connection: BrokerConnection
        do { connection = try await broker.connect() } catch { throw TopicCommandError("\(error)") }
        let reply: RESPValue
        do { reply = try await connection.command(arguments.map { Array($0.utf8) }) } catch {
            await connection.close()
            throw TopicCommandError("the broker at \(broker.resolvedSocket) closed the connection: \(error)")
        }
        await connection.close()
        if case .error(let text) = reply { throw TopicCommandError("the node refused: \(text)") }
        return reply
    }
}

/// Writes a hint for people to standard error, keeping standard output for the results.
private func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// A failure of a `nymbus topic` command: printed as `Error: …` with exit status 1, without the
/// usage text (the command line itself was fine).
struct TopicCommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A bad invite: printed as `Error: not a valid invite: …` with exit status 1 (no usage text,
/// the command line itself was fine).
struct InvalidInvite: Error, CustomStringConvertible {
    let reason: String
    var description: String { "not a valid invite: \(reason)" }
}
