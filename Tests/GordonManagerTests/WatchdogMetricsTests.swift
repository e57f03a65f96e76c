import Foundation
import GordonManager
import GordonWatchdog
import Testing

@Suite("WatchdogMetrics: the watchdog's status file as gauges on the manager's /metrics")
struct WatchdogMetricsTests {
    static func value(_ samples: [WatchdogMetrics.Sample], _ family: WatchdogMetrics.Family, _ service: String? = nil) -> Double? {
        samples.first { $0.name == family.name && $0.service == service }?.value
    }

    /// A status as the watchdog writes it (decoded from its JSON, as the manager reads it).
    static func status(backup: WatchdogStatus.Backup?) throws -> WatchdogStatus {
        let backupJSON = try backup.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) } ?? "null"
        return try JSONDecoder().decode(WatchdogStatus.self, from: Data("""
            {"updatedAt": "2026-12-07T03:00:00Z", "watchdogPid": 7, "phase": "running", "reason": "", "migrateAttempts": 1,
             "services": [{"name": "gordon-risk", "state": "running", "restarts": 0},
                          {"name": "gordon-data", "state": "crash_loop", "restarts": 5},
                          {"name": "gordon-bot-demo", "state": "backoff", "restarts": 1}],
             "backup": \(backupJSON)}
            """.utf8))
    }

    @Test("No status file: only 'unreadable', so no stale value passes for a fresh one")
    func unreadable() {
        #expect(WatchdogMetrics.samples(nil, now: 0) == [.init(name: WatchdogMetrics.statusReadable.name, service: nil, value: 0)])
        #expect(WatchdogMetrics.samples(statusFile: "/nonexistent/status.json", now: 0).count == 1)
    }

    @Test("Services, phase and age")
    func services() throws {
        let samples = WatchdogMetrics.samples(try Self.status(backup: nil), now: 1_796_612_400 + 12)
        #expect(Self.value(samples, WatchdogMetrics.statusReadable) == 1)
        #expect(Self.value(samples, WatchdogMetrics.running) == 1)
        #expect(Self.value(samples, WatchdogMetrics.statusAge) == 12)
        #expect(Self.value(samples, WatchdogMetrics.serviceUp, "gordon-risk") == 1)
        #expect(Self.value(samples, WatchdogMetrics.serviceUp, "gordon-data") == 0)
        #expect(Self.value(samples, WatchdogMetrics.serviceUp, "gordon-bot-demo") == 0)
        #expect(Self.value(samples, WatchdogMetrics.serviceCrashLoop, "gordon-data") == 1)
        #expect(Self.value(samples, WatchdogMetrics.serviceCrashLoop, "gordon-bot-demo") == 0)
        #expect(Self.value(samples, WatchdogMetrics.serviceRestarts, "gordon-data") == 5)
        #expect(Self.value(samples, WatchdogMetrics.backupLastSuccess) == nil, "no backup configured: no backup gauges")
    }

    @Test("The last success is the newest of this watchdog's success and the snapshots listed at its start")
    func lastSuccessSurvivesARestart() throws {
        var backup = WatchdogStatus.Backup()
        backup.snapshots = [.init(id: "b", time: "2026-12-06T03:00:00.123456789+01:00"), .init(id: "a", time: "2026-12-05T02:00:00Z")]
        var samples = WatchdogMetrics.samples(try Self.status(backup: backup), now: 1_796_612_400)
        #expect(Self.value(samples, WatchdogMetrics.backupLastSuccess) == 1_796_522_400.123)
        #expect(Self.value(samples, WatchdogMetrics.backupSnapshots) == 2)
        #expect(Self.value(samples, WatchdogMetrics.backupLastFailed) == 0)

        backup.lastResult = "failed"
        backup.lastSuccessAt = "2026-12-07T03:00:00Z"
        samples = WatchdogMetrics.samples(try Self.status(backup: backup), now: 1_796_612_400)
        #expect(Self.value(samples, WatchdogMetrics.backupLastSuccess) == 1_796_612_400)
        #expect(Self.value(samples, WatchdogMetrics.backupLastFailed) == 1)

        samples = WatchdogMetrics.samples(try Self.status(backup: WatchdogStatus.Backup()), now: 0)
        #expect(Self.value(samples, WatchdogMetrics.backupLastSuccess)?.isNaN == true, "never backed up: NaN, which no alert compares true")
    }
}
