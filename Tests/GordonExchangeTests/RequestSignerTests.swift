import GordonExchange
import GordonKernel
import Testing

@Suite("RequestSigner")
struct RequestSignerTests {
    // rest-api.md, "SIGNED Endpoint Examples for POST /api/v3/order", HMAC Keys.
    static let secretText = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    static let signer = RequestSigner(secretKey: Secret(secretText))

    static func exampleParameters(symbol: String = "LTCBTC", timestamp: String = "1499827319559") -> QueryParameters {
        var query = QueryParameters()
        query.append("symbol", symbol)
        query.append("side", "BUY")
        query.append("type", "LIMIT")
        query.append("timeInForce", "GTC")
        query.append("quantity", "1")
        query.append("price", "0.1")
        query.append("recvWindow", "5000")
        query.append("timestamp", timestamp)
        return query
    }

    @Test func signsTheDocumentedASCIIExample() {
        let query = Self.exampleParameters()
        #expect(query.encoded == "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559")
        #expect(Self.signer.signature(for: query.encoded) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71")
    }

    @Test func signedAppendsTheSignatureLast() {
        let signed = Self.signer.signed(Self.exampleParameters())
        #expect(signed.encoded == "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
            + "&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71")
        #expect(signed["signature"] == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71")
    }

    @Test func percentEncodesNonASCIIBeforeSigningAsTheDocumentedExample() {
        let query = Self.exampleParameters(symbol: "１２３４５６")
        #expect(query.encoded == "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT"
            + "&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559")
        #expect(Self.signer.signed(query)["signature"] == "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3")
    }

    @Test func reservedCharactersCannotBreakThePairs() {
        var query = QueryParameters()
        query.append("newClientOrderId", "a b&c=d+e:f/g~h")
        #expect(query.encoded == "newClientOrderId=a%20b%26c%3Dd%2Be%3Af%2Fg~h")
    }

    @Test func aDifferentPayloadNeverGetsTheSameSignature() {
        let documented = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        let later = Self.signer.signed(Self.exampleParameters(timestamp: "1499827319560"))
        #expect(later["signature"] != nil)
        #expect(later["signature"] != documented)
        #expect(!later.encoded.contains(documented))
        let otherKey = RequestSigner(secretKey: Secret(String(Self.secretText.reversed())))
        #expect(otherKey.signature(for: Self.exampleParameters().encoded) != documented)
    }

    @Test func theSecretAppearsInNoDescription() {
        let signer = Self.signer
        var dumped = ""
        dump(signer, to: &dumped)
        let renderings = [String(describing: signer), String(reflecting: signer), "\(signer)", dumped,
                          String(describing: Self.signer.signed(Self.exampleParameters()))]
        for text in renderings {
            #expect(!text.contains(Self.secretText))
            #expect(!text.contains("NhqPtmd"))
        }
    }
}
