import NymbusTestSupport
import Testing

/// The shared test support's own checks (it has no test target of its own).
@Suite struct TestSupportTests {
    @Test func splitMixMatchesTheReferenceSequence() {
        // SplitMix64 from seed 0 (Steele, Lea, Flood; the Java SplittableRandom reference values).
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    @Test func theEnvironmentFixesTheSeed() {
        var fixed = SeededRandom("fixed", environment: [SeededRandom.environmentVariable: "42"])
        var reference = SplitMix64(seed: 42)
        #expect(fixed.seed == 42)
        #expect(fixed.next() == reference.next())
        #expect(fixed.description == "seed 42 (replay with NYMBUS_TEST_SEED=42)")
        let fresh = SeededRandom("fresh", environment: [:])
        let another = SeededRandom("another", environment: [:])
        #expect(fresh.seed != another.seed)
    }

    @Test func eventuallyRecordsWhatItWaitedFor() async {
        var looks = 0
        await withKnownIssue {
            let held = await eventually("a condition that never holds", timeout: .milliseconds(30)) {
                looks += 1
                return false
            }
            #expect(!held)
        } matching: { issue in
            issue.comments.contains { $0.rawValue.contains("a condition that never holds") }
        }
        #expect(looks >= 2)
        var calls = 0
        #expect(await eventually { calls += 1; return calls == 3 })
        #expect(calls == 3)
    }

    @Test func eventuallyWaitsAsLongAsProgressMoves() async {
        // Each look moves the progress: the wait goes on well past `stalledFor` (10 looks, each
        // at least a poll interval apart, against a 30 ms stall bound).
        var looks = 0
        let held = await eventually("ten looks", stalledFor: .milliseconds(30), progress: { looks }) {
            looks += 1
            return looks == 10
        }
        #expect(held && looks == 10)
        // Progress that stops: a failure naming what it waited for and where progress stuck.
        var stuckLooks = 0
        await withKnownIssue {
            let ok = await eventually("a stuck counter", stalledFor: .milliseconds(30), progress: { 7 }) {
                stuckLooks += 1
                return false
            }
            #expect(!ok)
        } matching: { issue in
            issue.comments.contains { $0.rawValue.contains("a stuck counter") && $0.rawValue.contains("stuck at 7") }
        }
        #expect(stuckLooks >= 2)
    }

    @Test func waitUntilRecordsNothing() async {
        #expect(await waitUntil(timeout: .milliseconds(20)) { false } == false)
    }
}
