import BinanceSim
import Foundation
import GordonKernel
import GordonTestDB
import Testing

/// Binance's own Python SDK (binance-connector) and ccxt against the simulator, unchanged but
/// for the base URL: what a trading tool calls must answer as Binance answers.
@Suite("Third-party Binance clients against BinanceSim")
struct PythonClientsTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/python-clients/binance_clients.py").path

    @Test("binance-connector and ccxt place, query and cancel orders and read the market", arguments: ["connector", "ccxt"])
    func client(_ name: String) async throws {
        let python = try #require(TestEnvironment.variable("GORDON_PYTHON_CLIENTS"),
                                  "GORDON_PYTHON_CLIENTS is unset: scripts/test prepares the Python clients' venv")
        try await withSim { sim in
            sim.simulator.advance(steps: 5)  // a public trade tape for trades / aggTrades
            let secret = SimHarness.secretKey.withPlainText { $0 }
            let result = try await TestCommand.runProgram(python, [
                Self.script, "--base-url", sim.endpoint.restBaseURL, "--api-key", SimHarness.apiKey, "--api-secret", secret, "--only", name,
            ])
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.hasSuffix("all checks passed\n"))
        }
    }
}
