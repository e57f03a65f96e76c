import Crypto
public import Foundation
public import GordonKernel

/// The provider's discovery document (OpenID Connect Discovery 1.0 §3), the parts the console
/// uses. Its issuer must be exactly the configured one (§4.3), or a provider could speak for
/// another.
public struct ProviderMetadata: Sendable, Equatable, Decodable {
    public let issuer: String
    public let authorizationEndpoint: String
    public let tokenEndpoint: String
    public let jwksURI: String
    public let endSessionEndpoint: String?

    enum CodingKeys: String, CodingKey {
        case issuer
        case authorizationEndpoint = "authorization_endpoint"
        case tokenEndpoint = "token_endpoint"
        case jwksURI = "jwks_uri"
        case endSessionEndpoint = "end_session_endpoint"
    }

    public static func decode(_ json: Data, expectedIssuer: String) throws(GordonError) -> ProviderMetadata {
        let metadata: ProviderMetadata
        do {
            metadata = try JSONDecoder().decode(ProviderMetadata.self, from: json)
        } catch {
            throw GordonError(.identityProviderInvalid, "the provider's discovery document is unusable: \(error)")
        }
        guard metadata.issuer == expectedIssuer else {
            throw GordonError(.identityProviderInvalid,
                              "the discovery document's issuer is \(metadata.issuer), not the configured \(expectedIssuer)")
        }
        for endpoint in [metadata.authorizationEndpoint, metadata.tokenEndpoint, metadata.jwksURI] {
            guard Self.isAcceptable(endpoint) else {
                throw GordonError(.identityProviderInvalid, "the provider's endpoint \(endpoint) is neither https nor on loopback")
            }
        }
        return metadata
    }

    /// https, or plain http to this machine only (a provider under test).
    static func isAcceptable(_ endpoint: String) -> Bool {
        guard let url = URL(string: endpoint), let host = url.host else { return false }
        switch url.scheme {
        case "https": return true
        case "http": return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]"
        default: return false
        }
    }
}

/// One login's secrets, kept server-side until the provider sends the browser back: `state`
/// ties the answer to this browser (CSRF on the redirect), `nonce` ties the ID token to this
/// login (replay), and the PKCE verifier ties the code to this client (RFC 7636).
public struct PendingLogin: Sendable, Equatable {
    public let state: String
    public let nonce: String
    public let codeVerifier: String
    public let returnTo: String
    public let startedAt: Date

    public static func start(returnTo: String, now: Date) -> PendingLogin {
        PendingLogin(state: randomToken(), nonce: randomToken(), codeVerifier: randomToken(), returnTo: returnTo, startedAt: now)
    }

    /// S256: base64url(SHA-256(verifier)).
    public var codeChallenge: String { Base64URL.encode(SHA256.hash(data: Data(codeVerifier.utf8))) }

    /// Where the browser goes to log in: the authorization code flow with PKCE.
    public func authorizationURL(_ metadata: ProviderMetadata, clientID: String, redirectURI: String,
                                 scopes: [String] = ["openid", "profile", "email", "groups"]) -> String {
        let parameters = [
            ("response_type", "code"), ("client_id", clientID), ("redirect_uri", redirectURI),
            ("scope", scopes.joined(separator: " ")), ("state", state), ("nonce", nonce),
            ("code_challenge", codeChallenge), ("code_challenge_method", "S256"),
        ]
        let query = parameters.map { "\($0.0)=\(Self.formEncoded($0.1))" }.joined(separator: "&")
        let endpoint = metadata.authorizationEndpoint
        return endpoint + (endpoint.contains("?") ? "&" : "?") + query
    }

    /// Everything but RFC 3986's unreserved characters percent-encoded: URLComponents leaves
    /// '&', '=' and '+' alone in a query value, which a provider would split or read as a space.
    static func formEncoded(_ value: String) -> String {
        var unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        unreserved.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    /// 32 random bytes, base64url: 43 characters, PKCE's shortest verifier and plenty for a
    /// state or nonce.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}

/// What a user may do in the console, from the groups the provider says they are in.
public enum ConsoleRole: String, Sendable, Comparable {
    /// Sees everything.
    case viewer
    /// Also acts: halt, resume, flatten, bots.
    case `operator`

    /// The strongest role the groups give, or nil: a user in neither group is not let in.
    public static func of(groups: [String], viewerGroup: String, operatorGroup: String) -> ConsoleRole? {
        if groups.contains(operatorGroup) { return .operator }
        if groups.contains(viewerGroup) { return .viewer }
        return nil
    }

    public static func < (lhs: ConsoleRole, rhs: ConsoleRole) -> Bool { lhs == .viewer && rhs == .operator }
}
