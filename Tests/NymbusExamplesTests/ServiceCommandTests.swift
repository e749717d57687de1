import Foundation
import NymbusBroker
import NymbusDaemon
import NymbusMixnet
import NymbusTestSupport
import Testing

/// The service side of the command line, run as a user would: `--version`, `make install`,
/// the systemd unit, `status --check`, `address`, connection errors, log options.
@Suite(.serialized) struct ServiceCommandTests {
    @Test func versionAndInstallPutEverythingInPlace() async throws {
        let nymbus = try ExamplePaths.builtProduct("nymbus")
        let version = try await ChildProcess.run(nymbus, ["--version"])
        #expect(version.status == 0)
        #expect(version.stdout == NymbusVersion.current + "\n")

        let make = try requireTool("make")
        let prefix = temporaryDirectory("inst") + "/usr"
        // The man page comes from ArgumentParser's generate-manual (`make manual`, run by
        // `make install`); this test checks the copying, with a stand-in page.
        let manpage = prefix + ".1"
        try Data(".Dt NYMBUS 1\n".utf8).write(to: URL(fileURLWithPath: manpage))
        let installed = try await ChildProcess.run(
            make,
            ["-s", "-C", ExamplePaths.repository.path, "install-files", "PREFIX=\(prefix)", "NYMBUS_BIN=\(nymbus)", "MANPAGE=\(manpage)"],
            timeout: .seconds(60))
        #expect(installed.status == 0, "\(installed.stdout)\(installed.stderr)")
        #expect(installed.stdout == "installed \(prefix)/bin/nymbus (\(NymbusVersion.current)), its man page and completions\n")
        let again = try await ChildProcess.run(prefix + "/bin/nymbus", ["--version"])
        #expect(again.stdout == NymbusVersion.current + "\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: prefix + "/bin/nymbus")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o755)
        #expect(try String(contentsOfFile: prefix + "/share/man/man1/nymbus.1", encoding: .utf8) == ".Dt NYMBUS 1\n")
        let bash = try String(contentsOfFile: prefix + "/share/bash-completion/completions/nymbus", encoding: .utf8)
        #expect(bash.contains("complete -o filenames -F _nymbus nymbus"), "\(bash.suffix(300))")
        #expect(bash.contains("address"))  // every subcommand is completed
        let zsh = try String(contentsOfFile: prefix + "/share/zsh/site-functions/_nymbus", encoding: .utf8)
        #expect(zsh.hasPrefix("#compdef nymbus"))
        let fish = try String(contentsOfFile: prefix + "/share/fish/vendor_completions.d/nymbus.fish", encoding: .utf8)
        #expect(fish.contains("complete -c 'nymbus'") || fish.contains("complete -c nymbus"), "\(fish.prefix(300))")
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: prefix).deletingLastPathComponent().path)
    }

    /// No node on the socket: an error saying so, exit status 1, no usage text (the command
    /// line was fine); `status --check` says UNREACHABLE with exit status 2.
    @Test func anUnreachableNodeIsNotAUsageError() async throws {
        let nymbus = try ExamplePaths.builtProduct("nymbus")
        let socket = temporaryDirectory("none") + "/nymbus.sock"
        for arguments in [["publish", "news", "hi"], ["status"], ["subscribe", "news"], ["address"], ["topic", "list"]] {
            let result = try await ChildProcess.run(nymbus, arguments + ["--socket", socket])
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("Error: cannot connect to the Nymbus broker at \(socket)"), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.lowercased().contains("usage"), "\(arguments): \(result.stderr)")
            #expect(result.stdout == "")
        }
        let check = try await ChildProcess.run(nymbus, ["status", "--check", "--socket", socket])
        #expect(check.status == 2)
        #expect(check.stdout.hasPrefix("UNREACHABLE: cannot connect to the Nymbus broker at \(socket)"), "\(check.stdout)")
        #expect(check.stdout.split(separator: "\n").count == 1)
    }

    /// `status --check` and `address` against a devnet: healthy node 0, a hidden node that has
    /// nothing to share, exported and imported bootstrap files.
    @Test func healthAndAddressesOnADevnet() async throws {
        let nymbus = try ExamplePaths.builtProduct("nymbus")
        try await TestDevnet.with("addr") { net in
            let info = await net.devnet.nodes
            let check = try await ChildProcess.run(nymbus, ["status", "--check", "--socket", net.sockets[0]])
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            #expect(check.stdout.hasPrefix("OK: ") && check.stdout.hasSuffix(" peer(s), nym-client connected, no losses\n"), "\(check.stdout)")

            let shown = try await ChildProcess.run(nymbus, ["address", "--socket", net.sockets[0]])
            #expect(shown.status == 0)
            #expect(shown.stdout == info[0].address + "\n")
            let json = try await ChildProcess.run(nymbus, ["address", "--json", "--socket", net.sockets[0]])
            #expect(json.stdout == "{\"mode\":\"visible\",\"address\":\"\(info[0].address)\"}\n")

            let hidden = try await ChildProcess.run(nymbus, ["address", "--socket", net.sockets[2]])
            #expect(hidden.status == 1)
            #expect(hidden.stdout == "")
            #expect(hidden.stderr.hasPrefix("Error: this node is hidden (--anonymous): it gives out no address, so there is nothing to share"))
            let hiddenJSON = try await ChildProcess.run(nymbus, ["address", "--json", "--socket", net.sockets[2]])
            #expect(hiddenJSON.stdout == "{\"mode\":\"hidden\",\"address\":null}\n")
            let hiddenExport = try await ChildProcess.run(nymbus, ["address", "export", "--socket", net.sockets[2]])
            #expect(hiddenExport.status == 1)

            // Export node 1's address and its visible peers, import them into a new data directory.
            let directory = temporaryDirectory("boot")
            let file = directory + "/friends.txt"
            let exported = try await ChildProcess.run(nymbus, ["address", "export", file, "--peers", "--socket", net.sockets[1]])
            #expect(exported.status == 0, "\(exported.stderr)")
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let lines = text.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("# Nymbus bootstrap peers") == true)
            #expect(lines.dropFirst().first == info[1].address)
            #expect(lines.contains(info[0].address))  // node 1 dialed node 0, its bootstrap peer
            #expect(!lines.contains(info[2].address))  // node 2 is hidden: its address is never shown
            #expect(exported.stderr == "wrote \(lines.count - 1) address(es) to \(file)\n")

            let data = directory + "/data"
            let imported = try await ChildProcess.run(nymbus, ["address", "import", file, "--data-dir", data])
            #expect(imported.status == 0, "\(imported.stderr)")
            #expect(imported.stdout.hasPrefix("added \(lines.count - 1) address(es) to \(data)/bootstrap (0 already there)"))
            let twice = try await ChildProcess.run(nymbus, ["address", "import", file, "--data-dir", data])
            #expect(twice.stdout.hasPrefix("added 0 address(es) to \(data)/bootstrap (\(lines.count - 1) already there)"))
            let stored = try String(contentsOfFile: data + "/bootstrap", encoding: .utf8)
            #expect(stored == lines.dropFirst().joined(separator: "\n") + "\n")

            try Data("\(info[0].address)\nnot-an-address\n".utf8).write(to: URL(fileURLWithPath: directory + "/bad.txt"))
            let bad = try await ChildProcess.run(nymbus, ["address", "import", directory + "/bad.txt", "--data-dir", data])
            #expect(bad.status == 1)
            #expect(bad.stderr.hasPrefix("Error: \(directory)/bad.txt line 2 is not a Nym address"), "\(bad.stderr)")
            #expect(try String(contentsOfFile: data + "/bootstrap", encoding: .utf8) == stored)  // untouched
            try? FileManager.default.removeItem(atPath: directory)
        }
        try await TestDevnet.with("alone", nodes: 1, hidden: 0) { net in
            let check = try await ChildProcess.run(nymbus, ["status", "--check", "--socket", net.sockets[0]])
            #expect(check.status == 1)
            #expect(check.stdout == "UNHEALTHY: no peer: the node has no link to any other node (address book: 0)\n")
        }
    }

    /// The systemd unit in Examples/: its hardening keys are there, `systemd-analyze verify`
    /// (where installed) has nothing to say, and the binary runs with the unit's arguments —
    /// metrics scraped, health checked, SIGTERM answered with a clean stop and exit status 0.
    @Test func theSystemdUnitVerifiesAndItsCommandRuns() async throws {
        let nymbus = try ExamplePaths.builtProduct("nymbus")
        let unitPath = ExamplePaths.examples.appendingPathComponent("systemd/nymbus.service").path
        let unit = try String(contentsOfFile: unitPath, encoding: .utf8)
        var sections: [String: [String: [String]]] = [:]
        var section = ""
        for raw in unit.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                section = String(line.dropFirst().dropLast())
                continue
            }
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            try #require(parts.count == 2, "not a key=value line: \(line)")
            sections[section, default: [:]][parts[0], default: []].append(parts[1])
        }
        let service = try #require(sections["Service"])
        for (key, value) in [
            ("DynamicUser", "yes"), ("User", "nymbus"), ("StateDirectory", "nymbus"), ("ProtectSystem", "strict"),
            ("NoNewPrivileges", "yes"), ("Restart", "on-failure"), ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
            ("KillSignal", "SIGTERM"), ("CapabilityBoundingSet", ""),
        ] {
            #expect(service[key] == [value], "\(key)")
        }
        #expect(sections["Install"]?["WantedBy"] == ["multi-user.target"])
        let execStart = try #require(service["ExecStart"]?.first).split(separator: " ").map(String.init)
        #expect(execStart.first == "/usr/local/bin/nymbus")

        if let analyze = try? requireTool("systemd-analyze") {
            let copy = temporaryDirectory("unit") + "/nymbus.service"
            try Data(unit.replacingOccurrences(of: "/usr/local/bin/nymbus", with: nymbus).utf8)
                .write(to: URL(fileURLWithPath: copy))
            let verified = try await ChildProcess.run(analyze, ["verify", "--man=no", copy], timeout: .seconds(60))
            #expect(verified.status == 0)
            #expect(verified.stderr == "", "\(verified.stderr)")
        }

        // The unit's command, with this machine's paths: a local nym-client, a fresh state
        // directory, a free metrics port.
        var mixnetConfiguration = MixnetConfiguration()
        mixnetConfiguration.clientCount = 1
        let mixnet = try LocalMixnet(configuration: mixnetConfiguration)
        try await mixnet.start()
        let endpoint = try #require(await mixnet.endpoints.first)
        let state = temporaryDirectory("state")
        let arguments = execStart.dropFirst().map { argument in
            switch argument {
            case "/var/lib/nymbus": state
            case "ws://127.0.0.1:1977": endpoint.url
            case "127.0.0.1:9464": "127.0.0.1:0"
            default: argument
            }
        }
        #expect(arguments.contains("--metrics") && arguments.contains("json"))
        let node = try ChildProcess(nymbus, arguments)
        let socket = state + "/nymbus.sock"
        #expect(await node.waitForLine("broker: redis-cli -s \(socket)", timeout: .seconds(60)), "\(node.stdout)\(node.stderr)")
        let metricsLine = try #require(node.lines.first { $0.hasPrefix("metrics: http://127.0.0.1:") })
        let url = String(metricsLine.dropFirst("metrics: ".count))
        let python = try requireTool("python3")
        let scrape = try await ChildProcess.run(
            python, ["-c", "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())", url])
        #expect(scrape.status == 0, "\(scrape.stderr)")
        #expect(scrape.stdout.contains("\nnymbus_nym_client_connected 1.0\n"), "\(scrape.stdout)")
        #expect(scrape.stdout.contains("# TYPE nymbus_objects_received_total counter\n"))
        let check = try await ChildProcess.run(nymbus, ["status", "--check", "--socket", socket])
        #expect(check.stdout == "UNHEALTHY: no peer: the node has no link to any other node (address book: 0)\n")

        node.terminate()  // SIGTERM, as systemd stops a service
        #expect(await node.waitForExit(timeout: .seconds(30)) == 0, "\(node.stderr)")
        #expect(node.stdout.hasSuffix("stopping\nstopped\n"), "\(node.stdout)")
        #expect(!FileManager.default.fileExists(atPath: socket))  // the broker cleaned up
        // --log-format json: every log line is one JSON object.
        let logLines = node.stderr.split(separator: "\n")
        #expect(!logLines.isEmpty)
        for line in logLines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["level"] is String && object?["message"] is String, "\(line)")
        }
        #expect(logLines.contains { $0.contains("\"message\":\"nymbus node started\"") })
        await mixnet.stop()
        try? FileManager.default.removeItem(atPath: state)
    }

    /// `--log-level info` on devnet means info (its default is warning, to keep the demo readable).
    @Test func devnetLogLevelMeansWhatItSays() async throws {
        let nymbus = try ExamplePaths.builtProduct("nymbus")
        let directory = temporaryDirectory("lvl")
        for (level, expectInfo) in [(["--log-level", "info"], true), ([], false)] {
            let devnet = try ChildProcess(
                nymbus, ["devnet", "--nodes", "2", "--hop-delay-ms", "1", "--dir", directory, "--log-format", "json"] + level)
            #expect(await devnet.waitForLine("every node has at least one peer", timeout: .seconds(60)), "\(devnet.stdout)\(devnet.stderr)")
            devnet.terminate()
            #expect(await devnet.waitForExit(timeout: .seconds(30)) == 0)
            #expect(devnet.stderr.contains("\"level\":\"info\"") == expectInfo, "\(level): \(devnet.stderr.prefix(500))")
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `<data-dir>/nymbus.conf` and `NYMBUS_*` set `nymbus run` options; the command line wins
    /// over the environment, which wins over the file; an unknown key is an error naming it.
    @Test func configurationFileAndEnvironmentUnderFlags() async throws {
        let nymbus = try ExamplePaths.builtProduct("nymbus")
        let directory = temporaryDirectory("conf")
        let file = directory + "/nymbus.conf"
        try Data("# settings\nping-interval = from-file\nbootstrap-file = /nonexistent\n".utf8)
            .write(to: URL(fileURLWithPath: file))
        func run(_ arguments: [String], _ environment: [String: String] = [:]) async throws -> (Int32?, String) {
            let python = try requireTool("env")
            let result = try await ChildProcess.run(
                python, environment.map { "\($0.key)=\($0.value)" } + [nymbus, "run", "--data-dir", directory] + arguments)
            return (result.status, result.stderr)
        }
        let fromFile = try await run([])
        #expect(fromFile.0 == 64)
        #expect(fromFile.1.hasPrefix("Error: --ping-interval: from-file is not a duration"), "\(fromFile.1)")
        let fromEnvironment = try await run([], ["NYMBUS_PING_INTERVAL": "from-env"])
        #expect(fromEnvironment.1.hasPrefix("Error: --ping-interval: from-env is not a duration"), "\(fromEnvironment.1)")
        let fromFlag = try await run(["--ping-interval", "from-flag"], ["NYMBUS_PING_INTERVAL": "from-env"])
        #expect(fromFlag.1.hasPrefix("Error: --ping-interval: from-flag is not a duration"), "\(fromFlag.1)")

        try Data("ping-interval = 2m\nnym-clinet = ws://127.0.0.1:1977\n".utf8).write(to: URL(fileURLWithPath: file))
        let typo = try await run([])
        #expect(typo.0 == 1)
        #expect(typo.1.hasPrefix("Error: \(file) line 2: unknown key 'nym-clinet'; known keys: anonymous, bootstrap,"), "\(typo.1)")
        try Data("anonymous = perhaps\n".utf8).write(to: URL(fileURLWithPath: file))
        let notBoolean = try await run([])
        #expect(notBoolean.1 == "Error: anonymous must be true or false, not 'perhaps'\n")
        let missing = try await run(["--config", directory + "/absent.conf"])
        #expect(missing.1 == "Error: the configuration file \(directory)/absent.conf does not exist\n")

        // A value out of range is checked by the node's own configuration check, said in flags,
        // with the place that set it.
        try Data("# links\ninbound = 5000\n".utf8).write(to: URL(fileURLWithPath: file))
        let outOfRange = try await run([])
        #expect(outOfRange.0 == 64)
        #expect(
            outOfRange.1.hasPrefix("Error: --inbound is 5000; allowed: 0...1024 (inbound is set in \(file) line 2)\n"),
            "\(outOfRange.1)")
        let outOfRangeFromEnvironment = try await run([], ["NYMBUS_OUTBOUND": "-2"])
        #expect(
            outOfRangeFromEnvironment.1.hasPrefix("Error: --outbound is -2; allowed: 0...1024 (outbound is set in NYMBUS_OUTBOUND)\n"),
            "\(outOfRangeFromEnvironment.1)")
        let outOfRangeFlag = try await run(["--inbound", "2000"])
        #expect(outOfRangeFlag.0 == 64)
        #expect(outOfRangeFlag.1.hasPrefix("Error: --inbound is 2000; allowed: 0...1024\n"), "\(outOfRangeFlag.1)")

        // Every `nymbus run` option can be set in the file, and nothing else.
        let help = try await ChildProcess.run(nymbus, ["run", "--help"])
        // The OPTIONS lines: `  --name <value>   help`, `  --flag/--no-flag`, `  -h, --help`.
        let options = Set(
            help.stdout.split(separator: "\n").compactMap { line -> String? in
                let words = line.split(separator: " ")
                guard line.hasPrefix("  -"), let word = words.first(where: { $0.hasPrefix("--") }) else { return nil }
                return String(word.dropFirst(2).prefix { $0 != "/" && $0 != " " })
            })
        #expect(options.subtracting(["help", "version", "config", "no-anonymous"]) == Set(RunConfigurationKeys.all), "\(options)")
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// The keys `RunConfiguration` accepts (the executable's types are not importable here).
enum RunConfigurationKeys {
    static let all = [
        "nym-client", "data-dir", "bootstrap", "bootstrap-file", "anonymous", "outbound", "inbound", "ping-interval",
        "peer-timeout", "silence-probe", "log-level", "log-format", "log-file", "socket", "max-payload", "dissemination", "metrics", "metrics-public",
        "warn-no-peer-after", "stop-timeout",
    ]
}
