import ArgumentParser
import NymbusMixnet

/// How fast the local mixnet lets each endpoint send: nym-client's Poisson stream by default.
struct MixnetPacingOptions: ParsableArguments {
    @Option(
        name: .customLong("send-delay-ms"),
        help: ArgumentHelp(
            "Mean interval between two packets an endpoint sends, in milliseconds (nym-client: 20, about 50 packets/s). 0 = unpaced.",
            valueName: "ms"))
    var sendDelayMilliseconds: Double?

    @Flag(name: .long, help: "Use nym-client's --fastmode numbers: 10 ms per hop and a 4 ms send delay (about 250 packets/s).")
    var fast = false

    func validate() throws {
        if let sendDelayMilliseconds {
            guard sendDelayMilliseconds >= 0, sendDelayMilliseconds.isFinite else {
                throw ValidationError("--send-delay-ms must be a non-negative number")
            }
        }
    }

    /// Applies the options after the hop delay was set (`--fast` sets both; `--send-delay-ms` wins).
    func apply(to configuration: inout MixnetConfiguration) {
        if fast { configuration.useFastMode() }
        if let sendDelayMilliseconds {
            configuration.sendDelay = .microseconds(Int64((sendDelayMilliseconds * 1000).rounded()))
        }
    }

    /// A description of the pace for start-up lines.
    static func describe(_ configuration: MixnetConfiguration) -> String {
        let delay = Double(configuration.sendDelay.components.attoseconds) / 1e15
            + Double(configuration.sendDelay.components.seconds) * 1000
        guard delay > 0 else { return "unpaced sends" }
        return "one packet per \(delay) ms per endpoint (about \(Int((1000 / delay).rounded())) packets/s)"
    }
}
