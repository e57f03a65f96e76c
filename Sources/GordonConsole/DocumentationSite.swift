import Crypto
import Foundation
public import GordonKernel
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The operator's and developer's documentation: the static DocC site `scripts/docs` builds
/// (the runbook, the architecture, every library's API), served by gordon-console under
/// `/docs` from the release's read-only tree, so the LAN reads the documentation of the
/// version that is running.
///
/// The site is one file, a tar archive (pax) of the site's directory, read in place: DocC
/// writes one index.html per page, over nine thousand small files, and a deploy copies one
/// file far faster than that many.
public struct DocumentationSite: Sendable {
    /// Where the console serves the site. DocC bakes its base path into every page (its
    /// scripts fetch their data from it), so `scripts/docs` builds for this one.
    public static let basePath = "/docs"
    /// The page `/` and `/docs/` lead to: Gordon's own landing page.
    public static let landingPage = "/docs/documentation/gordon/"

    public let archive: String
    /// Each file's bytes in the archive, by its path in the site (`js/index.js`).
    let entries: [String: Range<Int64>]
    /// A validator for every answer (the archive's size and change time): a deploy changes it.
    let version: String
    /// Content-Security-Policy sources for the pages' inline `<script>` and `<style>`
    /// elements (DocC sets its base URL inline), so the policy needs no 'unsafe-inline'.
    public let inlineScriptSources: [String]
    public let inlineStyleSources: [String]

    /// Reads the archive's index and the landing page. A missing or malformed archive, or a
    /// site built for another base path (its pages would load nothing), is refused with what
    /// to do instead.
    public init(archive: String) throws(GordonError) {
        let advice = "build it with scripts/docs"
        guard let handle = FileHandle(forReadingAtPath: archive) else {
            throw GordonError(.serviceConfigInvalid, "no documentation archive at \(archive): \(advice)")
        }
        defer { try? handle.close() }
        func read(_ offset: Int, _ count: Int) -> [UInt8] {
            (try? handle.seek(toOffset: UInt64(offset))).flatMap { try? handle.read(upToCount: count) }.map { [UInt8]($0) } ?? []
        }
        let entries: [String: Range<Int64>]
        do {
            entries = try TarIndex.entries(read)
        } catch {
            throw GordonError(.serviceConfigInvalid, "\(archive) is not a documentation archive (\(error.reason)): \(advice)")
        }
        let landingPath = String(Self.landingPage.dropFirst(Self.basePath.count + 1) + "index.html")
        guard let landing = entries[landingPath] else {
            throw GordonError(.serviceConfigInvalid, "the documentation archive \(archive) has no \(landingPath): \(advice)")
        }
        let html = String(decoding: read(Int(landing.lowerBound), landing.count), as: UTF8.self)
        let expected = "var baseUrl = \"\(Self.basePath)/\""
        guard html.contains(expected) else {
            throw GordonError(.serviceConfigInvalid,
                              "the documentation in \(archive) was built for another base path (its landing page lacks '\(expected)'): \(advice)")
        }
        var status = stat()
        guard stat(archive, &status) == 0, entries.values.allSatisfy({ $0.upperBound <= status.st_size }) else {
            throw GordonError(.serviceConfigInvalid, "the documentation archive \(archive) is cut short: \(advice)")
        }
        self.archive = archive
        self.entries = entries
        version = "\(status.st_size)-\(status.st_mtim.tv_sec)"
        inlineScriptSources = Self.inlineElements("script", in: html).map(Self.hashSource)
        inlineStyleSources = Self.inlineElements("style", in: html).map(Self.hashSource)
    }

    /// What the site answers for a path below `/docs/` (percent-decoded, without the prefix).
    enum Lookup: Equatable {
        /// The file's path in the archive (a directory's is its index.html) and its bytes.
        case file(String, Range<Int64>)
        /// A page's directory asked for without its trailing slash.
        case directory
        case missing
    }

    func lookup(_ relativePath: String) -> Lookup {
        // No path in the archive has an empty, "." or ".." component; refusing them here keeps
        // every answer inside the archive whatever a client sends.
        let components = relativePath.split(separator: "/", omittingEmptySubsequences: false)
        guard !components.dropLast().contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
              components.last != ".", components.last != ".." else { return .missing }
        let file = relativePath.isEmpty || relativePath.hasSuffix("/") ? relativePath + "index.html" : relativePath
        if let range = entries[file] { return .file(file, range) }
        if !relativePath.isEmpty, !relativePath.hasSuffix("/"), entries[relativePath + "/index.html"] != nil { return .directory }
        return .missing
    }

    /// One file's bytes, read off the event loop.
    func read(_ range: Range<Int64>) async throws -> ByteBuffer {
        let path = archive
        return try await NIOThreadPool.singleton.runIfActive {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw GordonError(.serviceUnavailable, "cannot open \(path): errno \(errno)") }
            defer { close(descriptor) }
            var buffer = ByteBuffer()
            let count = Int(range.count)
            let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { pointer in
                pread(descriptor, pointer.baseAddress, count, off_t(range.lowerBound))
            }
            guard read == count else { throw GordonError(.serviceUnavailable, "\(path) changed under the console") }
            return buffer
        }
    }

    /// Whether the archive is still where it was (the release's tree is mounted read-only; a
    /// missing archive means the site is gone).
    func isPresent() -> Bool { access(archive, R_OK) == 0 }

    /// The text of every `<tag>` element without attributes (`<script src=…>` loads a file,
    /// which 'self' covers).
    static func inlineElements(_ tag: String, in html: String) -> [String] {
        var found: [String] = []
        var rest = html[...]
        while let open = rest.range(of: "<\(tag)>") {
            guard let close = rest[open.upperBound...].range(of: "</\(tag)>") else { break }
            found.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return found
    }

    /// CSP's hash source for an inline element: its text's SHA-256, base64.
    static func hashSource(_ text: String) -> String {
        "'sha256-\(Data(SHA256.hash(data: Data(text.utf8))).base64EncodedString())'"
    }
}

/// The regular files of a POSIX tar archive (pax or ustar, what `tar --format=pax` writes):
/// 512-byte headers, each followed by its file's bytes padded to 512; a pax extended header
/// ('x') gives the next file a path longer than ustar's 255 bytes (DocC's initialisers have
/// them). A plain value over the bytes.
enum TarIndex {
    struct Malformed: Error {
        let reason: String
    }

    /// `read(offset, count)` gives the archive's bytes there (fewer at its end).
    static func entries(_ read: (Int, Int) -> [UInt8]) throws(Malformed) -> [String: Range<Int64>] {
        var entries: [String: Range<Int64>] = [:]
        var offset = 0
        var extendedPath: String?
        while true {
            let header = read(offset, 512)
            guard header.count == 512 else { throw Malformed(reason: "it ends without its end-of-archive blocks") }
            if header.allSatisfy({ $0 == 0 }) { return entries }  // the end: two zero blocks
            guard Array(header[257..<262]) == Array("ustar".utf8) else {
                throw Malformed(reason: "the header at byte \(offset) is not ustar or pax")
            }
            guard checksum(header[...]) == number(header[148..<156]) else {
                throw Malformed(reason: "the header at byte \(offset) fails its checksum")
            }
            guard let size = number(header[124..<136]) else { throw Malformed(reason: "the header at byte \(offset) has no size") }
            let name = text(header[0..<100]), prefix = text(header[345..<500])
            var path = extendedPath ?? (prefix.isEmpty ? name : prefix + "/" + name)
            while path.hasPrefix("./") { path.removeFirst(2) }
            let start = offset + 512
            switch header[156] {
            case UInt8(ascii: "0"), 0:
                entries[path] = Int64(start)..<Int64(start + size)
                extendedPath = nil
            case UInt8(ascii: "5"):  // a directory
                extendedPath = nil
            case UInt8(ascii: "x"):
                let records = read(start, size)
                guard records.count == size else { throw Malformed(reason: "an extended header at byte \(offset) is cut short") }
                extendedPath = try paxPath(records) ?? extendedPath
            case UInt8(ascii: "g"):  // global pax settings: nothing the console needs
                break
            default:
                throw Malformed(reason: "\(path) is neither a file nor a directory")
            }
            offset = start + (size + 511) / 512 * 512
        }
    }

    /// The `path` of pax records, `"LENGTH key=value\n"` each (LENGTH counts the whole record).
    static func paxPath(_ records: [UInt8]) throws(Malformed) -> String? {
        var path: String?
        var index = 0
        while index < records.count {
            guard let space = records[index...].firstIndex(of: 32),
                  let length = Int(String(decoding: records[index..<space], as: UTF8.self)), length > 0,
                  index + length <= records.count, records[index + length - 1] == 10,
                  let equals = records[space..<(index + length)].firstIndex(of: UInt8(ascii: "=")) else {
                throw Malformed(reason: "a pax extended header is malformed")
            }
            if String(decoding: records[(space + 1)..<equals], as: UTF8.self) == "path" {
                path = String(decoding: records[(equals + 1)..<(index + length - 1)], as: UTF8.self)
            }
            index += length
        }
        return path
    }

    /// The header's sum with its checksum field read as spaces.
    private static func checksum(_ header: ArraySlice<UInt8>) -> Int {
        header.indices.reduce(0) { sum, index in
            let position = index - header.startIndex
            return sum + ((148..<156).contains(position) ? 32 : Int(header[index]))
        }
    }

    /// An octal field, NUL- or space-terminated, perhaps with leading spaces.
    private static func number(_ field: ArraySlice<UInt8>) -> Int? {
        let digits = field.drop { $0 == 32 }.prefix { $0 != 0 && $0 != 32 }
        guard !digits.isEmpty, digits.allSatisfy({ (48...55).contains($0) }) else { return nil }
        return digits.reduce(0) { $0 * 8 + Int($1 - 48) }
    }

    private static func text(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }
}
