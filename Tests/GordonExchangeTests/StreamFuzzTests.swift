import GordonDomain
import GordonExchange
import GordonKernel
import Testing

/// Seeded mutations of the documented payloads never trap: each either decodes or throws
/// `exchangeStreamMalformed` with a one-line message and a bounded raw excerpt.
@Suite struct StreamFuzzTests {
    /// Every fixture, plus combined and WebSocket-API-framed variants.
    private func seeds() throws -> [[UInt8]] {
        var texts = try (StreamFixture.marketNames + StreamFixture.userDataNames).map { try StreamFixture.text($0) }
        let kline = try StreamFixture.text("kline-consistent")
        texts.append(#"{"stream":"bnbbtc@kline_1m","data":\#(kline)}"#)
        texts.append(#"{"stream":"bnbusdt@bookTicker","data":\#(try StreamFixture.text("bookTicker"))}"#)
        texts.append(#"{"subscriptionId":3,"event":{"e":"listenKeyExpired","E":1}}"#)
        return texts.map { Array($0.utf8) }
    }

    private static let junk: [[UInt8]] = [
        "{", "}", "[", "]", "\"", ",", ":", "\\", "\\u", "\\ud800", "null", "true", "-", "0", "1e999", "-0.0e-0",
        "99999999999999999999999999", "\"99999999999999999999999999999999999999999.9\"", "\u{0}", "\u{1F}", "é", "🚀",
        "{\"e\":\"kline\"}", "\"data\":", "\"stream\":\"x\",", "\"k\":{}", "\"E\":\"1\"",
    ].map { Array($0.utf8) }

    private static func mutate(_ input: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = input
        func position(_ inclusiveEnd: Bool = true) -> Int { Int.random(in: 0...(inclusiveEnd ? bytes.count : max(bytes.count - 1, 0)), using: &random) }
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            switch Int.random(in: 0..<9, using: &random) {
            case 0:  // truncation
                bytes = Array(bytes.prefix(position()))
            case 1:  // byte flip
                if !bytes.isEmpty { bytes[position(false)] = UInt8.random(in: 0...255, using: &random) }
            case 2:  // inserted junk
                bytes.insert(contentsOf: junk[Int.random(in: 0..<junk.count, using: &random)], at: position())
            case 3:  // a quote deleted
                if let index = bytes.indices.filter({ bytes[$0] == UInt8(ascii: "\"") }).randomElement(using: &random) { bytes.remove(at: index) }
            case 4:  // a huge number in place of a digit
                if let index = bytes.indices.filter({ (48...57).contains(bytes[$0]) }).randomElement(using: &random) {
                    bytes.replaceSubrange(index...index, with: Array(String(repeating: "9", count: Int.random(in: 19...400, using: &random)).utf8))
                }
            case 5:  // wrong type: a string's quotes dropped, or a number quoted
                let quotes = bytes.indices.filter { bytes[$0] == UInt8(ascii: "\"") }
                if quotes.count >= 2, Bool.random(using: &random) {
                    let pair = Int.random(in: 0..<(quotes.count / 2), using: &random) * 2
                    bytes.remove(at: quotes[pair + 1])
                    bytes.remove(at: quotes[pair])
                } else if let index = bytes.indices.filter({ (48...57).contains(bytes[$0]) }).randomElement(using: &random) {
                    bytes.insert(UInt8(ascii: "\""), at: index + 1)
                    bytes.insert(UInt8(ascii: "\""), at: index)
                }
            case 6:  // nesting
                let depth = Int.random(in: 1...200, using: &random)
                let at = position()
                let open = Bool.random(using: &random) ? "[" : "{\"a\":"
                bytes.insert(contentsOf: Array(String(repeating: open, count: depth).utf8), at: at)
            case 7:  // a value replaced by null or another type
                if let index = bytes.indices.filter({ bytes[$0] == UInt8(ascii: ":") }).randomElement(using: &random) {
                    let replacement = ["null", "[]", "{}", "true", "\"x\"", "-1", "1.5"].randomElement(using: &random)!
                    bytes.insert(contentsOf: Array(replacement.utf8) + [UInt8(ascii: ",")], at: index + 1)
                }
            default:  // a span deleted
                if !bytes.isEmpty {
                    let start = position(false)
                    bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...12, using: &random)))
                }
            }
        }
        return bytes
    }

    @Test func twentyThousandMutationsNeverTrap() throws {
        let seeds = try seeds()
        var random = SplitMix64(seed: 0xF022_5EED)
        var decoded = 0, rejected = 0
        var problems: [String] = []
        func check(_ error: GordonError) {
            rejected += 1
            if error.code != .exchangeStreamMalformed || error.message.contains("\n") || (error.context["raw"]?.count ?? 0) > 201 {
                problems.append(error.description)
            }
        }
        for iteration in 0..<20_000 {
            let input = Self.mutate(seeds[iteration % seeds.count], &random)
            do { _ = try BinanceStreamDecoder.decodeMarket(input); decoded += 1 } catch { check(error) }
            do { _ = try BinanceStreamDecoder.decodeUserData(input[...]); decoded += 1 } catch { check(error) }
        }
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(rejected > 20_000)  // the mutations mostly break messages…
        #expect(decoded > 100)  // …but not all of them
    }
}
