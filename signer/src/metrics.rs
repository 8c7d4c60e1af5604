//! Prometheus metrics: counters and latency histograms, kept in atomics and written in the text
//! exposition format at `GET /metrics`.
//!
//! A handful of fixed series does not need a metrics framework; everything here is lock-free
//! and allocation-free on the request path.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            let _ =
                writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {}", bucket.load(Ordering::Relaxed));
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
    }
}

/// Why a request was refused, as a metric label.
#[derive(Debug, Clone, Copy)]
pub enum Rejection {
    BadRequest,
    Forbidden,
    NotFound,
    TooLarge,
    Internal,
}

const REJECTIONS: [(Rejection, &str); 5] = [
    (Rejection::BadRequest, "bad_request"),
    (Rejection::Forbidden, "forbidden"),
    (Rejection::NotFound, "not_found"),
    (Rejection::TooLarge, "too_large"),
    (Rejection::Internal, "internal"),
];

#[derive(Default)]
pub struct Metrics {
    pub signed_files: AtomicU64,
    pub finalized_files: AtomicU64,
    rejected: [AtomicU64; REJECTIONS.len()],
    pub sign_latency: Histogram,
    pub finalize_latency: Histogram,
}

impl Metrics {
    pub fn reject(&self, why: Rejection) {
        self.rejected[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, value: &AtomicU64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        };
        counter(&mut out, "s3file_signed_files_total", "Files whose upload was signed.", &self.signed_files);
        counter(
            &mut out,
            "s3file_finalized_files_total",
            "Files moved to their final key.",
            &self.finalized_files,
        );
        out.push_str("# HELP s3file_rejected_requests_total Requests refused, by reason.\n");
        out.push_str("# TYPE s3file_rejected_requests_total counter\n");
        for ((_, label), value) in REJECTIONS.iter().zip(&self.rejected) {
            let _ = writeln!(
                out,
                "s3file_rejected_requests_total{{reason=\"{label}\"}} {}",
                value.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP s3file_request_duration_seconds Time to answer, by endpoint.\n");
        out.push_str("# TYPE s3file_request_duration_seconds histogram\n");
        self.sign_latency.write(&mut out, "s3file_request_duration_seconds", "endpoint=\"sign\"");
        self.finalize_latency.write(&mut out, "s3file_request_duration_seconds", "endpoint=\"finalize\"");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.signed_files.fetch_add(3, Ordering::Relaxed);
        metrics.reject(Rejection::Forbidden);
        metrics.sign_latency.observe(Duration::from_millis(3));
        metrics.sign_latency.observe(Duration::from_millis(300));
        let text = metrics.render();
        assert!(text.contains("s3file_signed_files_total 3\n"));
        assert!(text.contains("s3file_rejected_requests_total{reason=\"forbidden\"} 1\n"));
        assert!(text.contains("s3file_rejected_requests_total{reason=\"internal\"} 0\n"));
        assert!(text.contains("s3file_request_duration_seconds_bucket{endpoint=\"sign\",le=\"0.0025\"} 0\n"));
        assert!(text.contains("s3file_request_duration_seconds_bucket{endpoint=\"sign\",le=\"0.005\"} 1\n"));
        assert!(text.contains("s3file_request_duration_seconds_bucket{endpoint=\"sign\",le=\"0.5\"} 2\n"));
        assert!(text.contains("s3file_request_duration_seconds_count{endpoint=\"sign\"} 2\n"));
        assert!(text.contains("s3file_request_duration_seconds_sum{endpoint=\"sign\"} 0.303\n"));
    }
}
