import _CryptoExtras
import Crypto
public import Foundation
public import GordonKernel

/// Who logged in, from an ID token that passed every check.
public struct IDTokenClaims: Sendable, Equatable {
    public let subject: String
    /// `preferred_username`, else `name`, else the subject: what the audit log records.
    public let displayName: String
    public let email: String?
    /// The `groups` claim (Kanidm: the groups' names, `name@domain`): the console's roles.
    public let groups: [String]
    public let expiresAt: Date
}

/// Verifies an ID token as OpenID Connect Core §3.1.3.7 asks, before the console believes a
/// word of it: a JWS in compact form, signed with RS256 or ES256 by a key of the provider's
/// set (never `none`, never an HMAC keyed with something public), from the configured issuer,
/// for this client, not expired, and carrying the nonce this login sent. It does no I/O: the
/// key set is fetched by the caller.
public struct IDTokenVerifier: Sendable {
    public let issuer: String
    public let clientID: String
    public let keys: JSONWebKeySet
    /// How far the provider's clock and this one may disagree.
    public var clockSkew: TimeInterval = 60

    public init(issuer: String, clientID: String, keys: JSONWebKeySet) {
        self.issuer = issuer
        self.clientID = clientID
        self.keys = keys
    }

    public func verify(_ token: String, nonce expectedNonce: String, now: Date) throws(GordonError) -> IDTokenClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]) else {
            throw refused("the ID token is not a signed JWT in compact form")
        }
        guard let header = try? JSONSerialization.jsonObject(with: headerBytes) as? [String: Any],
              let algorithm = header["alg"] as? String else {
            throw refused("the ID token's header is not a JSON object with an algorithm")
        }
        guard header["crit"] == nil else { throw refused("the ID token names critical extensions this console does not know") }
        guard algorithm == "RS256" || algorithm == "ES256" else {
            throw refused("the ID token is signed with \(algorithm); only RS256 and ES256 are accepted")
        }
        guard let key = keys.key(id: header["kid"] as? String, algorithm: algorithm) else {
            throw refused("no \(algorithm) key of the provider matches the ID token's key id")
        }
        let signed = SHA256.hash(data: Data(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count)))
        guard Self.isValid(signature, of: signed, by: key) else { throw refused("the ID token's signature is not the provider's") }

        guard let claims = try? JSONSerialization.jsonObject(with: payloadBytes) as? [String: Any] else {
            throw refused("the ID token's claims are not a JSON object")
        }
        guard claims["iss"] as? String == issuer else {
            throw refused("the ID token was issued by \(claims["iss"] ?? "nobody"), not \(issuer)")
        }
        let audience = (claims["aud"] as? String).map { [$0] } ?? (claims["aud"] as? [String]) ?? []
        guard audience.contains(clientID) else { throw refused("the ID token is not for this console (audience \(audience))") }
        let authorizedParty = claims["azp"] as? String
        guard authorizedParty == nil ? audience.count == 1 : authorizedParty == clientID else {
            throw refused("the ID token was issued to another client (azp \(authorizedParty ?? "missing"))")
        }
        guard let expiry = Self.time(claims["exp"]), let issued = Self.time(claims["iat"]) else {
            throw refused("the ID token has no expiry or issue time")
        }
        guard now.timeIntervalSince(expiry) < clockSkew else { throw refused("the ID token expired at \(expiry)") }
        guard issued.timeIntervalSince(now) < clockSkew else { throw refused("the ID token was issued in the future (\(issued))") }
        // Constant-time: the nonce is this login's secret.
        guard let nonce = claims["nonce"] as? String, Self.constantTimeEqual(nonce, expectedNonce) else {
            throw refused("the ID token's nonce is not this login's")
        }
        guard let subject = claims["sub"] as? String, !subject.isEmpty else { throw refused("the ID token names no subject") }
        let name = (claims["preferred_username"] as? String) ?? (claims["name"] as? String) ?? subject
        return IDTokenClaims(subject: subject, displayName: name, email: claims["email"] as? String,
                             groups: (claims["groups"] as? [String]) ?? [], expiresAt: expiry)
    }

    private func refused(_ reason: String) -> GordonError { GordonError(.loginRefused, reason) }

    private static func isValid(_ signature: Data, of digest: SHA256.Digest, by key: JSONWebKeySet.PublicKey) -> Bool {
        switch key {
        case .rsa(let key):
            // RS256 is RSASSA-PKCS1-v1_5 (RFC 7518 §3.3), which swift-crypto names insecure only
            // to steer new designs to PSS.
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: digest,
                                        padding: .insecurePKCS1v1_5)
        case .p256(let key):
            // ES256's signature is R || S, 32 bytes each (RFC 7518 §3.4), not DER.
            guard signature.count == 64, let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(ecdsa, for: digest)
        }
    }

    /// NumericDate: seconds since the epoch, an integer or not.
    private static func time(_ value: Any?) -> Date? {
        guard let number = value as? NSNumber else { return nil }
        return Date(timeIntervalSince1970: number.doubleValue)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
