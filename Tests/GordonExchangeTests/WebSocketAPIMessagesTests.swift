import GordonExchange
import GordonKernel
import Testing
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

@Suite("WebSocket API messages")
struct WebSocketAPIMessagesTests {
    // web-socket-api.md, "SIGNED request example (HMAC)": the same key pair as rest-api.md.
    static let apiKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
    static let signer = RequestSigner(secretKey: Secret("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"))

    @Test func signsTheDocumentedExample() {
        // In the order the documented request lists them; the payload sorts them.
        let params: [(name: String, value: String)] = [
            ("symbol", "BTCUSDT"), ("side", "SELL"), ("type", "LIMIT"), ("timeInForce", "GTC"), ("quantity", "0.01000000"),
            ("price", "52000.00"), ("recvWindow", "100"), ("timestamp", "1645423376532"), ("apiKey", Self.apiKey), ("signature", "ignored"),
        ]
        let payload = WebSocketAPIMessages.signaturePayload(params)
        #expect(payload == "apiKey=\(Self.apiKey)&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT"
            + "&timeInForce=GTC&timestamp=1645423376532&type=LIMIT")
        #expect(Self.signer.signature(for: payload) == "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24")
    }

    struct Frame: Decodable {
        struct Params: Decodable {
            let apiKey: String
            let recvWindow: Int64
            let timestamp: Int64
            let signature: String
        }
        let id: String
        let method: String
        let params: Params
    }

    @Test func theSubscribeFrameIsSignedOverItsOwnParams() throws {
        let frame = WebSocketAPIMessages.subscribeRequest(id: "sub-1", apiKey: Secret(Self.apiKey), recvWindow: 5000,
                                                         timestamp: 1_747_385_641_636, signer: Self.signer)
        let decoded = try frame.withPlainText { try JSONDecoder().decode(Frame.self, from: Data($0.utf8)) }
        #expect(decoded.id == "sub-1")
        #expect(decoded.method == "userDataStream.subscribe.signature")
        #expect(decoded.params.apiKey == Self.apiKey)
        #expect(decoded.params.recvWindow == 5000 && decoded.params.timestamp == 1_747_385_641_636)
        #expect(decoded.params.signature == Self.signer.signature(for: "apiKey=\(Self.apiKey)&recvWindow=5000&timestamp=1747385641636"))
        // The frame carries the API key, so it never prints.
        #expect(!String(describing: frame).contains("vmPUZE6"))
    }

    @Test func theDocumentedReplyGivesTheSubscriptionId() throws {
        let reply = #"{"id":"d3df8a22-98ea-4fe0-9f4e-0fcea5d418b7","status":200,"result":{"subscriptionId":0}}"#
        #expect(try WebSocketAPIMessages.subscriptionId(fromReply: Array(reply.utf8), requestId: "d3df8a22-98ea-4fe0-9f4e-0fcea5d418b7") == 0)
    }

    @Test(arguments: [
        (#"{"id":"a","status":400,"error":{"code":-1022,"msg":"Signature for this request is not valid."}}"#, ErrorCode.exchangeAuthFailed),
        (#"{"id":"a","status":401,"error":{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}}"#, .exchangeAuthFailed),
        (#"{"id":"a","status":400,"error":{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}}"#, .exchangeClockSkew),
        (#"{"id":"a","status":429,"error":{"code":-1003,"msg":"Too many requests."}}"#, .exchangeRateLimited),
        (#"{"id":"a","status":418,"error":{"code":-1003,"msg":"Way too much request weight used."}}"#, .exchangeBanned),
        (#"{"id":"a","status":400,"error":{"code":-2035,"msg":"User Data Stream subscription already active."}}"#, .exchangeRejected),
        (#"{"id":"b","status":200,"result":{"subscriptionId":3}}"#, .exchangeStreamMalformed),
        (#"{"subscriptionId":0,"event":{"e":"outboundAccountPosition"}}"#, .exchangeStreamMalformed),
        (#"{"id":"a","status":200,"result":{}}"#, .exchangeStreamMalformed),
        ("not json", .exchangeStreamMalformed),
    ])
    func refusalsAreTypedErrors(reply: String, expected: ErrorCode) {
        #expect {
            try WebSocketAPIMessages.subscriptionId(fromReply: Array(reply.utf8), requestId: "a")
        } throws: { ($0 as? GordonError)?.code == expected }
    }
}
