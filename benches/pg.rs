//! The PostgreSQL store against a baseline measured in the same run: the
//! very statements the store sends for each operation (same text, same
//! parameter types, same transactions), sent by a minimal loop of a
//! `postgres::Client` on one connection, parameters prepared up front.
//!
//! `cargo bench --bench pg [-- --quick]` with `AGS_PG_URL` set
//! (`eval "$(bash scripts/pg.sh start)"`); skipped with a note without it.
//! Runs in a database of its own, dropped at the end. Each row runs
//! interleaved rounds of ours and the baseline and reports the median times
//! and the median of the rounds' ratios, with their spread (the machines
//! are shared and noisy: ratios hold, absolute times drift).
//!
//! Prints a table and, last, one JSON object with every figure.

mod common;

use common::new_session;
use std::hint::black_box;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use agentsession::pg_sql as sql;
use agentsession::{timefmt, Event, NewEvent, SearchQuery, Store};
use postgres::types::Type;
use postgres::{Client, NoTls};
use serde_json::{json, Value};

const TARGET: &str = "same-run baseline (same SQL, minimal loop)";

struct Row {
    name: String,
    ours_us: f64,
    base_us: f64,
    ratio: f64,
    ratio_min: f64,
    ratio_max: f64,
    /// Operations per second of ours and the baseline, for throughput rows.
    per_s: Option<(f64, f64)>,
}

struct Bench {
    quick: bool,
    rounds: usize,
    rows: Vec<Row>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

impl Bench {
    /// `full` in the full form, `quick` in the short one.
    fn size(&self, full: usize, quick: usize) -> usize {
        if self.quick {
            quick
        } else {
            full
        }
    }

    /// Runs `rounds` rounds of `ours` and `base` (each doing `per`
    /// operations), alternating which goes first, and adds the row.
    fn pair(
        &mut self,
        name: &str,
        per: usize,
        throughput: bool,
        mut ours: impl FnMut() -> Duration,
        mut base: impl FnMut() -> Duration,
    ) {
        let us = |d: Duration| d.as_secs_f64() * 1e6 / per as f64;
        let (mut o, mut b) = (Vec::new(), Vec::new());
        for round in 0..self.rounds {
            if round % 2 == 0 {
                o.push(us(ours()));
                b.push(us(base()));
            } else {
                b.push(us(base()));
                o.push(us(ours()));
            }
        }
        let ratios: Vec<f64> = o.iter().zip(&b).map(|(o, b)| o / b).collect();
        let (ours_us, base_us) = (median(o), median(b));
        let row = Row {
            name: name.to_string(),
            ours_us,
            base_us,
            ratio: median(ratios.clone()),
            ratio_min: ratios.iter().copied().fold(f64::INFINITY, f64::min),
            ratio_max: ratios.iter().copied().fold(0.0, f64::max),
            per_s: throughput.then(|| (1e6 / ours_us, 1e6 / base_us)),
        };
        println!(
            "{:<44} {:>10.2} {:>10.2} {:>7.2}x  {:>11}  {}",
            row.name,
            row.ours_us,
            row.base_us,
            row.ratio,
            format!("{:.2}-{:.2}", row.ratio_min, row.ratio_max),
            match row.per_s {
                Some((o, b)) => format!("{o:.0} vs {b:.0} events/s"),
                None => TARGET.to_string(),
            }
        );
        self.rows.push(row);
    }
}

/// A database of its own on the server, dropped with this value.
struct Database {
    admin_url: String,
    name: String,
}

impl Database {
    fn create(admin_url: &str) -> Database {
        let name = format!("ags_bench_{}", std::process::id());
        let mut admin = Client::connect(admin_url, NoTls).expect("connect to AGS_PG_URL");
        // A database left by an earlier run of the same pid goes first.
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin.batch_execute(&sql).unwrap();
        }
        Database {
            admin_url: admin_url.to_string(),
            name,
        }
    }

    /// The database's URL: the admin URL with its `dbname` replaced.
    fn url(&self) -> String {
        let sep = if self.admin_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{sep}dbname={}", self.admin_url, self.name)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut admin) = Client::connect(&self.admin_url, NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// An agent message of about `size` bytes as a log line.
fn message(text: &str, size: usize) -> NewEvent {
    let pad = "x".repeat(size.saturating_sub(110 + text.len()));
    NewEvent::new("agent_message", json!({ "text": format!("{text}{pad}") }))
}

/// The event as the store sends it: its line without the leading `{"seq":0`.
fn tail(ev: &NewEvent, now: &str) -> String {
    let mut buf = Vec::new();
    Event {
        seq: 0,
        event_type: ev.event_type.clone(),
        timestamp: now.to_string(),
        data: ev.data.clone(),
        extra: Default::default(),
    }
    .write_line(&mut buf);
    let tail = buf.strip_prefix(b"{\"seq\":0").unwrap();
    String::from_utf8(tail.to_vec()).unwrap()
}

/// The append statement for `tails`, as the store sends it.
fn append(c: &mut Client, id: &str, tails: &Vec<String>, now: &String) {
    let prompt: Option<String> = None;
    black_box(
        c.query_typed_opt(
            sql::APPEND,
            &[
                (&id, Type::TEXT),
                (tails, Type::TEXT_ARRAY),
                (now, Type::TEXT),
                (&prompt, Type::TEXT),
            ],
        )
        .unwrap(),
    );
}

fn bench_appends(b: &mut Bench, store: &Store, c: &mut Client) {
    let now = timefmt::now_string();
    let ev = message("", 200);
    for id in ["a", "ba", "ab", "bab"] {
        new_session(store, id);
    }
    let n = b.size(300, 100);
    b.pair(
        "pg append, 200 B event",
        n,
        false,
        || {
            let evs = vec![ev.clone(); n];
            let t = Instant::now();
            for e in evs {
                store.append_event("a", e).unwrap();
            }
            t.elapsed()
        },
        || {
            let tails = vec![tail(&ev, &now)];
            let t = Instant::now();
            for _ in 0..n {
                append(c, "ba", &tails, &now);
            }
            t.elapsed()
        },
    );
    let n = b.size(10, 4);
    let batch = vec![ev.clone(); 1000];
    let tails: Vec<String> = batch.iter().map(|e| tail(e, &now)).collect();
    b.pair(
        "pg append_events, 1,000 x 200 B (per call)",
        n,
        false,
        || {
            let batches = vec![batch.clone(); n];
            let t = Instant::now();
            for batch in batches {
                store.append_events("ab", batch).unwrap();
            }
            t.elapsed()
        },
        || {
            let t = Instant::now();
            for _ in 0..n {
                append(c, "bab", &tails, &now);
            }
            t.elapsed()
        },
    );
}

/// Fills session `id` with `n` events, every 1,000th holding `needle`.
fn fill(store: &Store, id: &str, n: usize, needle: &str) {
    new_session(store, id);
    for start in (0..n).step_by(1000) {
        let batch = (start..n.min(start + 1000))
            .map(|i| message(if i % 1000 == 500 { needle } else { "" }, 200))
            .collect();
        store.append_events(id, batch).unwrap();
    }
}

fn bench_reads(b: &mut Bench, store: &Store, c: &mut Client) {
    let events = b.size(100_000, 10_000);
    let needle = "needle-4711";
    fill(store, "big", events, needle);
    // The planner's statistics, as autovacuum keeps them in a database in
    // use (without them the tail read scans the whole session).
    c.batch_execute("ANALYZE").unwrap();
    let n = b.size(300, 100);
    b.pair(
        &format!("pg events_last(50), {events} events"),
        n,
        false,
        || {
            let t = Instant::now();
            for _ in 0..n {
                black_box(store.events_last("big", 50, 0, false).unwrap());
            }
            t.elapsed()
        },
        || {
            let t = Instant::now();
            for _ in 0..n {
                black_box(
                    c.query_typed(
                        sql::EVENTS_LAST,
                        &[
                            (&"big", Type::TEXT),
                            (&i64::MAX, Type::INT8),
                            (&50i64, Type::INT8),
                        ],
                    )
                    .unwrap(),
                );
            }
            t.elapsed()
        },
    );
    // The store lowers the needle's longest ASCII run into a LIKE pattern.
    let pattern = format!("%{needle}%");
    let n = b.size(20, 10);
    b.pair(
        &format!("pg search, one needle over {events} lines"),
        n,
        false,
        || {
            let t = Instant::now();
            for _ in 0..n {
                let query = SearchQuery {
                    text: needle.into(),
                    ..Default::default()
                };
                let hits = store.search(query).unwrap().map(Result::unwrap).count();
                assert_eq!(hits, events / 1000);
            }
            t.elapsed()
        },
        || {
            let t = Instant::now();
            for _ in 0..n {
                for s in c.query_typed(sql::LIST_SESSIONS, &[]).unwrap() {
                    let id: &str = s.get(4);
                    black_box(
                        c.query_typed(
                            sql::SEARCH_FILTERED,
                            &[(&id, Type::TEXT), (&pattern, Type::TEXT)],
                        )
                        .unwrap(),
                    );
                }
            }
            t.elapsed()
        },
    );
}

/// The one row `query` finds for session `id` (its only parameter).
fn stored(c: &mut Client, query: &str, id: &str) -> postgres::Row {
    c.query_one(query, &[&id]).unwrap()
}

fn bench_queue(b: &mut Bench, store: &Store, c: &mut Client) {
    for id in ["q", "bq"] {
        new_session(store, id);
    }
    let q = store.queue("q").unwrap();
    let content = "SELECT content FROM documents WHERE session_id = $1 AND doc = 'queue'";
    q.add("please also run the tests", &[], None, 0).unwrap();
    let one: String = stored(c, content, "q").get(0);
    q.pop().unwrap();
    let empty: String = stored(c, content, "q").get(0);
    let n = b.size(200, 50);
    b.pair(
        "pg queue add + pop",
        n,
        false,
        || {
            let t = Instant::now();
            for _ in 0..n {
                q.add("please also run the tests", &[], None, 0).unwrap();
                q.pop().unwrap();
            }
            t.elapsed()
        },
        || {
            let t = Instant::now();
            for _ in 0..n {
                for text in [&one, &empty] {
                    let mut tx = c.transaction().unwrap();
                    tx.execute_typed(
                        sql::ADVISORY_XACT_LOCK,
                        &[(&sql::QUEUE_CLASS, Type::INT4), (&"bq", Type::TEXT)],
                    )
                    .unwrap();
                    let doc = [(&"bq" as _, Type::TEXT), (&"queue" as _, Type::TEXT)];
                    black_box(tx.query_typed_opt(sql::DOC_FOR_CHANGE, &doc).unwrap());
                    black_box(
                        tx.query_typed_one(
                            sql::DOC_WRITE,
                            &[
                                (&"bq", Type::TEXT),
                                (&"queue", Type::TEXT),
                                (text, Type::TEXT),
                            ],
                        )
                        .unwrap(),
                    );
                    tx.commit().unwrap();
                }
            }
            t.elapsed()
        },
    );
}

fn bench_lock(b: &mut Bench, store: &Store, c: &mut Client) {
    for id in ["l", "bl"] {
        new_session(store, id);
    }
    let held = store.try_acquire_lock("l", "bench").unwrap();
    let row = stored(
        c,
        "SELECT instance_id, hostname, pid, info FROM locks WHERE session_id = $1",
        "l",
    );
    held.release().unwrap();
    let (instance, host, pid, info): (String, String, i64, String) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let n = b.size(200, 50);
    b.pair(
        "pg lock acquire + release",
        n,
        false,
        || {
            let t = Instant::now();
            for _ in 0..n {
                store
                    .try_acquire_lock("l", "bench")
                    .unwrap()
                    .release()
                    .unwrap();
            }
            t.elapsed()
        },
        || {
            let id = [(&"bl" as _, Type::TEXT)];
            let t = Instant::now();
            for _ in 0..n {
                c.batch_execute("BEGIN").unwrap();
                c.execute_typed(
                    sql::ADVISORY_XACT_LOCK,
                    &[(&sql::LOCK_CLASS, Type::INT4), (&"bl", Type::TEXT)],
                )
                .unwrap();
                black_box(c.query_typed_opt(sql::SESSION_FOR_KEY_SHARE, &id).unwrap());
                black_box(c.query_typed_opt(sql::LOCK_READ, &id).unwrap());
                c.execute_typed(
                    sql::LOCK_WRITE,
                    &[
                        (&"bl", Type::TEXT),
                        (&instance, Type::TEXT),
                        (&host, Type::TEXT),
                        (&pid, Type::INT8),
                        (&info, Type::TEXT),
                    ],
                )
                .unwrap();
                c.batch_execute("COMMIT").unwrap();
                c.execute_typed(
                    sql::LOCK_REMOVE,
                    &[(&"bl", Type::TEXT), (&instance, Type::TEXT)],
                )
                .unwrap();
            }
            t.elapsed()
        },
    );
}

/// Runs `f(i, worker)` on a thread per worker, all started at once; the
/// wall time until the last finishes.
fn concurrently<W: Send>(workers: &mut [W], f: impl Fn(usize, &mut W) + Sync) -> Duration {
    let start = Barrier::new(workers.len() + 1);
    let mut t = None;
    thread::scope(|s| {
        for (i, w) in workers.iter_mut().enumerate() {
            let (start, f) = (&start, &f);
            s.spawn(move || {
                start.wait();
                f(i, w);
            });
        }
        start.wait();
        t = Some(Instant::now());
    });
    t.unwrap().elapsed()
}

fn bench_writers(b: &mut Bench, store: &Store, url: &str) {
    const WRITERS: usize = 8;
    let now = timefmt::now_string();
    let ev = message("", 200);
    let tails = vec![tail(&ev, &now)];
    let ours_ids: Vec<String> = (0..WRITERS).map(|i| format!("w{i}")).collect();
    let base_ids: Vec<String> = (0..WRITERS).map(|i| format!("bw{i}")).collect();
    for id in ours_ids.iter().chain(&base_ids) {
        new_session(store, id);
    }
    new_session(store, "w");
    new_session(store, "bw");
    let mut stores: Vec<Store> = (0..WRITERS).map(|_| Store::open(url).unwrap()).collect();
    let mut clients: Vec<Client> = (0..WRITERS)
        .map(|_| Client::connect(url, NoTls).unwrap())
        .collect();
    let n = b.size(150, 40);
    for shared in [false, true] {
        let ours_id = |i: usize| if shared { "w" } else { &ours_ids[i] };
        let base_id = |i: usize| if shared { "bw" } else { &base_ids[i] };
        b.pair(
            if shared {
                "pg 8 writers, one shared session (per event)"
            } else {
                "pg 8 writers, 8 sessions (per event)"
            },
            WRITERS * n,
            true,
            || {
                concurrently(&mut stores, |i, s| {
                    for _ in 0..n {
                        s.append_event(ours_id(i), ev.clone()).unwrap();
                    }
                })
            },
            || {
                concurrently(&mut clients, |i, c| {
                    for _ in 0..n {
                        append(c, base_id(i), &tails, &now);
                    }
                })
            },
        );
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let Some(admin_url) = std::env::var("AGS_PG_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("SKIPPED: AGS_PG_URL not set; eval \"$(bash scripts/pg.sh start)\"");
        println!(
            "{}",
            json!({"bench": "pg", "skipped": "AGS_PG_URL not set"})
        );
        return;
    };
    let db = Database::create(&admin_url);
    let url = db.url();
    let store = Store::open(&url).unwrap();
    let mut client = Client::connect(&url, NoTls).unwrap();
    let mut b = Bench {
        quick,
        rounds: if quick { 5 } else { 9 },
        rows: Vec::new(),
    };
    println!(
        "{:<44} {:>10} {:>10} {:>8}  {:>11}  target",
        "figure", "ours µs", "base µs", "ratio", "spread"
    );
    // The reads first, while the big session is the only one a search lists.
    bench_reads(&mut b, &store, &mut client);
    bench_appends(&mut b, &store, &mut client);
    bench_queue(&mut b, &store, &mut client);
    bench_lock(&mut b, &store, &mut client);
    bench_writers(&mut b, &store, &url);

    let figures: Vec<Value> = b
        .rows
        .iter()
        .map(|r| {
            let mut f = json!({"figure": r.name, "ours_us": r.ours_us, "baseline_us": r.base_us,
                   "ratio": r.ratio, "ratio_min": r.ratio_min, "ratio_max": r.ratio_max,
                   "target": TARGET});
            if let Some((ours, base)) = r.per_s {
                f["ours_events_per_s"] = json!(ours);
                f["baseline_events_per_s"] = json!(base);
            }
            f
        })
        .collect();
    println!(
        "{}",
        json!({"bench": "pg", "quick": quick, "rounds": b.rounds, "figures": figures})
    );
}
