import NymClient
import Testing

@Suite struct UnreachableReportTests {
    /// Reported at the first failure, then after 10, 30, 70, 150 s of trying (the gap doubles),
    /// never more often than every 10 minutes; a connection starts it over.
    @Test func reportsAtOnceThenAtGrowingIntervals() {
        var report = UnreachableReport()
        let times: [Double] = [0, 1, 9.9, 10, 29, 30, 69, 70, 149, 150, 309, 310]
        let reported = times.filter { report.shouldReport(elapsed: $0) }
        #expect(reported == [0, 10, 30, 70, 150, 310])
        var capped = UnreachableReport(first: 10, maximum: 30)
        let many = stride(from: 0.0, through: 200, by: 1).filter { capped.shouldReport(elapsed: $0) }
        #expect(many == [0, 10, 30, 60, 90, 120, 150, 180])
        report.reset()
        let again = report.shouldReport(elapsed: 500)
        #expect(again)
    }

    /// A sentence naming the port (never the host: no log line holds an IP address), how long
    /// it has tried, and the system error in words.
    @Test func theMessageIsASentenceNamingThePortAndTheTime() {
        #expect(
            UnreachableReport.message(
                port: 1977, path: "/", elapsed: 0, attempts: 1,
                error: "connection reset (error set): Connection refused (errno: 111)")
                == "Cannot reach nym-client on port 1977: connection refused. "
                + "Is nym-client running and listening there (--nym-client)? Still trying.")
        #expect(
            UnreachableReport.message(port: 1978, path: "/ws", elapsed: 185, attempts: 9, error: "timed out")
                == "Cannot reach nym-client on port 1978, path /ws for 3 min 5 s (9 attempts): timed out. "
                + "Is nym-client running and listening there (--nym-client)? Still trying.")
    }
}
