import CNetlink
import Glibc
import LinuxSys

/// A NETLINK_ROUTE socket bound to one network namespace, with errors that say what failed.
final class Netlink {
    let sock: OpaquePointer
    let namespace: String

    init(namespace: String = "node") throws(CNIError) {
        guard let s = nl_open() else { throw CNIError(.netlink, "cannot open a netlink socket", errnoText(errno)) }
        sock = s
        self.namespace = namespace
    }

    init(netnsPath: String) throws(CNIError) {
        guard let s = nl_open_in(netnsPath) else {
            let e = errno
            if e == ENOENT || e == EINVAL {
                throw CNIError(.unknownContainer, "the container's network namespace does not exist", "CNI_NETNS=\(netnsPath): \(errnoText(e))")
            }
            throw CNIError(.netlink, "cannot enter the container's network namespace", "\(netnsPath): \(errnoText(e))")
        }
        sock = s
        namespace = netnsPath
    }

    deinit { nl_close(sock) }

    func check(_ r: Int32, _ what: @autoclosure () -> String) throws(CNIError) {
        if r < 0 { throw CNIError(.netlink, what(), errnoText(-r)) }
    }

    /// nil when there is no such link.
    func link(_ name: String) throws(CNIError) -> nl_link_info? {
        var info = nl_link_info()
        let r = nl_link_get(sock, name, &info)
        if r == -ENODEV { return nil }
        try check(r, "look up link \(name) in \(namespace)")
        return info
    }

    func mac(_ info: nl_link_info) -> String? {
        guard info.has_mac != 0 else { return nil }
        return MACAddress(bytes: withUnsafeBytes(of: info.mac) { Array($0) }).description
    }
}
