import Crypto
import Foundation
public import GordonKernel

/// The operator's and developer's documentation: the static DocC site `scripts/docs` builds
/// (the runbook, the architecture, every library's API), served by gordon-console under
/// `/docs` from the release's read-only tree, so the LAN reads the documentation of the
/// version that is running.
public struct DocumentationSite: Sendable {
    /// Where the console serves the site. DocC bakes its base path into every page (its
    /// scripts fetch their data from it), so `scripts/docs` builds for this one.
    public static let basePath = "/docs"
    /// The page `/` and `/docs/` lead to: Gordon's own landing page.
    public static let landingPage = "/docs/documentation/gordon/"

    public let directory: String
    /// Content-Security-Policy sources for the site's inline `<script>` and `<style>`
    /// elements (DocC's index.html sets its base URL inline), so the policy needs no
    /// 'unsafe-inline'.
    public let inlineScriptSources: [String]
    public let inlineStyleSources: [String]

    /// Reads the landing page. A directory without one, or a site built for another base path
    /// (its pages would load nothing), is refused with what to do instead. (The site's root
    /// index.html is DocC's template, left with base "/"; the console never serves it.)
    public init(directory: String) throws(GordonError) {
        let landing = directory + "/" + Self.landingPage.dropFirst(Self.basePath.count + 1) + "index.html"
        guard let data = FileManager.default.contents(atPath: landing), let html = String(data: data, encoding: .utf8) else {
            throw GordonError(.serviceConfigInvalid,
                              "no documentation site in \(directory) (no readable \(landing)): build it with scripts/docs")
        }
        let expected = "var baseUrl = \"\(Self.basePath)/\""
        guard html.contains(expected) else {
            throw GordonError(.serviceConfigInvalid,
                              "the documentation site in \(directory) was built for another base path (its landing page lacks '\(expected)'): build it with scripts/docs")
        }
        self.directory = directory
        inlineScriptSources = Self.inlineElements("script", in: html).map(Self.hashSource)
        inlineStyleSources = Self.inlineElements("style", in: html).map(Self.hashSource)
    }

    /// Whether `relativePath` (no "..") is a directory of the site.
    func isDirectory(_ relativePath: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: directory + "/" + relativePath, isDirectory: &isDirectory) && isDirectory.boolValue
    }

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
