import Foundation
public import GordonKernel
import GordonPlatform
import NIOHTTP1

/// The console's only way to Gordon: gordon-manager's API on its loopback port, with the
/// console's token and the signed-in user's name, which the manager records as
/// `console.<user>` against every action (DESIGN §3). The console holds no database role, no
/// NATS user and no exchange key.
public struct ManagerClient: Sendable {
    public struct Failure: Error, Sendable {
        public let status: Int
        public let code: String?
        public let message: String
    }

    let http: ServiceHTTPClient
    let token: Secret

    public init(baseURL: String, token: Secret) {
        http = ServiceHTTPClient(peer: "gordon-manager", baseURL: baseURL, timeout: .seconds(15))
        self.token = token
    }

    /// A JSON document from the API (`path` below `/api/v1/`).
    public func get(_ path: String, as user: String) async throws(Failure) -> Any {
        try Self.decode(try await send(.GET, path, body: nil, as: user))
    }

    /// An action, with its reason; the manager's answer as JSON.
    public func post(_ path: String, reason: String, as user: String) async throws(Failure) -> Any {
        var body = "{\"reason\":"
        JSONStringLiteral.append(reason, to: &body)
        body += "}"
        return try Self.decode(try await send(.POST, path, body: Array(body.utf8), as: user))
    }

    /// A request whose body the console built whole (a backtest).
    public func post(_ path: String, json body: String, as user: String) async throws(Failure) -> Any {
        try Self.decode(try await send(.POST, path, body: Array(body.utf8), as: user))
    }

    private func send(_ method: HTTPMethod, _ path: String, body: [UInt8]?, as user: String) async throws(Failure) -> [UInt8] {
        let reply: ServiceHTTPClient.Reply
        do {
            reply = try await http.send(method, "/api/v1/" + path, body: body, headers: [
                (name: "Authorization", value: token.withPlainText { "Bearer " + $0 }), (name: "X-Gordon-Operator", value: user),
            ])
        } catch {
            throw Failure(status: 502, code: error.code.rawValue, message: "gordon-manager cannot be reached: \(error.message)")
        }
        guard (200..<300).contains(reply.status) else {
            let object = (try? JSONSerialization.jsonObject(with: Data(reply.body))) as? [String: Any]
            throw Failure(status: reply.status, code: object?["code"] as? String,
                          message: (object?["message"] as? String) ?? "gordon-manager answered HTTP \(reply.status)")
        }
        return reply.body
    }

    private static func decode(_ body: [UInt8]) throws(Failure) -> Any {
        guard let value = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) else {
            throw Failure(status: 502, code: nil, message: "gordon-manager's answer is not JSON")
        }
        return value
    }
}
