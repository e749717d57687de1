import ArgumentParser
import NymbusBroker

@main
struct Nymbus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nymbus",
        abstract: "An anonymous publish/subscribe bus over the Nym mixnet.",
        version: NymbusVersion.current,
        subcommands: [
            RunCommand.self, DevnetCommand.self, PublishCommand.self, SubscribeCommand.self, StatusCommand.self,
            TopicCommand.self, AddressCommand.self, MixnetCommand.self,
        ])
}
