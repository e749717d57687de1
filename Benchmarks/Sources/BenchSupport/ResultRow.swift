/// One line of the combined `make bench` table.
///
/// Every benchmark prints its own detailed output and, for the summary, rows as a tab-separated
/// line starting with `@row` that scripts/bench.sh collects:
/// `@row <benchmark> <figure> <baseline> <ratio> <goal> <met>`.
///
/// `ratio` is always "how well we do relative to the baseline, higher is better":
/// figure / baseline for rates, baseline / figure for latencies and costs.
public struct ResultRow: Sendable {
    /// What was measured, e.g. `object receive 256 B`.
    public var benchmark: String
    /// The measured figure, with its unit.
    public var figure: String
    /// The baseline measured in the same run, with what it is.
    public var baseline: String
    /// Performance relative to the baseline (higher is better); nil when there is no baseline.
    public var ratio: Double?
    /// The goal for `ratio` (or for the figure), from the issue or the spec; `—` if none.
    public var goal: String
    /// Whether the goal is met; nil when there is no goal.
    public var met: Bool?

    /// Creates a row.
    public init(benchmark: String, figure: String, baseline: String, ratio: Double?, goal: String = "—", met: Bool? = nil) {
        self.benchmark = benchmark
        self.figure = figure
        self.baseline = baseline
        self.ratio = ratio
        self.goal = goal
        self.met = met
    }

    /// A row whose goal is a minimum ratio.
    public static func ratio(
        _ benchmark: String, figure: String, baseline: String, ratio: Double, atLeast goal: Double?
    ) -> ResultRow {
        ResultRow(
            benchmark: benchmark, figure: figure, baseline: baseline, ratio: ratio,
            goal: goal.map { "≥ " + Format.number($0, decimals: 2) } ?? "—",
            met: goal.map { ratio >= $0 })
    }

    /// The `@row` line.
    public var line: String {
        let fields = [
            benchmark, figure, baseline, ratio.map { Format.number($0, decimals: 2) } ?? "—", goal,
            met.map { $0 ? "yes" : "NO" } ?? "—",
        ]
        return "@row\t" + fields.map { $0.replacingTabs }.joined(separator: "\t")
    }

    /// Prints the `@row` line to standard output.
    public func emit() { print(line) }
}

extension String {
    fileprivate var replacingTabs: String { String(map { $0 == "\t" ? " " : $0 }) }
}
