import Foundation
import GordonKernel
import Testing

@Suite("ErrorCode, ErrorKind, GordonError")
struct ErrorTests {
    @Test func codesAreUniqueAndWellFormed() {
        let raw = ErrorCode.all.map(\.rawValue)
        #expect(Set(raw).count == raw.count, "duplicate: \(raw.filter { code in raw.filter { $0 == code }.count > 1 })")
        for code in raw {
            #expect(code.wholeMatch(of: #/GORDON-[A-Z]+-[0-9]{4}/#) != nil, "\(code)")
        }
        #expect(raw.count >= 37)
    }

    @Test func numbersWithinEachAreaAreDistinctAndStartAtOne() {
        var byArea: [Substring: [Int]] = [:]
        for code in ErrorCode.all {
            let parts = code.rawValue.split(separator: "-")
            byArea[parts[1], default: []].append(Int(parts[2])!)
        }
        for (area, numbers) in byArea {
            #expect(numbers.sorted() == Array(1...numbers.count), "\(area) numbers have gaps or repeats")
        }
    }

    @Test func rawValueRecoversTheDeclaredKind() {
        for code in ErrorCode.all {
            let recovered = ErrorCode(rawValue: code.rawValue)
            #expect(recovered == code)
            #expect(recovered.defaultKind == code.defaultKind, "\(code)")
        }
        #expect(ErrorCode.keyfileTooOpen.defaultKind == .unauthorized)
        #expect(ErrorCode.illegalOrderTransition.defaultKind == .conflict)
        #expect(ErrorCode.positionConflict.defaultKind == .conflict)
        #expect(ErrorCode.invalidFill.defaultKind == .invalidInput)
        #expect(ErrorCode(rawValue: "GORDON-NOPE-9999").defaultKind == .internal)
    }

    @Test func codesTravelAsStrings() throws {
        let data = try JSONEncoder().encode(ErrorCode.invalidDecimal)
        #expect(String(decoding: data, as: UTF8.self) == #""GORDON-DOM-0003""#)
        let decoded = try JSONDecoder().decode(ErrorCode.self, from: data)
        #expect(decoded == .invalidDecimal)
        #expect(decoded.defaultKind == .invalidInput)
        #expect(ErrorCode.sqlFailed.description == "GORDON-DB-0003")
    }

    @Test func retryabilityTable() {
        let retryable: [ErrorKind: Bool] = [
            .invalidInput: false, .notFound: false, .conflict: false, .unauthorized: false,
            .unavailable: true, .timeout: true, .rateLimited: true, .rejectedByExchange: false, .internal: false,
        ]
        #expect(Set(retryable.keys) == Set(ErrorKind.allCases))
        for kind in ErrorKind.allCases {
            #expect(kind.isRetryable == retryable[kind], "\(kind)")
        }
        #expect(ErrorKind.rateLimited.rawValue == "rate_limited")
        #expect(ErrorKind.rejectedByExchange.rawValue == "rejected_by_exchange")
    }

    @Test func descriptionIsOneLineWithSortedContext() {
        let error = GordonError(.sqlFailed, "sql failed: syntax error", context: ["line": "4", "file": "0002_x.sql"])
        #expect(error.description == "GORDON-DB-0003 sql failed: syntax error [file=0002_x.sql line=4]")
        #expect("\(error)" == error.description)
        #expect(GordonError(.schemaBehind, "schema is behind").description == "GORDON-DB-0007 schema is behind")
    }

    @Test func kindDefaultsToTheCodeAndCanBeOverridden() {
        let plain = GordonError(.databaseUnreachable, "down")
        #expect(plain.kind == .unavailable)
        #expect(plain.isRetryable)
        let overridden = GordonError(.databaseUnreachable, "down for good", kind: .internal)
        #expect(overridden.kind == .internal)
        #expect(!overridden.isRetryable)
        #expect(overridden.code == .databaseUnreachable)
    }

    @Test func keepsTheUnderlyingError() {
        struct Cause: Error, Sendable {}
        let error = GordonError(.sqlFailed, "wrapped", underlying: Cause())
        #expect(error.underlying is Cause)
    }
}
