#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Crypto
import FoundationEssentials
import GordonDomain
import GordonKernel
import GordonKlineFiles
import GordonStrategy
import Hummingbird
import NIOCore

/// `POST /api/v1/data/import?symbol=&interval=&name=`: a Binance public-data kline file
/// (`.zip` as downloaded, or its `.csv`) in the body. The manager cannot write market data,
/// so it checks the file whole, keeps it in the import directory it shares with gordon-data
/// under the name of its SHA-256, and files a request naming it, which gordon-data takes as
/// it takes a backfill.
extension ManagerAPI {
    /// A month of one-second klines zipped is about 60 MB; anything far beyond is a mistake.
    static let importLimit = 256 << 20

    func fileImport(_ request: Request, by caller: Caller) async throws -> String {
        guard let directory = configuration.importDirectory else {
            throw GordonError(.serviceUnavailable, "kline imports are not configured (--import-directory)")
        }
        let parameters = request.uri.queryParameters
        let symbol = try Symbol(parameters.get("symbol") ?? "")
        let interval = try Interval(parsing: parameters.get("interval") ?? "")
        let name = parameters.get("name") ?? ""
        let lowered = name.lowercased()
        guard lowered.hasSuffix(".zip") || lowered.hasSuffix(".csv") else {
            throw GordonError(.invalidRequest, "name must be the file's name, ending in .zip or .csv, not '\(name.prefix(80))'")
        }
        let suffix = String(lowered.suffix(3))
        let upload = "\(directory)/.upload-\(UUID().uuidString.lowercased()).\(suffix)"
        let descriptor = open(upload, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            throw GordonError(.serviceUnavailable, "cannot write to the import directory \(directory): errno \(errno)")
        }
        var kept = false
        defer { if !kept { unlink(upload) } }
        let digest = try await Self.spool(request.body, into: descriptor)
        // Checked whole, as gordon-data will read it: a malformed row or a time off the grid
        // refuses the file here, with the row, before anything is filed.
        let series: BarSeries
        do {
            series = try KlineFileLoader.load(paths: [upload], symbol: symbol, interval: interval)
        } catch {
            // Its messages name the file as stored: the operator knows it by its own name.
            let stored = upload.split(separator: "/").last.map(String.init) ?? upload
            throw GordonError(.invalidRequest, "\(name): \(error.message.replacing(stored, with: name))")
        }
        guard let first = series.openTime.first, let last = series.openTime.last else {
            throw GordonError(.invalidRequest, "\(name) holds no klines")
        }
        let stored = digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() + "." + suffix
        for try await (earlier,) in try await database.query("""
            SELECT id FROM market_data.v_backfill_requests WHERE file_name = \(stored) AND status IN ('queued', 'running')
            """, logger: logger).decode((Int64,).self) {
            throw GordonError(.requestRefused, "\(name) is already filed, as import \(earlier), and not yet done")
        }
        guard rename(upload, "\(directory)/\(stored)") == 0 else {
            throw GordonError(.serviceUnavailable, "cannot keep the upload in \(directory): errno \(errno)")
        }
        kept = true
        var id: Int64?
        do {
            for try await (filed,) in try await database.query("""
                INSERT INTO market_data.backfill_requests (symbol, interval, from_time, to_time, requested_by, file_name)
                VALUES (\(symbol.rawValue), \(interval.rawValue), 'epoch'::timestamptz + \(first) * interval '1 millisecond',
                        'epoch'::timestamptz + \(last) * interval '1 millisecond', \("operator:" + caller.name), \(stored)) RETURNING id
                """, logger: logger).decode((Int64,).self) { id = filed }
        } catch {
            unlink("\(directory)/\(stored)")  // no request names it: nobody would remove it
            throw error
        }
        guard let id else { throw GordonError(.internalInvariant, "the import was not filed") }
        logger.notice("kline file import filed", metadata: ["request": "\(id)", "series": "\(symbol)@\(interval)", "file": "\(name)",
                                                            "klines": "\(series.count)", "operator": "\(caller.name)"])
        return try await onlyRow(Self.backfillsQuery(id: id, limit: 1))
    }

    /// Writes the body into `descriptor` (closing it) as it arrives, hashing it on the way;
    /// refuses an empty body or one over `importLimit`.
    static func spool(_ body: RequestBody, into descriptor: Int32) async throws -> SHA256.Digest {
        defer { close(descriptor) }
        var hash = SHA256()
        var size = 0
        for try await buffer in body {
            size += buffer.readableBytes
            guard size <= importLimit else { throw GordonError(.invalidRequest, "the file is larger than \(importLimit >> 20) MiB") }
            let bytes = Array(buffer.readableBytesView)
            hash.update(data: bytes)
            try writeAll(bytes, to: descriptor)
        }
        guard size > 0 else { throw GordonError(.invalidRequest, "the file is empty") }
        return hash.finalize()
    }

    static func writeAll(_ bytes: [UInt8], to descriptor: Int32) throws(GordonError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { throw GordonError(.serviceUnavailable, "cannot write the upload: errno \(errno)") }
            offset += written
        }
    }
}
