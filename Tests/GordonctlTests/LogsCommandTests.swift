import Foundation
import GordonTestDB
import Testing

/// `gordonctl logs` over a log file as the services write it (JSON lines, start-up lines
/// between them), as an operator runs it.
@Suite struct LogsCommandTests {
    static func entry(_ second: Int, _ level: String, _ service: String, _ message: String, metadata: String = "") -> String {
        let extra = metadata.isEmpty ? "" : ",\"metadata\":{\(metadata)}"
        return "{\"time\":\"2026-12-07T05:20:\(second < 10 ? "0" : "")\(second).000Z\",\"level\":\"\(level)\",\"service\":\"\(service)\","
            + "\"message\":\"\(message)\",\"label\":\"gordon.\(service)\"\(extra)}"
    }

    static let log = [
        entry(1, "info", "gordon-data", "gordon-data starting", metadata: "\"port\":\"8081\""),
        "gordon-data listening on http://127.0.0.1:8081",
        entry(2, "info", "gordon-risk", "risk ready"),
        entry(3, "warning", "gordon-data", "kline stream dropped; reconnecting", metadata: "\"error\":\"connection reset\",\"symbol\":\"BTCUSDT\""),
        "{not json",
        entry(4, "info", "gordon-data", "backfilled", metadata: "\"klines\":\"60\""),
        entry(5, "error", "gordon-risk", "breaker tripped"),
    ].joined(separator: "\n") + "\n"

    @Test func showsOneServicesLastLinesReadably() async throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("stack.log", Self.log)
        let data = try await gordonctl(["logs", "data", "--file", file, "--lines", "2"])
        #expect(data.status == 0, "\(data.stderr)")
        #expect(data.stdout == """
            2026-12-07T05:20:03.000Z WARNING  kline stream dropped; reconnecting error="connection reset" symbol=BTCUSDT
            2026-12-07T05:20:04.000Z INFO     backfilled klines=60

            """, "\(data.stdout)")

        let warnings = try await gordonctl(["logs", "--file", file, "--level", "warning"])
        #expect(warnings.stdout.split(separator: "\n").map { $0.contains("gordon-data") || $0.contains("gordon-risk") } == [true, true])
        #expect(warnings.stdout.contains("breaker tripped") && !warnings.stdout.contains("risk ready"), "\(warnings.stdout)")

        // Every service: the lines no service can claim are shown as they are.
        let all = try await gordonctl(["logs", "--file", file, "--lines", "100"])
        #expect(all.stdout.split(separator: "\n").count == 7 && all.stdout.contains("gordon-data listening on"), "\(all.stdout)")

        let json = try await gordonctl(["logs", "gordon-risk", "--file", file, "--json"])
        #expect(json.stdout.split(separator: "\n").map(String.init) == [Self.entry(2, "info", "gordon-risk", "risk ready"),
                                                                          Self.entry(5, "error", "gordon-risk", "breaker tripped")])
    }

    @Test func badInputIsOneClearLineAndExitTwo() async throws {
        for (arguments, complaint) in [
            (["logs", "Data Service", "--file", "/dev/null"], "SERVICE must be"),
            (["logs", "data", "--file", "/dev/null", "--level", "loud"], "--level must be"),
            (["logs", "data", "--file", "/nonexistent/gordon.log"], "cannot read /nonexistent/gordon.log"),
            (["logs", "data", "--file", "/dev/null", "--lines", "0"], "--lines must be"),
        ] {
            let result = try await gordonctl(arguments)
            #expect(result.status == 2 && result.stderr.contains(complaint), "\(arguments): \(result.stderr)")
        }
    }

    @Test func followPrintsWhatIsAppended() async throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("stack.log", Self.log)
        let follower = try TestCommand("gordonctl", ["logs", "risk", "--file", file, "--follow", "--lines", "1"])
        defer { Task { _ = try? await follower.stop() } }
        #expect(try await eventually { follower.stdout.contains("breaker tripped") })
        #expect(!follower.stdout.contains("risk ready"))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((Self.entry(6, "notice", "gordon-risk", "latch opened by operator:alice") + "\n"
            + Self.entry(7, "info", "gordon-data", "not risk's") + "\n").utf8))
        try handle.close()
        #expect(try await eventually { follower.stdout.contains("latch opened by operator:alice") })
        #expect(!follower.stdout.contains("not risk's"))
    }
}
