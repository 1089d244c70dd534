//! What a load run measured: per-worker tallies merged into one report, printed as text or JSON.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::rpc::Failure;

/// One worker's tally (merged at the end, so workers share nothing while they run).
pub(crate) struct Tally {
    /// Latencies of successful calls, in nanoseconds.
    pub(crate) latency: Histogram<u64>,
    pub(crate) ok: u64,
    pub(crate) errors: BTreeMap<String, u64>,
    pub(crate) examples: BTreeMap<String, String>,
}

impl Tally {
    pub(crate) fn new() -> Result<Tally, String> {
        // 1 us .. 1 h with 3 significant digits.
        let latency = Histogram::new_with_bounds(1_000, 3_600_000_000_000, 3)
            .map_err(|e| format!("histogram: {e}"))?;
        Ok(Tally {
            latency,
            ok: 0,
            errors: BTreeMap::new(),
            examples: BTreeMap::new(),
        })
    }

    pub(crate) fn success(&mut self, latency: Duration) {
        self.ok += 1;
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.latency.saturating_record(nanos.max(1_000));
    }

    pub(crate) fn failure(&mut self, failure: &Failure) {
        let kind = failure.kind();
        if !self.examples.contains_key(&kind) {
            self.examples.insert(kind.clone(), failure.describe());
        }
        *self.errors.entry(kind).or_insert(0) += 1;
    }

    pub(crate) fn merge(&mut self, other: Tally) {
        let _ = self.latency.add(&other.latency);
        self.ok += other.ok;
        for (kind, n) in other.errors {
            *self.errors.entry(kind).or_insert(0) += n;
        }
        for (kind, example) in other.examples {
            self.examples.entry(kind).or_insert(example);
        }
    }

    pub(crate) fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// The report of a load run, as `--json` prints it.
#[derive(Serialize)]
pub(crate) struct Report {
    pub(crate) url: String,
    /// `stateless` or `stateful`.
    pub(crate) mode: &'static str,
    pub(crate) sessions: usize,
    pub(crate) concurrency: usize,
    pub(crate) tool: String,
    /// Measured wall time (warm-up excluded), in seconds.
    pub(crate) elapsed_s: f64,
    /// Calls completed, successful or not.
    pub(crate) requests: u64,
    pub(crate) ok: u64,
    pub(crate) errors: Errors,
    /// Successful calls per second.
    pub(crate) throughput_rps: f64,
    /// Latency of successful calls, in microseconds.
    pub(crate) latency_us: Latency,
}

/// Errors by kind, with one example message of each.
#[derive(Serialize)]
pub(crate) struct Errors {
    pub(crate) total: u64,
    pub(crate) by_kind: BTreeMap<String, u64>,
    pub(crate) examples: BTreeMap<String, String>,
}

/// Latency percentiles in microseconds.
#[derive(Serialize)]
pub(crate) struct Latency {
    pub(crate) mean: f64,
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
    pub(crate) p999: f64,
    pub(crate) max: f64,
}

impl Latency {
    pub(crate) fn of(h: &Histogram<u64>) -> Latency {
        let us = |nanos: u64| nanos as f64 / 1_000.0;
        if h.is_empty() {
            return Latency {
                mean: 0.0,
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                p999: 0.0,
                max: 0.0,
            };
        }
        Latency {
            mean: h.mean() / 1_000.0,
            p50: us(h.value_at_quantile(0.50)),
            p90: us(h.value_at_quantile(0.90)),
            p99: us(h.value_at_quantile(0.99)),
            p999: us(h.value_at_quantile(0.999)),
            max: us(h.max()),
        }
    }
}

impl Report {
    /// The human-readable form.
    pub(crate) fn text(&self) -> String {
        let l = &self.latency_us;
        let mut out = format!(
            "{url} ({mode}, {sessions} session(s), concurrency {c}, tool {tool})\n\
             {requests} calls in {elapsed:.2} s: {ok} ok, {errors} errors\n\
             throughput: {rps:.1} calls/s\n\
             latency (us): mean {mean:.1}  p50 {p50:.1}  p90 {p90:.1}  p99 {p99:.1}  p99.9 {p999:.1}  max {max:.1}\n",
            url = self.url,
            mode = self.mode,
            sessions = self.sessions,
            c = self.concurrency,
            tool = self.tool,
            requests = self.requests,
            elapsed = self.elapsed_s,
            ok = self.ok,
            errors = self.errors.total,
            rps = self.throughput_rps,
            mean = l.mean,
            p50 = l.p50,
            p90 = l.p90,
            p99 = l.p99,
            p999 = l.p999,
            max = l.max,
        );
        for (kind, n) in &self.errors.by_kind {
            let example = self.errors.examples.get(kind).map_or("", String::as_str);
            out.push_str(&format!("  {n} x {kind} (e.g. {example})\n"));
        }
        out
    }
}
