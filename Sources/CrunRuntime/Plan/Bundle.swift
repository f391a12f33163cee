import JSONCore
import OCISpec

/// An OCI bundle on disk: a directory holding config.json.
public struct Bundle {
    public let path: String

    public init(path: String) {
        self.path = FileSystem.absolute(path, base: FileSystem.currentDirectory())
    }

    public var configPath: String { path + "/config.json" }

    public func loadSpec() throws(RuntimeError) -> Spec {
        let bytes = try FileSystem.readFile(configPath, step: "open bundle config")
        let spec = try Bundle.decodeSpec(bytes, name: configPath)
        DebugLog.note("bundle: \(configPath) (ociVersion \(spec.ociVersion))")
        return spec
    }

    public static func decodeSpec(_ bytes: [UInt8], name: String = "config.json") throws(RuntimeError) -> Spec {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw .config("\(name): invalid JSON at \(error)")
        }
        do {
            return try Spec(json: value, path: "")
        } catch {
            throw .config("\(name): \(error)")
        }
    }
}
