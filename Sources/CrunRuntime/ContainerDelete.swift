import Glibc

/// `delete [--force] ID`: removes everything the container owned, also after a crash of the
/// runtime in the middle of create (a directory without state is removed with --force).
public enum ContainerDelete {
    public static func delete(_ id: String, force: Bool, store: StateStore, warn: (String) -> Void) throws(RuntimeError) {
        let handle: StateStore.Handle
        do {
            handle = try store.open(id)
        } catch {
            if force, access(store.directory(id), F_OK) != 0 { return }  // runc: --force of a missing container succeeds
            throw error
        }
        let state: ContainerState
        do {
            state = try store.read(id)
        } catch {
            guard force else { throw error }
            warn("\(error.description); removing it")
            PodNetwork.recorded(id: id, stateDirectory: handle.path)?.detach()
            if let recorded = store.recordedInit(handle) {
                let fallback = ContainerState(id: id, pid: recorded.pid, status: .running, bundle: "", rootfs: "",
                                              created: "", annotations: nil, initStartTime: recorded.startTime)
                try ContainerKill.signalContainer(fallback, signal: SIGKILL, all: true)
            }
            try store.remove(handle)
            return
        }
        let status = state.liveStatus
        if status == .running && !force {
            throw .container("cannot delete container \"\(id)\" that is not stopped: running (use --force)")
        }
        if status != .stopped {
            try ContainerKill.signalContainer(state, signal: SIGKILL, all: true, waitSeconds: 10)
        }
        // What is left in the cgroup (processes that left the pid namespace's view, a frozen
        // init), then the cgroup itself.
        try ContainerCgroup.of(state)?.destroy()
        PodNetwork.recorded(id: id, stateDirectory: handle.path)?.detach()
        if let spec = try ContainerStart.storedConfigWithHooks(handle) {
            do {
                try HookRunner.run(.poststop, spec: spec, state: state.specJSON(status: .stopped), bundle: state.bundle)
            } catch {
                warn(error.description)
            }
        }
        try store.remove(handle)
        DebugLog.note("delete: \(id): state \(handle.path) removed")
    }
}
