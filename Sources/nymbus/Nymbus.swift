import ArgumentParser

@main
struct Nymbus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nymbus",
        abstract: "An anonymous publish/subscribe bus over the Nym mixnet.",
        subcommands: [
            RunCommand.self, DevnetCommand.self, PublishCommand.self, SubscribeCommand.self, StatusCommand.self,
            TopicCommand.self, MixnetCommand.self, BrokerCommand.self,
        ])
}
