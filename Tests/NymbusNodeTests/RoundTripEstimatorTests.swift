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
}
