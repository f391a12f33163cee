import Glibc

/// An IPv4 or IPv6 address as its bytes (4 or 16, network order).
public struct IPAddress: Hashable, Comparable, CustomStringConvertible, Sendable {
    public let bytes: [UInt8]

    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public var isV4: Bool { bytes.count == 4 }
    public var family: Int32 { isV4 ? AF_INET : AF_INET6 }
    public var bits: Int { bytes.count * 8 }

    public var description: String {
        var buf = [CChar](repeating: 0, count: 64)
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buf, socklen_t(buf.count)) }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    /// The address `n` after this one (n may be negative); nil on wrap-around.
    public func advanced(by n: Int) -> IPAddress? {
        var out = bytes
        var carry = n
        var i = out.count - 1
        while carry != 0 && i >= 0 {
            let sum = Int(out[i]) + carry
            out[i] = UInt8(truncatingIfNeeded: sum & 0xff)
            carry = sum >> 8
            i -= 1
        }
        return carry == 0 ? IPAddress(bytes: out) : nil
    }

    /// The address with every bit from `prefix` on set to `bit`.
    func masked(_ prefix: Int, fill: Bool) -> IPAddress {
        var out = bytes
        for i in 0..<out.count {
            let lo = i * 8
            if lo >= prefix {
                out[i] = fill ? 0xff : 0
            } else if lo + 8 > prefix {
                let keep = UInt8(0xff) << UInt8(8 - (prefix - lo))
                out[i] = fill ? (out[i] | ~keep) : (out[i] & keep)
            }
        }
        return IPAddress(bytes: out)
    }
}

/// An address with a prefix length: "10.1.0.5/24".
public struct CIDR: Hashable, CustomStringConvertible, Sendable {
    public let address: IPAddress
    public let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let a = IPAddress(String(parts[0])), let p = Int(parts[1]), p >= 0, p <= a.bits else { return nil }
        address = a
        prefix = p
    }

    public init(address: IPAddress, prefix: Int) {
        self.address = address
        self.prefix = prefix
    }

    public var description: String { "\(address)/\(prefix)" }
    public var network: IPAddress { address.masked(prefix, fill: false) }
    public var last: IPAddress { address.masked(prefix, fill: true) }
    /// The network address with the prefix ("10.1.0.0/24").
    public var canonical: CIDR { CIDR(address: network, prefix: prefix) }

    public func contains(_ ip: IPAddress) -> Bool {
        ip.bytes.count == address.bytes.count && ip.masked(prefix, fill: false) == network
    }

    public func overlaps(_ other: CIDR) -> Bool {
        address.bytes.count == other.address.bytes.count && (contains(other.network) || other.contains(network))
    }
}
