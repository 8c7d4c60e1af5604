//! The numbers a page sets with attributes: how many files go at once, how large a file may be.

/// Uploads at once when the form does not say: browsers open at most six connections per host,
/// which leaves two for the page while its files upload.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// More uploads at once than this only queue up in the browser.
const MAX_CONCURRENCY: usize = 16;

/// The form's `data-s3file-concurrency`: a whole number from 1 to 16; anything else means the
/// default.
pub fn concurrency(attribute: Option<&str>) -> usize {
    match attribute.and_then(whole_number) {
        Some(number @ 1..) => (number as usize).min(MAX_CONCURRENCY),
        _ => DEFAULT_CONCURRENCY,
    }
}

/// The largest file in bytes, from `data-s3file-max-size` on the input, else on its form; `None`
/// when neither sets a whole number.
pub fn max_size(input_attribute: Option<&str>, form_attribute: Option<&str>) -> Option<u64> {
    input_attribute.or(form_attribute).and_then(whole_number)
}

/// Retries of a failed transfer when the form does not say.
pub const DEFAULT_RETRIES: u32 = 5;

/// The form's `data-s3file-retries`: how many times a failed part (or file sent whole) is tried
/// again, at most 20.
pub fn retries(attribute: Option<&str>) -> u32 {
    attribute.and_then(whole_number).map_or(DEFAULT_RETRIES, |number| number.min(20) as u32)
}

/// Seconds an upload may go without progress when the form does not say.
pub const DEFAULT_STALL_SECONDS: u64 = 30;

/// The form's `data-s3file-stall-timeout`, in seconds (at least 1): an upload that makes no
/// progress for that long is abandoned and tried again. In milliseconds.
pub fn stall_ms(attribute: Option<&str>) -> f64 {
    let seconds = attribute.and_then(whole_number).map_or(DEFAULT_STALL_SECONDS, |number| number.max(1));
    seconds as f64 * 1000.0
}

/// Decimal digits, surrounding whitespace aside. By hand: `str::parse` brings a general radix
/// parser several times the size of this.
fn whole_number(text: &str) -> Option<u64> {
    let digits = text.trim_ascii();
    if digits.is_empty() {
        return None;
    }
    let mut number: u64 = 0;
    for byte in digits.bytes() {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        number = number.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    Some(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_and_stall_timeout_have_defaults_and_bounds() {
        assert_eq!(retries(None), 5);
        assert_eq!(retries(Some("0")), 0);
        assert_eq!(retries(Some("99")), 20);
        assert_eq!(retries(Some("x")), 5);
        assert_eq!(stall_ms(None), 30_000.0);
        assert_eq!(stall_ms(Some("0")), 1000.0);
        assert_eq!(stall_ms(Some(" 5 ")), 5000.0);
    }

    #[test]
    fn concurrency_defaults_to_four() {
        assert_eq!(concurrency(None), 4);
        assert_eq!(concurrency(Some("")), 4);
        assert_eq!(concurrency(Some("lots")), 4);
        assert_eq!(concurrency(Some("0")), 4);
        assert_eq!(concurrency(Some("-2")), 4);
    }

    #[test]
    fn concurrency_is_a_whole_number_up_to_sixteen() {
        assert_eq!(concurrency(Some("1")), 1);
        assert_eq!(concurrency(Some(" 6 ")), 6);
        assert_eq!(concurrency(Some("100")), 16);
    }

    #[test]
    fn the_input_sets_the_max_size_before_its_form() {
        assert_eq!(max_size(None, None), None);
        assert_eq!(max_size(Some("1000"), Some("5")), Some(1000));
        assert_eq!(max_size(None, Some("5")), Some(5));
        assert_eq!(max_size(Some("1e6"), None), None);
        assert_eq!(max_size(Some("+5"), None), None);
        assert_eq!(max_size(Some("18446744073709551616"), None), None, "more than u64 holds");
        assert_eq!(max_size(Some("18446744073709551615"), None), Some(u64::MAX));
        // An unusable input attribute does not fall back to the form's: it is a mistake to fix.
        assert_eq!(max_size(Some("big"), Some("5")), None);
    }
}
