// swift-tools-version:6.2
// Throughput and latency benchmarks for Gordon's own NATS client (side by side with
// nats-py, see `compare`) and for the transactional outbox (see `outbox`). A separate
// package so the root build never compiles it.
import PackageDescription

let package = Package(
    name: "gordon-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "gordon", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .target(
            name: "BenchSupport",
            dependencies: [
                .product(name: "GordonKernel", package: "gordon"),
                .product(name: "GordonMigrations", package: "gordon"),
                .product(name: "GordonPostgres", package: "gordon"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "gordon-nats-bench",
            dependencies: [
                .product(name: "GordonNATS", package: "gordon"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "gordon-outbox-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "GordonBus", package: "gordon"),
                .product(name: "GordonNATS", package: "gordon"),
                .product(name: "GordonProtocol", package: "gordon"),
                .product(name: "GordonDomain", package: "gordon"),
                .product(name: "GordonKernel", package: "gordon"),
                .product(name: "GordonMigrations", package: "gordon"),
                .product(name: "GordonPostgres", package: "gordon"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "gordon-backtest-bench",
            dependencies: [
                .product(name: "GordonStrategy", package: "gordon"),
                .product(name: "GordonKlineFiles", package: "gordon"),
                .product(name: "GordonDomain", package: "gordon"),
                .product(name: "GordonKernel", package: "gordon"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "gordon-risk-bench",
            dependencies: [
                .product(name: "GordonRisk", package: "gordon"),
                .product(name: "GordonDomain", package: "gordon"),
                .product(name: "GordonKernel", package: "gordon"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "gordon-exchange-bench",
            dependencies: [
                .product(name: "GordonExchange", package: "gordon"),
                .product(name: "BinanceSim", package: "gordon"),
                .product(name: "GordonStrategy", package: "gordon"),
                .product(name: "GordonDomain", package: "gordon"),
                .product(name: "GordonKernel", package: "gordon"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "gordon-data-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "GordonData", package: "gordon"),
                .product(name: "GordonBus", package: "gordon"),
                .product(name: "GordonExchange", package: "gordon"),
                .product(name: "GordonNATS", package: "gordon"),
                .product(name: "GordonProtocol", package: "gordon"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "BinanceSim", package: "gordon"),
                .product(name: "GordonKlineFiles", package: "gordon"),
                .product(name: "GordonStrategy", package: "gordon"),
                .product(name: "GordonDomain", package: "gordon"),
                .product(name: "GordonKernel", package: "gordon"),
                .product(name: "GordonMigrations", package: "gordon"),
                .product(name: "GordonPostgres", package: "gordon"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "gordon-trading-bench",
            dependencies: [
                .product(name: "BinanceSim", package: "gordon"),
                .product(name: "GordonBus", package: "gordon"),
                .product(name: "GordonNATS", package: "gordon"),
                .product(name: "GordonStrategy", package: "gordon"),
                .product(name: "GordonDomain", package: "gordon"),
                .product(name: "GordonKernel", package: "gordon"),
                .product(name: "GordonMigrations", package: "gordon"),
                .product(name: "GordonPostgres", package: "gordon"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
