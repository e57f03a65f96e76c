import Foundation
import GordonDomain
import GordonKernel
import GordonLogging
import GordonPlatform
import Logging
import Testing

@Suite("JSON-lines logging and secret redaction")
struct LogFormatTests {
    @Test func oneObjectPerLineWithTheTraceIdLifted() {
        let line = JSONLogHandler.render(
            time: Timestamp(milliseconds: 1_704_067_200_123), level: .warning, service: "gordon-data", label: "gordon.gordon-data",
            message: "stream \"BTCUSDT\" lagging\n", metadata: ["trace_id": "0af7651916cd43dd8448eb211c80319c", "lag_ms": "1500",
                                                               "tags": ["a", "b"]])
        #expect(line == #"{"time":"2024-01-01T00:00:00.123Z","level":"warning","service":"gordon-data","#
            + #""trace_id":"0af7651916cd43dd8448eb211c80319c","message":"stream \"BTCUSDT\" lagging\n","#
            + #""label":"gordon.gordon-data","metadata":{"lag_ms":"1500","tags":["a","b"]}}"#)
    }

    @Test func noMetadataNoMetadataObject() {
        let line = JSONLogHandler.render(time: Timestamp(milliseconds: 0), level: .info, service: "s", label: "l",
                                         message: "m", metadata: [:])
        #expect(line == #"{"time":"1970-01-01T00:00:00.000Z","level":"info","service":"s","message":"m","label":"l"}"#)
    }

    @Test func theRedactorReplacesEveryRegisteredValueLongestFirst() {
        let redactor = SecretRedactor()
        redactor.register(["hunter22", "hunter22-and-more", "abc"])
        #expect(redactor.redact("login hunter22-and-more then hunter22") == "login <redacted> then <redacted>")
        // Too short to register: replacing it would mangle ordinary text.
        #expect(redactor.redact("abc") == "abc")
    }

    @Test func aSecretThatJSONWouldEscapeIsRedactedAnyway() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString)").path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(descriptor >= 0)
        defer {
            close(descriptor)
            try? FileManager.default.removeItem(atPath: path)
        }
        let secret = #"pa"ss\wo\#trd"#
        let redactor = SecretRedactor()
        redactor.register([secret])
        let sink = LineSink(descriptor: descriptor)
        let logger = Logger(label: "test") { label in
            JSONLogHandler(label: label, service: "gordon-test", redactor: redactor, sink: sink)
        }
        logger.error("login failed with \(secret)", metadata: ["attempt": ["password": "\(secret)"]])
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(written.contains("login failed with <redacted>"), "\(written)")
        let escaped = String(JSONStringLiteral.quoted(secret).dropFirst().dropLast())
        #expect(!written.contains(secret) && !written.contains(escaped), "\(written)")
        #expect(written.components(separatedBy: "<redacted>").count == 3, "message and metadata: \(written)")
        #expect(written.hasSuffix("}\n") && written.split(separator: "\n").count == 1, "\(written)")
    }
}
