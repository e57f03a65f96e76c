import Foundation
import GordonKernel
import Testing

@Suite("TraceId and Hex")
struct TraceIdTests {
    @Test func randomIdsAreNonZeroAndUnique() {
        var seen = Set<TraceId>()
        for _ in 0..<10_000 {
            let id = TraceId.random()
            #expect(id.high != 0 || id.low != 0)
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
    }

    /// A generator that yields zeros first, as a broken or adversarial source might.
    struct ZerosThen: RandomNumberGenerator {
        var zeros: Int
        var value: UInt64
        mutating func next() -> UInt64 {
            if zeros > 0 {
                zeros -= 1
                return 0
            }
            value &+= 1
            return value
        }
    }

    @Test func randomRetriesAnAllZeroDraw() {
        var generator = ZerosThen(zeros: 4, value: 0)
        let id = TraceId.random(using: &generator)
        #expect(id.high == 1 && id.low == 2)
    }

    @Test func zeroIsNotAnId() {
        #expect(TraceId(high: 0, low: 0) == nil)
        #expect(TraceId(high: 0, low: 1) != nil)
        #expect(TraceId(high: 1, low: 0) != nil)
    }

    @Test func formatAndParseRoundTrip() throws {
        let id = try #require(TraceId(high: 0x0AF7_6519_16CD_43DD, low: 0x8448_EB21_1C80_319C))
        #expect(id.hex == "0af7651916cd43dd8448eb211c80319c")
        #expect(id.description == id.hex)
        #expect(try TraceId(parsing: id.hex) == id)
        for _ in 0..<1000 {
            let random = TraceId.random()
            #expect(try TraceId(parsing: random.hex) == random)
            #expect(random.hex.count == 32)
        }
    }

    @Test func uppercaseIsAcceptedAndPrintedLowercase() throws {
        let id = try TraceId(parsing: "0AF7651916CD43DD8448EB211C80319C")
        #expect(id.hex == "0af7651916cd43dd8448eb211c80319c")
    }

    @Test(arguments: [
        "", "0af7651916cd43dd8448eb211c80319", "0af7651916cd43dd8448eb211c80319c0", "0af7651916cd43dd8448eb211c80319g",
        "00000000000000000000000000000000", " 0af7651916cd43dd8448eb211c80319", "0af7651916cd43dd-448eb211c80319c",
        "0af7651916cd43dd8448eb211c80319\u{e9}",
    ])
    func rejectsMalformedIds(text: String) {
        do {
            _ = try TraceId(parsing: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.code == .invalidTraceId)
            #expect(error.kind == .invalidInput)
        }
    }

    @Test func parsesTraceparent() throws {
        let id = try TraceId(traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        #expect(id.hex == "0af7651916cd43dd8448eb211c80319c")
        #expect(id.traceparent(spanId: 0xB7AD_6B71_6920_3331) == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        #expect(try TraceId(traceparent: id.traceparent(spanId: 1)) == id)
    }

    @Test(arguments: [
        "", "00", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "000-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333x-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01",
    ])
    func rejectsMalformedTraceparents(header: String) {
        do {
            _ = try TraceId(traceparent: header)
            Issue.record("accepted \(header)")
        } catch {
            #expect(error.code == .invalidTraceId)
        }
    }

    @Test func codesAsHexString() throws {
        let id = try TraceId(parsing: "0af7651916cd43dd8448eb211c80319c")
        let data = try JSONEncoder().encode(id)
        #expect(String(decoding: data, as: UTF8.self) == #""0af7651916cd43dd8448eb211c80319c""#)
        #expect(try JSONDecoder().decode(TraceId.self, from: data) == id)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(TraceId.self, from: Data(#""00000000000000000000000000000000""#.utf8))
        }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TraceId.self, from: Data("42".utf8)) }
    }

    @Test func hexHelpers() {
        #expect(Hex.string(0) == "0000000000000000")
        #expect(Hex.string(UInt64.max) == "ffffffffffffffff")
        #expect(Hex.string(bytes: [0x00, 0xAB, 0x0F]) == "00ab0f")
        #expect(Hex.uint64(Array("ff".utf8)) == 255)
        #expect(Hex.uint64(Array("FF".utf8)) == 255)
        #expect(Hex.uint64(Array("".utf8)) == nil)
        #expect(Hex.uint64(Array("fg".utf8)) == nil)
        #expect(Hex.uint64(Array("10000000000000000".utf8)) == nil)
        #expect(Hex.nibble(UInt8(ascii: "a")) == 10)
        #expect(Hex.nibble(UInt8(ascii: "G")) == nil)
    }
}
