import _CryptoExtras
import Crypto
public import Foundation
public import GordonKernel

/// The OpenID provider's signing keys (its `jwks_uri`, RFC 7517): RSA keys for RS256 and
/// P-256 keys for ES256 (Kanidm's default). Keys of other types, or meant for encryption, are
/// left out; a set with no usable key is refused.
public struct JSONWebKeySet: Sendable {
    enum PublicKey: @unchecked Sendable {
        case rsa(_RSA.Signing.PublicKey)
        case p256(P256.Signing.PublicKey)

        var algorithm: String {
            switch self {
            case .rsa: "RS256"
            case .p256: "ES256"
            }
        }
    }

    struct Key: Sendable {
        let id: String?
        /// The key's own `alg`, when it names one.
        let algorithm: String?
        let publicKey: PublicKey
    }

    let keys: [Key]

    public init(json: Data) throws(GordonError) {
        struct Document: Decodable {
            struct Entry: Decodable {
                let kty: String
                let kid: String?
                let use: String?
                let alg: String?
                let n: String?
                let e: String?
                let crv: String?
                let x: String?
                let y: String?
            }
            let keys: [Entry]
        }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: json)
        } catch {
            throw GordonError(.identityProviderInvalid, "the provider's key set is not a JWK Set: \(error)")
        }
        var keys: [Key] = []
        for entry in document.keys where entry.use == nil || entry.use == "sig" {
            switch entry.kty {
            case "RSA":
                guard let n = entry.n.flatMap(Base64URL.decode), let e = entry.e.flatMap(Base64URL.decode),
                      let key = try? _RSA.Signing.PublicKey(n: n, e: e) else { continue }
                keys.append(Key(id: entry.kid, algorithm: entry.alg, publicKey: .rsa(key)))
            case "EC":
                guard entry.crv == "P-256", let x = entry.x.flatMap(Base64URL.decode), let y = entry.y.flatMap(Base64URL.decode),
                      x.count == 32, y.count == 32,
                      let key = try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y) else { continue }
                keys.append(Key(id: entry.kid, algorithm: entry.alg, publicKey: .p256(key)))
            default:
                continue
            }
        }
        guard !keys.isEmpty else {
            throw GordonError(.identityProviderInvalid, "the provider's key set has no RS256 or ES256 signing key")
        }
        self.keys = keys
    }

    /// The key a token's header points at: by `kid`, else the only key for its algorithm.
    func key(id: String?, algorithm: String) -> PublicKey? {
        let candidates = keys.filter { $0.publicKey.algorithm == algorithm && ($0.algorithm == nil || $0.algorithm == algorithm) }
        if let id { return candidates.first { $0.id == id }?.publicKey }
        return candidates.count == 1 ? candidates[0].publicKey : nil
    }
}
