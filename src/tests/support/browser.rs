//! A real headless Chromium for the HTML pages, driven over WebDriver (Debian's `chromedriver`,
//! installed by `src/tests/setup.sh` with `chromium`). The driver listens on a free loopback
//! port, is stopped by its PID when the test ends, and a missing browser is a failure, never a
//! skip.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One browser session, ended (and its driver stopped) on drop.
pub struct Browser {
    driver: Child,
    /// The profile directory, removed on drop.
    profile: std::path::PathBuf,
    base: String,
    http: reqwest::blocking::Client,
}

use super::ports::free_port;

fn which(var: &str, names: &[&str]) -> String {
    if let Ok(p) = std::env::var(var) {
        return p;
    }
    for n in names {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(n);
            if p.is_file() {
                return p.display().to_string();
            }
        }
    }
    panic!(
        "no {} found (set {var}): run `bash src/tests/setup.sh`, which installs Debian's chromium and chromium-driver",
        names.join(" or ")
    );
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session of `width` × `height`.
    pub fn start(width: u32, height: u32) -> Browser {
        let driver_bin = which("CHROMEDRIVER", &["chromedriver"]);
        let chrome = which("CHROME_BIN", &["chromium", "chromium-browser"]);
        let port = free_port();
        let profile =
            std::env::temp_dir().join(format!("envinspect-chromium-{}-{port}", std::process::id()));
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {driver_bin}: {e}"));
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let root = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = http
                .get(format!("{root}/status"))
                .send()
                .ok()
                .and_then(|r| r.bytes().ok())
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chrome,
                // No background traffic: this machine's network is closed, and a page must not
                // need one anyway.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--disable-dev-shm-usage", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", format!("--user-data-dir={}", profile.display()),
                         format!("--window-size={width},{height}")]
            }
        }}});
        let mut b = Browser {
            driver,
            profile,
            base: root,
            http,
        };
        let v = b.call("POST", "/session", caps);
        let id = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        b.base = format!("{}/session/{id}", b.base);
        b
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self
                .http
                .post(&url)
                .header("content-type", "application/json")
                .body(body.to_string()),
        };
        let bytes = req
            .send()
            .and_then(|r| r.bytes())
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let v: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!("{method} {path}: {e}: {}", String::from_utf8_lossy(&bytes))
        });
        if let Some(err) = v["value"].get("error") {
            panic!("{method} {path}: {err}: {}", v["value"]["message"]);
        }
        v["value"].clone()
    }

    /// Opens a file in the browser.
    pub fn open(&self, file: &Path) {
        self.open_url(&format!(
            "file://{}",
            file.canonicalize().unwrap().display()
        ));
    }

    /// Opens a URL (WebDriver waits for the page to load).
    pub fn open_url(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url }));
    }

    /// Runs `script` (a function body; `arguments` as in WebDriver) and returns its value.
    pub fn eval(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
    }

    /// Runs a DevTools command (chromedriver's `goog/cdp/execute`).
    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.call(
            "POST",
            "/goog/cdp/execute",
            json!({"cmd": cmd, "params": params}),
        )
    }

    /// Types `text` into the element `css` selects, as a user would (real key events).
    pub fn type_into(&self, css: &str, text: &str) {
        let el = self.call(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        let id = el[ELEMENT].as_str().unwrap().to_string();
        self.call("POST", &format!("/element/{id}/clear"), json!({}));
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        );
    }

    /// Clicks the element `css` selects.
    pub fn click(&self, css: &str) {
        let el = self.call(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        let id = el[ELEMENT].as_str().unwrap().to_string();
        self.call("POST", &format!("/element/{id}/click"), json!({}));
    }

    /// The browser console's messages of level SEVERE (errors, failed loads) since the last call.
    pub fn console_errors(&self) -> Vec<String> {
        let v = self.call("POST", "/se/log", json!({"type": "browser"}));
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .map(|e| e["message"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Saves a PNG screenshot of the viewport to `path`.
    pub fn screenshot(&self, path: &Path) {
        use base64::Engine;
        let v = self.call("GET", "/screenshot", Value::Null);
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.http.delete(&self.base).send();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
