import Foundation
import GordonDomain
import GordonKernel
import Testing

@Suite("Decimal JSON coding")
struct DecimalCodingTests {
    struct Box: Codable, Equatable {
        var value: ExactDecimal
    }

    @Test func encodesAsCanonicalString() throws {
        let data = try JSONEncoder().encode(Box(value: try dec("0.00100000")))
        #expect(String(decoding: data, as: UTF8.self) == #"{"value":"0.001"}"#)
    }

    @Test func decodesStrings() throws {
        let box = try JSONDecoder().decode(Box.self, from: Data(#"{"value":"-27000.50"}"#.utf8))
        #expect(box.value == (try dec("-27000.5")))
    }

    @Test(arguments: [#"{"value":0.1}"#, #"{"value":1}"#, #"{"value":null}"#, #"{"value":"1e-8"}"#, #"{"value":"abc"}"#, #"{"value":""}"#, #"{}"#])
    func rejectsNumbersAndBadStrings(json: String) {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Box.self, from: Data(json.utf8)) }
    }

    @Test func badStringCarriesTheGordonError() {
        do {
            _ = try JSONDecoder().decode(Box.self, from: Data(#"{"value":"1.2.3"}"#.utf8))
            Issue.record("decoded an invalid decimal")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription.hasPrefix(ErrorCode.invalidDecimal.rawValue))
            #expect((context.underlyingError as? GordonError)?.code == .invalidDecimal)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func roundTripsThroughJSON() throws {
        for text in ["0", "-1.5", "0.00000001", "99999999.99999999", "123456789012345678901234567890.12345678"] {
            let box = Box(value: try dec(text))
            #expect(try JSONDecoder().decode(Box.self, from: JSONEncoder().encode(box)) == box)
        }
    }
}
