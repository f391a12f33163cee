/// CNI_* variables, checked as the spec and the reference skel check them.
public struct CNIEnvironment: Sendable {
    public var command: String
    public var containerID: String
    public var netns: String
    public var ifname: String
    public var args: String
    public var path: String

    public init(command: String, containerID: String = "", netns: String = "", ifname: String = "", args: String = "", path: String = "") {
        self.command = command
        self.containerID = containerID
        self.netns = netns
        self.ifname = ifname
        self.args = args
        self.path = path
    }

    public init(_ env: [String: String]) {
        command = env["CNI_COMMAND"] ?? ""
        containerID = env["CNI_CONTAINERID"] ?? ""
        netns = env["CNI_NETNS"] ?? ""
        ifname = env["CNI_IFNAME"] ?? ""
        args = env["CNI_ARGS"] ?? ""
        path = env["CNI_PATH"] ?? ""
    }

    /// The variables for a delegated plugin.
    /// `SWNET_DELEGATED` marks them: swnet started that way as the bridge plugin is a cycle
    /// (an IPAM type that leads back to swnet) and refuses instead of starting itself again.
    func variables(command: String, delegated: Bool = true) -> [String] {
        ["CNI_COMMAND=\(command)", "CNI_CONTAINERID=\(containerID)", "CNI_NETNS=\(netns)", "CNI_IFNAME=\(ifname)",
         "CNI_ARGS=\(args)", "CNI_PATH=\(path)", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"] + (delegated ? ["\(CNIEnvironment.delegatedMarker)=1"] : [])
    }

    package static let delegatedMarker = "SWNET_DELEGATED"

    /// What each command needs.
    public func validate() throws(CNIError) {
        var missing: [String] = []
        let needsAttachment = ["ADD", "DEL", "CHECK"].contains(command)
        if needsAttachment && containerID.isEmpty { missing.append("CNI_CONTAINERID") }
        if needsAttachment && ifname.isEmpty { missing.append("CNI_IFNAME") }
        if (command == "ADD" || command == "CHECK") && netns.isEmpty { missing.append("CNI_NETNS") }
        if !missing.isEmpty {
            throw CNIError(.invalidEnvironment, "required environment variables missing", missing.joined(separator: ", "))
        }
        if needsAttachment {
            guard let first = containerID.utf8.first, isAlnum(first), containerID.utf8.allSatisfy(isNameByte) else {
                throw CNIError(.invalidEnvironment, "invalid CNI_CONTAINERID", "\"\(containerID)\" must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
            }
            guard CNIEnvironment.validInterfaceName(ifname) else {
                throw CNIError(.invalidEnvironment, "invalid CNI_IFNAME", "\"\(ifname)\": 1-15 characters, no '/', ':' or whitespace, not . or ..")
            }
        }
    }

    public static func validInterfaceName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 15 && name != "." && name != ".."
            && !name.utf8.contains { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 <= 0x20 || $0 == 0x7f }
    }
}

package func isAlnum(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
