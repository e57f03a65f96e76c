#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import GordonKernel

/// The API socket's file: only root and the operators' group may open it (mode 0660, group
/// the operators'), so anyone else is refused by the kernel before the manager sees them;
/// the peer-credential check behind it is the second lock.
public enum OperatorSocket {
    /// The operators' group id, from the group file; a missing group is a configuration
    /// error: without it nobody but root could operate.
    public static func groupId(of group: String, groupFile: String) throws(GordonError) -> UInt32 {
        let accounts = LocalAccounts(passwd: "", group: ManagerAPI.readFile(groupFile))
        guard let entry = accounts.groups[group] else {
            throw GordonError(.serviceConfigInvalid, "the operators' group \(group) is not in \(groupFile)")
        }
        return entry.gid
    }

    /// A socket file left by a process that died is removed; any other file there is not.
    public static func removeStale(_ path: String) throws(GordonError) {
        var status = stat()
        guard lstat(path, &status) == 0 else { return }
        guard (status.st_mode & S_IFMT) == S_IFSOCK else {
            throw GordonError(.serviceConfigInvalid, "\(path) exists and is not a socket")
        }
        unlink(path)
    }

    public static func restrict(_ path: String, group: UInt32) throws(GordonError) {
        guard chown(path, UInt32.max, group) == 0 else {
            throw GordonError(.serviceConfigInvalid, "cannot give \(path) to group \(group): errno \(errno)")
        }
        guard chmod(path, 0o660) == 0 else {
            throw GordonError(.serviceConfigInvalid, "cannot make \(path) mode 0660: errno \(errno)")
        }
    }
}
