//! The HTML export in a real browser. Headless Chromium, driven over the
//! DevTools protocol on a pipe (`--remote-debugging-pipe`: requests on its fd 3,
//! answers and events on its fd 4, each message ending in a NUL byte), loads
//! the exported fixture pages. Each page must load without console errors,
//! exceptions, failed loads or dialogs, show the conversation, and show the
//! HTML and script found in the session's text as text.
//!
//! `scripts/install-browser.sh` installs Chromium; without it the test says
//! why and passes. `AGS_CHROMIUM` names another browser binary.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use agentsession::{ExportFormat, Store};
use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(15);

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AGS_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A headless Chromium and the DevTools messages it sent that no call consumed.
struct Browser {
    child: Child,
    to_browser: ChildStdin,
    from_browser: Receiver<Value>,
    next_id: u64,
    events: Vec<Value>,
}

impl Browser {
    fn launch(binary: &Path, profile: &Path) -> Browser {
        // The shell gives the browser our stdin as fd 3 and our stdout as fd 4.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null"#)
            .arg(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        let to_browser = child.stdin.take().unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let (tx, from_browser) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            while reader.read_until(0, &mut buf).is_ok_and(|n| n > 0) {
                buf.pop();
                if let Ok(msg) = serde_json::from_slice::<Value>(&buf) {
                    if tx.send(msg).is_err() {
                        break;
                    }
                }
                buf.clear();
            }
        });
        Browser {
            child,
            to_browser,
            from_browser,
            next_id: 0,
            events: Vec::new(),
        }
    }

    fn receive(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        self.from_browser
            .recv_timeout(left)
            .expect("chromium answers in time")
    }

    /// Sends a command (to a page when `session` is given) and returns its result.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = s.into();
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to_browser.write_all(&bytes).unwrap();
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let msg = self.receive(deadline);
            if msg["id"] == id {
                assert!(msg.get("error").is_none(), "{method} failed: {msg}");
                return msg["result"].clone();
            }
            self.events.push(msg);
        }
    }

    /// Waits for an event of a page; a JavaScript dialog met on the way is
    /// dismissed (and stays in `events`, where [`Browser::problems`] finds it).
    fn wait_for(&mut self, session: &str, method: &str) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let msg = self.receive(deadline);
            let here = msg["sessionId"] == session;
            let (found, dialog) = (
                msg["method"] == method,
                msg["method"] == "Page.javascriptDialogOpening",
            );
            self.events.push(msg);
            if here && found {
                return;
            }
            if here && dialog {
                self.call(
                    Some(session),
                    "Page.handleJavaScriptDialog",
                    json!({"accept": false}),
                );
            }
        }
    }

    /// Console errors, uncaught exceptions, failed loads and dialogs of a page.
    fn problems(&self, session: &str) -> Vec<String> {
        self.events
            .iter()
            .filter(|m| m["sessionId"] == session)
            .filter_map(|m| {
                let p = &m["params"];
                match m["method"].as_str()? {
                    "Runtime.consoleAPICalled"
                        if matches!(p["type"].as_str(), Some("error" | "assert")) =>
                    {
                        Some(format!("console {}: {}", p["type"], p["args"]))
                    }
                    "Runtime.exceptionThrown" => {
                        Some(format!("exception: {}", p["exceptionDetails"]))
                    }
                    "Log.entryAdded" if p["entry"]["level"] == "error" => {
                        Some(format!("log: {}", p["entry"]["text"]))
                    }
                    "Page.javascriptDialogOpening" => Some(format!("dialog: {}", p["message"])),
                    _ => None,
                }
            })
            .collect()
    }

    /// Opens `path` in a new tab; returns the page's problems and the value of
    /// `expression` evaluated in it once loaded.
    fn load(&mut self, path: &Path, expression: &str) -> (Vec<String>, Value) {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        let session = attached["sessionId"].as_str().unwrap().to_string();
        let s = Some(session.as_str());
        for domain in ["Page", "Runtime", "Log"] {
            self.call(s, &format!("{domain}.enable"), json!({}));
        }
        let url = format!("file://{}", path.display());
        let nav = self.call(s, "Page.navigate", json!({"url": url}));
        assert!(nav.get("errorText").is_none(), "navigation failed: {nav}");
        self.wait_for(&session, "Page.loadEventFired");
        let result = self.call(
            s,
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        let value = result["result"]["value"].clone();
        self.call(
            None,
            "Target.closeTarget",
            json!({"targetId": target["targetId"]}),
        );
        (self.problems(&session), value)
    }
}

impl Drop for Browser {
    /// Asks the browser to quit, and kills it if it has not within a few seconds.
    fn drop(&mut self) {
        let _ = self
            .to_browser
            .write_all(b"{\"id\":0,\"method\":\"Browser.close\"}\0");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the checks read from a loaded page.
const PAGE_FACTS: &str = r#"({
  title: document.title,
  text: document.body.innerText,
  scripts: document.querySelectorAll("script, iframe, object, embed").length,
  session_markup: [...document.querySelectorAll("b, a")]
    .filter(e => ["bold", "test", "y"].includes(e.textContent)).length,
  images: [...document.images].map(i => i.complete ? i.naturalWidth : -1),
})"#;

#[test]
fn exported_pages_load_cleanly_and_show_the_session_as_text() {
    let Some(binary) = chromium() else {
        assert!(
            std::env::var_os("AGS_REQUIRE_BROWSER").is_none(),
            "no chromium on PATH: run scripts/install-browser.sh"
        );
        println!("skipped: no chromium on PATH (scripts/install-browser.sh installs it)");
        return;
    };
    let (tmp, base) = common::fixture_store_copy();
    let store = Store::open(&base).unwrap();
    let mut browser = Browser::launch(&binary, &tmp.path().join("profile"));

    // The checks see a bad page as bad.
    let bad = tmp.path().join("bad.html");
    std::fs::write(
        &bad,
        "<!DOCTYPE html><title>bad</title><p>x</p><script>console.error('boom'); alert('hi')</script>",
    )
    .unwrap();
    let (problems, _) = browser.load(&bad, PAGE_FACTS);
    assert!(problems.iter().any(|p| p.contains("boom")), "{problems:?}");
    assert!(
        problems.iter().any(|p| p.starts_with("dialog")),
        "{problems:?}"
    );

    let page = |name: &str, id: &str| {
        let path = tmp.path().join(format!("{name}.html"));
        std::fs::write(&path, store.export(id, ExportFormat::Html).unwrap()).unwrap();
        path
    };

    let (problems, facts) = browser.load(
        &page("fixture05", "20260201-122000-fixture05-unicode"),
        PAGE_FACTS,
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(facts["title"], "Ünïcödé 🚀 <b>test</b> & \"quotes\"");
    let text = facts["text"].as_str().unwrap();
    for shown in [
        "HTML: <script>alert(\"x\") && 'y'</script> <b>bold</b> &amp; &lt;p&gt;",
        "Controls: SOH[␁] US[␟] DEL[␡] CR-LF follows\nlast line",
        "Emoji ZWJ: 👩‍💻 👨‍👩‍👧‍👦 🏳️‍🌈",
        "{\"key\": \"value\", \"n\": 1, \"html\": \"<a href='x'>y</a>\"}",
        "🔧 Ünïcödé tool 🔧 · completed",
        "fixed timestamp, .12 s, -03:00",
        "■ Session ended timeout",
    ] {
        assert!(
            text.contains(shown),
            "{shown:?} not in the page text:\n{text}"
        );
    }
    assert_eq!(facts["scripts"], 0, "the session's markup became elements");
    assert_eq!(
        facts["session_markup"], 0,
        "the session's markup became elements"
    );

    let (problems, facts) = browser.load(
        &page("fixture01", "20260201-120000-fixture01-complete"),
        PAGE_FACTS,
    );
    assert!(problems.is_empty(), "{problems:?}");
    let text = facts["text"].as_str().unwrap();
    for shown in [
        "Please describe the attached screenshot and list the files in src/.",
        "🔧 List files in src/ (3 entries) · completed",
        "✔ Permission approved Allow running `ls -la src/`? (option: allow_once)",
        "⚠ Error 403 tool call_003 failed: permission denied",
        "You're welcome!",
    ] {
        assert!(
            text.contains(shown),
            "{shown:?} not in the page text:\n{text}"
        );
    }
    // The embedded 4x4 PNG decoded.
    assert_eq!(facts["images"], json!([4]));
}
