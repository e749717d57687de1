// swift-tools-version: 6.1
// Benchmarks live in their own package so `make test` and CI never build them. `make bench` runs
// them all (scripts/bench.sh) and prints one table; each executable also runs on its own.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "nymbus-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "nymbus", path: ".."),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // Raw libsodium, only for the floors the object pipeline is compared against.
        .systemLibrary(name: "CSodiumBench", pkgConfig: "libsodium"),
        .target(name: "BenchSupport", path: "Sources/BenchSupport", swiftSettings: strict),
        .executableTarget(
            name: "ObjectBench",
            dependencies: [
                "BenchSupport", "CSodiumBench",
                .product(name: "NymbusPubSub", package: "nymbus"),
                .product(name: "NymbusWire", package: "nymbus"),
                .product(name: "NymbusCrypto", package: "nymbus"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "OverlayBench",
            dependencies: [
                "BenchSupport",
                .product(name: "NymbusDaemon", package: "nymbus"),
                .product(name: "NymbusPubSub", package: "nymbus"),
                .product(name: "NymbusWire", package: "nymbus"),
                .product(name: "NymbusNode", package: "nymbus"),
                .product(name: "NymbusMixnet", package: "nymbus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "FlowBench",
            dependencies: [
                "BenchSupport",
                .product(name: "NymbusDaemon", package: "nymbus"),
                .product(name: "NymbusPubSub", package: "nymbus"),
                .product(name: "NymbusBroker", package: "nymbus"),
                .product(name: "NymbusNode", package: "nymbus"),
                .product(name: "NymbusMixnet", package: "nymbus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "DisseminationBench",
            dependencies: [
                "BenchSupport",
                .product(name: "NymbusPubSub", package: "nymbus"),
                .product(name: "NymbusWire", package: "nymbus"),
                .product(name: "NymbusCrypto", package: "nymbus"),
                .product(name: "NymbusNode", package: "nymbus"),
                .product(name: "NymbusMixnet", package: "nymbus"),
                .product(name: "NymClient", package: "nymbus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "RelinkBench",
            dependencies: [
                "BenchSupport",
                .product(name: "NymbusCrypto", package: "nymbus"),
                .product(name: "NymbusWire", package: "nymbus"),
                .product(name: "NymbusDaemon", package: "nymbus"),
                .product(name: "NymbusNode", package: "nymbus"),
                .product(name: "NymbusMixnet", package: "nymbus"),
                .product(name: "NymClient", package: "nymbus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "MemoryBench",
            dependencies: [
                "BenchSupport",
                .product(name: "NymbusDaemon", package: "nymbus"),
                .product(name: "NymbusPubSub", package: "nymbus"),
                .product(name: "NymbusNode", package: "nymbus"),
                .product(name: "NymbusMixnet", package: "nymbus"),
                .product(name: "NymClient", package: "nymbus"),
                .product(name: "NymbusCrypto", package: "nymbus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "CatchupBench",
            dependencies: [
                "BenchSupport",
                .product(name: "NymbusPubSub", package: "nymbus"),
                .product(name: "NymbusNode", package: "nymbus"),
                .product(name: "NymbusWire", package: "nymbus"),
                .product(name: "NymbusCrypto", package: "nymbus"),
                .product(name: "NymbusMixnet", package: "nymbus"),
                .product(name: "NymClient", package: "nymbus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(name: "BenchTable", swiftSettings: strict),
        .executableTarget(name: "BrokerBench", dependencies: ["BenchSupport"], path: "Sources/BrokerBench"),
        .executableTarget(
            name: "BrokerServe",
            dependencies: [
                "BenchSupport",
                .product(name: "NymbusBroker", package: "nymbus"),
                .product(name: "NymbusDaemon", package: "nymbus"),
                .product(name: "NymbusMixnet", package: "nymbus"),
                .product(name: "NymClient", package: "nymbus"),
                .product(name: "NymbusCrypto", package: "nymbus"),
                .product(name: "NymbusNode", package: "nymbus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
    ]
)
