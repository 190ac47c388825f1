//! Free loopback ports for the servers the tests start (Envoy, chromedriver).

/// A loopback port free now, for a listener the test configures. Taken below the kernel's
/// ephemeral range (`ip_local_port_range`), never twice in one run: a port the kernel picked
/// could be handed to another test's client connection or admin port (port 0) before Envoy
/// binds it, and the many connections of the differential tests make that likely.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768);
    let (from, span) = (low.saturating_sub(12000).max(1024), 11000);
    // Runs of the suite in parallel (two checkouts) start apart.
    let start = std::process::id() % span;
    for _ in 0..span {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = from + (start + n) % span;
        if std::net::TcpListener::bind(("127.0.0.1", port as u16)).is_ok() {
            return port as u16;
        }
    }
    panic!("no free loopback port in {from}..{}", from + span);
}
