//! What the benches share: the statistics of repeated rounds, and new sessions.
#![allow(dead_code)]

use agentsession::{CreateOptions, Store};

/// Median, quartiles and range of some figures.
pub struct Spread {
    pub median: f64,
    pub p25: f64,
    pub p75: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: impl Iterator<Item = f64>) -> Spread {
        let mut v: Vec<f64> = values.collect();
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Spread {
            median: at(0.5),
            p25: at(0.25),
            p75: at(0.75),
            min: v[0],
            max: v[v.len() - 1],
        }
    }
}

/// Creates session `id` (agent "bench", working dir "/bench").
pub fn new_session(store: &Store, id: &str) {
    store
        .create(&CreateOptions {
            session_id: Some(id.into()),
            acp_server: "bench".into(),
            working_dir: "/bench".into(),
            ..Default::default()
        })
        .unwrap();
}
