// swift-tools-version:6.2
// Gordon: one package, libraries in dependency order (DESIGN §2), thin executables on top.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "gordon",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "GordonKernel", targets: ["GordonKernel"]),
        .library(name: "GordonDomain", targets: ["GordonDomain"]),
        .library(name: "GordonProtocol", targets: ["GordonProtocol"]),
        .library(name: "GordonPostgres", targets: ["GordonPostgres"]),
        .library(name: "GordonProcess", targets: ["GordonProcess"]),
        .library(name: "GordonMigrations", targets: ["GordonMigrations"]),
        .library(name: "GordonLogging", targets: ["GordonLogging"]),
        .library(name: "GordonPlatform", targets: ["GordonPlatform"]),
        .library(name: "GordonCommandLine", targets: ["GordonCommandLine"]),
        .library(name: "GordonNATS", targets: ["GordonNATS"]),
        .library(name: "GordonBus", targets: ["GordonBus"]),
        .library(name: "GordonStrategy", targets: ["GordonStrategy"]),
        .library(name: "GordonKlineFiles", targets: ["GordonKlineFiles"]),
        .library(name: "GordonExchange", targets: ["GordonExchange"]),
        .library(name: "GordonData", targets: ["GordonData"]),
        .library(name: "GordonBot", targets: ["GordonBot"]),
        .library(name: "GordonExecutor", targets: ["GordonExecutor"]),
        .library(name: "GordonRisk", targets: ["GordonRisk"]),
        .library(name: "GordonManager", targets: ["GordonManager"]),
        .library(name: "GordonConsole", targets: ["GordonConsole"]),
        .library(name: "BinanceSim", targets: ["BinanceSim"]),
        .executable(name: "gordon-migrate", targets: ["gordon-migrate"]),
        .executable(name: "gordon-outbox-relay", targets: ["gordon-outbox-relay"]),
        .executable(name: "gordon-nats-config", targets: ["gordon-nats-config"]),
        .executable(name: "gordonctl", targets: ["gordonctl"]),
        .executable(name: "gordon-binance-sim", targets: ["gordon-binance-sim"]),
        .executable(name: "gordon-watchdog", targets: ["gordon-watchdog"]),
        .executable(name: "gordon-data", targets: ["gordon-data"]),
        .executable(name: "gordon-bot", targets: ["gordon-bot"]),
        .executable(name: "gordon-executor", targets: ["gordon-executor"]),
        .executable(name: "gordon-risk", targets: ["gordon-risk"]),
        .executable(name: "gordon-manager", targets: ["gordon-manager"]),
        .executable(name: "gordon-console", targets: ["gordon-console"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        // ConfigurationSupport off, as hummingbird-websocket already asks: with two parents
        // enabling different traits, SwiftPM 6.2 (the aarch64 cross toolchain) loses
        // swift-configuration from the graph. Gordon does not use it.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Leaf: error taxonomy, trace ids, secrets. Imports nothing of Gordon.
        .target(name: "GordonKernel", swiftSettings: strict),
        .target(name: "GordonDomain", dependencies: ["GordonKernel"], swiftSettings: strict),
        .target(name: "GordonProtocol", dependencies: ["GordonKernel", "GordonDomain"], swiftSettings: strict),
        // Strategies, indicators, overlays and the backtester: pure math, no I/O, no clock.
        .target(name: "GordonStrategy", dependencies: ["GordonKernel", "GordonDomain"], swiftSettings: strict),
        // Binance public-data kline files (CSV, zip) into bar series.
        .target(name: "GordonKlineFiles", dependencies: ["GordonKernel", "GordonDomain", "GordonStrategy"], swiftSettings: strict),
        // Binance spot: signed REST, market and user-data WebSocket streams, the rate limiter,
        // filters and fees; live, testnet or BinanceSim by configuration only.
        .target(
            name: "GordonExchange",
            dependencies: [
                "GordonKernel", "GordonDomain",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // A local Binance-compatible exchange: the same REST paths, JSON, errors and headers,
        // a matching engine over a replayed or generated price feed, and fault injection.
        .target(
            name: "BinanceSim",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonExchange", "GordonStrategy", "GordonKlineFiles",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // PostgreSQL for every program: URLs, connections and pools, the error mapping,
        // transactions, LISTEN, and the start-up schema check.
        .target(
            name: "GordonPostgres",
            dependencies: [
                "GordonKernel",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The migrator as a library: gordon-migrate drives it.
        .target(
            name: "GordonMigrations",
            dependencies: [
                "GordonKernel", "GordonPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The project's own NATS + JetStream client: sans-I/O parser and state machine, NIO I/O.
        .target(
            name: "GordonNATS",
            dependencies: [
                "GordonKernel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Gordon's events over JetStream: publisher/consumer, stream bootstrap, the Postgres
        // outbox and its relay, and the per-service NATS permissions.
        .target(
            name: "GordonBus",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonProtocol", "GordonNATS", "GordonPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The runtime shell every service shares: the runner (keyfile, JSON logs, schema gate,
        // PostgreSQL and NATS as the service, ServiceGroup), the HTTP scaffold with /healthz,
        // /readyz and /metrics, and the circuit-broken client for calls between services.
        .target(
            name: "GordonPlatform",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonLogging", "GordonPostgres", "GordonNATS", "GordonBus", "GordonProcess",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // JSON-lines logs with secret redaction, for every process.
        // gordon-data's logic: kline ingest into market_data and the stream, and its HTTP reads.
        // gordon-risk's logic, plain values first: the circuit breakers.
        .target(
            name: "GordonRisk",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonProtocol", "GordonPostgres", "GordonBus",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "gordon-risk",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonProtocol", "GordonRisk", "GordonBus", "GordonPlatform", "GordonPostgres",
                "GordonCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // gordon-manager's logic: the operators' API on a Unix socket, callers known by their
        // peer credentials; what belongs to risk is filed for risk to carry out.
        .target(
            name: "GordonManager",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonProtocol", "GordonStrategy", "GordonBot", "GordonPostgres", "GordonPlatform",
                "GordonWatchdog", "GordonNATS", "GordonBus", "GordonProcess", "GordonKlineFiles",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict
        ),
        // gordon-console's logic: the operators' port on the LAN. It talks to no database, no
        // NATS and no exchange.
        .target(
            name: "GordonConsole",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonPlatform", "GordonStrategy",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "gordon-console",
            dependencies: [
                "GordonKernel", "GordonConsole", "GordonPlatform", "GordonLogging", "GordonCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "gordon-manager",
            dependencies: [
                "GordonKernel", "GordonManager", "GordonPlatform", "GordonPostgres", "GordonCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // gordon-executor's logic, plain values first: reconciliation.
        .target(
            name: "GordonExecutor",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonProtocol", "GordonPostgres", "GordonBus", "GordonExchange",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "gordon-executor",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonProtocol", "GordonExecutor", "GordonBus", "GordonExchange", "GordonNATS",
                "GordonPlatform", "GordonPostgres", "GordonCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // gordon-bot's logic: the one-active-instance lease, the bot's reads of its own rows,
        // and the engine that turns closed klines into intents through the backtester's plan.
        .target(
            name: "GordonBot",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonPostgres", "GordonProtocol", "GordonBus", "GordonStrategy",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "gordon-bot",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonProtocol", "GordonBot", "GordonBus", "GordonNATS",
                "GordonPlatform", "GordonPostgres", "GordonCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "GordonData",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonProtocol", "GordonExchange", "GordonPostgres", "GordonBus", "GordonPlatform", "GordonKlineFiles",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "gordon-data",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonData", "GordonExchange", "GordonBus", "GordonPlatform", "GordonPostgres", "GordonCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "GordonLogging",
            dependencies: ["GordonKernel", "GordonDomain", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // One `main` for every executable: parse, run, one error line, the exit status.
        .target(
            name: "GordonCommandLine",
            dependencies: ["GordonKernel", "GordonDomain", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        // Tests only: throwaway databases cloned from a migrated template.
        .target(
            name: "GordonTestDB",
            dependencies: [
                "GordonKernel", "GordonPostgres", "GordonMigrations", "GordonProcess",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // fork/exec with setgroups/setgid/setuid in the child: the one step Swift cannot do
        // safely itself (nothing but async-signal-safe calls may run between fork and exec).
        .target(name: "CGordonSpawn"),
        // Child processes: spawned as another user in a process group of their own, reaped,
        // their exit statuses decoded.
        .target(name: "GordonProcess", dependencies: ["CGordonSpawn"], swiftSettings: strict),
        // The watchdog's rules (ordering, backoff, crash loops, stop order, backups) as plain
        // values, and the single-threaded loop that applies them.
        .target(
            name: "GordonWatchdog",
            dependencies: ["GordonKernel", "GordonProcess", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "gordon-watchdog",
            dependencies: [
                "GordonWatchdog", "GordonProcess", "GordonCommandLine", "GordonLogging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "gordon-migrate",
            dependencies: [
                "GordonKernel", "GordonPostgres", "GordonMigrations", "GordonCommandLine", "GordonLogging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "gordon-outbox-relay",
            dependencies: [
                "GordonKernel", "GordonBus", "GordonNATS", "GordonPostgres", "GordonPlatform", "GordonCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "gordon-nats-config",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonBus", "GordonNATS", "GordonCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "gordonctl",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonStrategy", "GordonKlineFiles", "GordonCommandLine", "GordonPlatform", "GordonManager",
                "GordonProcess", "GordonWatchdog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "gordon-binance-sim",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonStrategy", "GordonKlineFiles", "BinanceSim", "GordonPlatform", "GordonCommandLine", "GordonLogging",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GordonExchangeTests",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonExchange", "BinanceSim", "GordonTestDB", "GordonStrategy", "gordon-binance-sim",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            exclude: ["Fixtures"],  // read through #filePath
            swiftSettings: strict
        ),
        .testTarget(name: "GordonExecutorTests", dependencies: ["GordonKernel", "GordonDomain", "GordonExecutor"], swiftSettings: strict),
        .testTarget(
            name: "GordonRiskTests",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonProtocol", "GordonRisk", "GordonPostgres", "GordonMigrations", "GordonTestDB",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GordonConsoleTests",
            dependencies: [
                "GordonKernel", "GordonConsole", "GordonStrategy", "GordonTestDB", "gordon-console",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GordonManagerTests",
            dependencies: [
                "GordonKernel", "GordonManager", "GordonPostgres", "GordonMigrations", "GordonTestDB", "GordonBus", "GordonNATS",
                "GordonProtocol", "GordonDomain", "GordonStrategy", "GordonKlineFiles", "GordonWatchdog",
                "gordon-manager", "gordon-risk", "gordonctl",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GordonBotTests",
            dependencies: [
                "GordonBot", "GordonExchange", "GordonExecutor", "GordonKernel", "GordonDomain", "GordonProtocol", "GordonBus", "GordonPostgres", "GordonMigrations", "GordonTestDB",
                "GordonStrategy", "GordonNATS", "BinanceSim", "gordon-bot", "gordon-data", "gordon-outbox-relay", "gordon-executor", "gordon-risk",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GordonDataTests",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonProtocol", "GordonExchange", "GordonData", "GordonBus", "GordonNATS",
                "GordonPostgres", "GordonMigrations", "GordonPlatform", "GordonStrategy", "GordonTestDB", "BinanceSim", "gordon-data",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "BinanceSimTests", dependencies: ["GordonKernel", "GordonDomain", "GordonExchange", "GordonStrategy", "BinanceSim"], swiftSettings: strict),
        .testTarget(name: "GordonStrategyTests", dependencies: ["GordonKernel", "GordonDomain", "GordonStrategy"], swiftSettings: strict),
        .testTarget(
            name: "GordonKlineFilesTests",
            dependencies: ["GordonKernel", "GordonDomain", "GordonStrategy", "GordonKlineFiles"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GordonctlTests",
            dependencies: ["GordonKernel", "GordonDomain", "GordonStrategy", "GordonKlineFiles", "GordonTestDB", "gordonctl"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GordonPlatformTests",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonLogging", "GordonPostgres", "GordonNATS", "GordonPlatform", "GordonCommandLine", "GordonTestDB",
                "gordon-outbox-relay",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "GordonKernelTests", dependencies: ["GordonKernel"], swiftSettings: strict),
        .testTarget(name: "GordonDomainTests", dependencies: ["GordonKernel", "GordonDomain"], swiftSettings: strict),
        .testTarget(
            name: "GordonProtocolTests",
            dependencies: ["GordonKernel", "GordonDomain", "GordonProtocol"],
            exclude: ["Golden"],  // read through #filePath, so no Foundation bundle is needed
            swiftSettings: strict
        ),
        .testTarget(
            name: "GordonMigrationsTests",
            dependencies: [
                "GordonKernel", "GordonPostgres", "GordonMigrations", "GordonTestDB", "gordon-migrate",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GordonNATSTests",
            dependencies: [
                "GordonKernel", "GordonNATS", "GordonTestDB",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GordonWatchdogTests",
            dependencies: ["GordonKernel", "GordonProcess", "GordonPostgres", "GordonWatchdog", "GordonTestDB", "gordon-watchdog", "gordon-migrate",
                           .product(name: "PostgresNIO", package: "postgres-nio")],
            exclude: ["Fixtures"],  // read through #filePath (and by Benchmarks/backup)
            swiftSettings: strict
        ),
        .testTarget(
            name: "GordonBusTests",
            dependencies: [
                "GordonKernel", "GordonDomain", "GordonProtocol", "GordonNATS", "GordonBus", "GordonPostgres", "GordonMigrations", "GordonTestDB",
                "gordon-outbox-relay",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
