/// How many eager links the tree keeps, from the overlay's load (spec/pubsub.md §15 rule 9):
/// spare send budget buys shorter paths.
///
/// A nym-client sends a Poisson stream of about 50 packets per second whatever the application
/// does: a real packet when one waits, a cover packet when none does (NYM-CLIENT.md §7). At low
/// load most of that stream is cover, so an object pushed over a few more links costs the sender
/// no bandwidth it would not spend anyway, and each more eager link makes the tree shallower:
/// lower latency. As load rises those slots fill with objects, and the tree sheds the extra
/// links down to its floor, where it spends close to one copy per node per object.
///
/// Every node relays every object, so every node measures the same rate of new objects and picks
/// the same target: no node has to tell another its load.
///
/// A pure value: the topic layer feeds it what arrived and asks it at each heartbeat.
struct EagerTarget: Sendable, Equatable {
    /// Eager links kept however high the load (`keepEagerLinks`).
    let floor: Int
    /// Eager links at most, however low the load (`maxEagerLinks`).
    let ceiling: Int
    /// Packets per second the node may spend pushing each object to its extra eager links
    /// (`spareSendBudget`); 0 keeps the floor.
    let budget: Double

    /// Smoothed packets per second of new objects (first copies, relayed or published); nil
    /// before the first measurement.
    private(set) var rate: Double?
    private var packets = 0

    init(floor: Int, ceiling: Int, budget: Double) {
        self.floor = max(0, floor)
        self.ceiling = max(self.floor, ceiling)
        self.budget = max(0, budget)
    }

    /// A new object of `packets` Sphinx packets arrived or was published.
    mutating func arrived(packets: Int) {
        self.packets += max(1, packets)
    }

    /// Closes a measurement interval of `seconds` (the heartbeat calls it once per heartbeat
    /// interval). A rise counts for half, a fall for a twentieth: a burst sheds extra links
    /// within a heartbeat, before their copies fill the nym-client queues, and links come back
    /// only after a lull of tens of seconds, so a load that comes and goes does not grow the tree
    /// only to shed it again (the Poisson noise of a low rate, 0 to 5 objects in a second at
    /// 2/s, sheds a link now and then, grafted back later).
    mutating func measure(seconds: Double) {
        guard seconds > 0 else { return }
        let sample = Double(packets) / seconds
        packets = 0
        guard let current = rate else {
            rate = sample
            return
        }
        let weight = sample > current ? 0.5 : 0.05
        rate = current + weight * (sample - current)
    }

    /// Eager links above which a node sheds links: the target, with one link of slack while the
    /// target is above the floor (so a target that moves by one with the noise of the rate does
    /// not graft and prune the same link again and again).
    var pruneAbove: Int { pruneAbove(floor: floor) }

    /// Eager links to keep now: one link brings each object in, every other eager link takes a
    /// copy out, so `1 + budget / rate` links spend the budget; within `floor…ceiling`.
    var target: Int { target(floor: floor) }

    /// `pruneAbove` in a tree whose floor is `floor` (a stripe this node is a leaf of keeps a
    /// lower floor than its home stripe).
    func pruneAbove(floor: Int) -> Int {
        let target = self.target(floor: floor)
        return target > floor ? min(ceiling, target + 1) : target
    }

    /// Whether the load leaves spare budget in a tree whose floor is `floor`: its target is above
    /// the floor. Rules 7 (announcements at load), 12 (refused grafts) and 13 (a hidden node's
    /// second parent) all turn on it.
    func leavesSpareBudget(floor: Int) -> Bool { target(floor: floor) > floor }

    /// `target` in a tree whose floor is `floor`. The same `1 + budget / rate` holds in every
    /// stripe: an extra link in one of S stripes costs rate / S, and one in each costs `rate`.
    func target(floor: Int) -> Int {
        guard budget > 0 else { return floor }
        guard let rate, rate > 0 else { return ceiling }
        let affordable = 1 + budget / rate
        return affordable >= Double(ceiling) ? ceiling : max(floor, min(ceiling, Int(affordable)))
    }
}
