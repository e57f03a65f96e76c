#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import GordonKernel

/// The server's `INFO` line: what it is, what it allows and where else it can be reached.
public struct NATSServerInfo: Sendable, Hashable, Decodable {
    public var serverId: String
    public var serverName: String?
    public var version: String
    public var maxPayload: Int
    public var headers: Bool
    public var jetStream: Bool
    public var authRequired: Bool
    public var tlsRequired: Bool
    public var tlsAvailable: Bool
    public var connectURLs: [String]
    public var clientId: UInt64?
    public var lameDuckMode: Bool

    enum CodingKeys: String, CodingKey {
        case serverId = "server_id", serverName = "server_name", version, maxPayload = "max_payload"
        case headers, jetStream = "jetstream", authRequired = "auth_required", tlsRequired = "tls_required"
        case tlsAvailable = "tls_available", connectURLs = "connect_urls", clientId = "client_id", lameDuckMode = "ldm"
    }

    public init(serverId: String = "", version: String = "", maxPayload: Int = 1_048_576, headers: Bool = true,
                jetStream: Bool = false, connectURLs: [String] = []) {
        self.serverId = serverId
        self.version = version
        self.maxPayload = maxPayload
        self.headers = headers
        self.jetStream = jetStream
        self.authRequired = false
        self.tlsRequired = false
        self.tlsAvailable = false
        self.connectURLs = connectURLs
        self.lameDuckMode = false
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        serverId = try c.decodeIfPresent(String.self, forKey: .serverId) ?? ""
        serverName = try c.decodeIfPresent(String.self, forKey: .serverName)
        version = try c.decodeIfPresent(String.self, forKey: .version) ?? ""
        maxPayload = try c.decodeIfPresent(Int.self, forKey: .maxPayload) ?? 1_048_576
        headers = try c.decodeIfPresent(Bool.self, forKey: .headers) ?? false
        jetStream = try c.decodeIfPresent(Bool.self, forKey: .jetStream) ?? false
        authRequired = try c.decodeIfPresent(Bool.self, forKey: .authRequired) ?? false
        tlsRequired = try c.decodeIfPresent(Bool.self, forKey: .tlsRequired) ?? false
        tlsAvailable = try c.decodeIfPresent(Bool.self, forKey: .tlsAvailable) ?? false
        connectURLs = try c.decodeIfPresent([String].self, forKey: .connectURLs) ?? []
        clientId = try c.decodeIfPresent(UInt64.self, forKey: .clientId)
        lameDuckMode = try c.decodeIfPresent(Bool.self, forKey: .lameDuckMode) ?? false
    }

    public init(json: some Collection<UInt8>) throws(GordonError) {
        do {
            self = try JSONDecoder().decode(NATSServerInfo.self, from: Data(json))
        } catch {
            throw GordonError(.natsProtocolViolation, "INFO is not valid JSON")
        }
        guard maxPayload > 0 else { throw GordonError(.natsProtocolViolation, "INFO max_payload is not positive") }
    }
}
