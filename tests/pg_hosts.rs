//! Several hosts on one PostgreSQL store: processes re-running this test
//! binary, each with a host name of its own (`AGENTSESSION_HOSTNAME`),
//! released at once. With the namespaces of `scripts/netns.sh` each host runs
//! in its own network namespace and reaches the server over veth TCP;
//! without them, beside the test (it says so). Runs against the server of
//! `scripts/pg.sh` (skipped without it unless `AGS_REQUIRE_PG=1`).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use agentsession::event::types;
use agentsession::{Error, FollowOptions, NewEvent, Store};
use common::netns::Namespaces;
use common::pg::{Server, SERVER};
use common::FreshDatabase;
use common::{create, msg};
use postgres::{Client, NoTls};
use serde_json::json;

const HOSTS: usize = 8;
const LOCK_ROUNDS: usize = 200;
const QUEUE_ADDS: usize = 200;
const APPENDERS: usize = 4;
const APPENDS: usize = 250;

/// What a child was asked to do, from its environment.
struct Role {
    what: String,
    url: String,
    dir: PathBuf,
    host: usize,
}

impl Role {
    fn get() -> Option<Role> {
        let var = |k: &str| std::env::var(k).ok();
        Some(Role {
            what: var("AGS_HOST_ROLE")?,
            url: var("AGS_HOST_URL")?,
            dir: PathBuf::from(var("AGS_HOST_DIR")?),
            host: var("AGS_HOST_N")?.parse().unwrap(),
        })
    }
}

/// Runs `n` hosts doing `what` on the store in `db`, released together,
/// each in a network namespace of its own when there are some; returns what
/// each printed.
fn run_hosts(what: &str, server: &Server, db: &FreshDatabase, n: usize) -> Vec<String> {
    let netns = placement(n);
    let url = db.url(netns.as_ref().map_or(&server.socket, |ns| &ns.url));
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..n)
        .map(|host| {
            common::spawn_child_in(
                netns.as_ref().map(|ns| ns.hosts[host].name.as_str()),
                "host",
                &[
                    ("AGS_HOST_ROLE", what.to_string()),
                    ("AGS_HOST_URL", url.to_string()),
                    ("AGS_HOST_DIR", dir.path().display().to_string()),
                    ("AGS_HOST_N", host.to_string()),
                    ("AGENTSESSION_HOSTNAME", format!("host-{host}")),
                ],
            )
        })
        .collect();
    common::release_children(dir.path(), n);
    let released = Instant::now();
    let outputs: Vec<String> = children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(out.status.success(), "{stdout}");
            stdout
        })
        .collect();
    eprintln!("{n} hosts `{what}`: {:?}", released.elapsed());
    if let Some(netns) = &netns {
        assert_in_namespaces(&outputs, netns);
    }
    outputs
}

/// The network namespaces for `n` hosts, or `None` (saying so) without them.
fn placement(n: usize) -> Option<Namespaces> {
    match Namespaces::get() {
        Ok(netns) => {
            assert!(
                netns.hosts.len() >= n,
                "{n} hosts but {} namespaces: bash scripts/netns.sh up {HOSTS}",
                netns.hosts.len()
            );
            let names: Vec<_> = netns.hosts[..n].iter().map(|ns| &ns.name).collect();
            eprintln!("hosts in network namespaces {names:?}, over veth TCP (AGS_PG_URL_NETNS)");
            Some(netns)
        }
        Err(why) => {
            eprintln!("NOTE: hosts run beside the test, not in network namespaces ({why}; see scripts/netns.sh)");
            None
        }
    }
}

/// Each host ran in a network namespace of its own, not the test's, and the
/// server saw it connect from that namespace's address.
fn assert_in_namespaces(outputs: &[String], netns: &Namespaces) {
    let own = common::netns::current();
    let mut seen = BTreeSet::new();
    for (out, ns) in outputs.iter().zip(&netns.hosts) {
        let inode: Vec<_> = common::tagged_words(out, "NETNS ").collect();
        assert_eq!(inode.len(), 1, "{}: {out}", ns.name);
        assert_ne!(inode[0], own, "{} ran in the test's namespace", ns.name);
        assert!(seen.insert(inode[0]), "{} shares {}", ns.name, inode[0]);
        let client: Vec<_> = common::tagged_words(out, "CLIENT ").collect();
        assert_eq!(client, [ns.address.as_str()], "{}", ns.name);
    }
}

/// In a child: waits until every host of the run says it is done (so that
/// locks it holds stay held while others still try).
fn done_wait_all(dir: &Path, n: usize) {
    std::fs::write(dir.join(format!("done-{}", std::process::id())), b"").unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = common::count_marks(dir, "done-");
        if done >= n {
            return;
        }
        assert!(Instant::now() < deadline, "only {done} of {n} hosts done");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The child process: one host.
#[test]
#[ignore = "run by the tests of this file as a host of their store"]
fn host() {
    let Some(role) = Role::get() else { return };
    // Where this host runs: its network namespace, and its address as the
    // server sees it (none over the Unix socket).
    println!("NETNS {}", common::netns::current());
    let client: Option<String> = Client::connect(&role.url, NoTls)
        .unwrap()
        .query_one("SELECT host(inet_client_addr())", &[])
        .unwrap()
        .get(0);
    println!("CLIENT {}", client.as_deref().unwrap_or("socket"));
    let store = Store::open(&role.url).unwrap();
    common::child_ready_wait_go(&role.dir);
    match role.what.as_str() {
        "lock" => {
            let mut held = Vec::new();
            for round in 0..LOCK_ROUNDS {
                match store.try_acquire_lock(&format!("lock-{round}"), "cli") {
                    Ok(lock) => {
                        println!("WON {round}");
                        held.push(lock);
                    }
                    Err(Error::SessionLocked { .. }) => {}
                    Err(e) => panic!("round {round}: {e}"),
                }
            }
            done_wait_all(&role.dir, HOSTS);
        }
        "queue" => {
            let q = store.queue("q").unwrap();
            let adder = {
                let q = q.clone();
                let host = role.host;
                std::thread::spawn(move || {
                    for i in 0..QUEUE_ADDS {
                        q.add(&(host * 1000 + i).to_string(), &[], None, 0).unwrap();
                    }
                })
            };
            let mut popped = Vec::new();
            while !adder.is_finished() {
                match q.pop() {
                    Ok(m) => popped.push(m.message),
                    Err(Error::QueueEmpty) => std::thread::sleep(Duration::from_millis(1)),
                    Err(e) => panic!("{e}"),
                }
            }
            adder.join().unwrap();
            for m in popped {
                println!("POP {m}");
            }
        }
        "append" => {
            let mut i = 0;
            while i < APPENDS {
                let batch = 1 + i % 3;
                let events = (0..batch)
                    .map(|k| msg(&format!("{} {}", role.host, i + k)))
                    .collect();
                for seq in store.append_events("a", events).unwrap() {
                    println!("SEQ {seq}");
                }
                i += batch;
            }
        }
        "follow" => {
            let follow = store
                .follow(
                    "f",
                    FollowOptions {
                        poll_interval: Duration::from_secs(30),
                        idle_timeout: Some(Duration::from_secs(60)),
                        ..Default::default()
                    },
                )
                .unwrap();
            for ev in follow {
                println!("SEEN {}", ev.unwrap().seq);
            }
        }
        other => panic!("unknown role {other}"),
    }
}

/// A fresh database with the schema, and the test's store on it.
fn fresh(server: &Server) -> (FreshDatabase, Store) {
    let db = FreshDatabase::new(&server.socket, "ags_hosts");
    let store = Store::open(db.url(&server.socket)).unwrap();
    (db, store)
}

#[test]
fn one_winner_per_round_among_hosts_taking_over_stale_locks() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let (db, store) = fresh(&server);
    for round in 0..LOCK_ROUNDS {
        create(&store, &format!("lock-{round}"));
    }
    // A lease of a host that is gone: its heartbeat an hour old on the server.
    Client::connect(&db.url(&server.socket), NoTls)
        .unwrap()
        .batch_execute(
            "INSERT INTO locks (session_id, instance_id, hostname, pid, info, heartbeat)
             SELECT session_id, '00000000000000aa', 'gone', 1,
                    '{\"pid\": 1, \"hostname\": \"gone\", \"instance_id\": \"00000000000000aa\", \"status\": \"idle\"}',
                    now() - interval '1 hour'
               FROM sessions",
        )
        .unwrap();
    let outputs = run_hosts("lock", &server, &db, HOSTS);
    let mut winners = vec![0; LOCK_ROUNDS];
    for out in &outputs {
        for round in common::tagged_numbers(out, "WON") {
            winners[round as usize] += 1;
        }
    }
    let wins: Vec<_> = outputs
        .iter()
        .map(|out| common::tagged_numbers(out, "WON").len())
        .collect();
    eprintln!("{LOCK_ROUNDS} rounds, wins per host {wins:?}");
    let wrong: Vec<_> = winners
        .iter()
        .enumerate()
        .filter(|(_, w)| **w != 1)
        .collect();
    assert!(
        wrong.is_empty(),
        "rounds without exactly one winner: {wrong:?}"
    );
}

#[test]
fn every_queued_message_is_popped_exactly_once_across_hosts() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let (db, store) = fresh(&server);
    create(&store, "q");
    let outputs = run_hosts("queue", &server, &db, HOSTS);
    let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
    for out in &outputs {
        for m in common::tagged_numbers(out, "POP") {
            *seen.entry(m).or_default() += 1;
        }
    }
    for m in store.queue("q").unwrap().list().unwrap() {
        *seen.entry(m.message.parse().unwrap()).or_default() += 1;
    }
    let expected: Vec<u64> = (0..HOSTS as u64)
        .flat_map(|h| (0..QUEUE_ADDS as u64).map(move |i| h * 1000 + i))
        .collect();
    assert_eq!(seen.keys().copied().collect::<Vec<_>>(), expected);
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "{twice:?}");
}

#[test]
fn hosts_appending_to_one_session_get_contiguous_unique_seqs() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let (db, store) = fresh(&server);
    create(&store, "a");
    let outputs = run_hosts("append", &server, &db, APPENDERS);
    let mut seqs: Vec<u64> = outputs
        .iter()
        .flat_map(|o| common::tagged_numbers(o, "SEQ"))
        .collect();
    seqs.sort_unstable();
    let n = (APPENDERS * APPENDS) as u64;
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>());
    let events = store.events("a", 0).unwrap();
    assert!(events.skipped.is_empty());
    assert_eq!(
        events.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=n).collect::<Vec<_>>()
    );
    assert_eq!(store.metadata("a").unwrap().event_count(), n);
}

#[test]
fn a_host_follows_what_another_appends() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let (db, store) = fresh(&server);
    create(&store, "f");
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            // The follower has started once it has been released.
            std::thread::sleep(Duration::from_millis(500));
            for i in 0..20 {
                store.append_event("f", msg(&format!("e{i}"))).unwrap();
                std::thread::sleep(Duration::from_millis(20));
            }
            store
                .append_event("f", NewEvent::new(types::SESSION_END, json!({})))
                .unwrap();
        })
    };
    let started = Instant::now();
    let outputs = run_hosts("follow", &server, &db, 1);
    writer.join().unwrap();
    assert_eq!(
        common::tagged_numbers(&outputs[0], "SEEN"),
        (1..=21).collect::<Vec<_>>()
    );
    // Notifications, not the 30 s poll, woke the follower.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
