import NymbusCrypto
import NymbusTestSupport
import Testing

@testable import NymbusMixnet

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

@Suite struct MixnetStateAndConfigurationTests {
    typealias S = MixnetTestSupport

    @Test func stateDirectoryKeepsAddressesAcrossRestarts() async throws {
        let directory = temporaryPath("mixnet")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try await S.startMixnet(clients: 2, stateDirectory: directory)
        let added = try await first.addEndpoint()
        let addresses = await first.endpoints.map(\.address)
        #expect(addresses.count == 3)
        await first.stop()

        let second = try await S.startMixnet(clients: 2, stateDirectory: directory)
        #expect(await second.endpoints.map(\.address) == addresses)
        #expect(await second.endpoints[2].address == added.address)
        let socket = try await S.connect(second, 1)
        try await socket.send(binary: [0x03])
        #expect(await socket.nextBinary() == [0x02] + addresses[1].bytes)
        await socket.close()
        await second.stop()

        // More clients than stored: the stored ones keep their places, new ones are appended.
        var configuration = MixnetConfiguration()
        configuration.clientCount = 4
        configuration.stateDirectory = directory
        let third = try LocalMixnet(configuration: configuration)
        let thirdAddresses = await third.endpoints.map(\.address)
        #expect(Array(thirdAddresses.prefix(3)) == addresses)
        #expect(thirdAddresses.count == 4)
        #expect(try MixnetStateFile(directory: directory).load() == thirdAddresses)
    }

    @Test func corruptStateIsAnErrorAndIsNotReplaced() throws {
        let directory = temporaryPath("mixnet")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/" + MixnetStateFile.fileName
        var configuration = MixnetConfiguration()
        configuration.stateDirectory = directory
        for garbage in [
            "{not json", #"{"version":1,"endpoints":["abc"]}"#, #"{"version":2,"endpoints":[]}"#,
            #"{"version":1,"endpoints":["\#(Recipient.random())","\#(Recipient.random())"],"#,
        ] {
            try Data(garbage.utf8).write(to: URL(fileURLWithPath: path))
            #expect(throws: MixnetError(.corruptState, "")) { try LocalMixnet(configuration: configuration) }
            #expect(try String(decoding: Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self) == garbage)
        }
        let duplicate = Recipient.random()
        try Data(#"{"version":1,"endpoints":["\#(duplicate)","\#(duplicate)"]}"#.utf8).write(
            to: URL(fileURLWithPath: path))
        #expect(throws: MixnetError(.corruptState, "")) { try LocalMixnet(configuration: configuration) }
    }

    @Test func stateFileIsWrittenAsJSONWithAddressStrings() throws {
        let directory = temporaryPath("mixnet")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let addresses = [Recipient.random(), Recipient.random()]
        try MixnetStateFile(directory: directory).save(addresses)
        let text = try String(
            decoding: Data(contentsOf: URL(fileURLWithPath: directory + "/mixnet-state.json")), as: UTF8.self)
        #expect(text.contains(addresses[0].description))
        #expect(try MixnetStateFile(directory: directory).load() == addresses)
        // No temporary files left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["mixnet-state.json"])
    }

    @Test(arguments: [
        "0.0.0.0", "192.168.1.10", "10.0.0.1", "example.com", "::", "128.0.0.1", "127.0.0", "127.0.0.256",
    ])
    func nonLoopbackHostsAreRefused(host: String) {
        var configuration = MixnetConfiguration()
        configuration.host = host
        #expect(throws: MixnetError(.nonLoopbackHost, "")) { try LocalMixnet(configuration: configuration) }
    }

    @Test(arguments: ["127.0.0.1", "127.1.2.3", "localhost", "::1"])
    func loopbackHostsAreAccepted(host: String) {
        #expect(MixnetConfiguration.isLoopback(host))
    }

    @Test func invalidSettingsAreRefused() {
        var configuration = MixnetConfiguration()
        configuration.lossProbability = 1.5
        #expect(throws: MixnetError(.invalidConfiguration, "")) { try LocalMixnet(configuration: configuration) }
        configuration = MixnetConfiguration()
        configuration.hopDelay = .milliseconds(-1)
        #expect(throws: MixnetError(.invalidConfiguration, "")) { try LocalMixnet(configuration: configuration) }
        configuration = MixnetConfiguration()
        configuration.firstPort = 65535
        configuration.clientCount = 2
        #expect(throws: MixnetError(.invalidConfiguration, "")) { try LocalMixnet(configuration: configuration) }
    }

    /// Each field out of its range is named, with the range (``FieldCheck``).
    @Test func eachBadFieldIsNamedWithItsRange() {
        #expect(throws: Never.self) { try MixnetConfiguration().validate() }
        let cases: [(reason: String, change: (inout MixnetConfiguration) -> Void)] = [
            ("MixnetConfiguration.firstPort is 70000; allowed: 0...65535", { $0.firstPort = 70000 }),
            (
                "MixnetConfiguration.clientCount is 2; allowed: 0...1",
                {
                    $0.firstPort = 65535
                    $0.clientCount = 2
                }
            ),
            ("MixnetConfiguration.hopDelay is -1 ms; allowed: 0 s or more", { $0.hopDelay = .milliseconds(-1) }),
            ("MixnetConfiguration.lossProbability is 1.5; allowed: 0.0...1.0", { $0.lossProbability = 1.5 }),
            ("MixnetConfiguration.inboxMaxAge is -1 s; allowed: 0 s or more", { $0.inboxMaxAge = .seconds(-1) }),
            ("MixnetSurbPolicy.maximumRequest is 5; allowed: 10 or more", { $0.surbs.maximumRequest = 5 }),
            ("MixnetSurbPolicy.inspectionInterval is 0 s; allowed: more than 0 s", { $0.surbs.inspectionInterval = .zero }),
        ]
        expectEachRejected(cases, from: MixnetConfiguration(), code: MixnetError.Code.invalidConfiguration) { try $0.validate() }
    }

    @Test func aPortInUseIsABindError() async throws {
        let first = try await S.startMixnet(clients: 1)
        var configuration = MixnetConfiguration()
        configuration.clientCount = 1
        configuration.firstPort = await first.endpoints[0].port
        let second = try LocalMixnet(configuration: configuration)
        await #expect(throws: MixnetError(.bindFailed, "")) { try await second.start() }
        await first.stop()
    }

    @Test func endpointURLs() {
        let address = Recipient.random()
        #expect(MixnetEndpoint(index: 0, address: address, host: "127.0.0.1", port: 1977).url == "ws://127.0.0.1:1977/")
        #expect(MixnetEndpoint(index: 0, address: address, host: "::1", port: 1978).url == "ws://[::1]:1978/")
    }
}
