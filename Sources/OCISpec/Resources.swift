/// linux.resources: cgroup settings.
public struct Resources: Codable, Sendable {
    public var devices: [DeviceCgroup]?
    public var memory: Memory?
    public var cpu: CPU?
    public var pids: Pids?
    public var blockIO: BlockIO?
    public var hugepageLimits: [HugepageLimit]?
    public var network: Network?
    public var rdma: [String: Rdma]?
    public var unified: [String: String]?

    public struct DeviceCgroup: Codable, Sendable {
        public var allow: Bool
        public var type: String?
        public var major: Int64?
        public var minor: Int64?
        public var access: String?
    }

    public struct Memory: Codable, Sendable {
        public var limit: Int64?
        public var reservation: Int64?
        public var swap: Int64?
        public var kernel: Int64?
        public var kernelTCP: Int64?
        public var swappiness: UInt64?
        public var disableOOMKiller: Bool?
        public var useHierarchy: Bool?
        public var checkBeforeUpdate: Bool?
    }

    public struct CPU: Codable, Sendable {
        public var shares: UInt64?
        public var quota: Int64?
        public var burst: UInt64?
        public var period: UInt64?
        public var realtimeRuntime: Int64?
        public var realtimePeriod: UInt64?
        public var cpus: String?
        public var mems: String?
        public var idle: Int64?
    }

    public struct Pids: Codable, Sendable {
        public var limit: Int64?
    }

    public struct BlockIO: Codable, Sendable {
        public var weight: UInt16?
        public var leafWeight: UInt16?
        public var weightDevice: [WeightDevice]?
        public var throttleReadBpsDevice: [ThrottleDevice]?
        public var throttleWriteBpsDevice: [ThrottleDevice]?
        public var throttleReadIOPSDevice: [ThrottleDevice]?
        public var throttleWriteIOPSDevice: [ThrottleDevice]?
    }

    public struct WeightDevice: Codable, Sendable {
        public var major: Int64
        public var minor: Int64
        public var weight: UInt16?
        public var leafWeight: UInt16?
    }

    public struct ThrottleDevice: Codable, Sendable {
        public var major: Int64
        public var minor: Int64
        public var rate: UInt64
    }

    public struct HugepageLimit: Codable, Sendable {
        public var pageSize: String
        public var limit: UInt64
    }

    public struct Network: Codable, Sendable {
        public var classID: UInt32?
        public var priorities: [Priority]?
        public struct Priority: Codable, Sendable {
            public var name: String
            public var priority: UInt32
        }
    }

    public struct Rdma: Codable, Sendable {
        public var hcaHandles: UInt32?
        public var hcaObjects: UInt32?
    }
}
