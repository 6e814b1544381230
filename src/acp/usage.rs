//! Token and cost figures from the `usage` events, per session and store-wide.
//!
//! An ACP `usage_update` reports the tokens in the agent's context window
//! (`used` of `size`) and, optionally, the session's cumulative cost. So a
//! session's tokens are its latest and its peak context figures, and its cost
//! is what the cumulative figure grew by: when it drops (the agent started a
//! new session of its own, as after a resume through `session/new`), the new
//! figure counts from zero.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::types;
use crate::error::Result;
use crate::event::Event;
use crate::metadata::Metadata;
use crate::store::Store;

/// Usage of one session, from its `usage` events.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UsageTotals {
    /// The session.
    pub session_id: String,
    /// Its agent (`acp_server`).
    pub agent: String,
    /// Number of usage updates.
    pub updates: u64,
    /// Tokens in context at the latest update.
    pub used: u64,
    /// Context window size at the latest update.
    pub size: u64,
    /// Most tokens in context at any update.
    pub peak_used: u64,
    /// Cost spent, per currency (or other unit).
    pub cost: BTreeMap<String, f64>,
    /// Time of the first update.
    pub first_at: Option<String>,
    /// Time of the latest update.
    pub last_at: Option<String>,
}

/// Usage of a group of sessions: one day, one agent, or all.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UsageRow {
    /// The day (`YYYY-MM-DD`, in the offset the events were stamped with),
    /// the agent, or `total`.
    pub key: String,
    /// Sessions with usage updates in the group.
    pub sessions: u64,
    /// Usage updates in the group.
    pub updates: u64,
    /// Sum over those sessions of their peak context tokens in the group.
    pub peak_tokens: u64,
    /// Cost spent in the group, per currency.
    pub cost: BTreeMap<String, f64>,
}

impl UsageRow {
    fn new(key: &str) -> UsageRow {
        UsageRow {
            key: key.to_string(),
            ..UsageRow::default()
        }
    }

    /// Adds one session's share of the group.
    fn add(&mut self, updates: u64, peak: u64, cost: &BTreeMap<String, f64>) {
        self.sessions += 1;
        self.updates += updates;
        self.peak_tokens += peak;
        for (currency, amount) in cost {
            *self.cost.entry(currency.clone()).or_default() += amount;
        }
    }
}

/// Usage of every session of a store.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UsageSummary {
    /// All sessions together.
    pub total: UsageRow,
    /// Per day, oldest first.
    pub by_day: Vec<UsageRow>,
    /// Per agent, by name.
    pub by_agent: Vec<UsageRow>,
    /// Each session with usage updates, by id.
    pub sessions: Vec<UsageTotals>,
}

/// One session's figures for one day.
#[derive(Default)]
struct Day {
    updates: u64,
    peak: u64,
    cost: BTreeMap<String, f64>,
}

/// A session's totals and its figures per day.
fn session_usage(meta: &Metadata, events: &[Event]) -> (UsageTotals, BTreeMap<String, Day>) {
    let mut totals = UsageTotals {
        session_id: meta.session_id().to_string(),
        agent: meta.acp_server().to_string(),
        ..UsageTotals::default()
    };
    let mut days: BTreeMap<String, Day> = BTreeMap::new();
    let mut last_cost: BTreeMap<String, f64> = BTreeMap::new();
    for event in events.iter().filter(|e| e.event_type == types::USAGE) {
        let number = |key: &str| event.data.get(key).and_then(Value::as_u64).unwrap_or(0);
        let (used, size) = (number("used"), number("size"));
        let day_key = match event.time() {
            Some(t) => t.date_naive().to_string(),
            None => "unknown".to_string(),
        };
        let day = days.entry(day_key).or_default();
        day.updates += 1;
        day.peak = day.peak.max(used);
        totals.updates += 1;
        totals.used = used;
        totals.size = size;
        totals.peak_used = totals.peak_used.max(used);
        if totals.first_at.is_none() {
            totals.first_at = Some(event.timestamp.clone());
        }
        totals.last_at = Some(event.timestamp.clone());
        let cost = event.data.get("cost");
        let amount = cost.and_then(|c| c.get("amount")).and_then(Value::as_f64);
        let currency = cost.and_then(|c| c.get("currency")).and_then(Value::as_str);
        if let (Some(amount), Some(currency)) = (amount, currency) {
            let before = last_cost
                .insert(currency.to_string(), amount)
                .unwrap_or(0.0);
            let spent = if amount >= before {
                amount - before
            } else {
                amount
            };
            *totals.cost.entry(currency.to_string()).or_default() += spent;
            *day.cost.entry(currency.to_string()).or_default() += spent;
        }
    }
    (totals, days)
}

impl Store {
    /// The usage the agent reported in a session.
    pub fn usage(&self, session_id: &str) -> Result<UsageTotals> {
        let meta = self.metadata(session_id)?;
        let events = self.events(session_id, 0)?.events;
        Ok(session_usage(&meta, &events).0)
    }

    /// The usage of all sessions, in total, per day and per agent. Sessions
    /// that cannot be read are left out (as [`Store::list`] does).
    pub fn usage_summary(&self) -> Result<UsageSummary> {
        let mut summary = UsageSummary {
            total: UsageRow::new("total"),
            ..UsageSummary::default()
        };
        let mut by_day: BTreeMap<String, UsageRow> = BTreeMap::new();
        let mut by_agent: BTreeMap<String, UsageRow> = BTreeMap::new();
        for meta in self.list()?.sessions {
            let events = match self.events(meta.session_id(), 0) {
                Ok(read) => read.events,
                Err(e) => {
                    log::warn!("usage of {} left out: {e}", meta.session_id());
                    continue;
                }
            };
            let (totals, days) = session_usage(&meta, &events);
            if totals.updates == 0 {
                continue;
            }
            for (key, day) in days {
                by_day
                    .entry(key.clone())
                    .or_insert_with(|| UsageRow::new(&key))
                    .add(day.updates, day.peak, &day.cost);
            }
            by_agent
                .entry(totals.agent.clone())
                .or_insert_with(|| UsageRow::new(&totals.agent))
                .add(totals.updates, totals.peak_used, &totals.cost);
            summary
                .total
                .add(totals.updates, totals.peak_used, &totals.cost);
            summary.sessions.push(totals);
        }
        summary.by_day = by_day.into_values().collect();
        summary.by_agent = by_agent.into_values().collect();
        Ok(summary)
    }
}
