import JSONCore

/// CNI_ARGS ("K=V;K=V"), checked as the reference plugins check them: a key swnet does not
/// know is refused unless IgnoreUnknown=1 (or true) is among them.
package struct CNIArgs {
    static let known: Set<String> = ["IgnoreUnknown", "IP", "MAC", "K8S_POD_NAME", "K8S_POD_NAMESPACE",
                                     "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID"]
    var pairs: [(key: String, value: String)] = []

    package init(_ text: String) throws(CNIError) {
        for part in text.split(separator: ";", omittingEmptySubsequences: true) {
            guard let eq = part.firstIndex(of: "="), eq != part.startIndex else {
                throw CNIError(.invalidEnvironment, "invalid CNI_ARGS", "\"\(part)\" is not KEY=VALUE")
            }
            pairs.append((String(part[..<eq]), String(part[part.index(after: eq)...])))
        }
        let ignore = pairs.contains { $0.key == "IgnoreUnknown" && ["1", "true", "True"].contains($0.value) }
        if !ignore, let unknown = pairs.first(where: { !CNIArgs.known.contains($0.key) }) {
            throw CNIError(.invalidEnvironment, "invalid CNI_ARGS", "unknown key \"\(unknown.key)\" (add IgnoreUnknown=1 to pass it anyway)")
        }
    }

    func value(_ key: String) -> String? { pairs.last { $0.key == key }?.value }
}

/// What a runtime asks for: addresses (CNI_ARGS IP=, args.cni.ips, runtimeConfig.ips: the
/// "ips" capability) and a MAC (config mac, CNI_ARGS MAC=, args.cni.mac, runtimeConfig.mac:
/// the "mac" capability, later ones winning), as host-local and the reference bridge take them.
package enum Requested {
    package static func addresses(_ raw: JSONValue, args: CNIArgs) throws(CNIError) -> [IPAddress] {
        var texts: [(String, String)] = []
        if let ip = args.value("IP") {
            for t in ip.split(separator: ",") { texts.append((String(t), "CNI_ARGS IP")) }
        }
        for (path, list) in [("args.cni.ips", raw["args"]?["cni"]?["ips"]), ("runtimeConfig.ips", raw["runtimeConfig"]?["ips"])] {
            guard let list else { continue }
            guard let items = list.arrayValue else { throw CNIError(.invalidConfig, "invalid network configuration", "\(path): must be a list of addresses") }
            for (i, item) in items.enumerated() {
                guard let t = item.stringValue else { throw CNIError(.invalidConfig, "invalid network configuration", "\(path)[\(i)]: must be a string") }
                texts.append((t, "\(path)[\(i)]"))
            }
        }
        var out: [IPAddress] = []
        for (text, origin) in texts {
            // "10.1.2.3" or "10.1.2.3/24" (the prefix is the range's anyway).
            let addressText = text.split(separator: "/", maxSplits: 1).first.map(String.init) ?? text
            guard let ip = IPAddress(addressText) else {
                throw CNIError(.invalidConfig, "invalid requested address", "\(origin): \"\(text)\" is not an IP address")
            }
            if !out.contains(ip) { out.append(ip) }
        }
        return out
    }

    package static func mac(_ conf: NetworkConfig, args: CNIArgs) throws(CNIError) -> String? {
        var mac = conf.raw["mac"]?.stringValue
        var origin = "mac"
        if let m = args.value("MAC") { mac = m; origin = "CNI_ARGS MAC" }
        if case .string(let m)? = conf.raw["args"]?["cni"]?["mac"] { mac = m; origin = "args.cni.mac" }
        if case .string(let m)? = conf.runtimeConfig?["mac"] { mac = m; origin = "runtimeConfig.mac" }
        if let mac, MACAddress(mac) == nil {
            throw CNIError(.invalidConfig, "invalid requested MAC address", "\(origin): \"\(mac)\" is not a MAC address")
        }
        return mac
    }
}
