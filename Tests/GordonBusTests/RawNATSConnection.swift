#if canImport(Glibc)
import Glibc
private let streamSocketType = Int32(SOCK_STREAM.rawValue)
#elseif canImport(Musl)
import Musl
private let streamSocketType = SOCK_STREAM
#elseif canImport(Darwin)
import Darwin
private let streamSocketType = SOCK_STREAM
#endif

/// A bare, blocking NATS protocol connection, for the one thing `NATSClient` will not send:
/// a PUB whose subject has `*` or `>` tokens.
///
/// The nats 2.9 consumer-create subject embeds the filter, so creating a consumer with a
/// wildcard filter means publishing such a subject (nats.go does exactly that, and the
/// server accepts it outside pedantic mode). The matrix needs to send those subjects to
/// check their permissions; `NATSClient` rightly refuses wildcards in an ordinary publish.
final class RawNATSConnection {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let descriptor: Int32
    private var input: [UInt8] = []
    private var messages: [(subject: String, payload: String)] = []
    private var inboxSubscribed = false
    let inbox: String

    /// Connects and authenticates; throws unless the server answers the first PING cleanly.
    init(port: Int, user: String, password: String, inboxPrefix: String) throws {
        inbox = inboxPrefix + ".raw"
        descriptor = socket(AF_INET, streamSocketType, 0)
        guard descriptor >= 0 else { throw Failure(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw Failure(description: "connect to 127.0.0.1:\(port) failed")
        }
        // A deadline for every read, so a server that never answers fails the test
        // instead of hanging it.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let info = try readLine()
        guard info.hasPrefix("INFO ") else { throw Failure(description: "expected INFO, got \(info.prefix(80))") }
        let connectJSON = "{\"verbose\":false,\"pedantic\":false,\"lang\":\"swift-raw\",\"protocol\":1,\"headers\":true,"
            + "\"no_responders\":true,\"user\":\"\(user)\",\"pass\":\"\(password)\"}"
        let errors = try roundTrip("CONNECT \(connectJSON)\r\n")
        guard errors.isEmpty else { throw Failure(description: "connect as \(user) refused: \(errors)") }
    }

    deinit { close(descriptor) }

    /// Publishes and waits for the server to have processed it (PING/PONG); returns the
    /// text of every `-ERR` the server sent meanwhile.
    func publish(_ subject: String, payload: String = "", replyTo: String? = nil) throws -> [String] {
        let reply = replyTo.map { " " + $0 } ?? ""
        return try roundTrip("PUB \(subject)\(reply) \(payload.utf8.count)\r\n\(payload)\r\n")
    }

    /// Request/reply on this connection's inbox: the reply's payload, or nil when the server
    /// reported errors instead (returned in `errors`).
    func request(_ subject: String, payload: String) throws -> (reply: String?, errors: [String]) {
        if !inboxSubscribed {
            let errors = try roundTrip("SUB \(inbox) 1\r\n")
            guard errors.isEmpty else { return (nil, errors) }
            inboxSubscribed = true
        }
        let errors = try publish(subject, payload: payload, replyTo: inbox)
        guard errors.isEmpty else { return (nil, errors) }
        var late: [String] = []
        while messages.isEmpty {
            _ = try readOperation(into: &late)
            guard late.isEmpty else { return (nil, late) }
        }
        return (messages.removeFirst().payload, [])
    }

    private func roundTrip(_ commands: String) throws -> [String] {
        try write(commands + "PING\r\n")
        var errors: [String] = []
        while try !readOperation(into: &errors) {}
        return errors
    }

    /// Reads one server operation, collecting `-ERR` texts; true when it was the PONG.
    private func readOperation(into errors: inout [String]) throws -> Bool {
        let line = try readLine()
        if line == "PONG" { return true }
        if line == "PING" { try write("PONG\r\n"); return false }
        if line.hasPrefix("-ERR ") {
            var text = Substring(line.dropFirst(5))
            if text.hasPrefix("'"), text.hasSuffix("'"), text.count >= 2 { text = text.dropFirst().dropLast() }
            errors.append(String(text))
            return false
        }
        if line.hasPrefix("MSG ") {
            let fields = line.split(separator: " ")
            guard fields.count >= 4, let size = Int(fields[fields.count - 1]) else { throw Failure(description: "bad MSG line \(line)") }
            let body = try readBytes(size + 2)
            messages.append((String(fields[1]), String(decoding: body.prefix(size), as: UTF8.self)))
            return false
        }
        return false  // +OK, INFO updates
    }

    private func write(_ text: String) throws {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
            guard written > 0 else { throw Failure(description: "send failed") }
            bytes = bytes.dropFirst(written)
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { throw Failure(description: "connection closed or read timed out") }
        input += chunk[0..<count]
    }

    private func readLine() throws -> String {
        while true {
            if let newline = input.firstIndex(of: UInt8(ascii: "\n")) {
                var line = input[..<newline]
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                let text = String(decoding: line, as: UTF8.self)
                input.removeSubrange(...newline)
                return text
            }
            try fill()
        }
    }

    private func readBytes(_ count: Int) throws -> [UInt8] {
        while input.count < count { try fill() }
        defer { input.removeSubrange(..<count) }
        return Array(input[..<count])
    }
}
