// swift-tools-version: 6.1
// Benchmarks live in their own package so `make test` and CI never build them. `make bench` runs them.
import PackageDescription

let package = Package(
    name: "nymbus-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "nymbus", path: ".."),
    ],
    targets: [
        .executableTarget(name: "BrokerBench", path: "Sources/BrokerBench"),
    ]
)
