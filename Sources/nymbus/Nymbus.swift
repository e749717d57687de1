import ArgumentParser
import Foundation
import NymbusBroker

@main
struct Nymbus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nymbus",
        abstract: "An anonymous publish/subscribe bus over the Nym mixnet.",
        version: NymbusVersion.current,
        subcommands: [
            RunCommand.self, DevnetCommand.self, PublishCommand.self, SubscribeCommand.self, StatusCommand.self,
            TopicCommand.self, AddressCommand.self, MixnetCommand.self, BrokerCommand.self,
        ])

    /// Parses the command line as usual, after adding `nymbus run`'s settings from
    /// `<data-dir>/nymbus.conf` and `NYMBUS_*` variables (``RunConfiguration``).
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var applied: RunConfiguration.Applied?
        if arguments.first == "run", !arguments.contains("--help"), !arguments.contains("-h") {
            do {
                let settings = try RunConfiguration.apply(to: Array(arguments.dropFirst()))
                arguments = ["run"] + settings.arguments
                applied = settings
            } catch {
                exit(withError: error)
            }
        }
        do {
            var command = try parseAsRoot(arguments)
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            // A bad value from nymbus.conf or NYMBUS_*: the message names the file and line too.
            if let applied, exitCode(for: error) == .validationFailure {
                let message = applied.locating(fullMessage(for: error))
                FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
                Foundation.exit(exitCode(for: error).rawValue)
            }
            exit(withError: error)
        }
    }
}
