import ArgumentParser
import Foundation
import NymbusBroker
import NymbusCrypto
import NymbusNode

/// `nymbus address`: this node's Nym address, to hand to a friend as their bootstrap peer, and
/// bootstrap files to pass addresses around (`export`, `import`).
struct AddressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "address",
        abstract: "Print this node's Nym address, or export and import bootstrap files.",
        discussion: """
            A friend who runs `nymbus run --bootstrap <your address>` links to your node. Only a \
            visible node has an address to share: a hidden node (--anonymous) gives out none, so \
            there is nothing to print (exit status 1).

              nymbus address                      # the address, one line
              nymbus address --json               # {"mode":"visible","address":"…"}
              nymbus address export friends.txt   # a bootstrap file: your address (and --peers)
              nymbus address import friends.txt   # add a friend's file to <data-dir>/bootstrap
            """,
        subcommands: [Show.self, Export.self, Import.self],
        defaultSubcommand: Show.self)

    /// `nymbus address [--json]`
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print this node's Nym address (the default).",
            discussion: "Asks the running node (NYMBUS.STATUS). Hidden: says so on standard error and exits 1; with --json prints mode hidden and a null address.")

        @OptionGroup var broker: BrokerOptions
        @Flag(name: .long, help: "Print {\"mode\": …, \"address\": …} as JSON.") var json = false

        func run() async throws {
            let status = try await AddressCommand.status(broker)
            let address = AddressCommand.visibleAddress(status)
            if json {
                let value = address.map { "\"\($0)\"" } ?? "null"
                print("{\"mode\":\"\(address == nil ? "hidden" : "visible")\",\"address\":\(value)}")
                return
            }
            guard let address else { throw AddressCommand.hiddenError }
            print(address)
        }
    }

    /// `nymbus address export [FILE] [--peers]`
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a bootstrap file: this node's address and, with --peers, its linked visible peers'.",
            discussion: """
                The file has one Nym address per line and # comments, the format of --bootstrap-file \
                and <data-dir>/bootstrap. Without FILE (or with -) it goes to standard output. The \
                file is written atomically with mode 0600.
                """)

        @OptionGroup var broker: BrokerOptions
        @Flag(name: .long, help: "Also list the visible peers this node is linked to.") var peers = false
        @Argument(help: "Where to write it (default: standard output).") var file: String?

        func run() async throws {
            let status = try await AddressCommand.status(broker)
            var addresses: [String] = []
            if let own = AddressCommand.visibleAddress(status) { addresses.append(own) }
            if peers {
                let connection = try await broker.connect()
                _ = try expectNoError(try await connection.command("HELLO", "3"))  // peers as maps
                let list = try expectNoError(try await connection.command("NYMBUS.PEERS")).elements ?? []
                await connection.close()
                for peer in list {
                    guard case .map(let entries) = peer,
                        entries.first(where: { $0.key.text == "mode" })?.value.text == "visible",
                        let address = entries.first(where: { $0.key.text == "address" })?.value.text,
                        (try? Recipient(string: address)) != nil, !addresses.contains(address)
                    else { continue }
                    addresses.append(address)
                }
            }
            guard !addresses.isEmpty else {
                throw peers
                    ? ClientCommandError("this node is hidden and has no visible peer linked: there is nothing to share")
                    : AddressCommand.hiddenError
            }
            let text = "# Nymbus bootstrap peers (nymbus address export); use with --bootstrap-file or nymbus address import\n"
                + addresses.joined(separator: "\n") + "\n"
            guard let file, file != "-" else {
                print(text, terminator: "")
                return
            }
            try AddressCommand.writeAtomically(text, to: file)
            FileHandle.standardError.write(Data("wrote \(addresses.count) address(es) to \(file)\n".utf8))
        }
    }

    /// `nymbus address import FILE [--data-dir DIR]`
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add the addresses of a bootstrap file to <data-dir>/bootstrap.",
            discussion: """
                Checks every line first (a bad line is an error naming it, and nothing is written), \
                then merges the new addresses into <data-dir>/bootstrap, written atomically. Needs no \
                running node: `nymbus run` reads the file when it starts.
                """)

        @Option(name: .customLong("data-dir"), help: "The node's data directory (default: $NYMBUS_HOME or ~/.nymbus).")
        var dataDirectory: String?
        @Argument(help: "The bootstrap file to import (- for standard input).") var file: String

        func run() throws {
            let incoming: [Recipient]
            do throws(NodeError) {
                if file == "-" {
                    let text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                    incoming = try BootstrapList.parse(text, source: "standard input")
                } else {
                    incoming = try BootstrapList.load(path: file)
                }
            } catch { throw ClientCommandError(error.reason) }
            let directory = dataDirectory ?? RunNodeOptions.defaultDataDirectory
            let target = directory + "/bootstrap"
            var existingText = ""
            var existing: [Recipient] = []
            if FileManager.default.fileExists(atPath: target) {
                do throws(NodeError) { existing = try BootstrapList.load(path: target) } catch {
                    throw ClientCommandError("\(error.reason); fix it before importing more")
                }
                existingText = (try? String(contentsOfFile: target, encoding: .utf8)) ?? ""
            }
            let known = Set(existing)
            var added: [Recipient] = []
            for address in incoming where !known.contains(address) && !added.contains(address) { added.append(address) }
            if !added.isEmpty {
                if !existingText.isEmpty, !existingText.hasSuffix("\n") { existingText += "\n" }
                let text = existingText + added.map { $0.description }.joined(separator: "\n") + "\n"
                try AddressCommand.writeAtomically(text, to: target)
            }
            print("added \(added.count) address(es) to \(target) (\(incoming.count - added.count) already there); a running node reads it at its next start")
        }
    }

    static var hiddenError: ClientCommandError {
        ClientCommandError(
            "this node is hidden (--anonymous): it gives out no address, so there is nothing to share; "
                + "others cannot dial it, it dials them")
    }

    static func status(_ broker: BrokerOptions) async throws -> RESPValue {
        let connection = try await broker.connect()
        _ = try expectNoError(try await connection.command("HELLO", "3"))
        let status = try expectNoError(try await connection.command("NYMBUS.STATUS"))
        await connection.close()
        return status
    }

    /// The node's address when it is visible.
    static func visibleAddress(_ status: RESPValue) -> String? {
        guard statusText(status, "mode") == "visible", let address = statusText(status, "address") else { return nil }
        return address
    }

    static func writeAtomically(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try AtomicFile.write(Data(text.utf8), to: url.path, in: url.deletingLastPathComponent().path)
        } catch { throw ClientCommandError("\(error)") }
    }
}
