import JSONCore

/// linux.resources: cgroup settings.
public struct Resources: Sendable, JSONDecodable {
    public var devices: [DeviceCgroup]?
    public var memory: Memory?
    public var cpu: CPU?
    public var pids: Pids?
    public var blockIO: BlockIO?
    public var hugepageLimits: [HugepageLimit]?
    public var network: Network?
    public var rdma: [String: Rdma]?
    public var unified: [String: String]?

    public init() {}

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        devices = try o.optional("devices")
        memory = try o.optional("memory")
        cpu = try o.optional("cpu")
        pids = try o.optional("pids")
        blockIO = try o.optional("blockIO")
        hugepageLimits = try o.optional("hugepageLimits")
        network = try o.optional("network")
        rdma = try o.optional("rdma")
        unified = try o.optional("unified")
    }

    public struct DeviceCgroup: Sendable, JSONDecodable {
        public var allow: Bool
        public var type: String?
        public var major: Int64?
        public var minor: Int64?
        public var access: String?

        public init(json: JSONValue, path: String) throws(JSONDecodeError) {
            let o = try JSONObject(json, path: path)
            allow = try o.required("allow")
            type = try o.optional("type")
            major = try o.optional("major")
            minor = try o.optional("minor")
            access = try o.optional("access")
        }
    }

    public struct Memory: Sendable, JSONDecodable {
        public var limit: Int64?
        public var reservation: Int64?
        public var swap: Int64?
        public var kernel: Int64?
        public var kernelTCP: Int64?
        public var swappiness: UInt64?
        public var disableOOMKiller: Bool?
        public var useHierarchy: Bool?
        public var checkBeforeUpdate: Bool?

        public init(json: JSONValue, path: String) throws(JSONDecodeError) {
            let o = try JSONObject(json, path: path)
            limit = try o.optional("limit")
            reservation = try o.optional("reservation")
            swap = try o.optional("swap")
            kernel = try o.optional("kernel")
            kernelTCP = try o.optional("kernelTCP")
            swappiness = try o.optional("swappiness")
            disableOOMKiller = try o.optional("disableOOMKiller")
            useHierarchy = try o.optional("useHierarchy")
            checkBeforeUpdate = try o.optional("checkBeforeUpdate")
        }
    }

    public struct CPU: Sendable, JSONDecodable {
        public var shares: UInt64?
        public var quota: Int64?
        public var burst: UInt64?
        public var period: UInt64?
        public var realtimeRuntime: Int64?
        public var realtimePeriod: UInt64?
        public var cpus: String?
        public var mems: String?
        public var idle: Int64?

        public init(json: JSONValue, path: String) throws(JSONDecodeError) {
            let o = try JSONObject(json, path: path)
            shares = try o.optional("shares")
            quota = try o.optional("quota")
            burst = try o.optional("burst")
            period = try o.optional("period")
            realtimeRuntime = try o.optional("realtimeRuntime")
            realtimePeriod = try o.optional("realtimePeriod")
            cpus = try o.optional("cpus")
            mems = try o.optional("mems")
            idle = try o.optional("idle")
        }
    }

    public struct Pids: Sendable, JSONDecodable {
        public var limit: Int64?

        public init(json: JSONValue, path: String) throws(JSONDecodeError) {
            limit = try JSONObject(json, path: path).optional("limit")
        }
    }

    public struct BlockIO: Sendable, JSONDecodable {
        public var weight: UInt16?
        public var leafWeight: UInt16?
        public var weightDevice: [WeightDevice]?
        public var throttleReadBpsDevice: [ThrottleDevice]?
        public var throttleWriteBpsDevice: [ThrottleDevice]?
        public var throttleReadIOPSDevice: [ThrottleDevice]?
        public var throttleWriteIOPSDevice: [ThrottleDevice]?

        public init(json: JSONValue, path: String) throws(JSONDecodeError) {
            let o = try JSONObject(json, path: path)
            weight = try o.optional("weight")
            leafWeight = try o.optional("leafWeight")
            weightDevice = try o.optional("weightDevice")
            throttleReadBpsDevice = try o.optional("throttleReadBpsDevice")
            throttleWriteBpsDevice = try o.optional("throttleWriteBpsDevice")
            throttleReadIOPSDevice = try o.optional("throttleReadIOPSDevice")
            throttleWriteIOPSDevice = try o.optional("throttleWriteIOPSDevice")
        }
    }

    public struct WeightDevice: Sendable, JSONDecodable {
        public var major: Int64
        public var minor: Int64
        public var weight: UInt16?
        public var leafWeight: UInt16?

        public init(json: JSONValue, path: String) throws(JSONDecodeError) {
            let o = try JSONObject(json, path: path)
            major = try o.required("major")
            minor = try o.required("minor")
            weight = try o.optional("weight")
            leafWeight = try o.optional("leafWeight")
        }
    }

    public struct ThrottleDevice: Sendable, JSONDecodable {
        public var major: Int64
        public var minor: Int64
        public var rate: UInt64

        public init(json: JSONValue, path: String) throws(JSONDecodeError) {
            let o = try JSONObject(json, path: path)
            major = try o.required("major")
            minor = try o.required("minor")
            rate = try o.required("rate")
        }
    }

    public struct HugepageLimit: Sendable, JSONDecodable {
        public var pageSize: String
        public var limit: UInt64

        public init(json: JSONValue, path: String) throws(JSONDecodeError) {
            let o = try JSONObject(json, path: path)
            pageSize = try o.required("pageSize")
            limit = try o.required("limit")
        }
    }

    public struct Network: Sendable, JSONDecodable {
        public var classID: UInt32?
        public var priorities: [Priority]?

        public init(json: JSONValue, path: String) throws(JSONDecodeError) {
            let o = try JSONObject(json, path: path)
            classID = try o.optional("classID")
            priorities = try o.optional("priorities")
        }

        public struct Priority: Sendable, JSONDecodable {
            public var name: String
            public var priority: UInt32

            public init(json: JSONValue, path: String) throws(JSONDecodeError) {
                let o = try JSONObject(json, path: path)
                name = try o.required("name")
                priority = try o.required("priority")
            }
        }
    }

    public struct Rdma: Sendable, JSONDecodable {
        public var hcaHandles: UInt32?
        public var hcaObjects: UInt32?

        public init(json: JSONValue, path: String) throws(JSONDecodeError) {
            let o = try JSONObject(json, path: path)
            hcaHandles = try o.optional("hcaHandles")
            hcaObjects = try o.optional("hcaObjects")
        }
    }
}
