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
