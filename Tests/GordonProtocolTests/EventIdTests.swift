#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GordonDomain
import GordonKernel
import GordonProtocol
import Testing

@Suite struct EventIdTests {
    @Test func fieldsLandWhereRFC9562PutsThem() throws {
        let id = try EventId(timestampMilliseconds: 0x0123_4567_89AB, randA: 0xCDE, randB: 0x0123_4567_89AB_CDEF)
        #expect(id.string == "01234567-89ab-7cde-8123-456789abcdef")
        #expect(id.timestampMilliseconds == 0x0123_4567_89AB)
        #expect(id.randA == 0xCDE)
        #expect(id.randB == 0x0123_4567_89AB_CDEF)
        #expect(id.version == 7)
        let bytes = id.bytes
        #expect(bytes.count == 16)
        #expect(bytes[6] >> 4 == 7)
        #expect(bytes[8] >> 6 == 0b10)
        #expect(Array(bytes[0..<6]) == [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB])
    }

    @Test func parsesEitherCaseAndFormatsLowerCase() throws {
        let lower = try EventId(parsing: "01936a1e-8b4c-7a3f-9c2d-5e6f7a8b9c0d")
        let upper = try EventId(parsing: "01936A1E-8B4C-7A3F-9C2D-5E6F7A8B9C0D")
        #expect(lower == upper)
        #expect(upper.string == "01936a1e-8b4c-7a3f-9c2d-5e6f7a8b9c0d")
        #expect(upper.description == upper.string)
        #expect(lower.timestamp == Timestamp(milliseconds: 0x0193_6A1E_8B4C))
    }

    @Test(arguments: [
        "",
        "01936a1e8b4c7a3f9c2d5e6f7a8b9c0d",
        "{01936a1e-8b4c-7a3f-9c2d-5e6f7a8b9c0d}",
        "urn:uuid:01936a1e-8b4c-7a3f-9c2d-5e6f7a8b9c0d",
        "01936a1e-8b4c-7a3f-9c2d-5e6f7a8b9c0",
        "01936a1e-8b4c-7a3f-9c2d-5e6f7a8b9c0d0",
        "01936a1e_8b4c_7a3f_9c2d_5e6f7a8b9c0d",
        "01936a1g-8b4c-7a3f-9c2d-5e6f7a8b9c0d",
        "01936a1e-8b4c-4a3f-9c2d-5e6f7a8b9c0d",
        "01936a1e-8b4c-7a3f-cc2d-5e6f7a8b9c0d",
        "01936a1e-8b4c-7a3f-1c2d-5e6f7a8b9c0d",
        "00000000-0000-0000-0000-000000000000",
        "01936a1e-8b4c-7a3f-9c2d-5e6f7a8b9c0\u{00E9}",
        " 01936a1e-8b4c-7a3f-9c2d-5e6f7a8b9c0d",
    ])
    func refusesAnythingButAUUIDv7(text: String) {
        #expect(thrownError { () throws(GordonError) in try EventId(parsing: text) }?.code == .invalidEventId)
    }

    @Test func fieldWidthsAreEnforced() {
        #expect(thrownError { () throws(GordonError) in try EventId(timestampMilliseconds: -1, randA: 0, randB: 0) }?.code == .invalidEventId)
        #expect(thrownError { () throws(GordonError) in try EventId(timestampMilliseconds: 1 << 48, randA: 0, randB: 0) }?.code == .invalidEventId)
        #expect(thrownError { () throws(GordonError) in try EventId(timestampMilliseconds: 0, randA: 0x1000, randB: 0) }?.code == .invalidEventId)
        #expect(thrownError { () throws(GordonError) in try EventId(timestampMilliseconds: 0, randA: 0, randB: 1 << 62) }?.code == .invalidEventId)
        #expect(thrownError { () throws(GordonError) in try EventId(high: 0x0000_0000_0000_4000, low: 1 << 63) }?.code == .invalidEventId)
        #expect(thrownError { () throws(GordonError) in try EventId(high: 0x0000_0000_0000_7000, low: 0) }?.code == .invalidEventId)
        let max = thrownError { () throws(GordonError) in
            try EventId(timestampMilliseconds: EventId.maxTimestampMilliseconds, randA: EventId.maxRandA, randB: EventId.maxRandB)
        }
        #expect(max == nil)
    }

    @Test func orderIsTheOrderOfTheCanonicalStrings() throws {
        var random = SplitMix64(seed: 7)
        var ids: [EventId] = []
        for _ in 0..<2000 {
            ids.append(try EventId(timestampMilliseconds: Int64(random.next() % 4) + 1_700_000_000_000,
                                   randA: UInt16(random.next() % 4096), randB: random.next() & EventId.maxRandB))
        }
        #expect(ids.sorted().map(\.string) == ids.map(\.string).sorted())
        let roundTripped = try ids.map { id throws(GordonError) in try EventId(parsing: id.string) }
        #expect(roundTripped == ids)
    }

    @Test func codesAsAJSONString() throws {
        let id = try EventId(parsing: "01936a1e-8b4c-7a3f-9c2d-5e6f7a8b9c0d")
        let data = try JSONEncoder().encode([id])
        #expect(String(decoding: data, as: UTF8.self) == "[\"01936a1e-8b4c-7a3f-9c2d-5e6f7a8b9c0d\"]")
        #expect(try JSONDecoder().decode([EventId].self, from: data) == [id])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([EventId].self, from: Data("[\"01936a1e-8b4c-4a3f-9c2d-5e6f7a8b9c0d\"]".utf8))
        }
    }
}

@Suite struct EventIdGeneratorTests {
    @Test func idsWithinOneMillisecondStrictlyIncreaseAndBorrowAheadWhenTheCounterRunsOut() {
        let clock = ManualClock(1_732_492_800_000)
        let generator = EventIdGenerator(clock: clock.now, random: SplitMix64(seed: 1))
        let ids = (0..<10_000).map { _ in generator.next() }
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
        #expect(ids[0].timestampMilliseconds == 1_732_492_800_000)
        #expect(ids.allSatisfy { $0.version == 7 && $0.bytes[8] >> 6 == 0b10 })
        // A counter seeded below 2048 gives 2049...4096 ids per millisecond, so 10 000 ids
        // span 3...5 milliseconds: the clock's own and 2...4 borrowed ahead of it.
        let last = ids[ids.count - 1].timestampMilliseconds - 1_732_492_800_000
        #expect((2...4).contains(last))
        #expect(Set(ids.map(\.timestampMilliseconds)).count == Int(last) + 1)
    }

    @Test func aClockSteppingBackNeverBreaksTheOrder() {
        let clock = ManualClock(1_732_492_800_000)
        let generator = EventIdGenerator(clock: clock.now, random: SplitMix64(seed: 2))
        let before = generator.next()
        clock.set(1_732_492_795_000)
        let during = (0..<50).map { _ in generator.next() }
        #expect(before < during[0])
        #expect(zip(during, during.dropFirst()).allSatisfy { $0 < $1 })
        #expect(during.allSatisfy { $0.timestampMilliseconds == 1_732_492_800_000 })
        clock.set(1_732_492_800_001)
        let after = generator.next()
        #expect(during[during.count - 1] < after)
        #expect(after.timestampMilliseconds == 1_732_492_800_001)
    }

    @Test func aNewMillisecondTakesTheClockTime() {
        let clock = ManualClock(1_000)
        let generator = EventIdGenerator(clock: clock.now, random: SplitMix64(seed: 3))
        for step in Int64(0)..<100 {
            clock.set(1_000 + step * 7)
            let id = generator.next()
            #expect(id.timestampMilliseconds == 1_000 + step * 7)
            #expect(id.randA < 0x800)
        }
    }

    @Test func outOfRangeClocksAreClamped() {
        let clock = ManualClock(-5)
        let generator = EventIdGenerator(clock: clock.now, random: SplitMix64(seed: 4))
        #expect(generator.next().timestampMilliseconds == 0)
        clock.set(.max)
        #expect(generator.next().timestampMilliseconds == EventId.maxTimestampMilliseconds)
    }

    @Test func randomnessComesFromTheInjectedGenerator() {
        let clock = ManualClock(1_732_492_800_000)
        let first = EventIdGenerator(clock: clock.now, random: SplitMix64(seed: 5))
        let same = EventIdGenerator(clock: clock.now, random: SplitMix64(seed: 5))
        let other = EventIdGenerator(clock: clock.now, random: SplitMix64(seed: 6))
        let a = (0..<10).map { _ in first.next() }
        #expect(a == (0..<10).map { _ in same.next() })
        #expect(a != (0..<10).map { _ in other.next() })
    }

    @Test func systemGeneratorIssuesHundredThousandUniqueIncreasingIds() {
        let generator = EventIdGenerator()
        let ids = (0..<100_000).map { _ in generator.next() }
        #expect(Set(ids).count == ids.count)
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
        let now = EventIdGenerator.systemClock().milliseconds
        // Ids come from the wall clock (borrowing ahead only under bursts of >2048 per ms).
        #expect(abs(ids[0].timestampMilliseconds - now) < 60_000)
    }

    @Test func concurrentCallersShareOneIncreasingSequence() async {
        let generator = EventIdGenerator()
        let perTask = 5_000
        let batches = await withTaskGroup(of: [EventId].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<perTask).map { _ in generator.next() } }
            }
            var batches: [[EventId]] = []
            for await batch in group { batches.append(batch) }
            return batches
        }
        let all = batches.flatMap { $0 }
        #expect(all.count == 8 * perTask)
        #expect(Set(all).count == all.count)
        #expect(batches.allSatisfy { batch in zip(batch, batch.dropFirst()).allSatisfy { $0 < $1 } })
    }
}
