#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
public import GordonKernel
public import NIOSSL

/// The console's https: the certificate chain and private key from PEM files. The key is a
/// secret and held to a keyfile's rules (a regular file, not a link, no group or other
/// access, owned by the console's user); the certificate is public.
public enum ConsoleTLS {
    public static func configuration(certificate: String, key: String) throws(GordonError) -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(try read(certificate, secret: false).utf8))
        } catch let error as GordonError {
            throw error
        } catch {
            throw GordonError(.keyfileMalformed, "the TLS certificate is not PEM: \(error)", context: ["path": certificate])
        }
        guard !chain.isEmpty else { throw GordonError(.keyfileMalformed, "the TLS certificate file holds no certificate", context: ["path": certificate]) }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(bytes: Array(try read(key, secret: true).utf8), format: .pem)
        } catch let error as GordonError {
            throw error
        } catch {
            // Never the key's text, only that it is unusable.
            throw GordonError(.keyfileMalformed, "the TLS private key is not a PEM private key", context: ["path": key])
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }

    /// Reads a small file by its open descriptor, so the file checked is the file read.
    static func read(_ path: String, secret: Bool) throws(GordonError) -> String {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw GordonError(errno == ELOOP ? .keyfileMalformed : .keyfileMissing,
                              errno == ELOOP ? "the TLS file is a symbolic link; give the file itself" : "the TLS file cannot be opened",
                              context: ["path": path])
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw GordonError(.keyfileMissing, "the TLS file cannot be examined", context: ["path": path]) }
        if secret {
            try KeyfilePermissions(mode: UInt32(info.st_mode), owner: UInt32(info.st_uid)).check(readBy: geteuid(), path: path)
        }
        guard info.st_size <= 1 << 20, let data = try? handle.readToEnd() else {
            throw GordonError(.keyfileMalformed, "the TLS file is unreadable or larger than 1 MiB", context: ["path": path])
        }
        return String(decoding: data, as: UTF8.self)
    }
}
