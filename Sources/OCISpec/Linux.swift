import JSONCore

public struct Linux: Sendable {
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

extension Linux: JSONDecodable {
    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        namespaces = try o.optional("namespaces")
        uidMappings = try o.optional("uidMappings")
        gidMappings = try o.optional("gidMappings")
        timeOffsets = try o.optional("timeOffsets")
        devices = try o.optional("devices")
        netDevices = try o.optional("netDevices")
        cgroupsPath = try o.optional("cgroupsPath")
        resources = try o.optional("resources")
        intelRdt = try o.optional("intelRdt")
        sysctl = try o.optional("sysctl")
        seccomp = try o.optional("seccomp")
        rootfsPropagation = try o.optional("rootfsPropagation")
        maskedPaths = try o.optional("maskedPaths")
        readonlyPaths = try o.optional("readonlyPaths")
        mountLabel = try o.optional("mountLabel")
        personality = try o.optional("personality")
        memoryPolicy = try o.optional("memoryPolicy")
    }
}

/// `type` stays a string so that an unknown type is a validation error with its path, not a
/// decoding failure.
public struct Namespace: Sendable, JSONDecodable {
    public var type: String
    public var path: String?

    public init(type: String, path: String? = nil) {
        self.type = type
        self.path = path
    }

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        type = try o.required("type")
        // An empty path means none (runc's reading): a new namespace.
        let p: String? = try o.optional("path")
        self.path = p?.isEmpty == true ? nil : p
    }
}

public struct TimeOffset: Sendable, JSONDecodable {
    public var secs: Int64?
    public var nanosecs: UInt32?

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        secs = try o.optional("secs")
        nanosecs = try o.optional("nanosecs")
    }
}

public struct Device: Sendable, JSONDecodable {
    public var type: String
    public var path: String
    public var major: Int64?
    public var minor: Int64?
    public var fileMode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        type = try o.required("type")
        self.path = try o.required("path")
        major = try o.optional("major")
        minor = try o.optional("minor")
        fileMode = try o.optional("fileMode")
        uid = try o.optional("uid")
        gid = try o.optional("gid")
    }
}

public struct NetDevice: Sendable, JSONDecodable {
    public var name: String?

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        name = try JSONObject(json, path: path).optional("name")
    }
}

public struct IntelRdt: Sendable, JSONDecodable {
    public var closID: String?
    public var l3CacheSchema: String?
    public var memBwSchema: String?
    public var schemata: [String]?
    public var enableMonitoring: Bool?

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        closID = try o.optional("closID")
        l3CacheSchema = try o.optional("l3CacheSchema")
        memBwSchema = try o.optional("memBwSchema")
        schemata = try o.optional("schemata")
        enableMonitoring = try o.optional("enableMonitoring")
    }
}

public struct Personality: Sendable, JSONDecodable {
    public var domain: String
    public var flags: [String]?

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        domain = try o.required("domain")
        flags = try o.optional("flags")
    }
}

public struct MemoryPolicy: Sendable, JSONDecodable {
    public var mode: String
    public var nodes: String?
    public var flags: [String]?

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        mode = try o.required("mode")
        nodes = try o.optional("nodes")
        flags = try o.optional("flags")
    }
}

public struct Seccomp: Sendable, JSONDecodable {
    public var defaultAction: String
    public var defaultErrnoRet: UInt32?
    public var architectures: [String]?
    public var flags: [String]?
    public var listenerPath: String?
    public var listenerMetadata: String?
    public var syscalls: [SeccompSyscall]?

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        defaultAction = try o.required("defaultAction")
        defaultErrnoRet = try o.optional("defaultErrnoRet")
        architectures = try o.optional("architectures")
        flags = try o.optional("flags")
        listenerPath = try o.optional("listenerPath")
        listenerMetadata = try o.optional("listenerMetadata")
        syscalls = try o.optional("syscalls")
    }
}

public struct SeccompSyscall: Sendable, JSONDecodable {
    public var names: [String]
    public var action: String
    public var errnoRet: UInt32?
    public var args: [SeccompArg]?

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        names = try o.required("names")
        action = try o.required("action")
        errnoRet = try o.optional("errnoRet")
        args = try o.optional("args")
    }
}

public struct SeccompArg: Sendable, JSONDecodable {
    public var index: UInt32
    public var value: UInt64
    public var valueTwo: UInt64?
    public var op: String

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        index = try o.required("index")
        value = try o.required("value")
        valueTwo = try o.optional("valueTwo")
        op = try o.required("op")
    }
}
