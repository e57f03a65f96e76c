import BinanceSim
import GordonBus
import GordonData
import GordonDomain
import GordonKernel
import GordonProtocol
import GordonTestDB
import Testing

@Suite("gordon-data: alternative data sources", .serialized)
struct MetricSourceTests {
    /// alternative.me's own example answer (alternative.me/crypto/fear-and-greed-index/, "API").
    static let documented = #"""
        {
            "name": "Fear and Greed Index",
            "data": [
                {
                    "value": "40",
                    "value_classification": "Fear",
                    "timestamp": "1551157200",
                    "time_until_update": "68499"
                }
            ],
            "metadata": {
                "error": null
            }
        }
        """#

    @Test("the provider's documented answer decodes to one exact value at its timestamp")
    func decodesTheDocumentedShape() throws {
        let observations = try FearAndGreedSource().decode(Array(Self.documented.utf8))
        #expect(observations == [MetricObservation(name: FearAndGreedSource.metric, observedAt: Timestamp(milliseconds: 1_551_157_200_000),
                                                   value: ExactDecimal(40), source: "alternative.me", unit: "index")])
    }

    @Test("a body that is not the provider's JSON, an error it reports, or a value out of range is refused whole",
          arguments: [#"{"name":"Fear and Greed Index","data":[{"value":"#, #"{"data":[],"metadata":{"error":"rate limited"}}"#,
                      #"{"data":[{"value":"40","timestamp":"1551157200"},{"value":"140","timestamp":"1551070800"}]}"#,
                      #"{"data":[{"value":"40","timestamp":"9223372036854776"}]}"#])
    func refusesWhole(_ body: String) {
        #expect(throws: GordonError.self) { _ = try FearAndGreedSource().decode(Array(body.utf8)) }
    }

    @Test("polled from the simulator: values stored once and published once; a malformed answer and a 5xx store nothing and leave klines flowing")
    func pollsTheSimulator() async throws {
        try await DataWorld.with(preload: 24 * 60 * 3) { world in
            let poller = MetricPoller(source: FearAndGreedSource(days: 3), baseURL: world.endpoint.restBaseURL, database: world.pool,
                                      publisher: JetStreamEventPublisher(jetStream: world.jetStream), logger: testLogger)
            try await poller.pollOnce()
            try await poller.pollOnce()  // the same days again: skipped by the table, dropped by the stream
            #expect(try await world.metricCount() == 3)
            #expect(try await world.streamedMetrics(expected: 3) == 3)

            world.simulator.updateFaults { $0.malformedSourceReplies = 1 }
            await #expect(throws: GordonError.self) { try await poller.pollOnce() }
            world.simulator.updateFaults { $0.serverErrors = 1 }
            await #expect(throws: GordonError.self) { try await poller.pollOnce() }
            #expect(poller.statistics.failures == 2 && poller.statistics.polls == 4)
            #expect(try await world.metricCount() == 3)

            // The kline path is a different road: unaffected.
            let ingest = try world.ingest()
            let running = Task { await ingest.run() }
            _ = try await eventually(timeout: .seconds(30)) { world.simulator.streamConnectionCount > 0 }
            world.simulator.updateFaults { $0.malformedSourceReplies = 5 }
            world.simulator.advance(steps: 2)
            #expect(try await eventually(timeout: .seconds(30)) { try await world.storedOpenTimes().count == 2 })
            running.cancel()
            await running.value
        }
    }
}
