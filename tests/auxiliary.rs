//! The auxiliary session against real ACP agents: the test peers of
//! tests/peers/, one on the official Python SDK and one on the official
//! TypeScript SDK (installed by `bash tests/peers/setup.sh`). Each scenario
//! runs once per peer. The peers act on directives in the prompt text, such as
//! `@@reply:TEXT@@` or `@@crash@@`.

use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex, Once};
use std::thread;
use std::time::{Duration, Instant};

use agentsession::auxiliary::{
    self, AuxiliarySession, FollowUp, TitleWorker, TitleWorkerOptions, FOLLOW_UPS_MAX,
    FOLLOW_UP_LABEL_MAX_CHARS, QUEUED_TITLE_MAX_CHARS, TITLE_MAX_CHARS,
};
use agentsession::{AuxiliaryErrorKind, CreateOptions, Error, Queue, Store};
use parking_lot::RwLock;

mod common;

use common::{repo_root as root, Peer};

const LONG: Duration = Duration::from_secs(15);

/// Scenarios that count this process's children take it for writing; all
/// others take it for reading, so that the count is exact.
static CHILDREN: RwLock<()> = RwLock::new(());

// ----- peers -------------------------------------------------------------------

impl Peer {
    /// A new session on the peer, working in `cwd`.
    fn session_in(self, flags: &[&str], cwd: &Path) -> Option<AuxiliarySession> {
        let command = self.command(flags)?;
        let aux = AuxiliarySession::new();
        aux.initialize(&command, Some(cwd)).unwrap();
        Some(aux)
    }

    /// A new session on the peer, working in the repository.
    fn session(self, flags: &[&str]) -> Option<AuxiliarySession> {
        self.session_in(flags, &root())
    }
}

/// Declares each scenario once per peer: `python::name` and `ts::name`.
macro_rules! for_each_peer {
    ($($name:ident),* $(,)?) => {
        mod python { $( #[test] fn $name() { super::$name(super::Peer::Python) } )* }
        mod ts { $( #[test] fn $name() { super::$name(super::Peer::Ts) } )* }
    };
}

for_each_peer!(
    lazy_start_one_process_reused_and_shut_down,
    titles_and_their_limits,
    queued_message_titles_and_their_limits,
    improve_prompt_cleans_the_reply,
    follow_ups_found_and_bounded,
    permission_requests_are_approved,
    file_writes_refused_reads_only_inside_cwd,
    terminals_and_unknown_methods_refused,
    timeout_cancels_the_turn_and_keeps_the_agent,
    hung_agent_is_killed_and_replaced,
    crashed_agent_reports_and_restarts,
    failing_agents_give_errors_without_hanging,
    junk_lines_thoughts_and_unknown_updates_tolerated,
    concurrent_prompts_each_get_their_own_reply,
    stderr_goes_to_the_log,
    title_worker_titles_queued_messages_one_at_a_time,
    title_worker_backlog_timeout_and_stop,
);

// ----- observation helpers ----------------------------------------------------------

/// Children of this process (zombies included), as (pid, state).
fn children() -> Vec<(u32, char)> {
    let me = std::process::id();
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        if fields.next().and_then(|p| p.parse::<u32>().ok()) == Some(me) {
            out.push((pid, state));
        }
    }
    out
}

/// Whether a process with this pid exists (a zombie counts).
fn exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn pid_of(aux: &AuxiliarySession) -> u32 {
    aux.prompt("@@pid@@", LONG).unwrap().parse().unwrap()
}

fn kind(e: &Error) -> AuxiliaryErrorKind {
    match e {
        Error::Auxiliary { kind, .. } => *kind,
        other => panic!("not an auxiliary error: {other}"),
    }
}

/// Log records, captured for the whole test binary.
struct Capture(Mutex<Vec<String>>);

static LOG: Capture = Capture(Mutex::new(Vec::new()));

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        let line = format!("{} {}", record.level(), record.args());
        self.0.lock().unwrap().push(line);
    }
    fn flush(&self) {}
}

fn capture_log() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        log::set_logger(&LOG).unwrap();
        log::set_max_level(log::LevelFilter::Debug);
    });
}

fn logged(needle: &str) -> bool {
    LOG.0.lock().unwrap().iter().any(|l| l.contains(needle))
}

// ----- scenarios ---------------------------------------------------------------

fn lazy_start_one_process_reused_and_shut_down(peer: Peer) {
    let _only = CHILDREN.write();
    let Some(aux) = peer.session(&[]) else { return };
    assert!(!aux.is_started());
    assert_eq!(aux.pid(), None);
    assert!(children().is_empty(), "initialize started a process");

    let pid = pid_of(&aux);
    assert!(aux.is_started());
    assert_eq!(aux.pid(), Some(pid));
    assert_eq!(
        children().iter().map(|c| c.0).collect::<Vec<_>>(),
        vec![pid]
    );
    for round in 2..=4 {
        let reply = aux.prompt("@@pid@@ @@count@@", LONG).unwrap();
        assert_eq!(
            reply,
            format!("{pid}\n{round}"),
            "one process serves every request"
        );
    }
    assert_eq!(children().len(), 1);

    aux.shutdown();
    assert!(!aux.is_started());
    assert!(children().is_empty(), "left behind: {:?}", children());
    let e = aux.prompt("@@pid@@", LONG).unwrap_err();
    assert_eq!(kind(&e), AuxiliaryErrorKind::NotInitialized);
    aux.shutdown();
}

fn titles_and_their_limits(peer: Peer) {
    let _shared = CHILDREN.read();
    let Some(aux) = peer.session(&[]) else { return };
    assert_eq!(
        aux.generate_title("fix the flaky parser tests").unwrap(),
        "Fix The Flaky"
    );

    let long = format!("@@reply:\"{}.\"@@", "Ünïcödé title words ".repeat(5));
    let title = aux.generate_title(&long).unwrap();
    assert_eq!(title.chars().count(), TITLE_MAX_CHARS, "{title}");
    assert!(title.starts_with("Ünïcödé title words") && title.ends_with('…'));

    let title = aux
        .generate_title("@@reply:  'Port To Rust.'  \nsecond line@@")
        .unwrap();
    assert_eq!(title, "Port To Rust");
}

fn queued_message_titles_and_their_limits(peer: Peer) {
    let _shared = CHILDREN.read();
    let Some(aux) = peer.session(&[]) else { return };
    let title = aux
        .generate_queued_message_title("also update the changelog")
        .unwrap();
    assert_eq!(title, "Also Update The");

    let title = aux
        .generate_queued_message_title(&format!("@@reply:{}@@", "🦀 crab ".repeat(10)))
        .unwrap();
    assert_eq!(title.chars().count(), QUEUED_TITLE_MAX_CHARS, "{title}");

    // The agent sees the first 500 characters only: a directive further on
    // never reaches it.
    let message = format!("rename the module {} @@reply:LEAKED@@", "ß".repeat(500));
    let title = aux.generate_queued_message_title(&message).unwrap();
    assert_eq!(title, "Rename The Module");
    let message = format!("rename the module {} @@reply:SEEN@@", "ß".repeat(400));
    assert_eq!(aux.generate_queued_message_title(&message).unwrap(), "SEEN");
}

fn improve_prompt_cleans_the_reply(peer: Peer) {
    let _shared = CHILDREN.read();
    let Some(aux) = peer.session(&[]) else { return };
    let improved = aux
        .improve_prompt(
            "@@reply:\n\"Add tests for the parser.\nCover empty input.\"\n@@ fix parser",
        )
        .unwrap();
    assert_eq!(improved, "Add tests for the parser.\nCover empty input.");
    let echoed = aux.improve_prompt("@@echo@@ make it fast").unwrap();
    assert!(
        echoed.contains("<prompt>\n@@echo@@ make it fast\n</prompt>"),
        "{echoed}"
    );
}

fn follow_ups_found_and_bounded(peer: Peer) {
    let _shared = CHILDREN.read();
    let Some(aux) = peer.session(&[]) else { return };
    let reply = r#"@@reply:Here you go:
[{"label": " Yes ", "value": "Yes, run them"}, {"label": "", "value": "dropped"},
 {"label": "No", "value": "No, stop here"}]
Hope that helps.@@"#;
    assert_eq!(
        aux.analyze_follow_up_questions(reply).unwrap(),
        vec![
            FollowUp {
                label: "Yes".into(),
                value: "Yes, run them".into()
            },
            FollowUp {
                label: "No".into(),
                value: "No, stop here".into()
            },
        ]
    );

    let items: Vec<_> = (0..8)
        .map(|i| serde_json::json!({"label": format!("{i} {}", "label ".repeat(20)), "value": "v"}))
        .collect();
    let got = aux
        .analyze_follow_up_questions(&format!("@@reply:{}@@", serde_json::Value::Array(items)))
        .unwrap();
    assert_eq!(got.len(), FOLLOW_UPS_MAX);
    assert!(got
        .iter()
        .all(|f| f.label.chars().count() == FOLLOW_UP_LABEL_MAX_CHARS));

    assert_eq!(
        aux.analyze_follow_up_questions("@@reply:nothing to add@@")
            .unwrap(),
        vec![]
    );
    assert_eq!(
        aux.analyze_follow_up_questions("@@reply:[{\"label\": @@")
            .unwrap(),
        vec![]
    );
}

fn permission_requests_are_approved(peer: Peer) {
    let _shared = CHILDREN.read();
    let Some(aux) = peer.session(&[]) else { return };
    assert_eq!(
        aux.prompt("@@permission@@", LONG).unwrap(),
        "permission:selected:allow-once"
    );
    assert_eq!(
        aux.prompt("@@permission_noallow@@", LONG).unwrap(),
        "permission:selected:reject-once"
    );
}

fn file_writes_refused_reads_only_inside_cwd(peer: Peer) {
    let _shared = CHILDREN.read();
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path().canonicalize().unwrap().join("project");
    fs::create_dir(&cwd).unwrap();
    fs::write(cwd.join("notes.txt"), "inside text").unwrap();
    fs::write(work.path().join("secret.txt"), "outside text").unwrap();
    let Some(aux) = peer.session_in(&[], &cwd) else {
        return;
    };

    assert_eq!(
        aux.prompt("@@cwd@@", LONG).unwrap(),
        cwd.display().to_string()
    );

    let target = cwd.join("written.txt");
    let reply = aux
        .prompt(&format!("@@write:{}@@", target.display()), LONG)
        .unwrap();
    assert!(reply.starts_with("write:error:-32600:"), "{reply}");
    assert!(!target.exists());

    let reply = aux.prompt(
        &format!("@@read:{}@@", cwd.join("notes.txt").display()),
        LONG,
    );
    assert_eq!(reply.unwrap(), "read:ok:inside text");
    for outside in [work.path().join("secret.txt"), cwd.join("../secret.txt")] {
        let reply = aux
            .prompt(&format!("@@read:{}@@", outside.display()), LONG)
            .unwrap();
        assert!(reply.starts_with("read:error:-32602:"), "{reply}");
        assert!(!reply.contains("outside text"));
    }
}

fn terminals_and_unknown_methods_refused(peer: Peer) {
    let _shared = CHILDREN.read();
    let Some(aux) = peer.session(&[]) else { return };
    assert_eq!(
        aux.prompt("@@terminal@@", LONG).unwrap(),
        "terminal:error:-32601"
    );
}

fn timeout_cancels_the_turn_and_keeps_the_agent(peer: Peer) {
    let _shared = CHILDREN.read();
    let Some(aux) = peer.session(&[]) else { return };
    let pid = pid_of(&aux);
    let started = Instant::now();
    let e = aux
        .prompt("@@slow:20000@@ @@reply:late@@", Duration::from_millis(500))
        .unwrap_err();
    assert_eq!(kind(&e), AuxiliaryErrorKind::Timeout, "{e}");
    assert!(started.elapsed() < Duration::from_millis(500) + auxiliary::CANCEL_GRACE);
    // The agent ended the cancelled turn, so it is kept.
    assert_eq!(pid_of(&aux), pid);
    assert_eq!(aux.prompt("@@reply:after@@", LONG).unwrap(), "after");
}

fn hung_agent_is_killed_and_replaced(peer: Peer) {
    let _shared = CHILDREN.read();
    let Some(aux) = peer.session(&[]) else { return };
    let pid = pid_of(&aux);
    let started = Instant::now();
    let e = aux
        .prompt("@@hang@@", Duration::from_millis(500))
        .unwrap_err();
    assert_eq!(kind(&e), AuxiliaryErrorKind::Timeout, "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(!exists(pid), "the hung agent {pid} is left (or a zombie)");
    assert!(!aux.is_started());
    let replacement = pid_of(&aux);
    assert_ne!(replacement, pid);
    aux.shutdown();
    assert!(!exists(replacement));
}

fn crashed_agent_reports_and_restarts(peer: Peer) {
    let _shared = CHILDREN.read();
    let Some(aux) = peer.session(&[]) else { return };
    let pid = pid_of(&aux);
    let e = aux.prompt("@@crash@@", LONG).unwrap_err();
    assert_eq!(kind(&e), AuxiliaryErrorKind::Exited, "{e}");
    let message = e.to_string();
    assert!(message.contains("exit status: 3"), "{message}");
    assert!(message.contains("peer crashing on purpose"), "{message}");
    assert!(!exists(pid), "the crashed agent {pid} is a zombie");
    let replacement = pid_of(&aux);
    assert_ne!(replacement, pid);
    assert_eq!(
        aux.prompt("@@count@@", LONG).unwrap(),
        "2",
        "a fresh agent counts from 1"
    );
}

fn failing_agents_give_errors_without_hanging(peer: Peer) {
    let _only = CHILDREN.write();
    let Some(aux) = peer.session(&["--fail-initialize"]) else {
        return;
    };
    for _ in 0..2 {
        let started = Instant::now();
        let e = aux.prompt("hello", LONG).unwrap_err();
        assert_eq!(kind(&e), AuxiliaryErrorKind::Protocol, "{e}");
        assert!(e.to_string().contains("initialize"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(!aux.is_started());
        assert!(children().is_empty(), "left behind: {:?}", children());
    }

    let Some(aux) = peer.session(&["--exit-on-start"]) else {
        return;
    };
    let e = aux.prompt("hello", LONG).unwrap_err();
    assert_eq!(kind(&e), AuxiliaryErrorKind::Exited, "{e}");
    assert!(e.to_string().contains("exit status: 2"), "{e}");
    assert!(e.to_string().contains("peer exiting at start"), "{e}");
    assert!(children().is_empty(), "left behind: {:?}", children());

    let aux = AuxiliarySession::new();
    aux.initialize("'/no/such dir/agent' --acp", None).unwrap();
    let e = aux.prompt("hello", LONG).unwrap_err();
    assert_eq!(kind(&e), AuxiliaryErrorKind::StartFailed, "{e}");
    assert!(e.to_string().contains("/no/such dir/agent"), "{e}");
}

fn junk_lines_thoughts_and_unknown_updates_tolerated(peer: Peer) {
    let _shared = CHILDREN.read();
    capture_log();
    let Some(aux) = peer.session(&["--banner"]) else {
        return;
    };
    let reply = aux
        .prompt(
            "@@junk@@ @@thought:private musing@@ @@unknown_update@@ @@showcase@@ @@reply:clean answer@@",
            LONG,
        )
        .unwrap();
    assert_eq!(reply, "clean answer");
    let pid = aux.pid().unwrap();
    for junk in ["ACP test peer starting up", "this is not json", "{broken"] {
        let line = format!(
            "auxiliary agent pid {pid} wrote a line that is not a JSON-RPC message: {junk}"
        );
        assert!(logged(&line), "not logged: {line}");
    }
    assert_eq!(
        aux.prompt("@@reply:still fine@@", LONG).unwrap(),
        "still fine"
    );
}

fn concurrent_prompts_each_get_their_own_reply(peer: Peer) {
    let _shared = CHILDREN.read();
    let Some(aux) = peer.session(&[]) else { return };
    let aux = Arc::new(aux);
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let aux = aux.clone();
            thread::spawn(move || {
                let text = format!("@@slow:{}@@ @@reply:answer {i}@@ @@pid@@", (i % 3) * 10);
                aux.prompt(&text, LONG).unwrap()
            })
        })
        .collect();
    let replies: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let pid = aux.pid().unwrap();
    for (i, reply) in replies.iter().enumerate() {
        assert_eq!(*reply, format!("answer {i}\n{pid}"));
    }
    assert_eq!(aux.prompt("@@count@@", LONG).unwrap(), "9");
}

fn stderr_goes_to_the_log(peer: Peer) {
    let _shared = CHILDREN.read();
    capture_log();
    let Some(aux) = peer.session(&["--stderr-noise"]) else {
        return;
    };
    let pid = pid_of(&aux);
    let deadline = Instant::now() + Duration::from_secs(5);
    let line = format!("auxiliary agent pid {pid} stderr: peer noise: ready");
    while !logged(&line) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert!(logged(&line), "not logged: {line}");
}

/// A queue of a new session in a new store.
fn new_queue() -> (tempfile::TempDir, Queue) {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let options = CreateOptions {
        session_id: Some("s1".into()),
        acp_server: "peer".into(),
        working_dir: "/tmp".into(),
        ..CreateOptions::default()
    };
    store.create(&options).unwrap();
    let queue = store.queue("s1").unwrap();
    (tmp, queue)
}

/// The titles of the queue once `ready` holds for them (or after 10 s).
fn titles_when(queue: &Queue, ready: impl Fn(&[Option<String>]) -> bool) -> Vec<Option<String>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let titles: Vec<_> = queue.list().unwrap().into_iter().map(|m| m.title).collect();
        if ready(&titles) || Instant::now() > deadline {
            return titles;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn title_worker_titles_queued_messages_one_at_a_time(peer: Peer) {
    let _shared = CHILDREN.read();
    let Some(aux) = peer.session(&[]) else { return };
    let (_tmp, queue) = new_queue();
    let texts = [
        "fix the flaky parser tests",
        "@@count@@ second",
        "@@count@@ third",
        "@@reply:Already Gone@@",
        "@@reply:Never Asked@@",
        "@@reply:\"Release Notes.\"@@",
    ];
    let ids: Vec<String> = texts
        .iter()
        .map(|t| queue.add(t, &[], None, 0).unwrap().id)
        .collect();
    queue.update_title(&ids[4], "Kept").unwrap();
    queue.remove(&ids[3]).unwrap();

    let worker = TitleWorker::start(Arc::new(aux), TitleWorkerOptions::default()).unwrap();
    for id in &ids {
        assert!(worker.request(&queue, id));
    }
    let titles = titles_when(&queue, |t| t.iter().all(Option::is_some));
    // One at a time and in order: the agent counts the prompts (1 is the first).
    let expected = ["Fix The Flaky", "2", "3", "Kept", "Release Notes"];
    assert_eq!(titles, expected.map(|t| Some(t.to_string())));
    worker.stop();
    assert!(
        !worker.request(&queue, &ids[0]),
        "a stopped worker takes no request"
    );
}

/// Waits until another thread holds the session's turn.
fn wait_until_busy(aux: &AuxiliarySession) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match aux.prompt("@@pid@@", Duration::from_millis(200)) {
            Err(e) if e.to_string().contains("earlier auxiliary requests") => return,
            _ => thread::sleep(Duration::from_millis(5)),
        }
    }
    panic!("the session never became busy");
}

fn title_worker_backlog_timeout_and_stop(peer: Peer) {
    let _shared = CHILDREN.read();
    capture_log();
    let Some(aux) = peer.session(&[]) else { return };
    let aux = Arc::new(aux);
    let (_tmp, queue) = new_queue();
    let add = |text: &str| queue.add(text, &[], None, 0).unwrap().id;
    let slow = add("@@slow:20000@@ @@reply:Too Late@@");
    let waiting = add("@@reply:Waited@@");
    let dropped = add("@@reply:Dropped@@");
    let options = TitleWorkerOptions {
        backlog: 1,
        timeout: Some(Duration::from_millis(700)),
    };
    pid_of(&aux); // started: the timeout covers the turn only
    let worker = TitleWorker::start(aux.clone(), options).unwrap();
    assert!(worker.request(&queue, &slow));
    wait_until_busy(&aux);
    // The worker is busy with the slow one; one request fits the backlog.
    assert!(worker.request(&queue, &waiting));
    assert!(!worker.request(&queue, &dropped));
    assert!(logged(&format!(
        "title backlog full; no title for queued message {dropped}"
    )));

    let titles = titles_when(&queue, |t| t[1].is_some());
    assert_eq!(titles, vec![None, Some("Waited".to_string()), None]);
    assert!(logged(&format!(
        "no title for queued message {slow} of session s1"
    )));

    // Stopping cuts a title in progress short once the session shuts down.
    let slow = add("@@slow:20000@@");
    assert!(worker.request(&queue, &slow));
    wait_until_busy(&aux);
    let started = Instant::now();
    aux.shutdown();
    worker.stop();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(queue.get(&slow).unwrap().title.is_none());
}

// ----- the process-wide session and bad input --------------------------------------

#[test]
fn process_wide_session() {
    let _only = CHILDREN.write();
    let Some(command) = Peer::Ts.command(&[]) else {
        return;
    };
    let e = auxiliary::prompt("hi", LONG).unwrap_err();
    assert_eq!(kind(&e), AuxiliaryErrorKind::NotInitialized);
    auxiliary::initialize(&command, None).unwrap();
    assert!(!auxiliary::is_started());
    auxiliary::set_default_timeout(LONG).unwrap();
    assert_eq!(
        auxiliary::generate_title("write the release notes").unwrap(),
        "Write The Release"
    );
    assert!(auxiliary::is_started());
    assert_eq!(
        auxiliary::generate_queued_message_title("bump the version").unwrap(),
        "Bump The Version"
    );
    assert_eq!(
        auxiliary::improve_prompt("@@reply:better@@").unwrap(),
        "better"
    );
    assert_eq!(
        auxiliary::analyze_follow_up_questions("@@reply:[]@@").unwrap(),
        vec![]
    );
    assert_eq!(
        auxiliary::prompt("@@cwd@@", LONG).unwrap(),
        std::env::current_dir()
            .unwrap()
            .canonicalize()
            .unwrap()
            .display()
            .to_string()
    );
    auxiliary::shutdown();
    assert!(!auxiliary::is_started());
    assert!(children().is_empty(), "left behind: {:?}", children());
}

#[test]
fn bad_input_is_refused() {
    let aux = AuxiliarySession::new();
    for command in ["", "   ", "agent 'unbalanced", "agent \"open"] {
        let e = aux.initialize(command, None).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{command:?}: {e}");
    }
    let e = aux
        .initialize("agent", Some(Path::new("/no/such/dir")))
        .unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    let e = aux.prompt("hi", Duration::ZERO).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    assert!(aux.set_default_timeout(Duration::ZERO).is_err());
    let e = aux.generate_title("hi").unwrap_err();
    assert_eq!(kind(&e), AuxiliaryErrorKind::NotInitialized);
}
