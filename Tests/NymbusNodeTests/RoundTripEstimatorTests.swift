import Testing

@testable import NymbusNode

@Suite struct RoundTripEstimatorTests {
    /// RFC 6298 §2.2–2.3 by hand: first sample R → srtt R, rttvar R/2; then
    /// rttvar ← ¾ rttvar + ¼ |srtt − R|, srtt ← ⅞ srtt + ⅛ R.
    @Test func followsRFC6298() {
        var estimator = RoundTripEstimator()
        #expect(estimator.smoothed == nil && estimator.timeout == nil && estimator.samples == 0)
        estimator.add(800)
        #expect(estimator.smoothed == 800 && estimator.variation == 400 && estimator.timeout == 2400)
        estimator.add(1600)
        #expect(estimator.variation == 500 && estimator.smoothed == 900 && estimator.timeout == 2900)
        estimator.add(-5)  // counts as 0
        #expect(estimator.variation == 600 && estimator.smoothed == 787.5 && estimator.samples == 3)
    }

    @Test func scalingShrinksTheEstimateAndItsDeviationAndCountsNoSample() {
        var estimator = RoundTripEstimator()
        estimator.scale(by: 0.5)
        #expect(estimator.smoothed == nil && estimator.timeout == nil, "nothing to scale")
        estimator.add(800)
        estimator.scale(by: 0.5)
        #expect(estimator.smoothed == 400 && estimator.variation == 200 && estimator.samples == 1)
        estimator.scale(by: 3)
        #expect(estimator.smoothed == 400, "a factor above 1 counts as 1")
        estimator.scale(by: -1)
        #expect(estimator.smoothed == 0 && estimator.variation == 0, "below 0 counts as 0")
    }
}
