import ArgumentParser
import NymbusCrypto
import NymbusPubSub

/// `nymbus topic`: make and check topic invites.
///
/// `new` prints an invite for a fresh private topic (or a public topic's); `join` checks an
/// invite and prints what it names, never the secret. Invites hold the topic secret: share
/// them only with the people who should read and post.
struct TopicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topic",
        abstract: "Create and check topic invites.",
        subcommands: [New.self, Join.self])

    /// `nymbus topic new [--name LABEL] [--public NAME]`
    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an invite for a new private topic.",
            discussion: """
                The invite holds the topic's secret: whoever has it can read and post. Send it \
                only over a channel you trust. With --public, prints the invite of the public \
                topic NAME instead (anyone who knows NAME can read and post to it).
                """)

        @Option(name: .long, help: "A label carried in the invite (at most 255 UTF-8 bytes).")
        var name: String?

        @Option(name: .customLong("public"), help: "Print the invite of the public topic with this name.")
        var publicName: String?

        func validate() throws {
            if let name, name.utf8.count > Topic.maxInviteNameLength {
                throw ValidationError("--name is \(name.utf8.count) bytes; an invite label holds at most 255")
            }
            if name != nil, publicName != nil {
                throw ValidationError("--name and --public exclude each other (a public topic's name is its label)")
            }
            if let publicName, publicName.utf8.count > Topic.maxInviteNameLength {
                throw ValidationError("--public name is longer than the 255 bytes an invite carries")
            }
        }

        func run() async throws {
            let topic = publicName.map(Topic.named) ?? Topic.random(name: name)
            print(topic.invite)
        }
    }

    /// `nymbus topic join INVITE`
    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an invite and show the topic it names.",
            discussion: "Prints the topic id relays see, its label and whether it is public; never the secret.")

        @Argument(help: "The invite string (nymbus:topic:…).")
        var invite: String

        func run() async throws {
            let topic: Topic
            do {
                topic = try Topic(invite: invite)
            } catch {
                throw InvalidInvite(reason: error.reason)
            }
            print("valid invite")
            print("topic id: \(topic.id)")
            print("kind: \(topic.isPublic ? "public (anyone who knows the name can read and post)" : "private")")
            if let label = topic.name {
                print("name: \(label)")
            } else if topic.nameBytes != nil {
                print("name: <not UTF-8>")
            }
        }
    }
}

/// A bad invite: printed as `Error: not a valid invite: …` with exit status 1 (no usage text,
/// the command line itself was fine).
struct InvalidInvite: Error, CustomStringConvertible {
    let reason: String
    var description: String { "not a valid invite: \(reason)" }
}
