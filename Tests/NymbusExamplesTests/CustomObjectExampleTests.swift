import Foundation
import NIOConcurrencyHelpers
import NymbusBroker
import NymbusCrypto
import NymbusPubSub
import NymbusTestSupport
import NymbusWire
import Testing

@testable import custom_object_example

/// The Swift example (`Examples/custom-object`): the `SensorReading` codec and its limits, the
/// command line, and the program run in-process against a devnet.
@Suite struct SensorReadingTests {
    static let sample = SensorReading(
        sensorID: "garage", takenAtMilliseconds: 1_700_000_000_000, milliCelsius: -3250, humidityPermille: 710,
        recentMilliCelsius: [1000, -2500])

    /// The exact version-1 bytes, and back.
    static let sampleHex =
        "01" + "06" + "676172616765" + "0000018bcfe56800" + "fffff34e" + "02c6" + "02" + "000003e8" + "fffff63c"

    @Test func encodesToExactBytesAndBack() throws {
        #expect(hex(Self.sample.serializedBytes()) == Self.sampleHex)
        #expect(try SensorReading(serializedBytes: Self.sample.serializedBytes()) == Self.sample)
        #expect(Self.sample.summary == "garage at 1700000000000 ms: -3.250 °C, 71.0 % humidity, recent [1.000 -2.500]")
        #expect(SensorReading.wireTypeID >= 0x1000)  // below is reserved for Nymbus
    }

    /// Every strict prefix of a valid encoding is refused as truncated; nothing traps.
    @Test func everyTruncationIsAnError() {
        let bytes = Self.sample.serializedBytes()
        for end in 0..<bytes.count {
            #expect(throws: WireError(.truncated, "")) { try SensorReading(serializedBytes: Array(bytes[..<end])) }
        }
        #expect(throws: WireError(.trailingBytes, "")) { try SensorReading(serializedBytes: bytes + [0]) }
    }

    /// Each limit, checked by the decoder on untrusted bytes, with the error kind it gives.
    @Test(arguments: [
        ("02" + "06676172616765", WireError.Code.unsupportedVersion),
        ("01" + "00", .lengthOverLimit),  // empty sensor id
        ("01" + "21" + String(repeating: "61", count: 33), .lengthOverLimit),  // 33 bytes
        ("01" + "ff", .lengthOverLimit),  // a lying length is refused before reading
        ("01" + "03" + "412d42", .invalidValue),  // upper case
        ("01" + "02" + "1b5b", .invalidValue),  // ESC [: no terminal codes in ids
        ("01" + "0161" + "0000e677d21fdc00", .invalidValue),  // year 10000
        ("01" + "0161" + "0000000000000000" + "0000ea61", .invalidValue),  // 60.001 °C
        ("01" + "0161" + "0000000000000000" + "fffea06f", .invalidValue),  // −90.001 °C
        ("01" + "0161" + "0000000000000000" + "00000000" + "03e9", .invalidValue),  // 100.1 %
        ("01" + "0161" + "0000000000000000" + "00000000" + "0000" + "11", .lengthOverLimit),  // 17 recent
        ("01" + "0161" + "0000000000000000" + "00000000" + "0000" + "10" + "00000000", .truncated),  // 16 claimed, 1 present
        ("01" + "0161" + "0000000000000000" + "00000000" + "0000" + "01" + "7fffffff", .invalidValue),  // recent out of range
    ])
    func decoderRefuses(hexInput: String, code: WireError.Code) {
        do {
            _ = try SensorReading(serializedBytes: unhex(hexInput))
            Issue.record("accepted \(hexInput)")
        } catch {
            #expect(error.code == code, "\(hexInput): \(error)")
        }
    }

    @Test func validateMatchesTheDecoderLimits() throws {
        var reading = Self.sample
        try reading.validate()
        reading.recentMilliCelsius = Array(repeating: 0, count: 17)
        #expect(throws: WireError(.lengthOverLimit, "")) { try reading.validate() }
        reading = Self.sample
        reading.sensorID = "Kitchen"
        #expect(throws: WireError(.invalidValue, "")) { try reading.validate() }
    }

    @Test func describeNeverTraps() {
        #expect(SensorExample.describe([]) == "bad payload (0 bytes): truncated: format version needs 1 bytes, 0 left")
        #expect(
            SensorExample.describe(Array("not a reading".utf8))
                == "bad payload (13 bytes): unsupportedVersion: format version 110; this program reads version 1")
        var generator = SeededRandom()
        for length in 0..<200 {
            let noise = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = SensorExample.describe([1] + noise)
        }
    }

    @Test func optionsParseAndRefuse() throws {
        let options = try ExampleOptions.parse(
            ["publish", "--socket", "/s", "--celsius", "-3.25", "--humidity", "71", "--recent", "1,-2.5", "--count", "2"],
            environment: [:])
        #expect(options.mode == .publish)
        #expect(options.socket == "/s")
        #expect(options.milliCelsius == -3250)
        #expect(options.humidityPermille == 710)
        #expect(options.recentMilliCelsius == [1000, -2500])
        #expect(options.count == 2)
        #expect(try ExampleOptions.parse(["subscribe"], environment: ["NYMBUS_HOME": "/h"]).socket == "/h/nymbus.sock")
        #expect(try ExampleOptions.parse(["subscribe"], environment: ["NYMBUS_SOCKET": "/x.sock", "NYMBUS_HOME": "/h"]).socket == "/x.sock")
        #expect(try ExampleOptions.parse(["subscribe"], environment: ["HOME": "/u"]).socket == "/u/.nymbus/nymbus.sock")
        for bad in [[], ["listen"], ["publish", "--celsius", "1e300"], ["publish", "--celsius", "nan"], ["publish", "--humidity", "101"],
            ["publish", "--count", "0"], ["publish", "--bogus", "1"], ["publish", "--sensor"], ["publish", "subscribe"]]
        {
            #expect(throws: UsageError.self, "\(bad)") { try ExampleOptions.parse(bad, environment: [:]) }
        }
        #expect(throws: UsageError(message: nil)) { try ExampleOptions.parse(["--help"], environment: [:]) }
    }
}

@Suite struct CustomObjectExampleTests {
    /// Collects the program's output lines.
    final class Lines: Sendable {
        private let box = NIOLockedValueBox<[String]>([])
        var all: [String] { box.withLockedValue { $0 } }
        var output: SensorExample.Output {
            SensorExample.Output(
                line: { text in self.box.withLockedValue { $0.append(text) } },
                error: { text in self.box.withLockedValue { $0.append("stderr: " + text) } })
        }
    }

    /// `subscribe` on the hidden node 2 decodes a reading published by `publish` on node 0, and
    /// prints one error line each for two payloads that are not readings, then exits (--count 3).
    @Test func publishAndSubscribeThroughTheMixnet() async throws {
        try await TestDevnet.with("swift") { net in
            let received = Lines()
            let subscriber = Task {
                await SensorExample.run(
                    arguments: ["--socket", net.sockets[2], "subscribe", "--count", "3"], output: received.output)
            }
            #expect(await eventually { received.all.count == 1 })
            #expect(received.all == ["subscribed to sensors; waiting for readings (Ctrl-C to stop)"])
            try await net.waitUntilListening(node: 2, to: Topic.named("sensors"))

            let published = Lines()
            let status = await SensorExample.run(
                arguments: [
                    "--socket", net.sockets[0], "publish", "--sensor", "garage", "--celsius", "-3.25", "--humidity", "71",
                    "--recent", "1,-2.5", "--at-ms", "1700000000000",
                ],
                output: published.output)
            #expect(status == 0)
            #expect(
                published.all == [
                    "published garage at 1700000000000 ms: -3.250 °C, 71.0 % humidity, recent [1.000 -2.500] to sensors "
                        + "(31 bytes, local subscribers: 0)"
                ])
            #expect(await eventually { received.all.count == 2 })

            // Anyone who knows the topic name can post anything to it; the subscriber reports it.
            let stranger = try await BrokerConnection.connect(path: net.sockets[1])
            #expect(try await stranger.command("PUBLISH", "sensors", "not a reading") == .integer(0))
            #expect(await eventually { received.all.count == 3 })
            var hot = SensorReadingTests.sample.serializedBytes()
            hot.replaceSubrange(16..<20, with: [0, 0x0F, 0x42, 0x40])  // 1000 °C
            #expect(try await stranger.command([Array("PUBLISH".utf8), Array("sensors".utf8), hot]) == .integer(0))
            await stranger.close()

            #expect(await subscriber.value == 0)
            #expect(
                received.all == [
                    "subscribed to sensors; waiting for readings (Ctrl-C to stop)",
                    "sensors: garage at 1700000000000 ms: -3.250 °C, 71.0 % humidity, recent [1.000 -2.500]",
                    "sensors: bad payload (13 bytes): unsupportedVersion: format version 110; this program reads version 1",
                    "sensors: bad payload (31 bytes): invalidValue: temperature 1000000 m°C is outside -90000...60000",
                ])
        }
    }

    /// Usage mistakes exit 2 with the usage text; an unreachable broker exits 1 with a hint.
    @Test func badCommandLinesAndMissingBroker() async throws {
        let lines = Lines()
        #expect(await SensorExample.run(arguments: ["publish", "--celsius", "99"], output: lines.output) == 2)
        #expect(lines.all.first?.hasPrefix("stderr: error: --celsius: '99' is not a temperature within -90...60 °C") == true)
        let missing = Lines()
        #expect(await SensorExample.run(arguments: ["--socket", "/tmp/nbx-none.sock", "subscribe"], output: missing.output) == 1)
        #expect(
            missing.all == [
                "stderr: error: cannot connect to the Nymbus broker at /tmp/nbx-none.sock; is `nymbus run` or `nymbus devnet` running?"
            ])
    }

    /// The built program itself (what `swift run custom-object-example` runs): --help and a bad value.
    @Test func builtBinaryRuns() async throws {
        let binary = try ExamplePaths.builtProduct("custom-object-example")
        let help = try await ChildProcess.run(binary, ["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.hasPrefix("usage: custom-object-example [--socket PATH] publish [options]\n"))
        let bad = try await ChildProcess.run(binary, ["publish", "--humidity", "-1"])
        #expect(bad.status == 2)
        #expect(bad.stderr.hasPrefix("error: --humidity must be a number of percent within 0...100\n"))
    }
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

func unhex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex, let next = text.index(index, offsetBy: 2, limitedBy: text.endIndex) {
        bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
        index = next
    }
    return bytes
}
