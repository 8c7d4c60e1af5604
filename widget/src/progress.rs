//! Progress arithmetic for the `progress` events: bytes sent per file (kept by `queue`), summed
//! per input and per form.
//!
//! Byte counts are `f64` because that is what `File.size` and `ProgressEvent.loaded` are.

/// Where an upload stands, as reported in an event's `detail`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Bytes of the files sent so far; never more than `total`.
    pub loaded: f64,
    /// Bytes of all the files.
    pub total: f64,
    /// `loaded / total`, in [0, 1].
    pub progress: f64,
}

/// `loaded / total`, clamped to [0, 1]. XHR counts include the multipart envelope, and a server
/// may report odd totals, so the raw quotient can leave the range or be NaN.
pub fn fraction(loaded: f64, total: f64) -> f64 {
    let quotient = loaded / total;
    if quotient.is_nan() || quotient < 0.0 {
        return 0.0;
    }
    quotient.min(1.0)
}

/// Where files stand together, from each one's `(sent, size, stored)`.
pub fn sum(files: impl Iterator<Item = (f64, f64, bool)>) -> Progress {
    let (mut loaded, mut total, mut all_stored) = (0.0, 0.0, true);
    for (sent, size, stored) in files {
        loaded += sent;
        total += size;
        all_stored &= stored;
    }
    // Empty files have no bytes to count; they are complete once stored.
    let progress = match (total > 0.0, all_stored) {
        (true, _) => fraction(loaded, total),
        (false, true) => 1.0,
        (false, false) => 0.0,
    };
    Progress { loaded, total, progress }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_is_clamped_to_the_unit_interval() {
        assert_eq!(fraction(50.0, 200.0), 0.25);
        assert_eq!(fraction(300.0, 200.0), 1.0);
        assert_eq!(fraction(-1.0, 200.0), 0.0);
        assert_eq!(fraction(0.0, 0.0), 0.0);
        assert_eq!(fraction(5.0, 0.0), 1.0);
        assert_eq!(fraction(f64::NAN, 10.0), 0.0);
    }

    #[test]
    fn sums_add_up_bytes_and_empty_files_count_once_stored() {
        let files = [(50.0, 100.0, false), (100.0, 100.0, true)];
        assert_eq!(sum(files.into_iter()), Progress { loaded: 150.0, total: 200.0, progress: 0.75 });
        assert_eq!(sum([(0.0, 0.0, false), (0.0, 0.0, true)].into_iter()).progress, 0.0);
        assert_eq!(sum([(0.0, 0.0, true)].into_iter()), Progress { loaded: 0.0, total: 0.0, progress: 1.0 });
        assert_eq!(sum([].into_iter()).progress, 1.0);
    }
}
