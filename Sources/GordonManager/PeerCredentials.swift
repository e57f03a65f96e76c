#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import GordonKernel
public import NIOCore

/// Who is at the other end of a Unix domain socket connection, as the kernel saw it when the
/// peer connected (`SO_PEERCRED`): not something the peer can claim for itself.
public struct PeerCredentials: Sendable, Equatable {
    // The layout of Linux's `struct ucred`, which the C headers declare only under _GNU_SOURCE.
    struct UCred: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = UInt32.max
        var gid: UInt32 = UInt32.max
    }

    public let pid: Int32
    public let uid: UInt32
    public let gid: UInt32

    /// The credentials of `channel`'s peer; throws for a channel that is not a Unix domain socket.
    public static func of(_ channel: any Channel) async throws(GordonError) -> PeerCredentials {
        guard let provider = channel as? any SocketOptionProvider else {
            throw GordonError(.notAnOperator, "the connection is not a Unix domain socket: no peer credentials")
        }
        do {
            let credentials: UCred = try await provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET),
                                                                               name: SocketOptionName(SO_PEERCRED)).get()
            guard credentials.uid != UInt32.max else {
                throw GordonError(.notAnOperator, "the connection has no peer credentials")
            }
            return PeerCredentials(pid: credentials.pid, uid: credentials.uid, gid: credentials.gid)
        } catch let error as GordonError {
            throw error
        } catch {
            throw GordonError(.notAnOperator, "the connection's peer credentials cannot be read", context: ["error": "\(error)"])
        }
    }
}
