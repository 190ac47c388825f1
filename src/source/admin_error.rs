//! Why a live admin API gave no document, as kinds an embedder can match: retry a timeout or a
//! broken connection, not a 404 or a port that is not Envoy's. The messages are the ones the
//! command line prints after the URL; advice about its flags is the binary's to add.

use std::time::Duration;

/// The error underneath a kind (reqwest's, or the I/O error that cut a body short).
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One way a request to the admin API failed. The underlying error, when there is one, is
/// [`AdminError::cause`]; its text is already in the message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// Not `http://` (the admin API is plain HTTP, usually through a port-forward).
    #[error("only http:// admin endpoints are supported (use kubectl port-forward to reach one)")]
    Scheme,
    /// The library was built without the `live` feature.
    #[error("this build of envinspect has no live admin client (cargo feature `live`)")]
    NoLiveClient,
    /// The HTTP proxy given cannot be used.
    #[error("invalid proxy {proxy}: {text}")]
    Proxy {
        /// The proxy as given.
        proxy: String,
        /// Why, as the HTTP client says.
        text: String,
        /// The HTTP client's error.
        cause: Cause,
    },
    /// The HTTP client could not be built.
    #[error("cannot build an HTTP client: {text}")]
    Client {
        /// Why, as the HTTP client says.
        text: String,
        /// The HTTP client's error.
        cause: Cause,
    },
    /// No connection: refused, unreachable, no such host.
    #[error("cannot connect ({text})")]
    Connect {
        /// The innermost reason (`Connection refused (os error 111)`).
        text: String,
        /// The HTTP client's error.
        cause: Cause,
    },
    /// No answer within the connect or the total timeout.
    #[error("timed out (connect {}s, total {}s)", connect.as_secs(), total.as_secs())]
    Timeout {
        /// The connect timeout.
        connect: Duration,
        /// The timeout of the whole request.
        total: Duration,
    },
    /// Redirected too often, or somewhere the client will not follow.
    #[error("{text}")]
    Redirect {
        /// The HTTP client's reason.
        text: String,
        /// The HTTP client's error.
        cause: Cause,
    },
    /// Any other failure of the request before a response.
    #[error("{text}")]
    Request {
        /// The innermost reason.
        text: String,
        /// The HTTP client's error.
        cause: Cause,
    },
    /// The body did not arrive within the total timeout (however slowly it kept coming).
    #[error("timed out after {received} bytes of the body (total {}s)", total.as_secs())]
    BodyTimeout {
        /// Bytes of the body received before the deadline.
        received: usize,
        /// The timeout of the whole request.
        total: Duration,
    },
    /// The connection closed or failed in the middle of the body.
    #[error("the connection broke after {received} bytes of the body ({text})")]
    Broken {
        /// Bytes of the body received.
        received: usize,
        /// The reason.
        text: String,
        /// The I/O error.
        cause: Cause,
    },
    /// Larger than the most the caller accepts (`AdminOptions::max_bytes`).
    #[error("{}", too_large(*announced, *max))]
    TooLarge {
        /// The size the response announced (its `Content-Length`); `None` when it announced
        /// none and the body went past the limit.
        announced: Option<u64>,
        /// The limit.
        max: u64,
    },
    /// Fewer bytes than the response's `Content-Length`.
    #[error("truncated response: {received} of {expected} bytes")]
    Truncated {
        /// Bytes received.
        received: usize,
        /// Bytes announced.
        expected: u64,
    },
    /// A status other than 2xx.
    #[error("HTTP {status}{}", if first_line.is_empty() { String::new() } else { format!(": {first_line}") })]
    Status {
        /// The status line's code and reason (`404 Not Found`).
        status: String,
        /// The code alone.
        code: u16,
        /// The first line of the body, shortened.
        first_line: String,
    },
    /// An HTML page where Prometheus text was expected: not an Envoy admin port.
    #[error("expected Prometheus text, got HTML: is this an Envoy admin port?")]
    NotPrometheus,
    /// A body that is not a JSON object where a JSON document was expected.
    #[error("{}", not_json(body, content_type))]
    NotJson {
        /// What came instead.
        body: Body,
        /// The response's `Content-Type` (empty when none).
        content_type: String,
    },
    /// A JSON document, but not the one the endpoint answers with.
    #[error("expected a {want} document, got a {got}")]
    WrongDocument {
        /// The document the endpoint should answer with.
        want: &'static str,
        /// The document it answered with.
        got: &'static str,
    },
}

/// What a body that should have been JSON was instead.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Body {
    /// Nothing (or only whitespace).
    Empty,
    /// An HTML page: not an Envoy admin port.
    Html,
    /// A line of text (Envoy answers a bad query with 200 and a line of text): the first line.
    Text(String),
}

impl AdminError {
    /// The underlying error, when the failure came from one.
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            AdminError::Proxy { cause, .. }
            | AdminError::Client { cause, .. }
            | AdminError::Connect { cause, .. }
            | AdminError::Redirect { cause, .. }
            | AdminError::Request { cause, .. }
            | AdminError::Broken { cause, .. } => Some(cause.as_ref()),
            _ => None,
        }
    }

    /// Whether trying again may give an answer: a timeout, a refused or broken connection.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            AdminError::Connect { .. }
                | AdminError::Timeout { .. }
                | AdminError::BodyTimeout { .. }
                | AdminError::Broken { .. }
                | AdminError::Truncated { .. }
        )
    }
}

fn too_large(announced: Option<u64>, max: u64) -> String {
    match announced {
        Some(n) => format!("response of {n} bytes is larger than {max} bytes"),
        None => format!("response larger than {max} bytes"),
    }
}

fn not_json(body: &Body, content_type: &str) -> String {
    let ct = if content_type.is_empty() {
        String::new()
    } else {
        format!(" ({content_type})")
    };
    match body {
        Body::Empty => format!("expected JSON, got an empty body{ct}"),
        Body::Html => format!("expected JSON, got HTML{ct}: is this an Envoy admin port?"),
        Body::Text(first) => format!("expected JSON, got text{ct}: {first}"),
    }
}
