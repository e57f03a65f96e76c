import Foundation
import GordonDomain
import GordonKernel
import Testing

@Suite("OrderStatus transitions")
struct OrderStatusTests {
    /// The expected table, written independently of the source: from → allowed next states.
    static let allowed: [String: Set<String>] = [
        "PENDING_NEW": ["PENDING_NEW", "NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "PENDING_CANCEL", "REJECTED", "EXPIRED", "EXPIRED_IN_MATCH"],
        "NEW": ["NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "PENDING_CANCEL", "EXPIRED", "EXPIRED_IN_MATCH"],
        "PARTIALLY_FILLED": ["PARTIALLY_FILLED", "FILLED", "CANCELED", "PENDING_CANCEL", "EXPIRED", "EXPIRED_IN_MATCH"],
        "PENDING_CANCEL": ["PENDING_CANCEL", "PARTIALLY_FILLED", "FILLED", "CANCELED", "EXPIRED", "EXPIRED_IN_MATCH"],
        "FILLED": [], "CANCELED": [], "REJECTED": [], "EXPIRED": [], "EXPIRED_IN_MATCH": [],
    ]

    @Test func tableNamesEveryStatus() {
        #expect(Set(Self.allowed.keys) == Set(OrderStatus.allCases.map(\.rawValue)))
        #expect(OrderStatus.allCases.count == 9)
    }

    @Test func everyPairFollowsTheTable() throws {
        var checked = 0
        for from in OrderStatus.allCases {
            let expected = try #require(Self.allowed[from.rawValue])
            for to in OrderStatus.allCases {
                let legal = expected.contains(to.rawValue)
                #expect(from.canTransition(to: to) == legal, "\(from) → \(to)")
                let error = thrownError { () throws(GordonError) in try from.transition(to: to) }
                if legal {
                    #expect(error == nil, "\(from) → \(to)")
                    #expect(try from.transition(to: to) == to)
                } else {
                    #expect(error?.code == .illegalOrderTransition, "\(from) → \(to)")
                    #expect(error?.context["from"] == from.rawValue)
                    #expect(error?.context["to"] == to.rawValue)
                    #expect(error?.message.contains(from.rawValue) == true && error?.message.contains(to.rawValue) == true)
                }
                checked += 1
            }
        }
        #expect(checked == 81)
    }

    @Test func terminalStatesAreExactlyThoseWithNoSuccessor() {
        let terminal = Set(OrderStatus.allCases.filter(\.isTerminal).map(\.rawValue))
        #expect(terminal == ["FILLED", "CANCELED", "REJECTED", "EXPIRED", "EXPIRED_IN_MATCH"])
        for status in OrderStatus.allCases {
            #expect(status.isTerminal == status.successors.isEmpty)
        }
    }

    @Test func rawValuesAreBinancesAndCodeAsStrings() throws {
        #expect(OrderStatus.pendingNew.rawValue == "PENDING_NEW")
        #expect(OrderStatus.expiredInMatch.rawValue == "EXPIRED_IN_MATCH")
        #expect(String(decoding: try JSONEncoder().encode(OrderStatus.partiallyFilled), as: UTF8.self) == #""PARTIALLY_FILLED""#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(OrderStatus.self, from: Data(#""filled""#.utf8)) }
    }

    @Test func orderTermsUseBinanceStrings() throws {
        #expect(Side.allCases.map(\.rawValue) == ["BUY", "SELL"])
        #expect(OrderType.allCases.map(\.rawValue) == ["MARKET", "LIMIT", "LIMIT_MAKER", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"])
        #expect(TimeInForce.allCases.map(\.rawValue) == ["GTC", "IOC", "FOK"])
        #expect(DesiredState.allCases.map(\.rawValue) == ["running", "paused", "stopped"])
        #expect(try JSONDecoder().decode(OrderType.self, from: Data(#""LIMIT_MAKER""#.utf8)) == .limitMaker)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Side.self, from: Data(#""buy""#.utf8)) }
    }
}
