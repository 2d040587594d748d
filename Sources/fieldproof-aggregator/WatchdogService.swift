import LinuxService
import ServiceLifecycle

/// `WATCHDOG=1` at half the interval systemd asked for, while the service runs.
struct WatchdogService<C: Clock>: Service where C.Duration == Duration {
    let notifier: SystemdNotifier
    let interval: Duration
    let clock: C

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                notifier.watchdog()
                try? await clock.sleep(for: interval)
            }
        }
    }
}
