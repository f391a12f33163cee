import CrunRuntime

extension Diagnostics {
    /// --debug on: `debug` lines, and the runtime's steps (DebugLog), are written.
    static func enableDebug(_ on: Bool) {
        debugEnabled = on
        DebugLog.sink = on ? { debug($0) } : nil
    }
}
