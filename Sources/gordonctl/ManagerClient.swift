#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import FoundationEssentials
import GordonCommandLine
import GordonKernel
import GordonPlatform
import NIOHTTP1

/// Where gordon-manager's API is, and how to print its answers; shared by every operator command.
struct ManagerOptions: ParsableArguments {
    static let defaultSocket = getenv("GORDON_MANAGER_SOCKET").map { String(cString: $0) } ?? "/run/gordon-manager/manager.sock"

    @Option(help: "gordon-manager's API socket (default: $GORDON_MANAGER_SOCKET, else /run/gordon-manager/manager.sock)")
    var socket = ManagerOptions.defaultSocket

    @Flag(help: "Print the API's JSON, for scripts")
    var json = false
}

/// Exit statuses of the operator commands (also in the README).
enum OperatorExit {
    /// The manager answered with an error (refused, not found, bad request).
    static let refused: Int32 = 1
    /// Bad command-line input.
    static let usage: Int32 = 2
    /// The manager cannot be reached: not running, or the caller may not open its socket.
    static let unreachable: Int32 = 3
    /// The request is filed, but gordon-risk has not carried it out yet.
    static let pending: Int32 = 4
}

/// A call to gordon-manager over its Unix socket. Failures end the command with one line
/// on standard error and an `OperatorExit` status.
struct ManagerClient {
    let socket: String

    func call(_ method: HTTPMethod, _ path: String, body: [String: String]? = nil) async throws -> JSONValue {
        try await call(method, path, bytes: try body.map { Array(try JSONEncoder().encode($0)) })
    }

    func call(_ method: HTTPMethod, _ path: String, json body: some Encodable) async throws -> JSONValue {
        try await call(method, path, bytes: Array(try JSONEncoder().encode(body)))
    }

    private func call(_ method: HTTPMethod, _ path: String, bytes payload: [UInt8]?) async throws -> JSONValue {
        try reachable()
        let reply: ServiceHTTPClient.Reply
        do {
            reply = try await send(method, path, bytes: payload)
        } catch {
            fail("gordon-manager is not running or not answering on \(socket): \(error.message)", status: OperatorExit.unreachable)
        }
        return answer(reply)
    }

    /// A POST whose body is a file's bytes, as they are.
    func upload(_ path: String, bytes: [UInt8]) async throws -> JSONValue {
        try await call(.POST, path, bytes: bytes)
    }

    /// A GET that answers nil while the manager cannot be reached (a restore restarts it);
    /// its refusals still end the command.
    func callIfReachable(_ path: String) async -> JSONValue? {
        guard access(socket, R_OK | W_OK) == 0, let reply = try? await send(.GET, path, bytes: nil) else { return nil }
        return answer(reply)
    }

    private struct Unreachable: Error {
        let message: String
    }

    private func send(_ method: HTTPMethod, _ path: String, bytes payload: [UInt8]?) async throws(Unreachable) -> ServiceHTTPClient.Reply {
        let client = ServiceHTTPClient(peer: "gordon-manager", baseURL: "http+unix://\(socket.percentEncoded)", timeout: .seconds(60))
        do {
            return try await client.send(method, "/api/v1/" + path, body: payload)
        } catch {
            throw Unreachable(message: error.message)
        }
    }

    private func answer(_ reply: ServiceHTTPClient.Reply) -> JSONValue {
        let value = (try? JSONDecoder().decode(JSONValue.self, from: Data(reply.body))) ?? .null
        guard reply.status == 200 else {
            let code = value["code"]?.text ?? "HTTP \(reply.status)"
            let message = value["message"]?.text ?? String(decoding: reply.body, as: UTF8.self)
            fail("\(code) \(message)", status: reply.status == 202 ? OperatorExit.pending : OperatorExit.refused)
        }
        return value
    }

    /// Says plainly why the socket cannot be used, before a connection error would.
    func reachable() throws {
        var status = stat()
        guard stat(socket, &status) == 0 else {
            fail("gordon-manager is not running: no socket at \(socket)", status: OperatorExit.unreachable)
        }
        guard access(socket, R_OK | W_OK) == 0 else {
            fail("you may not use gordon-manager's socket \(socket): only root and the members of its group (gordon-ops) may",
                 status: OperatorExit.unreachable)
        }
    }

    func fail(_ message: String, status: Int32) -> Never {
        CommandLineEntry.fail(name: "gordonctl", message, status: status)
    }
}

extension String {
    /// Every byte but the URL-safe ASCII letters, digits and `-._~` as `%XX`.
    var percentEncoded: String {
        utf8.map { byte -> String in
            let character = Character(Unicode.Scalar(byte))
            return (character.isLetter || character.isNumber || "-._~".contains(character)) && byte < 128
                ? String(character) : "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
        }.joined()
    }

    func leftPadded(_ width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

extension JSONValue {
    /// As a table cell: strings bare, lists joined, objects as JSON.
    var text: String {
        switch self {
        case .null: ""
        case .bool(let value): value ? "yes" : "no"
        case .string(let value): value
        case .array(let items): items.map(\.text).joined(separator: ",")
        case .number, .object: description
        }
    }

    /// What `--json` prints.
    var json: String { description }
}

/// Rows under a header, each column as wide as its widest cell.
func table(_ columns: [(title: String, key: String)], _ rows: [JSONValue]) -> String {
    let cells = rows.map { row in columns.map { row[$0.key]?.text ?? "" } }
    let widths = columns.indices.map { index in max(columns[index].title.count, cells.map { $0[index].count }.max() ?? 0) }
    func line(_ values: [String]) -> String {
        var text = ""
        for (index, value) in values.enumerated() {
            text += index == values.count - 1 ? value : value.padding(to: widths[index])
            if index < values.count - 1 { text += "  " }
        }
        return text
    }
    var lines = [line(columns.map(\.title))]
    lines += cells.map(line)
    if rows.isEmpty { lines.append("(none)") }
    return lines.joined(separator: "\n")
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
