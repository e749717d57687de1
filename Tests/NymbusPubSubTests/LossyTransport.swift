import Foundation
import NymClient
import NymbusCrypto
import NymbusTestSupport
import NymbusTransport
import NymbusWire

/// A nym-client connection that loses chosen messages the way the mixnet does: the send
/// succeeds, the message never arrives. Everything else passes through unchanged.
final class LossyTransport: MixnetTransport, @unchecked Sendable {
    private let base: any MixnetTransport
    private let lock = NSLock()
    /// How many more messages to lose, per (recipient, command).
    private var budget: [Recipient: [Command: Int]] = [:]
    private var lost: [Command: Int] = [:]
    /// Random loss: each message of these commands, on any path, is lost with this probability.
    private var randomLoss: (rate: Double, commands: Set<Command>, rng: SplitMix64)?
    /// Messages random loss already took once, by destination (a `Recipient` or a `SenderTag`).
    private var randomlyLost: Set<LostMessage> = []

    private struct LostMessage: Hashable {
        let destination: AnyHashable
        let bytes: [UInt8]
    }

    init(_ base: any MixnetTransport) { self.base = base }

    /// Loses the next `count` messages of `command` sent to `recipient` by plain `send`.
    func lose(_ count: Int, of command: Command, to recipient: Recipient) {
        lock.withLock { budget[recipient, default: [:]][command, default: 0] += count }
    }

    /// From now on, loses each message of `commands` (by any of the three ways to send) with
    /// probability `rate`, from a generator seeded with `seed`. A message is lost at most once:
    /// the same bytes sent again to the same destination (an object served in answer to
    /// `getdata` after its flood copy was lost) get through, so repair's bounded retries are
    /// never the limit and a test can ask for every object exactly.
    func loseRandomly(_ rate: Double, of commands: Set<Command>, seed: UInt64) {
        lock.withLock { randomLoss = (rate, commands, SplitMix64(seed: seed)) }
    }

    /// Messages lost so far, by command.
    func lostCount(_ command: Command) -> Int { lock.withLock { lost[command, default: 0] } }

    /// Whether to lose `message` bound for `destination` (a `Recipient` or a `SenderTag`);
    /// `recipient` (plain `send` only) is where the budgets of ``lose(_:of:to:)`` apply.
    private func shouldLose(_ message: [UInt8], destination: AnyHashable, recipient: Recipient?) -> Bool {
        guard message.count > 5, let command = Command(rawValue: message[5]) else { return false }
        return lock.withLock {
            if var random = randomLoss, random.commands.contains(command) {
                let draw = Double(random.rng.next() >> 11) / Double(1 << 53)
                randomLoss = random
                if draw < random.rate, randomlyLost.insert(LostMessage(destination: destination, bytes: message)).inserted {
                    lost[command, default: 0] += 1
                    return true
                }
            }
            guard let recipient, let left = budget[recipient]?[command], left > 0 else { return false }
            budget[recipient]?[command] = left - 1
            lost[command, default: 0] += 1
            return true
        }
    }

    func selfAddress() async throws(TransportError) -> Recipient { try await base.selfAddress() }

    func send(_ message: [UInt8], to recipient: Recipient) async throws(TransportError) {
        if shouldLose(message, destination: recipient, recipient: recipient) { return }
        try await base.send(message, to: recipient)
    }

    func sendAnonymous(_ message: [UInt8], to recipient: Recipient, replySurbs: UInt32) async throws(TransportError) {
        if shouldLose(message, destination: recipient, recipient: nil) { return }
        try await base.sendAnonymous(message, to: recipient, replySurbs: replySurbs)
    }

    func reply(_ message: [UInt8], to tag: SenderTag) async throws(TransportError) {
        if shouldLose(message, destination: tag, recipient: nil) { return }
        try await base.reply(message, to: tag)
    }

    var inbound: AsyncStream<ReceivedMessage> { base.inbound }
}
