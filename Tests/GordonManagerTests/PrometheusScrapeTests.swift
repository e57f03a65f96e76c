import AsyncHTTPClient
import Foundation
import GordonTestDB
import Testing

/// A real Prometheus (Debian's) scraping gordon-risk and gordon-manager with the project's
/// alert rules loaded: every rule evaluates without error, the alerts a halted install with
/// a failed, day-old backup must raise are raised, and every query of the Grafana dashboard
/// is valid PromQL.
extension ManagerProcessTests {
    static let monitoring = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("monitoring").path

    @Test("Prometheus scrapes risk and the manager, evaluates every alert rule, raises halted and backup alerts; the dashboard's queries are valid")
    func prometheusScrapesAndAlerts() async throws {
        try await withWorld { world, _ in
            // The watchdog's status: risk and data running, data restarted twice, the last
            // backup failed and the last success two days old.
            let statusFile = world.directory + "/watchdog-status.json"
            let lastSuccess = Int(Date().timeIntervalSince1970) - 2 * 86_400
            let lastSuccessText = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(lastSuccess)))
            try """
                {"updatedAt": "\(ISO8601DateFormatter().string(from: Date()))", "watchdogPid": 1, "phase": "running", "reason": "",
                 "migrateAttempts": 1,
                 "services": [{"name": "gordon-risk", "state": "running", "restarts": 0},
                              {"name": "gordon-data", "state": "crash_loop", "restarts": 5}],
                 "backup": {"lastResult": "failed", "lastSuccessAt": "\(lastSuccessText)", "snapshots": []}}
                """.write(toFile: statusFile, atomically: true, encoding: .utf8)
            try await world.startRisk()
            try await world.startManager(extra: ["--watchdog-status", statusFile])
            let riskPort = try await world.announcedPort(world.risk!, after: "gordon-risk listening on")
            let managerPort = try await world.announcedPort(world.manager!, after: "gordon-manager listening on")

            let port = try TestNATSServer.freePort()
            try """
                global: {scrape_interval: 1s, evaluation_interval: 1s}
                rule_files: ["\(Self.monitoring)/gordon-alerts.yml"]
                scrape_configs:
                  - {job_name: gordon-risk, static_configs: [{targets: ["127.0.0.1:\(riskPort)"]}]}
                  - {job_name: gordon-manager, static_configs: [{targets: ["127.0.0.1:\(managerPort)"]}]}
                """.write(toFile: world.directory + "/prometheus.yml", atomically: true, encoding: .utf8)
            let prometheus = try TestCommand(program: "/usr/bin/prometheus", [
                "--config.file=\(world.directory)/prometheus.yml", "--storage.tsdb.path=\(world.directory)/prometheus",
                "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
            ])
            defer { Task { _ = try? await prometheus.stop() } }
            let api = PrometheusAPI(port: port)

            // Both targets up, and what they serve is what the database and the status file say.
            let scraped = try await eventually(timeout: .seconds(60), pollEvery: .milliseconds(250)) {
                (try? await api.values("up")).map { $0["gordon-risk"] == 1 && $0["gordon-manager"] == 1 } ?? false
            }
            #expect(scraped, "\(prometheus.stderr.suffix(2000))")
            let seen = try await eventually(timeout: .seconds(30), pollEvery: .milliseconds(250)) {
                (try? await api.values("gordon_risk_halted"))?["gordon-risk"] == 1
            }
            #expect(seen, "a fresh install is halted")
            #expect(try await api.values("gordon_backup_last_success_timestamp_seconds")["gordon-manager"] == Double(lastSuccess))
            #expect(try await api.values("gordon_watchdog_service_crash_loop{service=\"gordon-data\"}")["gordon-manager"] == 1)
            #expect(try await api.values("gordon_watchdog_service_restarts{service=\"gordon-data\"}")["gordon-manager"] == 5)
            #expect(try await api.values("process_resident_memory_bytes")["gordon-risk"].map { $0 > 1_000_000 } == true)

            // Every rule evaluated without error; the alerts this device deserves are raised.
            let evaluated = try await eventually(timeout: .seconds(60), pollEvery: .milliseconds(250)) {
                guard let rules = try? await api.rules() else { return false }
                return !rules.isEmpty && rules.allSatisfy { $0.evaluated }
            }
            #expect(evaluated)
            let broken = try await api.rules().filter { $0.health != "ok" }
            #expect(broken.isEmpty, "\(broken)")
            let raised = try await eventually(timeout: .seconds(60), pollEvery: .milliseconds(250)) {
                let alerts = (try? await api.alerts()) ?? [:]
                return alerts["GordonBackupFailed"] == "firing" && alerts["GordonBackupTooOld"] == "firing"
                    && alerts["GordonServiceCrashLoop"] == "firing" && alerts["GordonHalted"] == "pending"
            }
            let alerts = try await api.alerts()
            #expect(raised, "\(alerts)")
            #expect(alerts["GordonWatchdogSilent"] == nil, "the status was written moments ago")

            // Every query of the dashboard parses and evaluates.
            for expression in try Self.dashboardExpressions() {
                let status = try await api.queryStatus(expression)
                #expect(status == "success", "\(expression): \(status)")
            }
        }
    }

    static func dashboardExpressions() throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: monitoring + "/grafana/gordon-dashboard.json"))
        let dashboard = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let panels = dashboard["panels"] as! [[String: Any]]
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(expressions.count > 20)
        return expressions
    }
}

/// Prometheus's HTTP API, as far as the test reads it.
struct PrometheusAPI {
    let port: Int

    func get(_ path: String, _ query: [String: String] = [:]) async throws -> [String: Any] {
        var components = URLComponents(string: "http://127.0.0.1:\(port)\(path)")!
        components.queryItems = query.map { URLQueryItem(name: $0.key, value: $0.value) }
        // '+' is a space in a query string: encode it, or 'a + b' arrives as 'a   b'.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: components.url!.absoluteString), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 22)
        return try JSONSerialization.jsonObject(with: Data(buffer: body)) as! [String: Any]
    }

    /// The instant vector of `query`, one value per job.
    func values(_ query: String) async throws -> [String: Double] {
        let answer = try await get("/api/v1/query", ["query": query])
        let result = (answer["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
        var values: [String: Double] = [:]
        for sample in result {
            guard let job = (sample["metric"] as? [String: String])?["job"], let pair = sample["value"] as? [Any],
                  let text = pair.last as? String, let value = Double(text) else { continue }
            values[job] = value
        }
        return values
    }

    /// "success", or Prometheus's error type and message.
    func queryStatus(_ query: String) async throws -> String {
        let answer = try await get("/api/v1/query", ["query": query])
        let status = answer["status"] as? String ?? "?"
        return status == "success" ? status : "\(status): \(answer["errorType"] ?? "") \(answer["error"] ?? "")"
    }

    struct Rule: CustomStringConvertible {
        let name: String
        let health: String
        let evaluated: Bool
        let lastError: String
        var description: String { "\(name): \(health) \(lastError)" }
    }

    func rules() async throws -> [Rule] {
        let answer = try await get("/api/v1/rules")
        let groups = (answer["data"] as? [String: Any])?["groups"] as? [[String: Any]] ?? []
        return groups.flatMap { group in
            (group["rules"] as? [[String: Any]] ?? []).map { rule in
                let last = rule["lastEvaluation"] as? String ?? ""
                return Rule(name: rule["name"] as? String ?? "?", health: rule["health"] as? String ?? "?",
                            evaluated: !last.isEmpty && !last.hasPrefix("0001-"), lastError: rule["lastError"] as? String ?? "")
            }
        }
    }

    /// Each active alert's name and state (pending or firing).
    func alerts() async throws -> [String: String] {
        let answer = try await get("/api/v1/alerts")
        let alerts = (answer["data"] as? [String: Any])?["alerts"] as? [[String: Any]] ?? []
        var states: [String: String] = [:]
        for alert in alerts {
            guard let name = (alert["labels"] as? [String: String])?["alertname"], let state = alert["state"] as? String else { continue }
            if states[name] != "firing" { states[name] = state }
        }
        return states
    }
}
