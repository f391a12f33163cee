public struct Linux: Codable, Sendable {
    public var namespaces: [Namespace]?
    public var uidMappings: [IDMapping]?
    public var gidMappings: [IDMapping]?
    public var timeOffsets: [String: TimeOffset]?
    public var devices: [Device]?
    public var netDevices: [String: NetDevice]?
    public var cgroupsPath: String?
    public var resources: Resources?
    public var intelRdt: IntelRdt?
    public var sysctl: [String: String]?
    public var seccomp: Seccomp?
    public var rootfsPropagation: String?
    public var maskedPaths: [String]?
    public var readonlyPaths: [String]?
    public var mountLabel: String?
    public var personality: Personality?
    public var memoryPolicy: MemoryPolicy?

    public init() {}

    /// A Linux section with only a mount namespace (for validating a process on its own).
    public static var withMount: Linux {
        var l = Linux()
        l.namespaces = [Namespace(type: "mount")]
        return l
    }
}

/// `type` stays a string so that an unknown type is a validation error with its path, not a
/// decoding failure.
public struct Namespace: Codable, Sendable {
    public var type: String
    public var path: String?

    public init(type: String, path: String? = nil) {
        self.type = type
        self.path = path
    }
}

public struct TimeOffset: Codable, Sendable {
    public var secs: Int64?
    public var nanosecs: UInt32?
}

public struct Device: Codable, Sendable {
    public var type: String
    public var path: String
    public var major: Int64?
    public var minor: Int64?
    public var fileMode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
}

public struct NetDevice: Codable, Sendable {
    public var name: String?
}

public struct IntelRdt: Codable, Sendable {
    public var closID: String?
    public var l3CacheSchema: String?
    public var memBwSchema: String?
    public var schemata: [String]?
    public var enableMonitoring: Bool?
}

public struct Personality: Codable, Sendable {
    public var domain: String
    public var flags: [String]?
}

public struct MemoryPolicy: Codable, Sendable {
    public var mode: String
    public var nodes: String?
    public var flags: [String]?
}

public struct Seccomp: Codable, Sendable {
    public var defaultAction: String
    public var defaultErrnoRet: UInt32?
    public var architectures: [String]?
    public var flags: [String]?
    public var listenerPath: String?
    public var listenerMetadata: String?
    public var syscalls: [SeccompSyscall]?
}

public struct SeccompSyscall: Codable, Sendable {
    public var names: [String]
    public var action: String
    public var errnoRet: UInt32?
    public var args: [SeccompArg]?
}

public struct SeccompArg: Codable, Sendable {
    public var index: UInt32
    public var value: UInt64
    public var valueTwo: UInt64?
    public var op: String
}
