//! The tests' browser driver and port picker, as the tests have them, for the benchmarks that
//! open pages in headless Chromium.

#[path = "../../src/tests/support/browser.rs"]
pub mod browser;
#[path = "../../src/tests/support/ports.rs"]
pub mod ports;
