import JSONCore

/// The OCI runtime-spec configuration (config.json), version 1.3. Unknown fields are ignored.
public struct Spec: Sendable {
    public var ociVersion: String
    public var process: Process?
    public var root: Root?
    public var hostname: String?
    public var domainname: String?
    public var mounts: [Mount]?
    public var hooks: Hooks?
    public var annotations: [String: String]?
    public var linux: Linux?

    public init(ociVersion: String, process: Process? = nil, root: Root? = nil, linux: Linux? = nil) {
        self.ociVersion = ociVersion
        self.process = process
        self.root = root
        self.linux = linux
    }
}

extension Spec: JSONDecodable {
    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        ociVersion = try o.required("ociVersion")
        process = try o.optional("process")
        root = try o.optional("root")
        hostname = try o.optional("hostname")
        domainname = try o.optional("domainname")
        mounts = try o.optional("mounts")
        hooks = try o.optional("hooks")
        annotations = try o.optional("annotations")
        linux = try o.optional("linux")
    }
}

public struct Root: Sendable, JSONDecodable {
    public var path: String
    public var readonly: Bool?

    public init(path: String, readonly: Bool? = nil) {
        self.path = path
        self.readonly = readonly
    }

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        self.path = try o.required("path")
        readonly = try o.optional("readonly")
    }
}

public struct Mount: Sendable, JSONDecodable {
    public var destination: String
    public var type: String?
    public var source: String?
    public var options: [String]?
    public var uidMappings: [IDMapping]?
    public var gidMappings: [IDMapping]?

    public init(destination: String, type: String?, source: String?, options: [String]?) {
        self.destination = destination
        self.type = type
        self.source = source
        self.options = options
    }

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        destination = try o.required("destination")
        type = try o.optional("type")
        source = try o.optional("source")
        options = try o.optional("options")
        uidMappings = try o.optional("uidMappings")
        gidMappings = try o.optional("gidMappings")
    }
}

public struct Hooks: Sendable, JSONDecodable {
    public var prestart: [Hook]?
    public var createRuntime: [Hook]?
    public var createContainer: [Hook]?
    public var startContainer: [Hook]?
    public var poststart: [Hook]?
    public var poststop: [Hook]?

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        prestart = try o.optional("prestart")
        createRuntime = try o.optional("createRuntime")
        createContainer = try o.optional("createContainer")
        startContainer = try o.optional("startContainer")
        poststart = try o.optional("poststart")
        poststop = try o.optional("poststop")
    }
}

public struct Hook: Sendable, JSONDecodable {
    public var path: String
    public var args: [String]?
    public var env: [String]?
    public var timeout: Int?

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        self.path = try o.required("path")
        args = try o.optional("args")
        env = try o.optional("env")
        timeout = try o.optional("timeout")
    }
}

public struct IDMapping: Sendable, Equatable, JSONDecodable {
    public var containerID: UInt32
    public var hostID: UInt32
    public var size: UInt32

    public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
        (self.containerID, self.hostID, self.size) = (containerID, hostID, size)
    }

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        containerID = try o.required("containerID")
        hostID = try o.required("hostID")
        size = try o.required("size")
    }
}
