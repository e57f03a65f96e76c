/// The last `capacity` values of a stream, oldest first: the shared window of every
/// rolling indicator. O(1) per push.
struct RollingWindow: Sendable {
    private var storage: [Double]
    private var head = 0
    private(set) var count = 0
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity >= 1, "a window holds at least one value")
        self.capacity = capacity
        self.storage = Array(repeating: 0, count: capacity)
    }

    var isFull: Bool { count == capacity }

    /// Adds `value`; returns the value that fell out when the window was full.
    @discardableResult
    @inline(__always)
    mutating func push(_ value: Double) -> Double? {
        if count < capacity {
            storage[count] = value  // head stays 0 until the window is full
            count += 1
            return nil
        }
        let evicted = storage[head]
        storage[head] = value
        head += 1
        if head == capacity { head = 0 }
        return evicted
    }

    /// `age` 0 is the newest value.
    subscript(age age: Int) -> Double { storage[(head + count - 1 - age) % capacity] }

    /// Oldest first.
    var values: [Double] { (0..<count).map { storage[(head + $0) % capacity] } }

    /// Visits the values oldest first, without allocating.
    func forEach(_ body: (Double) -> Void) {
        var index = head
        for _ in 0..<count {
            body(storage[index])
            index += 1
            if index == capacity { index = 0 }
        }
    }
}

/// A running mean over a fixed window, computed the way pandas' `rolling(n).mean()` does
/// (aggregations.pyx `roll_mean`): Kahan-compensated running sums, with separate
/// compensations for values entering and leaving, the value itself when the window holds
/// one repeated number, and sign clamps. Bit-identical to pandas, hence to backtesting.py's
/// SMA, and free of drift over millions of updates (the compensation keeps the error at
/// the last bit).
struct CompensatedMean: Sendable {
    private var window: RollingWindow
    private var sum = 0.0
    private var addCompensation = 0.0
    private var removeCompensation = 0.0
    private var negatives = 0
    private var sameRun = 0
    private var previous: Double?

    init(period: Int) { window = RollingWindow(capacity: period) }

    var period: Int { window.capacity }

    /// The mean of the last `period` values, nil until there are that many.
    @inline(__always)
    mutating func update(_ value: Double) -> Double? {
        if let evicted = window.push(value) {
            let y = -evicted - removeCompensation
            let t = sum + y
            removeCompensation = t - sum - y
            sum = t
            if evicted.sign == .minus { negatives -= 1 }
        }
        let y = value - addCompensation
        let t = sum + y
        addCompensation = t - sum - y
        sum = t
        if value.sign == .minus { negatives += 1 }
        sameRun = value == previous ? sameRun + 1 : 1
        previous = value
        guard window.isFull else { return nil }
        let count = window.count
        if sameRun >= count { return value }
        let mean = sum / Double(count)
        if negatives == 0 && mean < 0 { return 0 }
        if negatives == count && mean > 0 { return 0 }
        return mean
    }
}

/// Mean and standard deviation of a window from running sums of `x − shift`, the shift
/// being the window's mean at the last resync (every `period` updates, which also rebuilds
/// the sums from the window so they never drift). Shifting keeps the sums near the data's
/// spread rather than its level, so a price of 100,000 moving by cents loses no precision
/// to cancellation.
struct RollingMoments: Sendable {
    private var window: RollingWindow
    private var shift = 0.0
    private var sum = 0.0
    private var sumOfSquares = 0.0
    private var sinceResync = 0

    init(period: Int) { window = RollingWindow(capacity: period) }

    var isFull: Bool { window.isFull }

    mutating func push(_ value: Double) {
        let evicted = window.push(value)
        sinceResync += 1
        if sinceResync >= window.capacity || window.count == 1 {
            sinceResync = 0
            resync()
            return
        }
        if let evicted {
            let d = evicted - shift
            sum -= d
            sumOfSquares -= d * d
        }
        let d = value - shift
        sum += d
        sumOfSquares += d * d
    }

    private mutating func resync() {
        var total = 0.0
        window.forEach { total += $0 }
        shift = total / Double(window.count)
        sum = 0
        sumOfSquares = 0
        window.forEach { value in
            let d = value - shift
            sum += d
            sumOfSquares += d * d
        }
    }

    /// Mean and population (n) or sample (n − 1) standard deviation. A window whose values
    /// are (nearly) all equal is recomputed directly, so a flat window has a deviation of
    /// exactly 0 rather than a rounding residue.
    func meanAndDeviation(sample: Bool) -> (mean: Double, deviation: Double) {
        let n = Double(window.count)
        let divisor = sample ? n - 1 : n
        let meanOffset = sum / n
        let variance = divisor > 0 ? (sumOfSquares - sum * meanOffset) / divisor : 0
        if divisor <= 0 || variance <= 1e-10 * (sumOfSquares / n) {
            return exact(sample: sample)
        }
        return (shift + meanOffset, variance.squareRoot())
    }

    /// Two passes over the window, as the batch forms compute it.
    private func exact(sample: Bool) -> (mean: Double, deviation: Double) {
        let n = Double(window.count)
        var total = 0.0
        window.forEach { total += $0 }
        let mean = total / n
        var squares = 0.0
        window.forEach { squares += ($0 - mean) * ($0 - mean) }
        let divisor = sample ? n - 1 : n
        return (mean, divisor > 0 ? (squares / divisor).squareRoot() : 0)
    }
}

/// The highest (or lowest) of a window's values in O(1) amortised per update: a monotonic
/// deque of (index, value) pairs.
struct RollingExtreme: Sendable {
    private var indices: [Int] = []
    private var values: [Double] = []
    private var front = 0
    private var seen = 0
    let period: Int
    let isMaximum: Bool

    init(period: Int, maximum: Bool) {
        precondition(period >= 1)
        self.period = period
        self.isMaximum = maximum
    }

    var isFull: Bool { seen >= period }

    mutating func push(_ value: Double) {
        while values.count > front, isMaximum ? values[values.count - 1] <= value : values[values.count - 1] >= value {
            values.removeLast()
            indices.removeLast()
        }
        indices.append(seen)
        values.append(value)
        seen += 1
        while indices[front] <= seen - 1 - period { front += 1 }
        if front > 1024 && front * 2 > values.count {
            indices.removeFirst(front)
            values.removeFirst(front)
            front = 0
        }
    }

    var value: Double { values[front] }
}
