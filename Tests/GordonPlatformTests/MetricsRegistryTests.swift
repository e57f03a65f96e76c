import GordonPlatform
import Synchronization
import Testing

@Suite("MetricsRegistry: counters kept elsewhere, sampled at scrape time")
struct MetricsRegistryTests {
    /// An actor's state, as the exchange client's rate limiter keeps it.
    actor Limits {
        var used = ["REQUEST_WEIGHT": 120, "ORDERS": 3]
        func set(_ rule: String, _ value: Int) { used[rule] = value }
    }

    @Test func eachScrapeReadsTheCurrentValues() async {
        let registry = MetricsRegistry()
        let limits = Limits()
        registry.sampledGauges(name: "gordon_test_weight_used", help: "Weight used in the current window") {
            await limits.used.map { ([("rule", $0.key)], Double($0.value)) }
        }
        let calls = Mutex(0)
        registry.sampledGauge(name: "gordon_test_scrapes", help: "How often the sampler ran") {
            Double(calls.withLock { $0 += 1; return $0 })
        }
        let first = await registry.render()
        #expect(first.contains(#"gordon_test_weight_used{rule="REQUEST_WEIGHT"} 120"#), "\(first)")
        #expect(first.contains(#"gordon_test_weight_used{rule="ORDERS"} 3"#), "\(first)")
        #expect(first.contains("gordon_test_scrapes 1"), "\(first)")
        #expect(first.contains("# HELP gordon_test_weight_used Weight used in the current window"), "\(first)")

        await limits.set("REQUEST_WEIGHT", 480)
        let second = await registry.render()
        #expect(second.contains(#"gordon_test_weight_used{rule="REQUEST_WEIGHT"} 480"#), "\(second)")
        #expect(second.contains("gordon_test_scrapes 2"), "\(second)")
    }

    @Test("Each service reports its own resident memory and CPU time, as Prometheus's clients name them")
    func processFootprint() async {
        let registry = MetricsRegistry()
        registry.exportProcess()
        let text = await registry.render()
        func value(_ name: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
        }
        // This test process holds megabytes and has spent CPU time loading them.
        #expect(value("process_resident_memory_bytes").map { $0 > 1_000_000 && $0 < 100_000_000_000 } == true, "\(text)")
        #expect(value("process_cpu_seconds_total").map { $0 > 0 } == true, "\(text)")
    }
}
