// swift-tools-version: 6.1
import PackageDescription

/// Swift 6 language mode is implied by tools 6.1; these keep imports and existentials honest.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
    .product(name: "NIOWebSocket", package: "swift-nio"),
]
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")

let package = Package(
    name: "nymbus",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "nymbus", targets: ["nymbus"]),
        .library(name: "NymbusCrypto", targets: ["NymbusCrypto"]),
        .library(name: "NymbusWire", targets: ["NymbusWire"]),
        .library(name: "NymClient", targets: ["NymClient"]),
        .library(name: "NymbusMixnet", targets: ["NymbusMixnet"]),
        .library(name: "NymbusNode", targets: ["NymbusNode"]),
        .library(name: "NymbusPubSub", targets: ["NymbusPubSub"]),
        .library(name: "NymbusBroker", targets: ["NymbusBroker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium", pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]),
        .target(name: "NymbusCrypto", dependencies: ["CSodium"], swiftSettings: strict),
        .target(name: "NymbusWire", dependencies: ["NymbusCrypto"], swiftSettings: strict),
        .target(name: "NymClient", dependencies: ["NymbusCrypto", logging] + nio, swiftSettings: strict),
        .target(name: "NymbusMixnet", dependencies: ["NymClient", "NymbusCrypto", logging] + nio, swiftSettings: strict),
        .target(
            name: "NymbusNode", dependencies: ["NymbusWire", "NymClient", "NymbusCrypto", logging],
            swiftSettings: strict),
        .target(
            name: "NymbusPubSub", dependencies: ["NymbusNode", "NymbusWire", "NymbusCrypto", logging],
            swiftSettings: strict),
        .target(
            name: "NymbusBroker",
            dependencies: ["NymbusPubSub", logging, .product(name: "NIOConcurrencyHelpers", package: "swift-nio")] + nio,
            swiftSettings: strict),
        .executableTarget(
            name: "nymbus",
            dependencies: [
                "NymbusCrypto", "NymbusWire", "NymClient", "NymbusMixnet", "NymbusNode", "NymbusPubSub",
                "NymbusBroker", logging, .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ] + nio,
            swiftSettings: strict),
        .systemLibrary(name: "CLibFuzzer"),
        .executableTarget(
            name: "nymbus-fuzz", dependencies: ["CLibFuzzer", "NymbusWire", "NymbusCrypto", "NymClient", "NymbusBroker"], swiftSettings: strict),
        .testTarget(
            name: "NymbusCryptoTests", dependencies: ["NymbusCrypto"], swiftSettings: strict),
        .testTarget(name: "NymbusWireTests", dependencies: ["NymbusWire", "NymbusCrypto"], swiftSettings: strict),
        .testTarget(
            name: "NymClientTests", dependencies: ["NymClient", "NymbusCrypto", logging] + nio, swiftSettings: strict),
        .testTarget(
            name: "NymbusMixnetTests", dependencies: ["NymbusMixnet", "NymClient", "NymbusCrypto", logging] + nio,
            swiftSettings: strict),
        .testTarget(
            name: "NymbusNodeTests",
            dependencies: ["NymbusNode", "NymbusMixnet", "NymClient", "NymbusWire", "NymbusCrypto"],
            swiftSettings: strict),
        .testTarget(
            name: "NymbusPubSubTests",
            dependencies: ["NymbusPubSub", "NymbusNode", "NymbusMixnet", "NymClient", "NymbusWire", "NymbusCrypto"],
            swiftSettings: strict),
        .testTarget(
            name: "NymbusBrokerTests",
            dependencies: ["NymbusBroker", "NymbusPubSub", "NymbusNode", "NymbusMixnet", "NymClient"] + nio,
            swiftSettings: strict),
    ]
)
