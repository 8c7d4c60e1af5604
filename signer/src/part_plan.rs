//! How a file is cut into the parts of an S3 multipart upload, and whether the parts S3 holds
//! add up to that file.
//!
//! Every part has the same size except the last, which is never larger: S3 needs each part but
//! the last to be at least 5 MiB, Cloudflare R2 needs them all equal, and both allow at most
//! 10,000 parts of at most 5 GiB. The plan is a pure function of the file's size and the
//! settings, so every replica (and a later resume) computes the same one.

use std::ops::Range;

/// S3's most parts per upload.
pub const MAX_PARTS: u64 = 10_000;
/// S3's smallest part but the last.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// S3's largest part.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// S3's largest object.
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024 * 1024;

/// The parts of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    pub size: u64,
    pub part_size: u64,
}

impl PartPlan {
    /// The plan for a file of `size` bytes, with parts of `preferred` bytes unless that would
    /// take more than 10,000 parts; then the smallest whole MiB that fits.
    pub fn new(size: u64, preferred: u64) -> Result<PartPlan, String> {
        if size > MAX_OBJECT_SIZE {
            return Err(format!("{size} bytes is more than S3's largest object (5 TiB)"));
        }
        const MIB: u64 = 1024 * 1024;
        let fewest = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
        let part_size = preferred.clamp(MIN_PART_SIZE, MAX_PART_SIZE).max(fewest);
        Ok(PartPlan { size, part_size })
    }

    /// How many parts; an empty file still has one (empty) part.
    pub fn count(&self) -> u64 {
        self.size.div_ceil(self.part_size).max(1)
    }

    /// The byte range of part `number` (1-based), or `None` if the file has no such part.
    pub fn range(&self, number: u64) -> Option<Range<u64>> {
        if number == 0 || number > self.count() {
            return None;
        }
        let start = (number - 1) * self.part_size;
        Some(start..(start + self.part_size).min(self.size))
    }

    /// Checks the parts S3 lists against the plan: `Ok` with every part in order when the
    /// upload is whole, `Missing` when some parts are still to come, `Mismatch` when a part
    /// has a size the plan does not give it (the browser sent another file).
    pub fn check(&self, listed: &[ListedPart]) -> PartsState {
        let mut present = vec![None; self.count() as usize];
        for part in listed {
            let Some(range) = self.range(part.number) else {
                return PartsState::Mismatch(format!(
                    "part {} is beyond the file's {} parts",
                    part.number,
                    self.count()
                ));
            };
            if part.size != range.end - range.start {
                return PartsState::Mismatch(format!(
                    "part {} has {} bytes where the file has {}",
                    part.number,
                    part.size,
                    range.end - range.start
                ));
            }
            present[(part.number - 1) as usize] = Some(part.clone());
        }
        let missing: Vec<u64> = present
            .iter()
            .enumerate()
            .filter(|(_, part)| part.is_none())
            .map(|(i, _)| i as u64 + 1)
            .collect();
        if missing.is_empty() {
            PartsState::Complete(present.into_iter().flatten().collect())
        } else {
            PartsState::Missing(missing)
        }
    }
}

/// One part as ListParts reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPart {
    pub number: u64,
    pub size: u64,
    pub etag: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum PartsState {
    Complete(Vec<ListedPart>),
    Missing(Vec<u64>),
    Mismatch(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    fn part(number: u64, size: u64) -> ListedPart {
        ListedPart { number, size, etag: format!("\"e{number}\"") }
    }

    #[test]
    fn parts_are_equal_but_the_last() {
        let plan = PartPlan::new(40 * MIB + 3, 16 * MIB).unwrap();
        assert_eq!(plan.count(), 3);
        assert_eq!(plan.range(1), Some(0..16 * MIB));
        assert_eq!(plan.range(3), Some(32 * MIB..40 * MIB + 3));
        assert_eq!(plan.range(0), None);
        assert_eq!(plan.range(4), None);
        // A size that divides evenly has no short last part.
        let even = PartPlan::new(32 * MIB, 16 * MIB).unwrap();
        assert_eq!((even.count(), even.range(2)), (2, Some(16 * MIB..32 * MIB)));
    }

    #[test]
    fn part_size_grows_to_stay_within_ten_thousand_parts() {
        let size = 1024 * 1024 * MIB; // 1 TiB
        let plan = PartPlan::new(size, 8 * MIB).unwrap();
        assert!(plan.count() <= MAX_PARTS, "{}", plan.count());
        assert_eq!(plan.part_size % MIB, 0);
        // One MiB less per part would not fit.
        assert!(size.div_ceil(plan.part_size - MIB) > MAX_PARTS);
        let largest = PartPlan::new(MAX_OBJECT_SIZE, 8 * MIB).unwrap();
        assert!(largest.count() <= MAX_PARTS && largest.part_size <= MAX_PART_SIZE);
        assert!(PartPlan::new(MAX_OBJECT_SIZE + 1, 8 * MIB).is_err());
    }

    #[test]
    fn part_size_respects_s3s_bounds() {
        assert_eq!(PartPlan::new(100 * MIB, MIB).unwrap().part_size, MIN_PART_SIZE);
        assert_eq!(PartPlan::new(100 * MIB, 10 * MAX_PART_SIZE).unwrap().part_size, MAX_PART_SIZE);
        assert_eq!(PartPlan::new(0, 8 * MIB).unwrap().count(), 1);
    }

    #[test]
    fn listed_parts_are_checked_against_the_plan() {
        let plan = PartPlan::new(12 * MIB, 5 * MIB).unwrap();
        let whole = [part(2, 5 * MIB), part(1, 5 * MIB), part(3, 2 * MIB)];
        assert_eq!(
            plan.check(&whole),
            PartsState::Complete(vec![whole[1].clone(), whole[0].clone(), whole[2].clone()])
        );
        assert_eq!(plan.check(&whole[..2]), PartsState::Missing(vec![3]));
        assert_eq!(plan.check(&[]), PartsState::Missing(vec![1, 2, 3]));
        assert!(matches!(plan.check(&[part(3, 5 * MIB)]), PartsState::Mismatch(_)));
        assert!(matches!(plan.check(&[part(4, MIB)]), PartsState::Mismatch(_)));
    }
}
