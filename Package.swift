// swift-tools-version: 6.1
import PackageDescription

/// Swift 6 language mode is implied by tools 6.1; these keep imports and existentials honest.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// Sockets and event loops; `http` adds HTTP/1 and `nio` WebSockets: each target takes only what it imports.
let nioCore: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]
let http: [Target.Dependency] = nioCore + [.product(name: "NIOHTTP1", package: "swift-nio")]
let nio: [Target.Dependency] = http + [.product(name: "NIOWebSocket", package: "swift-nio")]
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")

let package = Package(
    name: "nymbus",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "nymbus", targets: ["nymbus"]),
        .library(name: "NymbusCrypto", targets: ["NymbusCrypto"]),
        .library(name: "NymbusWire", targets: ["NymbusWire"]),
        .library(name: "NymbusTransport", targets: ["NymbusTransport"]),
        .library(name: "NymClient", targets: ["NymClient"]),
        .library(name: "NymbusMixnet", targets: ["NymbusMixnet"]),
        .library(name: "NymbusNode", targets: ["NymbusNode"]),
        .library(name: "NymbusPubSub", targets: ["NymbusPubSub"]),
        .library(name: "NymbusBroker", targets: ["NymbusBroker"]),
        .library(name: "NymbusDaemon", targets: ["NymbusDaemon"]),
        .library(name: "NymbusMetrics", targets: ["NymbusMetrics"]),
        .library(name: "NymbusArchive", targets: ["NymbusArchive"]),
        .library(name: "NymbusSQLite", targets: ["NymbusSQLite"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // Streams are stored in SQLite (WAL mode) through GRDB: a proven store, not a hand-written log.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium", pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]),
        .target(name: "NymbusCrypto", dependencies: ["CSodium"], swiftSettings: strict),
        .target(name: "NymbusWire", dependencies: ["NymbusCrypto"], swiftSettings: strict),
        // What a node needs from its mixnet client (MixnetTransport, ReceivedMessage, SenderTag and
        // TransportError), so NymbusNode links no WebSocket code.
        .target(name: "NymbusTransport", dependencies: ["NymbusCrypto"], swiftSettings: strict),
        .target(name: "NymClient", dependencies: ["NymbusTransport", "NymbusCrypto", logging] + nio, swiftSettings: strict),
        .target(
            name: "NymbusMixnet", dependencies: ["NymClient", "NymbusTransport", "NymbusCrypto", logging] + nio,
            swiftSettings: strict),
        .target(
            name: "NymbusNode", dependencies: ["NymbusWire", "NymbusTransport", "NymbusCrypto", logging],
            swiftSettings: strict),
        .target(
            name: "NymbusPubSub", dependencies: ["NymbusNode", "NymbusWire", "NymbusTransport", "NymbusCrypto", logging],
            swiftSettings: strict),
        // How every store opens its SQLite file (WAL, 0600, a damaged file left as it is):
        // GRDB only, so the archive and the broker's streams share it without importing each other.
        .target(
            name: "NymbusSQLite", dependencies: [.product(name: "GRDB", package: "GRDB.swift")], swiftSettings: strict),
        .target(
            name: "NymbusBroker",
            dependencies: [
                "NymbusPubSub", "NymbusSQLite", "NymbusCrypto", logging, .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ] + nioCore,
            swiftSettings: strict),
        // The object archive in SQLite (catch-up, spec/pubsub.md §15): the topic layer sees only the
        // `ObjectArchive` protocol; the daemon wires this one in.
        .target(
            name: "NymbusArchive",
            dependencies: ["NymbusPubSub", "NymbusWire", "NymbusSQLite", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
        .target(
            name: "NymbusDaemon",
            dependencies: [
                "NymbusArchive", "NymbusBroker", "NymbusPubSub", "NymbusNode", "NymbusWire", "NymClient", "NymbusTransport", "NymbusMixnet",
                "NymbusCrypto", logging,
            ],
            swiftSettings: strict),
        // The Prometheus endpoint: NYMBUS.STATUS numbers as metrics, over NIOHTTP1 (swift-prometheus
        // brings swift-metrics' CoreMetrics and swift-atomics).
        .target(
            name: "NymbusMetrics",
            dependencies: [.product(name: "Prometheus", package: "swift-prometheus")] + http,
            swiftSettings: strict),
        .executableTarget(
            name: "nymbus",
            dependencies: [
                "NymbusCrypto", "NymbusWire", "NymClient", "NymbusMixnet", "NymbusNode", "NymbusPubSub",
                "NymbusBroker", "NymbusDaemon", "NymbusMetrics", logging,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        // Examples/custom-object: a custom WireCodable type over the broker (`swift run custom-object-example`).
        .executableTarget(
            name: "custom-object-example", dependencies: ["NymbusBroker", "NymbusWire"], path: "Examples/custom-object",
            swiftSettings: strict),
        .systemLibrary(name: "CLibFuzzer"),
        .executableTarget(
            name: "nymbus-fuzz",
            dependencies: ["CLibFuzzer", "NymbusWire", "NymbusCrypto", "NymClient", "NymbusTransport", "NymbusBroker", "NymbusPubSub"],
            swiftSettings: strict),
        // What every test target shares (as Hummingbird's HummingbirdTesting): `eventually`, seeded
        // randomness, child processes, temporary paths. Used by test targets only.
        .target(name: "NymbusTestSupport", dependencies: ["NymbusCrypto"], path: "Tests/NymbusTestSupport", swiftSettings: strict),
        // The same for tests that run nodes on a local mixnet: quiescence (`settle`).
        .target(
            name: "NymbusNetworkTestSupport", dependencies: ["NymbusTestSupport", "NymbusMixnet", "NymClient", "NymbusNode"],
            path: "Tests/NymbusNetworkTestSupport", swiftSettings: strict),
        .testTarget(
            name: "NymbusCryptoTests", dependencies: ["NymbusTestSupport", "NymbusCrypto"], swiftSettings: strict),
        .testTarget(name: "NymbusWireTests", dependencies: ["NymbusTestSupport", "NymbusWire", "NymbusCrypto"], swiftSettings: strict),
        .testTarget(
            name: "NymClientTests", dependencies: ["NymbusTestSupport", "NymClient", "NymbusTransport", "NymbusCrypto", logging] + nio, swiftSettings: strict),
        .testTarget(
            name: "NymbusMixnetTests", dependencies: ["NymbusTestSupport", "NymbusMixnet", "NymClient", "NymbusTransport", "NymbusCrypto", logging] + nio,
            swiftSettings: strict),
        .testTarget(
            name: "NymbusNodeTests",
            dependencies: ["NymbusTestSupport", "NymbusNode", "NymbusMixnet", "NymClient", "NymbusTransport", "NymbusWire", "NymbusCrypto"],
            swiftSettings: strict),
        .testTarget(
            name: "NymbusPubSubTests",
            dependencies: ["NymbusTestSupport", "NymbusNetworkTestSupport", "NymbusPubSub", "NymbusNode", "NymbusMixnet", "NymClient", "NymbusTransport", "NymbusWire", "NymbusCrypto"],
            swiftSettings: strict),
        .testTarget(
            name: "NymbusArchiveTests",
            dependencies: ["NymbusArchive", "NymbusSQLite", "NymbusPubSub", "NymbusWire", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
        .testTarget(
            name: "NymbusDaemonTests",
            dependencies: ["NymbusTestSupport", "NymbusDaemon", "NymbusMetrics", "NymbusBroker", "NymbusPubSub", "NymbusNode", "NymbusMixnet", "NymClient", "NymbusTransport", logging],
            swiftSettings: strict),
        .testTarget(
            name: "NymbusFaultTests",
            dependencies: [
                "NymbusTestSupport", "NymbusNetworkTestSupport",
                "NymbusDaemon", "NymbusBroker", "NymbusPubSub", "NymbusNode", "NymbusMixnet", "NymClient", "NymbusTransport", "NymbusWire",
                "NymbusCrypto", logging,
            ],
            swiftSettings: strict),
        .testTarget(
            name: "NymbusBrokerTests",
            dependencies: ["NymbusTestSupport", "NymbusBroker", "NymbusPubSub", "NymbusNode", "NymbusMixnet", "NymClient", "NymbusTransport"] + nioCore,
            swiftSettings: strict),
        .testTarget(
            name: "NymbusExamplesTests",
            dependencies: ["NymbusTestSupport", "custom-object-example", "NymbusDaemon", "NymbusMixnet", "NymbusBroker", "NymbusPubSub", "NymbusNode", "NymbusWire", logging,
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict),
    ]
)
