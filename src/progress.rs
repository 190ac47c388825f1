//! Progress of long work, told to whoever watches. The library only reports; drawing it (on a
//! terminal, on stderr, never into the output) is the binary's job. Depends on nothing.

/// What the work is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Reading the document's bytes (of a known total when it is a file).
    Read,
    /// Parsing its JSON.
    Parse,
    /// Decoding proto3 JSON into typed messages.
    Decode,
    /// Building the model and judging its certificates.
    Extract,
    /// Running the rules.
    Rules,
    /// Reading and analysing a bundle's proxies.
    Bundle,
}

impl Phase {
    /// What a progress bar says during it (`reading`).
    pub fn label(self) -> &'static str {
        match self {
            Phase::Read => "reading",
            Phase::Parse => "parsing",
            Phase::Decode => "decoding",
            Phase::Extract => "extracting",
            Phase::Rules => "running rules",
            Phase::Bundle => "analysing proxies",
        }
    }
}

/// Told of progress; every method defaults to nothing. Shared by a bundle's worker threads.
pub trait Progress: Sync {
    /// A phase begins; `total` is its size in bytes when known.
    fn phase(&self, _phase: Phase, _total: Option<u64>) {}
    /// `n` more bytes of the phase are done.
    fn bytes(&self, _n: u64) {}
    /// `done` items (a bundle's proxies) are finished so far.
    fn items(&self, _done: u64) {}
    /// The work is over: clear whatever was drawn.
    fn finish(&self) {}
}

/// Tells nobody (library callers that do not watch, and every non-terminal run).
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Progress for Quiet {}

/// A reader that tells `progress` of every byte it passes on.
pub struct Reading<'p, R> {
    /// The reader read from.
    pub inner: R,
    /// Told of the bytes read.
    pub progress: &'p dyn Progress,
}

impl<R: std::io::Read> std::io::Read for Reading<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.bytes(n as u64);
        Ok(n)
    }
}
