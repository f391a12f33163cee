// libFuzzer target for the JSON parser, the model mapping and the validator: every input is
// parsed, decoded as a config (and as linux.resources, as `update` reads it) and validated;
// anything but a clean return or a thrown error (a trap, an overflow, an out-of-bounds
// access, a hang) is a bug. Built by scripts/fuzz/libfuzzer with the sources of JSONCore and
// OCISpec compiled into one module.
@_cdecl("LLVMFuzzerTestOneInput")
public func configFuzzTarget(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    // What the parser returns must survive a round trip through the writer.
    let again = try? JSONParser.parse(Array(value.serialized().utf8))
    if again != value { fatalError("the writer's output parses to another value") }
    if let spec = try? Spec(json: value, path: "") {
        let issues = SpecValidator(isKnownCapability: { ["CAP_CHOWN", "CAP_KILL", "CAP_SYS_ADMIN"].contains($0) }).validate(spec)
        for issue in issues where issue.path.isEmpty || issue.message.isEmpty { fatalError("an issue without a path or a message") }
        for issue in issues where issue.description.utf8.contains(0) { fatalError("an issue whose text holds a NUL: \(issue)") }
    }
    if let resources = try? Resources(json: value, path: "linux.resources") {
        _ = SpecValidator().validateResources(resources)
    }
    return 0
}
