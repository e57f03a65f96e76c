import AsyncHTTPClient
import NIOHTTP1
import Foundation
import GordonDomain
import GordonExchange
import GordonKernel
import GordonTestDB
import Logging
import NIOCore
import Testing

/// gordon-binance-sim as the local stack runs it: a child process with a keyfile, found by
/// the client through its endpoint alone, stopped by SIGTERM.
@Suite("gordon-binance-sim")
struct BinanceSimCommandTests {
    final class Keys {
        let directory: String
        var path: String { directory + "/gordon-executor.key" }

        init(mode: mode_t = 0o400) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("sim-keys-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try "binance_api_key = \(SimHarness.apiKey)\nbinance_api_secret = \(SimHarness.secretKey.withPlainText { $0 })\n"
                .write(toFile: directory + "/gordon-executor.key", atomically: true, encoding: .utf8)
            chmod(path, mode)
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }
    }

    @Test("serves the client on the port it prints, and stops cleanly on SIGTERM")
    func servesAndStops() async throws {
        let keys = try Keys()
        let sim = try TestCommand("gordon-binance-sim", ["--port", "0", "--keyfile", keys.path, "--pace", "0",
                                                         "--synthetic", "2000", "--preload", "600", "--balance", "USDT=1000"])
        let prefix = "gordon-binance-sim listening on "
        #expect(try await eventually(timeout: .seconds(30)) { sim.stdout.contains(prefix) || !sim.process.isRunning })
        let line = try #require(sim.stdout.split(separator: "\n").first { $0.hasPrefix(prefix) })
        let endpoint = try BinanceEndpoint(parsing: String(line.dropFirst(prefix.count)))

        var logger = Logger(label: "test.binance-client")
        logger.logLevel = .error
        let client = BinanceRESTClient(configuration: try BinanceClientConfiguration(
            endpoint: endpoint, credentials: BinanceCredentials(apiKey: Secret(SimHarness.apiKey), secretKey: SimHarness.secretKey)),
            logger: logger)
        try await client.synchronizeClock()
        let account = try await client.account().domainBalances()
        #expect(account.first { $0.asset == .usdt }?.free == ExactDecimal(1000))
        let history = try await client.klines(symbol: SimHarness.symbol, interval: .oneMinute, limit: 1000)
        #expect(history.count == 600)

        // The process's own endpoints, beside Binance's paths.
        let base = String(line.dropFirst(prefix.count))
        #expect(try await fetch(base + "/healthz") == (200, "ok\n"))
        #expect(try await fetch(base + "/readyz").status == 200)
        let metrics = try await fetch(base + "/metrics")
        #expect(metrics.status == 200 && metrics.body.contains("gordon_sim_stream_connections 0"), "\(metrics.body)")

        // A crash on request: the next kline published comes at half the price the market was at.
        let before = try #require(history.last?.close.value)
        #expect(try await fetch(base + "/sim/shock?factor=0.5", method: .POST).status == 200)
        #expect(try await fetch(base + "/sim/shock?factor=-1", method: .POST).status == 400)
        #expect(try await fetch(base + "/sim/advance?steps=1", method: .POST).status == 200)
        let crashed = try #require(try await client.klines(symbol: SimHarness.symbol, interval: .oneMinute, limit: 1).last?.close.value)
        #expect(crashed < (try before.multiplied(by: ExactDecimal(significand: 6, scale: 1))), "\(before) → \(crashed)")

        let result = try #require(try await sim.stop())
        #expect(result.status == 0)
        // The keyfile's secret never reaches the simulator's output.
        #expect(!(result.stdout + result.stderr).contains(SimHarness.secretKey.withPlainText { $0 }))
    }

    @Test("refuses a keyfile others can read, with one clear line")
    func refusesAnOpenKeyfile() async throws {
        let keys = try Keys(mode: 0o644)
        let result = try await TestCommand.run("gordon-binance-sim", ["--port", "0", "--keyfile", keys.path, "--pace", "0"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("gordon-binance-sim: error:"))
        #expect(result.stderr.contains("GORDON-"))
    }

    @Test("bad arguments say what was wrong")
    func badArguments() async throws {
        let missing = try await TestCommand.run("gordon-binance-sim", ["--port", "0"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("--keyfile"))
        let keys = try Keys()
        let balance = try await TestCommand.run("gordon-binance-sim", ["--keyfile", keys.path, "--balance", "USDT"])
        #expect(balance.status != 0)
        #expect(balance.stderr.contains("--balance must be ASSET=AMOUNT"))
    }

    func fetch(_ url: String, method: HTTPMethod = .GET) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }
}
