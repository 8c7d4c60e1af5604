//! Putting text together without `core::fmt`, which would be a third of the widget's size.

use alloc::string::String;

/// `parts.concat()`, whose generic implementation is ten times the size of this.
pub fn concat(parts: &[&str]) -> String {
    let mut text = String::new();
    for part in parts {
        text.push_str(part);
    }
    text
}

/// Appends `number` in decimal, by hand because `to_string` would bring in `core::fmt`.
pub fn push_decimal(text: &mut String, number: u64) {
    if number >= 10 {
        push_decimal(text, number / 10);
    }
    let digit = (number % 10) as usize;
    text.push_str("0123456789".get(digit..=digit).unwrap_or_default());
}

/// `number` in decimal.
pub fn decimal(number: u64) -> String {
    let mut text = String::new();
    push_decimal(&mut text, number);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_in_decimal() {
        for number in [0, 7, 10, 99, 100, 201, 404, 65535, u64::MAX] {
            assert_eq!(decimal(number), number.to_string());
        }
    }

    #[test]
    fn parts_are_joined_as_they_are() {
        assert_eq!(concat(&["a", "", "bc"]), "abc");
        assert_eq!(concat(&[]), "");
    }
}
